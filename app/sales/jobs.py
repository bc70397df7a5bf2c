"""The sales datasets: Apple's SALES/SUMMARY report, daily, weekly, monthly and yearly.

One unit per report period. The report streams into ``sales_rows`` (see app/reports/ingest.py),
replacing that (account, frequency, report date) atomically; a daily report also rebuilds
that day's rollup in the same transaction.
"""

from __future__ import annotations

from app.reports import periods
from app.reports.spec import ReportSpec, report_dataset
from app.sales.events import publish_day
from app.sales.layout import PRE_ORDER_LAYOUT, SALES_LAYOUT
from app.sales.repository import link_rows_to_apps, rebuild_daily_rollup
from app.sales.stream import daily_sales_columns, sales_columns
from app.sync.contract import Dataset


def _sales(dataset: str, period: periods.Period) -> ReportSpec:
    return ReportSpec(
        dataset=dataset,
        report_type="SALES",
        report_subtype="SUMMARY",
        period=period,
        layout=SALES_LAYOUT,
        table="sales_rows",
        links_apps=True,
        streamed=daily_sales_columns if period is periods.DAILY else sales_columns,
        partition_extra={"frequency": period.frequency},
        after_load=rebuild_daily_rollup if period is periods.DAILY else None,
        on_available=publish_day if period is periods.DAILY else None,
    )


#: Apple's Pre-Order report, daily (FACTS §4.5): titles in pre-order, per storefront.
PRE_ORDERS = ReportSpec(
    dataset="pre_orders_daily",
    report_type="PRE_ORDER",
    report_subtype="SUMMARY",
    period=periods.DAILY,
    layout=PRE_ORDER_LAYOUT,
    table="pre_order_rows",
)

SPECS = (
    _sales("sales_daily", periods.DAILY),
    _sales("sales_weekly", periods.WEEKLY),
    _sales("sales_monthly", periods.MONTHLY),
    _sales("sales_yearly", periods.YEARLY),
    PRE_ORDERS,
)
DATASETS: list[Dataset] = [report_dataset(spec) for spec in SPECS]
#: Wired to the catalog's app-list refresh by the dataset registry.
AFTER_APPS_REFRESH = link_rows_to_apps
