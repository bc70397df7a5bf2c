"""Helpers for the reviews tests: a movable sandbox clock, linking, and running sync units."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import FastAPI

from app.sandbox.state import RequestRecord, SandboxState
from app.sync.contract import UnitResult
from tests.fixtures.engine import call_unit

# Tuesday 10 June 2025, 11:00 in Cupertino.
NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


async def sync_apps(app: FastAPI, account_id: uuid.UUID, now: dt.datetime) -> None:
    await call_unit(app, account_id, "apps", "all", now)


async def sync_reviews(
    app: FastAPI, account_id: uuid.UUID, app_apple_id: str, now: dt.datetime
) -> UnitResult:
    return await call_unit(app, account_id, "reviews", app_apple_id, now)


def review_list_requests(sandbox: SandboxState, app_apple_id: str) -> list[RequestRecord]:
    path = f"/v1/apps/{app_apple_id}/customerReviews"
    return [r for r in sandbox.requests if r.method == "GET" and r.path == path]


def writes(sandbox: SandboxState) -> list[RequestRecord]:
    return [r for r in sandbox.requests if r.method in {"POST", "DELETE"}]


def query_of(record: RequestRecord) -> dict[str, Any]:
    return dict(record.query)
