"""The sales datasets: Apple's SALES/SUMMARY report, daily, weekly, monthly and yearly.

One unit per report period. The report streams into ``sales_rows`` (see app/reports/ingest.py),
replacing that (account, frequency, report date) atomically; a daily report also rebuilds
that day's rollup in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from app.asc.client import Params
from app.asc.report_download import SALES_REPORTS_PATH, sales_report_params
from app.models import AscAccount
from app.reports import calendar
from app.reports.units import ReportRequest, fetch_report_unit
from app.reports.versions import report_version
from app.sales.layout import SALES_LAYOUT, platform_sql, unit_kind_sql
from app.sales.repository import lock_catalog_for_sales, rebuild_daily_rollup
from app.sync.datasets import Dataset, Outcome, PlannedUnit, UnitContext, UnitResult, register

# Re-fetch a recent period once more a day later: Apple's late files (FACTS §5.7).
LATE_FILE_REFRESH = dt.timedelta(hours=20)
# Periods the routine plan makes sure exist (catching up after downtime); older ones are
# backfills. Yearly files change nothing after their year: the latest one is enough.
ROUTINE_LOOKBACK = {"DAILY": 7, "WEEKLY": 4, "MONTHLY": 3, "YEARLY": 1}

# The catalog app of a row: the app itself, or for in-app products the parent app (by SKU).
APP_JOINS = """
    LEFT JOIN apps AS app_direct
        ON app_direct.account_id = :c_account_id AND app_direct.apple_id = typed.apple_identifier
    LEFT JOIN (SELECT DISTINCT ON (sku) id, sku FROM apps WHERE account_id = :c_account_id
               ORDER BY sku, removed_at NULLS FIRST, id) AS app_parent
        ON app_parent.sku = typed.parent_identifier
