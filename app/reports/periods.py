"""Report periods: how each of Apple's report frequencies names its periods, when Apple
publishes one, how long Apple keeps it, and which periods a routine pass makes sure exist.

A unit of a dated dataset is one period, keyed as Apple's ``filter[reportDate]`` wants it
(``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY``); its *report date* is the period's first day (the week's
Sunday for weekly files) and is what availability reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from app.reports import calendar, fiscal


@dataclass(frozen=True)
class Period:
    #: Apple's ``filter[frequency]`` (``FISCAL`` for finance reports, which have none).
    frequency: str
    #: How often the routine plan looks again (a file not published yet is asked for later).
    cadence: dt.timedelta
    #: How long Apple keeps a period's file (None: not documented, so not bounded).
    retention: dt.timedelta | None
    #: Periods the routine plan makes sure exist (catching up after downtime); older ones
    #: are backfills.
    lookback: int
    unit_date: Callable[[str], dt.date]  # unit key → the period's report date
    unit_key: Callable[[dt.date], str]  # report date → unit key (Apple's filter[reportDate])
    latest: Callable[[dt.datetime], dt.date]  # newest period Apple should have published
    available_at: Callable[[dt.date], dt.datetime]
    step: Callable[[dt.date], dt.date]  # the period before
    period_of: Callable[[dt.date], dt.date]  # the report date of the period containing a day

    def end_of(self, report_date: dt.date) -> dt.date:
        """The last day of the period reported under ``report_date``."""
        if self.frequency in ("DAILY", "WEEKLY"):
            return report_date  # a weekly period is keyed by its Sunday
        if self.frequency == "MONTHLY":
            return calendar.month_end(report_date)
        if self.frequency == "YEARLY":
            return dt.date(report_date.year, 12, 31)
        return fiscal.FiscalPeriod.named_after(report_date).bounds()[1]

    def expired(
        self, report_date: dt.date, now: dt.datetime, *, newest_known: dt.date | None = None
    ) -> bool:
        """Past Apple's documented retention (FACTS §5.7): Apple no longer keeps the file.

        Decided by the calendar, never by Apple's status code: spec 4.4.1 declares no 404 or
        410 for report downloads, and what Apple answers past retention is not on record
        (FACTS §8) — a 410, a 404 worded like "no sales" and a 400 on ``filter[reportDate]``
        are all plausible.

        Apple counts retention from its own today; ``newest_known`` (the newest report date
        Apple has published for the account, when there is one) stands for it, so a skewed
        local clock cannot expire a day Apple still keeps.
        """
        if self.retention is None:
            return False
        today = calendar.pacific_today(now)
        if newest_known is not None:
            today = min(today, self.end_of(newest_known) + dt.timedelta(days=1))
        return today - self.end_of(report_date) > self.retention

    def periods(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Report dates of every period that overlaps [start, end], oldest first."""
        found = []
        current = self.period_of(end)
        while current >= self.period_of(start):
            found.append(current)
            current = self.step(current)
        return found[::-1]

    def routine(self, now: dt.datetime) -> list[dt.date]:
        """The newest published period and the ``lookback - 1`` before it, newest first."""
        current = self.latest(now)
        found = [current]
        for _ in range(self.lookback - 1):
            current = self.step(current)
            found.append(current)
        return found


def _iso(key: str) -> dt.date:
    return dt.date.fromisoformat(key)


def _month(key: str) -> dt.date:
    return dt.date.fromisoformat(key + "-01")


def _year(key: str) -> dt.date:
    return dt.date(int(key), 1, 1)


def _previous_month(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


DAILY = Period(
    frequency="DAILY",
    cadence=dt.timedelta(hours=1),
    retention=calendar.DAILY_RETENTION,
    lookback=7,
    unit_date=_iso,
    unit_key=dt.date.isoformat,
    latest=calendar.latest_daily,
    available_at=calendar.daily_available_at,
    step=lambda day: day - dt.timedelta(days=1),
    period_of=lambda day: day,
)
WEEKLY = Period(
    frequency="WEEKLY",
    cadence=dt.timedelta(hours=6),
    retention=calendar.DAILY_RETENTION,
    lookback=4,
    unit_date=_iso,
    unit_key=dt.date.isoformat,
    latest=calendar.latest_weekly,
    available_at=calendar.weekly_available_at,
    step=lambda sunday: sunday - dt.timedelta(days=7),
    period_of=calendar.week_ending,
)
MONTHLY = Period(
    frequency="MONTHLY",
    cadence=dt.timedelta(hours=12),
    retention=calendar.DAILY_RETENTION,
    lookback=3,
    unit_date=_month,
    unit_key=lambda first: first.strftime("%Y-%m"),
    latest=calendar.latest_monthly,
    available_at=calendar.monthly_available_at,
    step=_previous_month,
    period_of=lambda day: day.replace(day=1),
)
YEARLY = Period(
    frequency="YEARLY",
    cadence=dt.timedelta(days=1),
    retention=calendar.YEARLY_RETENTION,
    # Yearly files change nothing after their year: the latest one is enough.
    lookback=1,
    unit_date=_year,
    unit_key=lambda first: f"{first.year:04d}",
    latest=calendar.latest_yearly,
    available_at=calendar.yearly_available_at,
    step=lambda first: first.replace(year=first.year - 1),
    period_of=lambda day: dt.date(day.year, 1, 1),
)
#: Apple's fiscal months (finance reports); a period's report date is the first day of the
#: calendar month it is named after (see :mod:`app.reports.fiscal`).
FISCAL_MONTH = Period(
    frequency="FISCAL",
    cadence=dt.timedelta(hours=12),
    retention=None,  # finance retention is not documented (FACTS §4.6)
    lookback=3,
    unit_date=fiscal.unit_date,
    unit_key=lambda month: fiscal.FiscalPeriod.named_after(month).key,
    latest=fiscal.latest_expected,
    available_at=lambda month: fiscal.FiscalPeriod.named_after(month).available_at(),
    step=lambda month: fiscal.FiscalPeriod.named_after(month).previous().month,
    period_of=lambda day: fiscal.period_containing(day).month,
)
FREQUENCIES = {period.frequency: period for period in (DAILY, WEEKLY, MONTHLY, YEARLY)}
