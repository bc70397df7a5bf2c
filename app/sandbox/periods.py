"""Report periods, Apple's fiscal calendar and report availability, all on the sandbox clock.

Availability (FACTS §5.7; all times America/Los_Angeles, 08:00 = "generally by 8 a.m. PT"):

============  ================================================  =====================
frequency     available from                                    kept for
============  ================================================  =====================
DAILY         08:00 PT on the day after the report day          365 days after its end
WEEKLY        08:00 PT on the Monday after the week (Mon–Sun)   365 days after its end
MONTHLY       08:00 PT five days after the month's last day     365 days after its end
YEARLY        08:00 PT six days after Dec 31                    10 years after its end
FINANCIAL     08:00 PT seven days after the fiscal month ends   not expired (unconfirmed)
============  ================================================  =====================

Before "available from" (and for future periods) the API answers 404 "Report is not
available yet…"; after "kept for" it answers 410 "Report is no longer available…".

Fiscal calendar (an approximation of Apple's, documented in FACTS §4.6): the fiscal year
``Y`` ends on the last Saturday of September ``Y`` and starts the day after the previous one
ends, so it has 52 or 53 whole weeks (Sunday–Saturday). Its twelve periods follow a 5-4-4
week pattern per quarter (period 1 ≈ October of ``Y-1``, period 12 ≈ September of ``Y``); in
a 53-week year period 1 gets the extra week (Apple's Q1 FY2023 had 14 weeks).
``filter[reportDate]=YYYY-MM`` is read as fiscal year ``YYYY``, period ``MM`` (two
independent observations in FACTS §4.6: ``2022-01`` starts late September 2021, ``2025-10``
≈ July 2025). Example: ``2014-12`` is 08/31/2014–09/27/2014 (Apple's fiscal September 2014).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
RELEASE_TIME = time(8, 0)
RETENTION_DAYS = 365
YEARLY_RETENTION_YEARS = 10
FINANCE_DELAY_DAYS = 7
_WEEKS_PER_PERIOD = (5, 4, 4) * 4


class Frequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


class Availability(StrEnum):
    AVAILABLE = "available"
    NOT_YET = "not_yet_available"
    GONE = "no_longer_available"


@dataclass(frozen=True, slots=True)
class Period:
    """An inclusive range of Apple reporting days (Pacific calendar days)."""

    frequency: str
    start: date
    end: date

    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]


def pacific_today(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


def at_release(day: date) -> datetime:
    """08:00 Pacific on ``day`` as an aware datetime."""
    return datetime.combine(day, RELEASE_TIME, tzinfo=PACIFIC)


def month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def sales_period(frequency: Frequency, anchor: date) -> Period:
    """The period identified by ``anchor`` (the day; the week-ending Sunday; any day of the
    month or year)."""
    if frequency is Frequency.DAILY:
        return Period(frequency, anchor, anchor)
    if frequency is Frequency.WEEKLY:
        sunday = anchor + timedelta(days=(6 - anchor.weekday()) % 7)
        return Period(frequency, sunday - timedelta(days=6), sunday)
    if frequency is Frequency.MONTHLY:
        return Period(frequency, anchor.replace(day=1), month_end(anchor.year, anchor.month))
    return Period(frequency, date(anchor.year, 1, 1), date(anchor.year, 12, 31))


def available_from(period: Period) -> datetime:
    if period.frequency in (Frequency.DAILY, Frequency.WEEKLY):
        return at_release(period.end + timedelta(days=1))
    if period.frequency == Frequency.MONTHLY:
        return at_release(period.end + timedelta(days=5))
    if period.frequency == Frequency.YEARLY:
        return at_release(period.end + timedelta(days=6))
    return at_release(period.end + timedelta(days=FINANCE_DELAY_DAYS))  # fiscal months


def availability(period: Period, now: datetime) -> Availability:
    if now < available_from(period):
        return Availability.NOT_YET
    today = pacific_today(now)
    if period.frequency == Frequency.YEARLY:
        expired = today.year - period.end.year > YEARLY_RETENTION_YEARS
    elif period.frequency in tuple(Frequency):
        expired = (today - period.end).days > RETENTION_DAYS
    else:
        expired = False
    return Availability.GONE if expired else Availability.AVAILABLE


def latest_available(frequency: Frequency, now: datetime) -> Period:
    """The newest period of ``frequency`` that is available at ``now``."""
    candidate = sales_period(frequency, pacific_today(now))
    while available_from(candidate) > now:
        candidate = sales_period(frequency, candidate.start - timedelta(days=1))
    return candidate


# --- Apple fiscal calendar (approximation; see module docstring) -----------------------


def _last_saturday_of_september(year: int) -> date:
    end = date(year, 9, 30)
    return end - timedelta(days=(end.weekday() - 5) % 7)


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    start = _last_saturday_of_september(fiscal_year - 1) + timedelta(days=1)
    return start, _last_saturday_of_september(fiscal_year)


def fiscal_period(fiscal_year: int, number: int) -> Period:
    """Fiscal period ``number`` (1–12) of ``fiscal_year`` as a Sunday–Saturday range."""
    if not 1 <= number <= 12:
        raise ValueError("fiscal period must be 1..12")
    start, end = fiscal_year_bounds(fiscal_year)
    extra = ((end - start).days + 1) // 7 - 52  # 1 in 53-week years
    weeks = list(_WEEKS_PER_PERIOD)
    weeks[0] += extra
    period_start = start + timedelta(weeks=sum(weeks[: number - 1]))
    period_end = period_start + timedelta(weeks=weeks[number - 1]) - timedelta(days=1)
    return Period("FISCAL_MONTH", period_start, period_end)


def fiscal_calendar_month(fiscal_year: int, number: int) -> tuple[int, int]:
    """The calendar (year, month) a fiscal period is named after (period 1 = October)."""
    month = (number + 8) % 12 + 1
    return (fiscal_year - 1 if number <= 3 else fiscal_year), month
