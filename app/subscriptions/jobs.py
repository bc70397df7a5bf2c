"""The subscription datasets: Apple's SUBSCRIPTION, SUBSCRIPTION_EVENT and SUBSCRIBER reports.

All three are DAILY only (version from the report-version registry) and one unit is one report
day (``YYYY-MM-DD``, Apple's Pacific day). The file streams into its table through the shared
ingest, replacing that (account, report date) atomically; each of the three reports also
rebuilds that day's rollup (``rollup``, ``snapshot_rollup``) in the same transaction. The
Subscription Report has no date column: its rows get the date that was asked for.

Apple answers "Invalid vendor number" (400) for these reports when the account simply has no
auto-renewable subscriptions (FACTS §7). When the same vendor number works for SALES (the
account's ``sales`` capability was verified), that answer is the day's ``no_data``, not a
credential failure.
"""

from __future__ import annotations

from app.asc.errors import AscInvalidParameter
from app.models import AscAccount
from app.reports import periods
from app.reports.ingest import Layout
from app.reports.spec import AfterLoad, ReportSpec, report_dataset
from app.subscriptions.layout import (
    OFFER_CODE_REDEMPTION_LAYOUT,
    SUBSCRIBER_LAYOUT,
    SUBSCRIPTION_EVENT_LAYOUT,
    SUBSCRIPTION_LAYOUT,
    WIN_BACK_ELIGIBILITY_LAYOUT,
)
from app.subscriptions.rollup import rebuild_event_rollup, rebuild_transaction_rollup
from app.subscriptions.snapshot_rollup import rebuild_snapshot_rollup
from app.sync.contract import Dataset, Outcome, UnitContext, UnitResult

NO_SUBSCRIPTIONS = (
    "App Store Connect refused the vendor number for this report although it works for "
    "Sales reports: the account has no auto-renewable subscriptions for this day"
)


def sales_verified(account: AscAccount) -> bool:
    """Whether SALES reports were read with this account's vendor number."""
    sales = (account.capabilities or {}).get("sales") or {}
    return bool(sales.get("available"))


def refuses_vendor(error: AscInvalidParameter) -> bool:
    texts = [error.detail, *(item.detail for item in error.errors)]
    return error.parameter == "filter[vendorNumber]" or any(
        "vendor number" in (t or "").lower() for t in texts
    )


def no_subscriptions(ctx: UnitContext, error: AscInvalidParameter) -> UnitResult | None:
    if refuses_vendor(error) and sales_verified(ctx.account):
        return UnitResult(Outcome.NO_DATA, detail=NO_SUBSCRIPTIONS)
    return None


def _daily(
    dataset: str,
    report_type: str,
    subtype: str,
    layout: Layout,
    table: str,
    after_load: AfterLoad | None = None,
) -> ReportSpec:
    return ReportSpec(
        dataset=dataset,
        report_type=report_type,
        report_subtype=subtype,
        period=periods.DAILY,
        layout=layout,
        table=table,
        on_refusal=no_subscriptions,
        after_load=after_load,
    )


SPECS = (
    _daily(
        "subscriptions_daily",
        "SUBSCRIPTION",
        "SUMMARY",
        SUBSCRIPTION_LAYOUT,
        "subscription_snapshot_rows",
        rebuild_snapshot_rollup,
    ),
    _daily(
        "subscription_events_daily",
        "SUBSCRIPTION_EVENT",
        "SUMMARY",
        SUBSCRIPTION_EVENT_LAYOUT,
        "subscription_event_rows",
        rebuild_event_rollup,
    ),
    _daily(
        "subscribers_daily",
        "SUBSCRIBER",
        "DETAILED",
        SUBSCRIBER_LAYOUT,
        "subscriber_transaction_rows",
        rebuild_transaction_rollup,
    ),
    _daily(
        "offer_code_redemptions_daily",
        "SUBSCRIPTION_OFFER_CODE_REDEMPTION",
        "SUMMARY",
        OFFER_CODE_REDEMPTION_LAYOUT,
        "offer_code_redemption_rows",
    ),
    _daily(
        "win_back_eligibility_daily",
        "WIN_BACK_ELIGIBILITY",
        "SUMMARY",
        WIN_BACK_ELIGIBILITY_LAYOUT,
        "win_back_eligibility_rows",
    ),
)
DATASETS: list[Dataset] = [report_dataset(spec) for spec in SPECS]
