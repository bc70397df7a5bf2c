"""Apple's fiscal calendar, as far as Orchard needs it to *ask* for finance reports.

Finance reports are requested by ``filter[reportDate]=YYYY-MM`` in Apple's fiscal calendar,
read as fiscal year ``YYYY``, period ``MM`` (two independent observations, FACTS §4.6:
``2022-01`` starts late September 2021, ``2025-10`` ≈ July 2025). Apple's fiscal year ends on
the last Saturday of September; its twelve periods run Sunday–Saturday in a 5-4-4 week pattern
per quarter.

Which period gets the extra week of a 53-week year is not documented consistently (FACTS §8:
one source says the end of Q1, Appfigures "one of the months"), so Orchard never decides it
for data: the period a file covers — its bounds and the month it is named after — is always
taken from its own Start/End Date. This estimate only decides which periods to ask for and
when, and it gives the extra week to the first period because that is the latest end every
period can have (any placement at or before a period moves its end by at most that week): a
report is never asked for before it can exist, at worst a week after it did.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from app.reports.calendar import PACIFIC, PUBLISH_HOUR

_WEEKS = (5, 4, 4) * 4
#: How long after a fiscal period ends Orchard expects Apple's report (unconfirmed; a
#: "not available yet" answer just moves the ask later).
AVAILABLE_AFTER = dt.timedelta(days=7)
_KEY = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class FiscalPeriod:
    year: int
    number: int  # 1 (≈ October of year - 1) … 12 (≈ September of year)

    @classmethod
    def parse(cls, key: str) -> FiscalPeriod:
        found = _KEY.match(key)
        if not found or not 1 <= int(found[2]) <= 12:
            raise ValueError(f"not a fiscal period: {key!r} (expected YYYY-MM)")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def named_after(cls, month: dt.date) -> FiscalPeriod:
        """The period named after a calendar month (October → period 1 of the next year)."""
        number = (month.month - 10) % 12 + 1
        return cls(month.year + 1 if month.month >= 10 else month.year, number)

    @property
    def key(self) -> str:
        """Apple's ``filter[reportDate]`` for this period."""
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def month(self) -> dt.date:
        """First day of the calendar month the period is named after (period 1 = October)."""
        month = (self.number + 8) % 12 + 1
        return dt.date(self.year - 1 if self.number <= 3 else self.year, month, 1)

    def bounds(self) -> tuple[dt.date, dt.date]:
        start, end = year_bounds(self.year)
        weeks = list(_WEEKS)
        weeks[0] += ((end - start).days + 1) // 7 - 52
        first = start + dt.timedelta(weeks=sum(weeks[: self.number - 1]))
        return first, first + dt.timedelta(weeks=weeks[self.number - 1], days=-1)

    def available_at(self) -> dt.datetime:
        end = self.bounds()[1]
        return dt.datetime.combine(end + AVAILABLE_AFTER, dt.time(PUBLISH_HOUR), tzinfo=PACIFIC)

    def previous(self) -> FiscalPeriod:
        return (
            FiscalPeriod(self.year, self.number - 1)
            if self.number > 1
            else FiscalPeriod(self.year - 1, 12)
        )


def _last_saturday_of_september(year: int) -> dt.date:
    end = dt.date(year, 9, 30)
    return end - dt.timedelta(days=(end.weekday() - 5) % 7)


def year_bounds(fiscal_year: int) -> tuple[dt.date, dt.date]:
    start = _last_saturday_of_september(fiscal_year - 1) + dt.timedelta(days=1)
    return start, _last_saturday_of_september(fiscal_year)


def period_containing(day: dt.date) -> FiscalPeriod:
    year = day.year + 1 if day > _last_saturday_of_september(day.year) else day.year
    period = FiscalPeriod(year, 12)
    while period.bounds()[0] > day:
        period = period.previous()
    return period


def latest_available(now: dt.datetime) -> FiscalPeriod:
    """The newest fiscal period whose report Apple should have published by ``now``."""
    period = period_containing(now.astimezone(PACIFIC).date())
    while period.available_at() > now:
        period = period.previous()
    return period


def periods_between(start: dt.date, end: dt.date) -> list[FiscalPeriod]:
    """Every fiscal period overlapping [start, end], oldest first."""
    found = []
    period = period_containing(end)
    first = period_containing(start)
    while period >= first:
        found.append(period)
        period = period.previous()
    return found[::-1]


def unit_date(key: str) -> dt.date:
    """The day a finance unit is reported under in availability: the first of the calendar
    month its fiscal period is named after (``2014-12`` → 2014-09-01)."""
    return FiscalPeriod.parse(key).month


def latest_expected(now: dt.datetime) -> dt.date:
    return latest_available(now).month
