"""The ``finance_monthly`` dataset: Apple's finance reports, one unit per fiscal month.

A unit (``YYYY-MM``, Apple's fiscal year and period as requested) loads, in one transaction:

* ``FINANCIAL`` region ``ZZ`` — every region in one file; its answer is the unit's outcome;
* ``FINANCIAL`` for each region in ``ORCHARD_FINANCE_REGIONS``, when configured;
* ``FINANCE_DETAIL`` region ``Z1`` — best effort: its layout is unconfirmed (FACTS §5.6), so a
  file that cannot be read (or a 403 for it alone) is recorded in sync-status and leaves the
  rest of the unit alone.

Each file stops at its first ``Total_`` line; the row count must equal ``Total_Rows`` and the
sum of ``Extended Partner Share`` must equal ``Total_Amount`` (at the footer's precision), or
the whole unit fails with a clear error and the previously stored files stay as they were.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.asc.client import Params
from app.asc.errors import AscAgreementRequired, AscForbidden, AscReportCorrupt
from app.asc.report_download import FINANCE_REPORTS_PATH, finance_report_params
from app.finance import repository
from app.finance.layout import FINANCE_DETAIL_LAYOUT, FINANCIAL_LAYOUT, FISCAL_PERIOD_SQL
from app.reports import fiscal, periods
from app.reports.ingest import IngestError, Layout, LoadResult
from app.reports.spec import dated_dataset
from app.reports.units import ReportRequest, fetch_report_unit
from app.sync.contract import Dataset, Outcome, UnitContext, UnitResult

DATASET = "finance_monthly"
TABLE = "finance_report_rows"
ALL_REGIONS = "ZZ"
DETAIL_REGION = "Z1"
#: Fetch the newest fiscal month's files once more a day later.
REFRESH = dt.timedelta(days=1)


_LABEL = re.compile(r"^\d{4}-\d{2}$")


class TotalsMismatch(AscReportCorrupt):
    """A finance file whose rows do not add up to its own footer. Not retried: Apple's file
    would say the same again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="FINANCE_TOTALS_MISMATCH")


def _amount(raw: str) -> Decimal:
    try:
        return Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise TotalsMismatch(f"Total_Amount {raw!r} is not a number") from None


def check_totals(
    name: str, loaded: LoadResult, rows: int, amount: Decimal, *, required: bool
) -> None:
    """Raise ``TotalsMismatch`` unless the file's footer agrees with what was loaded."""
    footer = loaded.footer
    if "Total_Rows" not in footer or "Total_Amount" not in footer:
        if required:
            raise TotalsMismatch(
                f"the {name} report has no Total_Rows/Total_Amount footer; it may be cut short"
            )
        return
    expected_rows = footer["Total_Rows"].replace(",", "")
    if not expected_rows.isdigit() or int(expected_rows) != rows:
        raise TotalsMismatch(
            f"the {name} report has {rows} rows but its Total_Rows says "
            f"{footer['Total_Rows']}; the previously stored report is kept"
        )
    expected = _amount(footer["Total_Amount"])
    # Apple rounds the footer to the currency's precision (JPY totals have no decimals).
    exponent = expected.as_tuple().exponent
    places = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    if amount.quantize(places, ROUND_HALF_UP) != expected:
        raise TotalsMismatch(
            f"the {name} report's Extended Partner Share adds up to {amount} but its "
            f"Total_Amount says {footer['Total_Amount']}; the previously stored report is kept"
        )


