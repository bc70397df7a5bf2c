"""The catalog's datasets: ``apps`` (the account's app list), the release side (versions,
builds, TestFlight, review submissions) and the team.

Every catalog dataset refreshes on the catalog cadence with one unit per account (``all``):
the per-app datasets walk the account's live apps in that unit, so the request count the sync
engine records for the unit (``last_unit_requests`` in sync-status) is what one full refresh
of that dataset costs the account. A unit key that is an Apple app id refreshes just that app.
"""

from __future__ import annotations

from app.catalog import builds_job, submissions_job, team_job, testflight_job, versions_job
from app.catalog.listing import AppListing
from app.catalog.units import CATALOG_CADENCE, plan_per_account
from app.sync.contract import Dataset, UnitContext, UnitResult


def datasets(listing: AppListing) -> list[Dataset]:
    async def run_apps(ctx: UnitContext) -> UnitResult:
        return UnitResult(rows=await listing.refresh(ctx))

    apps = Dataset(
        name="apps", capability=None, cadence=CATALOG_CADENCE, plan=plan_per_account, run=run_apps
    )
    return [
        apps,
        versions_job.dataset(listing),
        builds_job.dataset(listing),
        testflight_job.dataset(listing),
        submissions_job.dataset(listing),
        team_job.TEAM,
    ]
