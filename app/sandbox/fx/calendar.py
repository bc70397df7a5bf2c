"""The ECB's publication calendar: TARGET closing days and the 16:00 CET release (FACTS §2).

"Updated around 16:00 CET on every working day, except on TARGET closing days" [ECB-PAGE];
TARGET closing days are Saturdays, Sundays, New Year's Day, Good Friday, Easter Monday, 1 May,
25 and 26 December [ECB-T2]. No rate is published on those days.

Central European time is computed here from the EU summer-time rule (last Sunday of March to
last Sunday of October, switching at 01:00 UTC) so the sandbox needs no time-zone database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

#: "frankfurt": 16:00 on Frankfurt's wall clock (CET in winter, CEST in summer);
#: "cet": 16:00 CET all year (15:00 UTC), the page's words taken literally. FACTS §2 says
#: "CET" without saying whether summer time applies: unconfirmed, so both are served.
PublishClock = Literal["frankfurt", "cet"]

CET = timedelta(hours=1)
CEST = timedelta(hours=2)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def target_holidays(year: int) -> frozenset[date]:
    """The TARGET closing days of ``year`` that are not weekends by nature (FACTS §2)."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter - timedelta(days=2),  # Good Friday
            easter + timedelta(days=1),  # Easter Monday
            date(year, 5, 1),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


def is_target_closing_day(day: date) -> bool:
    return day.weekday() >= 5 or day in target_holidays(day.year)


def target_working_days(start: date, end: date) -> Iterator[date]:
    """TARGET working days from ``start`` to ``end`` inclusive, oldest first."""
    day = start
    while day <= end:
        if not is_target_closing_day(day):
            yield day
        day += timedelta(days=1)


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def frankfurt_offset(instant: datetime) -> timedelta:
    """UTC offset of Frankfurt's wall clock at ``instant`` (aware)."""
    utc = instant.astimezone(UTC)
    starts = datetime.combine(_last_sunday(utc.year, 3), time(1), UTC)
    ends = datetime.combine(_last_sunday(utc.year, 10), time(1), UTC)
    return CEST if starts <= utc < ends else CET


def local_to_utc(day: date, at: time, clock: PublishClock) -> datetime:
    """The UTC instant of ``at`` o'clock on ``day`` in Frankfurt (or fixed CET)."""
    naive = datetime.combine(day, at, UTC)
    if clock == "cet":
        return naive - CET
    # Guess with CET, then correct: 16:00 is never inside a switch-over hour.
    guess = naive - CET
    return naive - frankfurt_offset(guess)


def frankfurt_date(instant: datetime, clock: PublishClock = "frankfurt") -> date:
    """The calendar date in Frankfurt (or fixed CET) at ``instant``."""
    offset = CET if clock == "cet" else frankfurt_offset(instant)
    return (instant.astimezone(UTC) + offset).date()
