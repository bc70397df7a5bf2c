"""Payments: Apple's monthly finance reports per fiscal month, region and currency."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.auth.deps import Reader
from app.finance import service
from app.finance.schemas import PaymentRowRead, PaymentsReport
from app.kit.deps import AppSettings, Session
from app.kit.pagination import CursorParam, Page, PageRequest, Paging
from app.kit.problems import AUTHED, problem_responses

router = APIRouter(prefix="/v1/payments", tags=["payments"])

# Years 2000-2999, like every date the API takes (app.kit.dates).
PERIOD_PATTERN = r"^2\d{3}-(0[1-9]|1[0-2])$"
AccountParam = Annotated[
    uuid.UUID | None, Query(description="Only this linked account (404 if not yours).")
]
RegionParam = Annotated[
    str,
    Query(
        pattern=r"^[A-Z][A-Z0-9]$",
        description="The report file: `ZZ` (default; Apple's all-regions single file, grouped "
        "here by payment region and currency), a region code fetched besides it (`EU`, `JP`, "
        "…; see ORCHARD_FINANCE_REGIONS) or `Z1` (FINANCE_DETAIL). Figures of different files are "
        "the same sales seen twice, so they are never added together.",
    ),
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get(
    "",
    response_model=PaymentsReport,
    # Without a reporting currency the document is exactly as before (no `converted` keys).
    response_model_exclude_unset=True,
    responses=problem_responses(*AUTHED, 404),
)
async def list_payments(
    principal: Reader,
    session: Session,
    from_period: str | None = Query(
        None,
        pattern=PERIOD_PATTERN,
        description="First fiscal month, `YYYY-MM` as Apple names it; default: 11 months "
        "before `to_period`.",
    ),
    to_period: str | None = Query(
        None,
        pattern=PERIOD_PATTERN,
        description="Last fiscal month, inclusive; default: the newest Apple should have "
        "published.",
    ),
    region: RegionParam = "ZZ",
    account_id: AccountParam = None,
    limit: int = Query(500, ge=1, le=1000, description="Items per page, at most 1000."),
    cursor: CursorParam = None,
    currency: str | None = Query(
        None,
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Reporting currency (ISO 4217): `earned` is also converted into it, at the "
        "rate of the fiscal period's End Date (an estimate: Apple's payment-time rate is not "
        "in its API), with the rate, its date and source; `totals_converted` gives one number "
        "per fiscal month and lists what had no rate. Default: the workspace's reporting "
        "currency, if set.",
    ),
    *,
    settings: AppSettings,
) -> PaymentsReport:
    """What Apple paid per fiscal month, account, region file, payment region and currency
    (regions that share a currency — `US`, `LL`, `AP`, `WW` all pay in USD — are separate
    payments at separate exchange rates, so they are never merged): `units_sold`,
    `returns`, `net_units` and `earned` (Σ Extended Partner Share, in the partner share
    currency — never converted or mixed). The fiscal month comes from each report's own
    Start/End Date. Months whose report is not stored yet are listed in `incomplete_periods`.
    The rows behind each figure are at `/v1/payments/{period}/rows`.
    """
    return await service.payments(
        session,
        principal.workspace_id,
        from_period=from_period,
        to_period=to_period,
        region=region,
        account_id=account_id,
        paging=PageRequest(limit, cursor),
        now=_now(),
        currency=currency,
        default_currency=principal.reporting_currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )


@router.get(
    "/{period}/rows",
    responses=problem_responses(*AUTHED, 404),
)
async def list_payment_rows(
    principal: Reader,
    session: Session,
    period: str = Path(
        pattern=PERIOD_PATTERN, description="Fiscal month `YYYY-MM` as Apple names it."
    ),
    region: RegionParam = "ZZ",
    account_id: AccountParam = None,
    currency: str | None = Query(
        None, pattern=r"^[A-Z]{3}$", description="Only rows in this partner share currency."
    ),
    *,
    paging: Paging,
) -> Page[PaymentRowRead]:
    """The finance report rows of one fiscal month and file, in the file's order."""
    return await service.payment_rows(
        session,
        principal.workspace_id,
        period,
        region=region,
        account_id=account_id,
        currency=currency,
        paging=paging,
    )
