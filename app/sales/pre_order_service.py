"""Listing the Pre-Order report rows Orchard stores (FACTS §4.5; issue 13, item 12)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.kit import cursors
from app.kit.money import number_text
from app.kit.pagination import Page, PageRequest
from app.models import PreOrderRow
from app.sales import pre_order_repository
from app.sales.pre_order_schemas import PreOrderRead


async def list_pre_orders(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date | None,
    end: dt.date | None,
    account_ids: list[uuid.UUID],
    app_ids: list[uuid.UUID],
    countries: list[str],
    paging: PageRequest,
) -> Page[PreOrderRead]:
    if start is not None and end is not None and start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    after = paging.after(cursors.day, cursors.integer)
    rows = await pre_order_repository.list_pre_orders(
        session,
        workspace_id,
        start=start,
        end=end,
        account_ids=list(dict.fromkeys(account_ids)),
        app_ids=list(dict.fromkeys(app_ids)),
        # Apple writes storefronts in capitals; accept `us` as well.
        countries=list(dict.fromkeys(c.upper() for c in countries)),
        after=(after[0], after[1]) if after is not None else None,
        limit=paging.fetch,
    )
    return paging.page(rows, lambda r: [r.report_date.isoformat(), r.id], _read)


def _read(row: PreOrderRow) -> PreOrderRead:
    return PreOrderRead(
        id=row.id,
        account_id=row.account_id,
        report_date=row.report_date,
        title=row.title,
        apple_identifier=row.apple_identifier,
        provider=row.provider,
        provider_country=row.provider_country,
        pre_order_start=row.pre_order_start,
        pre_order_end=row.pre_order_end,
        ordered=number_text(row.ordered),
        canceled=number_text(row.canceled),
        cumulative_ordered=number_text(row.cumulative_ordered),
        cumulative_canceled=number_text(row.cumulative_canceled),
        begin_date=row.begin_date,
        end_date=row.end_date,
        country=row.country_code,
        category=row.category,
        device=row.device,
        supported_platforms=row.supported_platforms,
        client=row.client,
        extra=row.extra or {},
    )
