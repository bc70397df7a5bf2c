"""A reply Orchard posted to an older review is re-read until Apple publishes it or it is gone
(FACTS §4.4; issue 13, item 9), not left ``PENDING_PUBLISH`` until the weekly full pass."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.auth.tokens import Scope
from app.reviews import jobs
from app.sandbox.review_ledger import ReviewLedger
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, make_token
from tests.reviews.helpers import NOW, FakeClock, sync_reviews


async def _old_unanswered(db: asyncpg.Connection) -> asyncpg.Record:
    """A review far older than an incremental pass reads (its overlap is 3 days)."""
    row = await db.fetchrow(
        "SELECT id, apple_id, app_apple_id FROM customer_reviews "
        "WHERE response_apple_id IS NULL AND created_at < $1 ORDER BY created_at LIMIT 1",
        NOW - dt.timedelta(days=30),
    )
    assert row is not None
    return row


async def _state(db: asyncpg.Connection, review_id: uuid.UUID) -> tuple[str | None, str | None]:
    row = await db.fetchrow(
        "SELECT response_state, response_body FROM customer_reviews WHERE id = $1", review_id
    )
    return row["response_state"], row["response_body"]


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 10 stand in for an app with more reviews than one 200-review page: an
    incremental pass then never lists the older review again."""
    monkeypatch.setattr(jobs, "PAGE_LIMIT", 10)


def _rereads(sandbox: SandboxState, review_apple_id: str) -> int:
    path = f"/v1/customerReviews/{review_apple_id}/response"
    return sum(1 for r in sandbox.requests if r.method == "GET" and r.path == path)


@pytest.mark.parametrize("publish_hours", [1, 30])
async def test_a_pending_reply_is_read_again_until_published(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    clock: FakeClock,
    db: asyncpg.Connection,
    database_url: str,
    publish_hours: int,
) -> None:
    sandbox.fidelity.set(reply_publish_hours=publish_hours)
    review = await _old_unanswered(db)
    writer = tenant.headers(await make_token(database_url, tenant, [Scope.WRITE]))
    put = await client.put(
        f"/v1/reviews/{review['id']}/response", json={"body": "Thanks!"}, headers=writer
    )
    assert put.status_code == 200, put.text
    assert await _state(db, review["id"]) == ("PENDING_PUBLISH", "Thanks!")

    clock.advance(hours=2)
    await sync_reviews(app, synced, review["app_apple_id"], clock.now)  # incremental pass
    expected = "PUBLISHED" if publish_hours < 2 else "PENDING_PUBLISH"
    assert await _state(db, review["id"]) == (expected, "Thanks!")
    assert _rereads(sandbox, review["apple_id"]) == 1

    clock.advance(hours=30)
    await sync_reviews(app, synced, review["app_apple_id"], clock.now)
    assert await _state(db, review["id"]) == ("PUBLISHED", "Thanks!")
    # Published: never asked again.
    asked = _rereads(sandbox, review["apple_id"])
    clock.advance(hours=1)
    await sync_reviews(app, synced, review["app_apple_id"], clock.now)
    assert _rereads(sandbox, review["apple_id"]) == asked


async def test_a_pending_reply_removed_at_apple_is_cleared(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    changes: ReviewLedger,
    clock: FakeClock,
    db: asyncpg.Connection,
    database_url: str,
) -> None:
    review = await _old_unanswered(db)
    writer = tenant.headers(await make_token(database_url, tenant, [Scope.WRITE]))
    put = await client.put(
        f"/v1/reviews/{review['id']}/response", json={"body": "Thanks!"}, headers=writer
    )
    assert put.status_code == 200, put.text
    changes.responses[review["apple_id"]] = None  # deleted in App Store Connect's web UI
    clock.advance(hours=2)
    await sync_reviews(app, synced, review["app_apple_id"], clock.now)
    assert await _state(db, review["id"]) == (None, None)
