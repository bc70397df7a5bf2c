"""The `reviews` dataset against the sandbox: full and incremental passes, overlap, removals."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.models import AscAccount
from app.reviews import jobs
from app.sandbox.catalog import SandboxApp
from app.sandbox.markets import COUNTRY_BY_ALPHA3
from app.sandbox.review_ledger import ReviewLedger
from app.sandbox.reviews import PENDING_PUBLISH, Review, visible_reviews
from app.sandbox.state import SandboxKey, SandboxState
from app.sync.budget import KeyBudgets
from app.sync.contract import PlanContext
from app.sync.runner import Runner, RunnerConfig
from app.sync.scheduler import plan_round
from tests.fixtures.accounts import Tenant, link_account
from tests.reviews.helpers import FakeClock, query_of, review_list_requests, sync_reviews

HOUR = dt.timedelta(hours=1)


def served(
    sandbox: SandboxState, key: SandboxKey, app: SandboxApp, now: dt.datetime
) -> list[Review]:
    """What the sandbox lists for the app, newest first (as Orchard asks for it)."""
    return sorted(visible_reviews(sandbox, key.team, app, now), key=lambda r: (r.created, r.id))[
        ::-1
    ]


async def stored(db: asyncpg.Connection, app_apple_id: str) -> dict[str, asyncpg.Record]:
    rows = await db.fetch("SELECT * FROM customer_reviews WHERE app_apple_id = $1", app_apple_id)
    return {row["apple_id"]: row for row in rows}


def biggest(sandbox: SandboxState, key: SandboxKey, apps: tuple[SandboxApp, ...]) -> SandboxApp:
    now = sandbox.now()
    return max(apps, key=lambda a: len(visible_reviews(sandbox, key.team, a, now)))


async def test_first_pass_stores_every_review_and_response(
    app: FastAPI,
    sandbox: SandboxState,
    changes: ReviewLedger,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    account_id: uuid.UUID,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    changes.volume = 4  # a few hundred reviews: several pages of 200
    target = biggest(sandbox, admin_key, sandbox_apps)
    expected = served(sandbox, admin_key, target, clock.now)
    assert len(expected) > 2 * jobs.PAGE_LIMIT

    result = await sync_reviews(app, account_id, target.id, clock.now)

    requests = review_list_requests(sandbox, target.id)
    assert len(requests) == math.ceil(len(expected) / jobs.PAGE_LIMIT)
    first = query_of(requests[0])
    assert first["sort"] == "-createdDate" and first["include"] == "response"
    assert first["limit"] == "200"
    assert result.rows == len(expected)
    rows = await stored(db, target.id)
    assert set(rows) == {review.id for review in expected}
    with_reply = 0
    for review in expected:
        row = rows[review.id]
        assert (row["rating"], row["title"], row["body"]) == (
            review.rating,
            review.title,
            review.body,
        )
        assert row["reviewer_nickname"] == review.nickname
        assert row["territory"] == review.territory
        assert row["country_code"] == COUNTRY_BY_ALPHA3[review.territory].alpha2
        assert row["created_at"] == review.created
        assert row["first_seen_at"] == row["last_seen_at"] == clock.now
        assert row["removed_at"] is None
        reply = review.response_at(clock.now)
        if reply is None:
            assert row["response_apple_id"] is None and row["response_body"] is None
            continue
        with_reply += 1
        pending = clock.now - reply.last_modified < PENDING_PUBLISH
        assert row["response_apple_id"] == reply.id
        assert row["response_body"] == reply.body
        assert row["response_state"] == ("PENDING_PUBLISH" if pending else "PUBLISHED")
        assert row["response_last_modified_at"] == reply.last_modified.replace(microsecond=0)
    assert with_reply > 0


async def test_running_a_unit_twice_leaves_the_same_rows(
    app: FastAPI,
    sandbox_apps: tuple[SandboxApp, ...],
    account_id: uuid.UUID,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    target = sandbox_apps[0]
    await sync_reviews(app, account_id, target.id, clock.now)
    before = await db.fetch("SELECT * FROM customer_reviews ORDER BY id")
    await sync_reviews(app, account_id, target.id, clock.now)
    after = await db.fetch("SELECT * FROM customer_reviews ORDER BY id")
    assert before and [dict(r) for r in before] == [dict(r) for r in after]


async def test_incremental_pass_stops_at_known_reviews(
    app: FastAPI,
    sandbox: SandboxState,
    changes: ReviewLedger,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    account_id: uuid.UUID,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    changes.volume = 4
    target = biggest(sandbox, admin_key, sandbox_apps)
    await sync_reviews(app, account_id, target.id, clock.now)
    known = {r.id for r in served(sandbox, admin_key, target, clock.now)}
    full_pass_requests = len(review_list_requests(sandbox, target.id))
    assert full_pass_requests >= 3

    clock.advance(days=3)  # new reviews arrive
    listed_now = served(sandbox, admin_key, target, clock.now)
    new = {r.id for r in listed_now} - known
    assert new
    sandbox.clear_requests()
    result = await sync_reviews(app, account_id, target.id, clock.now)

    assert len(review_list_requests(sandbox, target.id)) == 1  # not the whole history again
    assert result.detail and result.detail.startswith("incremental")
    rows = await stored(db, target.id)
    assert new <= set(rows)
    assert all(rows[i]["first_seen_at"] == clock.now for i in new)
    # Reviews on later pages were not fetched, so not seen again (and not marked removed).
    page_one = {r.id for r in listed_now[: jobs.PAGE_LIMIT]}
    unseen = set(rows) - page_one
    assert unseen and all(rows[i]["last_seen_at"] < clock.now for i in unseen)
    assert all(row["removed_at"] is None for row in rows.values())


async def test_overlap_catches_edits_and_late_reviews_but_not_older_history(
    app: FastAPI,
    sandbox: SandboxState,
    changes: ReviewLedger,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    account_id: uuid.UUID,
    clock: FakeClock,
    db: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    changes.volume = 20  # a few reviews a day
    target = sandbox_apps[0]
    listing = served(sandbox, admin_key, target, clock.now)
    # One recent review reaches Apple's list late: hidden during the first pass.
    late = listing[2]
    changes.remove(late.id)
    await sync_reviews(app, account_id, target.id, clock.now)
    known = [r for r in listing if r.id != late.id]
    newest = known[0].created
    within = [r for r in known if r.created >= newest - jobs.OVERLAP]
    edited_recent = within[-1]  # the oldest known review inside the overlap
    edited_old = known[len(known) // 2]  # far beyond the overlap
    assert late.created >= newest - jobs.OVERLAP and len(within) >= 3

    # Small pages, so the overlap has to reach beyond the first page.
    page = 2
    monkeypatch.setattr(jobs, "PAGE_LIMIT", page)
    clock.advance(hours=6)
    changes.restore(late.id)
    changes.edit(edited_recent.id, clock.now, rating=1, title="Changed my mind", body="Broken.")
    changes.edit(edited_old.id, clock.now, rating=5, title="Old but edited", body="Fixed!")
    order = [r.id for r in served(sandbox, admin_key, target, clock.now)]
    assert order.index(edited_recent.id) >= page  # not on the first page
    sandbox.clear_requests()

    await sync_reviews(app, account_id, target.id, clock.now)

    rows = await stored(db, target.id)
    assert rows[edited_recent.id]["rating"] == 1
    assert rows[edited_recent.id]["title"] == "Changed my mind"
    assert late.id in rows and rows[late.id]["first_seen_at"] == clock.now
    assert rows[edited_old.id]["title"] == edited_old.title  # incremental: not reached
    fetched = len(review_list_requests(sandbox, target.id))
    assert 2 <= fetched < len(listing) // page  # past the first page, far from all of them

    monkeypatch.setattr(jobs, "PAGE_LIMIT", 200)
    clock.advance(days=8)  # the weekly full pass is due
    result = await sync_reviews(app, account_id, target.id, clock.now)
    assert result.detail and result.detail.startswith("full")
    rows = await stored(db, target.id)
    assert rows[edited_old.id]["title"] == "Old but edited"
    assert rows[edited_old.id]["rating"] == 5


async def test_full_pass_marks_removed_reviews_and_refreshes_old_replies(
    app: FastAPI,
    sandbox: SandboxState,
    changes: ReviewLedger,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    account_id: uuid.UUID,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    changes.volume = 4
    target = biggest(sandbox, admin_key, sandbox_apps)
    await sync_reviews(app, account_id, target.id, clock.now)
    listing = served(sandbox, admin_key, target, clock.now)
    gone = listing[10]
    # Beyond the first page, and young enough to stay in the sandbox's 400-day window.
    old_with_reply = next(
        r
        for r in listing[jobs.PAGE_LIMIT : jobs.PAGE_LIMIT + 100]
        if r.response_at(clock.now) is not None
    )
    changes.remove(gone.id)
    changes.responses[old_with_reply.id] = None  # deleted in App Store Connect's web UI

    clock.advance(days=1)
    await sync_reviews(app, account_id, target.id, clock.now)  # incremental
    rows = await stored(db, target.id)
    assert rows[gone.id]["removed_at"] is None  # only a full pass may conclude "removed"
    assert rows[old_with_reply.id]["response_apple_id"] is not None  # beyond page one

    clock.advance(days=7)
    await sync_reviews(app, account_id, target.id, clock.now)  # full
    rows = await stored(db, target.id)
    still_listed = {r.id for r in served(sandbox, admin_key, target, clock.now)}
    removed = {i for i, row in rows.items() if row["removed_at"] is not None}
    assert gone.id in removed
    assert removed == set(rows) - still_listed  # exactly what Apple stopped listing
    assert rows[gone.id]["removed_at"] == clock.now
    assert rows[old_with_reply.id]["response_apple_id"] is None
    assert rows[old_with_reply.id]["response_body"] is None

    changes.restore(gone.id)  # e.g. Apple reinstated it
    clock.advance(days=7)
    await sync_reviews(app, account_id, target.id, clock.now)
    assert (await stored(db, target.id))[gone.id]["removed_at"] is None


async def test_engine_plans_one_unit_per_listed_app(
    app: FastAPI,
    sandbox: SandboxState,
    sandbox_apps: tuple[SandboxApp, ...],
    account_id: uuid.UUID,
    db: asyncpg.Connection,
) -> None:
    """Through the real scheduler and runner: the planner reads the account's listed apps and
    queues one unit per app directly; each then runs."""
    # Only this dataset's work: other domains' units are not this test's business.
    await db.execute(
        "UPDATE sync_jobs SET state = 'succeeded', finished_at = now() "
        "WHERE account_id = $1 AND dataset <> 'reviews'",
        account_id,
    )
    async with app.state.sessionmaker() as session, session.begin():
        await plan_round(session, app.state.registry, dt.datetime.now(dt.UTC))
    queued = await db.fetch(
        "SELECT unit_key, state FROM sync_jobs WHERE account_id = $1 AND dataset = 'reviews'",
        account_id,
    )
    assert sorted((r["unit_key"], r["state"]) for r in queued) == sorted(
        (a.id, "queued") for a in sandbox_apps
    )

    runner = Runner(
        app.state.sessionmaker,
        app.state.asc_clients,
        app.state.registry,
        KeyBudgets(app.state.sessionmaker, reserve=0),
        RunnerConfig(
            worker_id="reviews-test",
            lease=dt.timedelta(seconds=30),
            key_concurrency=2,
            budget_reserve=0,
            max_attempts=3,
            retry_base=dt.timedelta(seconds=1),
        ),
    )
    for _ in range(10):
        if not await runner.run_once():
            break

    units = await db.fetch(
        "SELECT unit_key, state FROM sync_jobs WHERE account_id = $1 AND dataset = 'reviews'",
        account_id,
    )
    assert {r["unit_key"]: r["state"] for r in units} == {a.id: "succeeded" for a in sandbox_apps}
    counts = await db.fetch(
        "SELECT app_apple_id, count(*) AS n FROM customer_reviews GROUP BY app_apple_id"
    )
    now = sandbox.now()
    team = sandbox.default_team()
    assert {r["app_apple_id"]: r["n"] for r in counts} == {
        a.id: len(visible_reviews(sandbox, team, a, now)) for a in sandbox_apps
    }
    status = await db.fetchrow(
        "SELECT last_success_at, last_error_code FROM sync_dataset_states "
        "WHERE account_id = $1 AND dataset = 'reviews'",
        account_id,
    )
    assert status is not None and status["last_success_at"] is not None
    assert status["last_error_code"] is None


async def test_no_units_before_the_app_list_and_unknown_apps_are_skipped(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin_key: SandboxKey,
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    account = await link_account(client, tenant, admin_key, vendor=False)
    # Linked, its app list not fetched yet: nothing to plan (the scheduler's round after the
    # `apps` unit plans one unit per app).
    assert (
        await db.fetchval(
            "SELECT count(*) FROM sync_jobs WHERE account_id = $1 AND dataset = 'reviews'", account
        )
        == 0
    )
    reviews = app.state.registry.get("reviews")
    async with app.state.sessionmaker() as session:
        linked = await session.get(AscAccount, account)
        assert linked is not None
        assert await reviews.plan(PlanContext(session, linked, clock.now, reviews.cadence)) == []

    # An app Orchard lists but App Store Connect answers 404 for (deleted since).
    workspace = await db.fetchval("SELECT workspace_id FROM asc_accounts WHERE id = $1", account)
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, '1', 'Gone', 'com.gone', 'GONE')",
        uuid.uuid4(),
        workspace,
        account,
    )
    gone = await sync_reviews(app, account, "1", clock.now)
    assert gone.rows == 0 and gone.detail and "does not know this app" in gone.detail
    assert await db.fetchval("SELECT count(*) FROM customer_reviews") == 0
