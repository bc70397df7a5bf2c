"""The catalog's datasets. ``apps`` (the account's app list) is defined here; importing this
module also registers the release-side datasets, each in its own module.

Every catalog dataset refreshes on the catalog cadence with one unit per account (``all``):
the per-app datasets walk the account's live apps in that unit, so the request count the sync
engine records for the unit (``last_unit_requests`` in sync-status) is what one full refresh
of that dataset costs the account. A unit key that is an Apple app id refreshes just that app.
"""

from __future__ import annotations

# Each of these modules registers its dataset.
import app.catalog.builds_job
import app.catalog.submissions_job
import app.catalog.team_job
import app.catalog.testflight_job
import app.catalog.versions_job  # noqa: F401
from app.catalog.listing import refresh_apps
from app.catalog.units import CATALOG_CADENCE, plan_per_account
from app.sync.datasets import Dataset, UnitContext, UnitResult, register


async def run_apps(ctx: UnitContext) -> UnitResult:
    return UnitResult(rows=await refresh_apps(ctx))


APPS = register(
    Dataset(
        name="apps",
        capability=None,
        cadence=CATALOG_CADENCE,
        plan=plan_per_account,
        run=run_apps,
    )
)