"""
DERIVED = {
    "unit_kind": unit_kind_sql("typed.product_type"),
    "platform": platform_sql("typed.product_type", "typed.device"),
    "app_id": "COALESCE(app_direct.id, app_parent.id)",
}


@dataclass(frozen=True)
class Frequency:
    name: str  # Apple's filter[frequency]
    dataset: str
    cadence: dt.timedelta
    retention: dt.timedelta
    unit_date: Callable[[str], dt.date]  # unit key → the period's report date
    unit_key: Callable[[dt.date], str]  # report date → unit key (Apple's filter[reportDate])
    latest: Callable[[dt.datetime], dt.date]
    available_at: Callable[[dt.date], dt.datetime]
    step: Callable[[dt.date], dt.date]  # the period before
    period_of: Callable[[dt.date], dt.date]  # the report date of the period containing a day


def _iso(key: str) -> dt.date:
    return dt.date.fromisoformat(key)


def _month(key: str) -> dt.date:
    return dt.date.fromisoformat(key + "-01")


def _year(key: str) -> dt.date:
    return dt.date(int(key), 1, 1)


def _previous_month(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


FREQUENCIES = {
    "DAILY": Frequency(
        "DAILY",
        "sales_daily",
        dt.timedelta(hours=1),
        calendar.DAILY_RETENTION,
        _iso,
        dt.date.isoformat,
        calendar.latest_daily,
        calendar.daily_available_at,
        lambda day: day - dt.timedelta(days=1),
        lambda day: day,
    ),
    "WEEKLY": Frequency(
        "WEEKLY",
        "sales_weekly",
        dt.timedelta(hours=6),
        calendar.DAILY_RETENTION,
        _iso,
        dt.date.isoformat,
        calendar.latest_weekly,
        calendar.weekly_available_at,
        lambda sunday: sunday - dt.timedelta(days=7),
        calendar.week_ending,
    ),
    "MONTHLY": Frequency(
        "MONTHLY",
        "sales_monthly",
        dt.timedelta(hours=12),
        calendar.DAILY_RETENTION,
        _month,
        lambda first: first.strftime("%Y-%m"),
        calendar.latest_monthly,
        calendar.monthly_available_at,
        _previous_month,
        lambda day: day.replace(day=1),
    ),
    "YEARLY": Frequency(
        "YEARLY",
        "sales_yearly",
        dt.timedelta(days=1),
        calendar.YEARLY_RETENTION,
        _year,
        lambda first: f"{first.year:04d}",
        calendar.latest_yearly,
        calendar.yearly_available_at,
        lambda first: first.replace(year=first.year - 1),
        lambda day: dt.date(day.year, 1, 1),
    ),
}


def periods(frequency: Frequency, start: dt.date, end: dt.date) -> list[dt.date]:
    """Report dates of every period that overlaps [start, end], oldest first."""
    found = []
    current = frequency.period_of(end)
    while current >= frequency.period_of(start):
        found.append(current)
        current = frequency.step(current)
    return found[::-1]


def _planner(frequency: Frequency) -> Callable[[AscAccount, dt.datetime], list[PlannedUnit]]:
    def plan(account: AscAccount, now: dt.datetime) -> list[PlannedUnit]:
        latest = frequency.latest(now)
        units = [PlannedUnit(frequency.unit_key(latest), refresh_after=LATE_FILE_REFRESH)]
        current = latest
        for _ in range(ROUTINE_LOOKBACK[frequency.name] - 1):
            current = frequency.step(current)
            units.append(PlannedUnit(frequency.unit_key(current)))
        return units

    return plan


def _backfill(frequency: Frequency) -> Callable[[dt.date, dt.date, dt.datetime], list[str]]:
    def backfill(start: dt.date, end: dt.date, now: dt.datetime) -> list[str]:
        # Periods Apple has not published yet are left to the routine plan.
        newest = frequency.latest(now)
        return [frequency.unit_key(day) for day in periods(frequency, start, end) if day <= newest]

    return backfill


def _unit_keys(frequency: Frequency) -> Callable[[dt.date, dt.date], list[str]]:
    def unit_keys(start: dt.date, end: dt.date) -> list[str]:
        return [frequency.unit_key(day) for day in periods(frequency, start, end)]

    return unit_keys


def _runner(frequency: Frequency) -> Callable[[UnitContext], object]:
    async def run(ctx: UnitContext) -> UnitResult:
        vendor = ctx.account.vendor_number
        if vendor is None:  # the planner never plans this; a manual request could
            return UnitResult(Outcome.FAILED, detail="the account has no vendor number")
        report_date = frequency.unit_date(ctx.unit_key)
        await lock_catalog_for_sales(ctx.session, ctx.account.id)

        def params(version: str | None) -> Params:
            return sales_report_params(
                vendor, "SALES", "SUMMARY", frequency.name, ctx.unit_key, version
            )

        result, _ = await fetch_report_unit(
            ctx,
            ReportRequest(
                path=SALES_REPORTS_PATH,
                params=params,
                version=report_version("SALES", "SUMMARY"),
                available_at=frequency.available_at(report_date),
            ),
            SALES_LAYOUT,
            table="sales_rows",
            constants={
                "workspace_id": ctx.account.workspace_id,
                "account_id": ctx.account.id,
                "frequency": frequency.name,
                "report_date": report_date,
            },
            replace={
                "account_id": ctx.account.id,
                "frequency": frequency.name,
                "report_date": report_date,
            },
            derived=DERIVED,
            joins=APP_JOINS,
        )
        if frequency.name == "DAILY" and result.outcome in (Outcome.PUBLISHED, Outcome.NO_DATA):
            await rebuild_daily_rollup(ctx.session, ctx.account.id, report_date)
        return result

    return run


for _frequency in FREQUENCIES.values():
    register(
        Dataset(
            name=_frequency.dataset,
            capability="sales",
            cadence=_frequency.cadence,
            plan=_planner(_frequency),
            run=_runner(_frequency),  # type: ignore[arg-type]
            dated=True,
            needs_vendor_number=True,
            retention=_frequency.retention,
            backfill=_backfill(_frequency),
            unit_keys=_unit_keys(_frequency),
            unit_date=_frequency.unit_date,
            latest_expected=_frequency.latest,
        )
    )
