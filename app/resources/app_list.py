"""The account's app list from ``GET /v1/apps``: fetched by the ``apps`` dataset, and inline
by the per-app datasets when they run before the account's apps were ever listed."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.client import Params
from app.resources import app_links
from app.resources.repository import AppRecord, upsert_apps
from app.sync.contract import UnitContext

APP_FIELDS = "name,bundleId,sku,primaryLocale"

#: Called after an account's app list was stored, inside the same transaction: a dataset
#: whose rows name apps links the rows that arrived before their app did.
AppsRefreshed = Callable[[AsyncSession, uuid.UUID], Awaitable[object]]


@dataclass(frozen=True)
class AppListing:
    """Fetches and stores an account's app list, then tells ``after_refresh`` (wired by the
    dataset registry: the catalog does not know which domains keep rows per app)."""

    after_refresh: Sequence[AppsRefreshed] = ()

    async def refresh(self, ctx: UnitContext) -> int:
        """List every app of the account (200 a page), store them, mark the missing removed."""
        records: list[AppRecord] = []
        params: Params = {"fields[apps]": APP_FIELDS, "limit": 200}
        async for page in ctx.client.paginate("/v1/apps", params):
            for resource in page.resources():
                attributes = resource.attributes
                records.append(
                    AppRecord(
                        apple_id=resource.id,
                        name=str(attributes.get("name") or ""),
                        bundle_id=str(attributes.get("bundleId") or ""),
                        sku=str(attributes.get("sku") or ""),
                        primary_locale=attributes.get("primaryLocale"),
                    )
                )
        await app_links.lock_for_refresh(ctx.session, ctx.account.id)
        await upsert_apps(
            ctx.session,
            workspace_id=ctx.account.workspace_id,
            account_id=ctx.account.id,
            apps=records,
            now=ctx.now,
        )
        for hook in self.after_refresh:
            await hook(ctx.session, ctx.account.id)
        return len(records)
