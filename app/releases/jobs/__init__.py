"""The release side's datasets: App Store versions, builds, TestFlight groups and testers, and
review submissions, one module each.

Each refreshes on the catalog cadence with one unit per account (``all``) that walks the
account's live apps, so the request count the sync engine records for the unit
(``last_unit_requests`` in sync-status) is what one full refresh of that dataset costs the
account. A unit key that is an Apple app id refreshes just that app.
"""

from __future__ import annotations

from app.releases.jobs import builds, submissions, testflight, versions
from app.resources.app_list import AppListing
from app.sync.contract import Dataset


def datasets(listing: AppListing) -> list[Dataset]:
    return [
        versions.dataset(listing),
        builds.dataset(listing),
        testflight.dataset(listing),
        submissions.dataset(listing),
    ]
