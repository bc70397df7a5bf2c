"""The ``finance_monthly`` dataset: Apple's finance reports, one unit per fiscal month.

A unit (``YYYY-MM``, Apple's fiscal year and period as requested) loads, in one transaction:

* ``FINANCIAL`` region ``ZZ`` — every region in one file; its answer is the unit's outcome;
* ``FINANCIAL`` for each region in ``ORCHARD_FINANCE_REGIONS``, when configured;
* ``FINANCE_DETAIL`` region ``Z1`` — best effort: its layout is unconfirmed (FACTS §5.6), so a
  file that cannot be read (or a 403 for it alone) is recorded in sync-status and leaves the
  rest of the unit alone.

Each file stops at its first ``Total_`` line. A region file's row count must equal
``Total_Rows`` and its sum of ``Extended Partner Share`` must equal ``Total_Amount`` (at the
footer's precision); the ZZ file is checked against whatever totals it carries (footer lines,
a per-country table; see :mod:`app.finance.totals`). A file that disagrees fails the whole unit
with a clear error and the previously stored files stay as they were.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from app.asc.client import Params
from app.asc.errors import AscAgreementRequired, AscForbidden, AscReportCorrupt
from app.asc.report_download import FINANCE_REPORTS_PATH, finance_report_params
from app.finance import regions, repository
from app.finance.layout import FINANCE_DETAIL_LAYOUT, FINANCIAL_LAYOUT, FISCAL_PERIOD_SQL
from app.finance.totals import check_all_regions_file, check_region_file
from app.reports import fiscal, periods
from app.reports.ingest import IngestError, Layout
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
        if region == ALL_REGIONS:
            by_country = await repository.country_sums(ctx.session, partition)
            note.update(check_all_regions_file(name, loaded, rows, amount, by_country))
            unknown = sorted({c for c, _ in by_country if c and not regions.is_known(c)})
            if unknown:  # paid in Apple's catch-all region until the table learns them
                ctx.log.warning("unknown storefronts in finance", extra={"countries": unknown})
                note["unknown_countries"] = {"countries": unknown, "counted_in": "WW"}
        elif footer_required:
            check_region_file(name, loaded, rows, amount)
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
