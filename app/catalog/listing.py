"""The account's app list from ``GET /v1/apps``: fetched by the ``apps`` dataset, and inline
by the per-app datasets when they run before the account's apps were ever listed."""

from __future__ import annotations

from app.catalog.repository import AppRecord, upsert_apps
from app.sales.repository import link_rows_to_apps, lock_catalog_for_refresh
from app.sync.datasets import UnitContext

APP_FIELDS = "name,bundleId,sku,primaryLocale"


async def refresh_apps(ctx: UnitContext) -> int:
    """List every app of the account (200 a page), store them, mark the missing removed."""
    records: list[AppRecord] = []
    async for page in ctx.client.paginate("/v1/apps", {"fields[apps]": APP_FIELDS, "limit": 200}):
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
    await lock_catalog_for_refresh(ctx.session, ctx.account.id)
    await upsert_apps(
        ctx.session,
        workspace_id=ctx.account.workspace_id,
        account_id=ctx.account.id,
        apps=records,
        now=ctx.now,
    )
    # Sales rows that arrived before their app did can be attributed now.
    await link_rows_to_apps(ctx.session, ctx.account.id)
    return len(records)
