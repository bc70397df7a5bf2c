"""The subscription datasets: Apple's SUBSCRIPTION, SUBSCRIPTION_EVENT and SUBSCRIBER reports.

All three are DAILY only (version from the report-version registry) and one unit is one report
day (``YYYY-MM-DD``, Apple's Pacific day). The file streams into its table through the shared
ingest, replacing that (account, report date) atomically. The Subscription Report has no date
column: its rows get the date that was asked for.

Apple answers "Invalid vendor number" (400) for these reports when the account simply has no
auto-renewable subscriptions (FACTS §7). When the same vendor number works for SALES (the
account's ``sales`` capability was verified), that answer is the day's ``no_data``, not a
credential failure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.asc.client import Params
from app.asc.errors import AscInvalidParameter
from app.asc.report_download import SALES_REPORTS_PATH, sales_report_params
from app.models import AscAccount
from app.reports import calendar
from app.reports.ingest import Layout, delete_partition
from app.reports.units import ReportRequest, fetch_report_unit
from app.reports.versions import report_version
from app.subscriptions.layout import (
    SUBSCRIBER_LAYOUT,
    SUBSCRIPTION_EVENT_LAYOUT,
    SUBSCRIPTION_LAYOUT,
)
from app.sync.datasets import Dataset, Outcome, PlannedUnit, UnitContext, UnitResult, register

# Re-fetch the newest day once more later on: Apple's late files (FACTS §5.7).
LATE_FILE_REFRESH = dt.timedelta(hours=20)
ROUTINE_LOOKBACK = 7  # days the routine plan makes sure exist
CADENCE = dt.timedelta(hours=1)
NO_SUBSCRIPTIONS = (
    "App Store Connect refused the vendor number for this report although it works for "
    "Sales reports: the account has no auto-renewable subscriptions for this day"
)


@dataclass(frozen=True)
class SubscriptionReport:
    dataset: str
    report_type: str
    report_subtype: str
    layout: Layout
    table: str


REPORTS = (
    SubscriptionReport(
        "subscriptions_daily",
        "SUBSCRIPTION",
        "SUMMARY",
        SUBSCRIPTION_LAYOUT,
        "subscription_snapshot_rows",
    ),
    SubscriptionReport(
        "subscription_events_daily",
        "SUBSCRIPTION_EVENT",
        "SUMMARY",
        SUBSCRIPTION_EVENT_LAYOUT,
        "subscription_event_rows",
    ),
    SubscriptionReport(
        "subscribers_daily",
        "SUBSCRIBER",
        "DETAILED",
        SUBSCRIBER_LAYOUT,
        "subscriber_transaction_rows",
    ),
)


def plan_days(account: AscAccount, now: dt.datetime) -> list[PlannedUnit]:
    latest = calendar.latest_daily(now)
    units = [PlannedUnit(latest.isoformat(), refresh_after=LATE_FILE_REFRESH)]
    units += [
        PlannedUnit((latest - dt.timedelta(days=n)).isoformat()) for n in range(1, ROUTINE_LOOKBACK)
    ]
    return units


def backfill_days(start: dt.date, end: dt.date, now: dt.datetime) -> list[str]:
    # Days Apple has not published yet are left to the routine plan.
    newest = min(end, calendar.latest_daily(now))
    return [day.isoformat() for day in calendar.days(start, newest)]


def sales_verified(account: AscAccount) -> bool:
    """Whether SALES reports were read with this account's vendor number."""
    sales = (account.capabilities or {}).get("sales") or {}
    return bool(sales.get("available"))


def refuses_vendor(error: AscInvalidParameter) -> bool:
    texts = [error.detail, *(item.detail for item in error.errors)]
    return error.parameter == "filter[vendorNumber]" or any(
        "vendor number" in (t or "").lower() for t in texts
    )


def _runner(report: SubscriptionReport) -> Callable[[UnitContext], Awaitable[UnitResult]]:
    async def run(ctx: UnitContext) -> UnitResult:
        vendor = ctx.account.vendor_number
        if vendor is None:  # the planner never plans this; a manual request could
            return UnitResult(Outcome.FAILED, detail="the account has no vendor number")
        day = dt.date.fromisoformat(ctx.unit_key)
        partition = {"account_id": ctx.account.id, "report_date": day}

        def params(version: str | None) -> Params:
            return sales_report_params(
                vendor, report.report_type, report.report_subtype, "DAILY", day, version
            )

        try:
            result, _ = await fetch_report_unit(
                ctx,
                ReportRequest(
                    path=SALES_REPORTS_PATH,
                    params=params,
                    version=report_version(report.report_type, report.report_subtype),
                    available_at=calendar.daily_available_at(day),
                ),
                report.layout,
                table=report.table,
                constants={"workspace_id": ctx.account.workspace_id, **partition},
                replace=partition,
            )
        except AscInvalidParameter as error:
            if not (refuses_vendor(error) and sales_verified(ctx.account)):
                raise
            await delete_partition(ctx.session, report.table, partition)
            return UnitResult(Outcome.NO_DATA, detail=NO_SUBSCRIPTIONS)
        return result

    return run


for _report in REPORTS:
    register(
        Dataset(
            name=_report.dataset,
            capability="sales",
            cadence=CADENCE,
            plan=plan_days,
            run=_runner(_report),
            dated=True,
            needs_vendor_number=True,
            retention=calendar.DAILY_RETENTION,
            backfill=backfill_days,
            unit_date=dt.date.fromisoformat,
            latest_expected=calendar.latest_daily,
        )
    )