async def load_file(
    ctx: UnitContext,
    vendor: str,
    period: fiscal.FiscalPeriod,
    report_type: str,
    region: str,
    *,
    layout: Layout,
    fiscal_period_sql: str = FISCAL_PERIOD_SQL,
    footer_required: bool = True,
) -> UnitResult:
    """Load one finance file into its partition and check it against its footer."""
    partition: dict[str, Any] = {
        "account_id": ctx.account.id,
        "fiscal_request": period.key,
        "report_type": report_type,
        "region_code": region,
    }
    name = f"{report_type} {region} {period.key}"

    def params(_version: str | None) -> Params:
        return finance_report_params(vendor, report_type, region, period.key)

    try:
        result, loaded = await fetch_report_unit(
            ctx,
            ReportRequest(FINANCE_REPORTS_PATH, params, None, period.available_at()),
            layout,
            table=TABLE,
            constants={"workspace_id": ctx.account.workspace_id, **partition},
            replace=partition,
            derived={"fiscal_period": fiscal_period_sql},
            footer=True,
        )
    except IngestError as error:
        raise IngestError(f"{name}: {error}") from error  # name the file among the unit's
    note: dict[str, Any] = {"state": result.outcome.value}
    if loaded is not None:
        rows, amount = await repository.partition_sums(ctx.session, partition)
        check_totals(name, loaded, rows, amount, required=footer_required)
        note.update(footer=loaded.footer, unknown_columns=loaded.unknown_columns)
    result.notes = {f"{report_type} {region}": note}
    return result


def dataset(regions: Sequence[str]) -> Dataset:
    """``finance_monthly``, loading the ``FINANCIAL`` files of ``regions`` besides ZZ
    (``ORCHARD_FINANCE_REGIONS``)."""

    async def run(ctx: UnitContext) -> UnitResult:
        return await run_month(ctx, regions)

    return dated_dataset(
        DATASET, periods.FISCAL_MONTH, run, capability="finance", late_refresh=REFRESH
    )


async def run_month(ctx: UnitContext, regions: Sequence[str]) -> UnitResult:
    vendor = ctx.account.vendor_number
    if vendor is None:  # the planner never plans this; a manual request could
        return UnitResult(Outcome.FAILED, detail="the account has no vendor number")
    period = fiscal.FiscalPeriod.parse(ctx.unit_key)
    main = await load_file(ctx, vendor, period, "FINANCIAL", ALL_REGIONS, layout=FINANCIAL_LAYOUT)
    if main.outcome not in (Outcome.PUBLISHED, Outcome.NO_DATA):
        return main
    results = [main]
    for region in regions:
        results.append(
            await load_file(ctx, vendor, period, "FINANCIAL", region, layout=FINANCIAL_LAYOUT)
        )
    notes: dict[str, Any] = {"finance_detail_error": None}  # clears an earlier one
    label = await repository.period_label(ctx.session, ctx.account.id, period.key)
    fallback = f"'{label}'" if label is not None and _LABEL.match(label) else "NULL"
    try:
        async with ctx.session.begin_nested():
            results.append(
                await load_file(
                    ctx,
                    vendor,
                    period,
                    "FINANCE_DETAIL",
                    DETAIL_REGION,
                    layout=FINANCE_DETAIL_LAYOUT,
                    # Without its own Start/End Date a detail file belongs to the ZZ period.
                    fiscal_period_sql=f"COALESCE({FISCAL_PERIOD_SQL}, {fallback})",
                    footer_required=False,
                )
            )
    except (IngestError, AscReportCorrupt, AscForbidden) as error:
        if isinstance(error, AscAgreementRequired):
            raise  # the whole account is blocked, not just this report
        # A refused FINANCE_DETAIL must not mark the account's finance capability missing
        # (the runner's answer to a 403) while FINANCIAL works.
        ctx.log.warning("finance detail report not loaded", extra={"error": str(error)})
        notes["finance_detail_error"] = {"message": str(error), "at": ctx.now.isoformat()}
    for result in results:
        notes.update(result.notes)
    published = any(r.outcome is Outcome.PUBLISHED for r in results)
    return UnitResult(
        Outcome.PUBLISHED if published else Outcome.NO_DATA,
        rows=sum(r.rows for r in results),
        detail=None if published else main.detail,
        notes=notes,
    )
