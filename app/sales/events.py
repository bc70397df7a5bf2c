"""The sales domain's webhook event: an account's daily sales report for a date became
available in Orchard (Apple published it, or said there were no sales), with its totals.

Written in the unit's transaction, the first time the date became a fact (a late re-fetch of
a published date sends nothing again)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from app.outbox.catalogue import EventTypeSpec
from app.outbox.writer import OutboxEvent, publish, wants
from app.sales import service
from app.sales.schemas import DailySales
from app.sync.contract import UnitContext, UnitResult

DAY_PUBLISHED = "sales.day_published"


class SalesDayPublished(DailySales):
    """One account's totals of one report date, as the series of `GET
    /v1/apps/{id}/sales/summary` shows a day, over all of the account's apps."""

    account_id: uuid.UUID
    dataset: str = Field(description="`sales_daily`: Apple's daily SALES/SUMMARY report.")


EVENT_TYPES = [
    EventTypeSpec(
        name=DAY_PUBLISHED,
        summary="A day's sales report is in",
        description="An account's daily sales report for `report_date` became available "
        "(`state` `published`, or `no_data`: Apple says there were no sales, a real zero), with "
        "the day's totals. Sent once per account and date, backfilled dates included.",
        data=SalesDayPublished,
    )
]


async def publish_day(ctx: UnitContext, day: dt.date, result: UnitResult) -> None:
    account = ctx.account
    if not await wants(ctx.session, account.workspace_id, [DAY_PUBLISHED]):
        return
    totals = await service.day_totals(ctx.session, account.workspace_id, account.id, day)
    data = {
        "report_date": day,
        "state": result.outcome.value,
        "account_id": account.id,
        "dataset": ctx.dataset,
        **totals,
    }
    await publish(
        ctx.session,
        account.workspace_id,
        [OutboxEvent(type=DAY_PUBLISHED, data=data, occurred_at=ctx.now, account_id=account.id)],
    )
