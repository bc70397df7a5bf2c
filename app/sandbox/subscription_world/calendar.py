"""Day arithmetic on proleptic ordinals (``date.toordinal()``), fast enough for a million renewals.

The world keeps every day as an ``int`` ordinal. Subscription periods are either a number of
days (``7 Days``) or a number of calendar months (``1 Month`` … ``1 Year``); a monthly
subscription bought on the 31st renews on the last day of shorter months and on the 31st
again when the month has one (the App Store keeps the original renewal day).

An *anchor* is the first charge of a run of periods, as a plain tuple
``(day, period_days, period_months, month_index, day_of_month)``; boundary ``n`` is ``n``
periods after it (``n`` may be negative).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

_FIRST_YEAR = 1950
_LAST_YEAR = 2250


@dataclass(frozen=True, slots=True)
class Duration:
    """A subscription or offer duration as Apple writes it (``1 Month``, ``7 Days``…)."""

    label: str
    days: int = 0  # day-based durations
    months: int = 0  # month-based durations

    @property
    def approx_days(self) -> float:
        return self.days or self.months * 30.4375


DURATIONS: dict[str, Duration] = {
    d.label: d
    for d in (
        Duration("3 Days", days=3),
        Duration("7 Days", days=7),
        Duration("2 Weeks", days=14),
        Duration("1 Month", months=1),
        Duration("2 Months", months=2),
        Duration("3 Months", months=3),
        Duration("6 Months", months=6),
        Duration("1 Year", months=12),
    )
}


def _tables() -> tuple[list[int], list[int]]:
    firsts = [
        date(year, month, 1).toordinal()
        for year in range(_FIRST_YEAR, _LAST_YEAR + 1)
        for month in range(1, 13)
    ]
    return firsts, [b - a for a, b in pairwise(firsts)]


FIRSTS, LENGTHS = _tables()  # per month index: ordinal of the 1st, number of days

Anchor = tuple[int, int, int, int, int]


def month_index(day: int) -> int:
    return bisect_right(FIRSTS, day) - 1


def anchor(day: int, duration: Duration) -> Anchor:
    index = bisect_right(FIRSTS, day) - 1
    return day, duration.days, duration.months, index, day - FIRSTS[index] + 1


def boundary(a: Anchor, n: int) -> int:
    """Ordinal of boundary ``n`` of anchor ``a`` (``n = 0`` is the anchor day itself)."""
    if a[1]:
        return a[0] + n * a[1]
    index = a[3] + n * a[2]
    return FIRSTS[index] + min(a[4], LENGTHS[index]) - 1


def first_boundary_from(a: Anchor, day: int) -> int:
    """The smallest ``n >= 0`` whose boundary is on or after ``day``."""
    if day <= a[0]:
        return 0
    if a[1]:
        return -(-(day - a[0]) // a[1])
    n = max(0, (month_index(day) - a[3]) // a[2])
    while boundary(a, n) < day:
        n += 1
    return n


def add_duration(day: int, duration: Duration, times: int = 1) -> int:
    return boundary(anchor(day, duration), times)


def whole_months_between(first: int, last: int) -> int:
    """Completed calendar months from ``first`` to ``last`` (rounded down, never negative)."""
    a, b = date.fromordinal(first), date.fromordinal(last)
    months = (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)
    return max(0, months)


def iso(day: int) -> str:
    return date.fromordinal(day).isoformat()
