"""Helpers for the reviews tests: a movable sandbox clock, linking, and running sync units."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from app.models import AscAccount
from app.sandbox.state import RequestRecord, SandboxKey, SandboxState
from app.sync.contract import UnitContext, UnitResult
from tests.accounts.helpers import link
from tests.fixtures.accounts import Tenant

# Tuesday 10 June 2025, 11:00 in Cupertino.
NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


async def link_account(client: httpx.AsyncClient, tenant: Tenant, key: SandboxKey) -> uuid.UUID:
    # No vendor number: sales and finance stay unplanned, only the catalog and reviews run.
    response = await link(client, tenant, key, vendor=False)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def run_unit(
    app: FastAPI, account_id: uuid.UUID, dataset: str, unit_key: str, now: dt.datetime
) -> UnitResult:
    """One unit exactly as the engine runs it: inside its own transaction, committed after."""
    found = app.state.registry.get(dataset)
    assert found is not None
    async with app.state.sessionmaker() as session, session.begin():
        account = await session.get(AscAccount, account_id)
        assert account is not None
        context = UnitContext(
            session=session,
            account=account,
            client=app.state.asc_clients.for_account(account),
            dataset=dataset,
            unit_key=unit_key,
            now=now,
            log=logging.LoggerAdapter(logging.getLogger("tests.reviews"), {}),
        )
        return await found.run(context)


async def sync_apps(app: FastAPI, account_id: uuid.UUID, now: dt.datetime) -> None:
    await run_unit(app, account_id, "apps", "all", now)


async def sync_reviews(
    app: FastAPI, account_id: uuid.UUID, app_apple_id: str, now: dt.datetime
) -> UnitResult:
    return await run_unit(app, account_id, "reviews", app_apple_id, now)


def review_list_requests(sandbox: SandboxState, app_apple_id: str) -> list[RequestRecord]:
    path = f"/v1/apps/{app_apple_id}/customerReviews"
    return [r for r in sandbox.requests if r.method == "GET" and r.path == path]


def writes(sandbox: SandboxState) -> list[RequestRecord]:
    return [r for r in sandbox.requests if r.method in {"POST", "DELETE"}]


def query_of(record: RequestRecord) -> dict[str, Any]:
    return dict(record.query)
