"""TARGET closing days and Frankfurt time (FACTS §2 [ECB-T2][ECB-PAGE])."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.sandbox.fx.calendar import (
    easter_sunday,
    frankfurt_date,
    frankfurt_offset,
    is_target_closing_day,
    local_to_utc,
    target_working_days,
)


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2022, date(2022, 4, 17)), (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)),
     (2026, date(2026, 4, 5))],
)  # fmt: skip
def test_easter(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


@pytest.mark.parametrize(
    "closed",
    [
        date(2025, 1, 1),  # New Year's Day
        date(2025, 4, 18),  # Good Friday
        date(2025, 4, 21),  # Easter Monday
        date(2025, 5, 1),  # Labour Day
        date(2025, 12, 25),
        date(2025, 12, 26),
        date(2025, 6, 7),  # Saturday
        date(2025, 6, 8),  # Sunday
    ],
)
def test_target_closing_days(closed: date) -> None:
    assert is_target_closing_day(closed)


def test_ordinary_days_and_other_holidays_are_open() -> None:
    # Not TARGET closing days: Whit Monday, German Unity Day, 24 and 31 December (weekdays).
    for open_day in (date(2025, 6, 9), date(2025, 10, 3), date(2025, 12, 24), date(2025, 12, 31)):
        assert not is_target_closing_day(open_day)


def test_working_days_of_easter_week() -> None:
    days = list(target_working_days(date(2025, 4, 14), date(2025, 4, 25)))
    assert days == [date(2025, 4, d) for d in (14, 15, 16, 17, 22, 23, 24, 25)]


def test_frankfurt_offset_follows_eu_summer_time() -> None:
    switch_on = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
    assert frankfurt_offset(switch_on - timedelta(seconds=1)) == timedelta(hours=1)
    assert frankfurt_offset(switch_on) == timedelta(hours=2)
    switch_off = datetime(2025, 10, 26, 1, 0, tzinfo=UTC)
    assert frankfurt_offset(switch_off - timedelta(seconds=1)) == timedelta(hours=2)
    assert frankfurt_offset(switch_off) == timedelta(hours=1)


def test_four_pm_in_frankfurt_and_in_fixed_cet() -> None:
    summer, winter = date(2025, 6, 10), date(2025, 1, 15)
    assert local_to_utc(summer, time(16), "frankfurt") == datetime(2025, 6, 10, 14, tzinfo=UTC)
    assert local_to_utc(winter, time(16), "frankfurt") == datetime(2025, 1, 15, 15, tzinfo=UTC)
    assert local_to_utc(summer, time(16), "cet") == datetime(2025, 6, 10, 15, tzinfo=UTC)
    late_evening = datetime(2025, 6, 10, 22, 30, tzinfo=UTC)
    assert frankfurt_date(late_evening) == date(2025, 6, 11)
    assert frankfurt_date(late_evening, "cet") == date(2025, 6, 10)
