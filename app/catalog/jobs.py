"""The `apps` dataset: the account's full app list, refreshed on the catalog cadence."""

from __future__ import annotations

import datetime as dt

from app.catalog.repository import AppRecord, upsert_apps
from app.models import AscAccount
from app.sync.datasets import Dataset, PlannedUnit, UnitContext, UnitResult, register

CATALOG_CADENCE = dt.timedelta(minutes=30)
APPS_UNIT = "all"
APP_FIELDS = "name,bundleId,sku,primaryLocale"


def plan_apps(account: AscAccount, now: dt.datetime) -> list[PlannedUnit]:
    return [PlannedUnit(APPS_UNIT, refresh_after=CATALOG_CADENCE)]


async def run_apps(ctx: UnitContext) -> UnitResult:
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
    await upsert_apps(
        ctx.session,
        workspace_id=ctx.account.workspace_id,
        account_id=ctx.account.id,
        apps=records,
        now=ctx.now,
    )
    return UnitResult(rows=len(records))


APPS = register(
    Dataset(
        name="apps",
        capability=None,
        cadence=CATALOG_CADENCE,
        plan=plan_apps,
        run=run_apps,
    )
)
