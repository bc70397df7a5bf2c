"""Offer-code redemptions and win-back eligibility: the rows of Apple's reports as stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import Reader
from app.kit.dates import Day
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.subscriptions import report_rows, service
from app.subscriptions.report_rows_schemas import (
    OfferCodeRedemptionRead,
    WinBackEligibilityRead,
)
from app.subscriptions.router import AccountParam, AppParam

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

FromParam = Annotated[
    Day | None, Query(alias="from", description="First report date (Apple's Pacific-time day).")
]
ToParam = Annotated[Day | None, Query(alias="to", description="Last report date, inclusive.")]


@router.get(
    "/offer-code-redemptions",
    operation_id="list_offer_code_redemptions",
    responses=problem_responses(*AUTHED, 404),
)
async def list_offer_code_redemptions(
    principal: Reader,
    session: Session,
    from_date: FromParam = None,
    to_date: ToParam = None,
    account_id: AccountParam = None,
    app_id: AppParam = None,
    *,
    paging: Paging,
) -> Page[OfferCodeRedemptionRead]:
    """The lines of Apple's daily Subscription Offer Code Redemption report
    (`SUBSCRIPTION_OFFER_CODE_REDEMPTION`) Orchard stored: redemptions per offer code,
    subscription and territory. Ordered by `report_date`, then `id`; `from`/`to` select report
    dates (each line also has Apple's own `event_date`).

    A report date without lines is "no redemptions" only when the
    `offer_code_redemptions_daily` dataset is `published` or `no_data` for it (see
    `GET /v1/sync-status`).
    """
    scope = await service.resolve_scope(session, principal.workspace_id, account_id, app_id)
    return await report_rows.offer_code_redemptions(
        session, principal.workspace_id, scope, start=from_date, end=to_date, paging=paging
    )


@router.get(
    "/win-back-eligibility",
    operation_id="list_win_back_eligibility",
    responses=problem_responses(*AUTHED, 404),
)
async def list_win_back_eligibility(
    principal: Reader,
    session: Session,
    from_date: FromParam = None,
    to_date: ToParam = None,
    account_id: AccountParam = None,
    app_id: AppParam = None,
    *,
    paging: Paging,
) -> Page[WinBackEligibilityRead]:
    """The lines of Apple's daily Win-Back Eligibility report (`WIN_BACK_ELIGIBILITY`) Orchard
    stored: per report date, churned subscriptions grouped by subscription, paid tenure, time
    since they lapsed, earlier win-back redemption and territory — who a win-back offer could
    reach. Apple lists only groups of 5 or more. Ordered by `report_date`, then `id`.

    A report date without lines is "nobody eligible" only when the
    `win_back_eligibility_daily` dataset is `published` or `no_data` for it (see
    `GET /v1/sync-status`).
    """
    scope = await service.resolve_scope(session, principal.workspace_id, account_id, app_id)
    return await report_rows.win_back_eligibility(
        session, principal.workspace_id, scope, start=from_date, end=to_date, paging=paging
    )
