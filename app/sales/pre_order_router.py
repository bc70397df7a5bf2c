"""Pre-orders: the rows of Apple's Pre-Order report as Orchard stores them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import Reader
from app.kit.dates import Day
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.sales import pre_order_service
from app.sales.pre_order_schemas import PreOrderRead
from app.sales.router import AccountsParam, AppsParam, CountriesParam

router = APIRouter(tags=["sales"])


@router.get(
    "/v1/pre-orders",
    operation_id="list_pre_orders",
    responses=problem_responses(*AUTHED),
)
async def list_pre_orders(
    principal: Reader,
    session: Session,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First report date (Pacific).")
    ] = None,
    to_date: Annotated[
        Day | None, Query(alias="to", description="Last report date, inclusive (Pacific).")
    ] = None,
    account_ids: AccountsParam = None,
    app_ids: AppsParam = None,
    countries: CountriesParam = None,
    *,
    paging: Paging,
) -> Page[PreOrderRead]:
    """The lines of Apple's daily Pre-Order report (`PRE_ORDER`/`SUMMARY`) Orchard stored:
    per report date, one line per title in pre-order and storefront, with the pre-orders
    placed and canceled that day and so far. Ordered by `report_date`, then `id`.

    Only titles in pre-order appear; a day without lines is "no pre-orders" only when the
    `pre_orders_daily` dataset is `published` or `no_data` for it (see `GET /v1/sync-status`).
    `app_id` matches lines whose Apple Identifier is that app's (an app still in pre-order may
    not be in the catalog yet: filter by `account_id` and read `apple_identifier` then).
    """
    return await pre_order_service.list_pre_orders(
        session,
        principal.workspace_id,
        start=from_date,
        end=to_date,
        account_ids=account_ids or [],
        app_ids=app_ids or [],
        countries=countries or [],
        paging=paging,
    )
