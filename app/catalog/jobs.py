"""The catalog's dataset: ``apps``, the account's app list (one unit per account, ``all``)."""

from __future__ import annotations

from app.resources.app_list import AppListing
from app.resources.units import CATALOG_CADENCE, plan_per_account, plan_per_account_many
from app.sync.contract import Dataset, UnitContext, UnitResult


def apps_dataset(listing: AppListing) -> Dataset:
    async def run(ctx: UnitContext) -> UnitResult:
        return UnitResult(rows=await listing.refresh(ctx))

    return Dataset(
        name="apps",
        capability=None,
        cadence=CATALOG_CADENCE,
        plan=plan_per_account,
        plan_many=plan_per_account_many,
        run=run,
    )
