"""Time in review from Apple's own ``submittedDate`` (FACTS §4.9; issue 13, item 10).

Polling sees a state change within one sync interval; Apple's review submission carries the
exact submission moment. Orchard uses it when it belongs to the round shown, in every
variant the sandbox serves: ``submittedDate`` moving to the resubmission (default), staying
at the first submission (then it belongs to an earlier round and the observed moment is kept),
and draft submissions listed without ``submittedDate``.
"""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.sandbox import SandboxState
from app.sandbox.catalog import team_apps
from app.sandbox.releases import app_releases
from app.sandbox.review_timing import review_attempts
from tests.catalog.helpers import NOW, app_id_of
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import call_unit
from tests.sandbox.conftest import FakeClock

POLL = dt.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("options", "source"),
    [
        ({}, "apple"),
        ({"submitted_date": "first_submission"}, "observed"),
        ({"draft_submissions": True}, "apple"),
    ],
)
async def test_submitted_at_is_apples_submission_moment(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
    options: dict[str, object],
    source: str,
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    sandbox.fidelity.set_team(key.team.name, **options)
    account_id = await link_account(client, tenant, key)
    # A version that was rejected once and resubmitted, first submitted after NOW.
    sandbox_app, version = next(
        (candidate, item)
        for candidate in team_apps(key.team)
        for item in app_releases(key.team, candidate, NOW + dt.timedelta(days=90))
        if item.submitted > NOW and len(review_attempts(item)) >= 2
    )
    attempts = review_attempts(version)
    clock.now = version.submitted - dt.timedelta(hours=1)
    for dataset in ("apps", "app_versions", "review_submissions"):
        await call_unit(app, account_id, dataset, "all", clock.now)
    observed_waiting = None
    for moment, state in version.moments():
        if moment < version.submitted or state == "REPLACED_WITH_NEW_VERSION":
            continue
        clock.now = moment + POLL  # the sync interval: polling is this late
        for dataset in ("app_versions", "review_submissions"):
            await call_unit(app, account_id, dataset, "all", clock.now)
        if state == "WAITING_FOR_REVIEW":
            observed_waiting = clock.now
    assert observed_waiting is not None
    app_id = await app_id_of(db, sandbox_app.id)
    versions = await client.get(f"/v1/apps/{app_id}/versions", headers=tenant.headers())
    [listed] = [v for v in versions.json()["items"] if v["apple_id"] == version.version_id]
    review = listed["review"]
    last = attempts[-1]
    assert review["submitted_source"] == source
    expected = last.submitted if source == "apple" else observed_waiting
    assert dt.datetime.fromisoformat(review["submitted_at"]) == expected
    started = dt.datetime.fromisoformat(review["review_started_at"])
    assert review["waited_seconds"] == int((started - expected).total_seconds())
    if source == "apple":  # exact, where polling is up to one interval late
        assert observed_waiting - expected == POLL
