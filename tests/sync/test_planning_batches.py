"""A planning round writes each dataset's units for many accounts in one statement: the same
units as planning account by account, in a number of writes that does not grow with the
accounts (10,000 accounts made one round 20,000+ statements in one long transaction)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import event, select

from app.models import AscAccount
from app.reports import calendar
from app.reports.periods import DAILY, WEEKLY
from app.sandbox.state import SandboxState
from app.sync import scheduler
from app.sync.contract import missing_requirement, plan_accounts
from app.sync.scheduler import plan_round, routine_units
from tests.analytics.helpers import existing_request, one_app_team
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import run_unit


async def _plan(app: FastAPI) -> tuple[int, int]:
    """One round: (units queued, INSERTs of accounts' units into sync_jobs)."""
    inserts = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal inserts
        inserts += "INSERT INTO sync_jobs" in statement and "u.account_id" in statement

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with app.state.sessionmaker() as session, session.begin():
            planned = await plan_round(session, app.state.registry, dt.datetime.now(dt.UTC))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert planned is not None
    return planned, inserts


async def _units(db: asyncpg.Connection) -> dict[str, set[tuple[Any, ...]]]:
    rows = await db.fetch(
        "SELECT account_id, dataset, unit_key, state, priority, fair_rank, key_id FROM sync_jobs "
        "WHERE account_id IS NOT NULL"
    )
    units: dict[str, set[tuple[Any, ...]]] = {}
    for row in rows:
        units.setdefault(str(row["account_id"]), set()).add(tuple(row.values())[1:])
    return units


async def test_a_round_plans_every_account_in_a_few_statements_per_dataset(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    monkeypatch: Any,
) -> None:
    await link_account(client, tenant, sandbox.add_key("solo"), verify=False)
    await db.execute("DELETE FROM sync_jobs")
    _, alone_inserts = await _plan(app)
    (one,) = (await _units(db)).values()
    assert one and alone_inserts > 0

    monkeypatch.setattr(scheduler, "PLAN_BATCH", 3)  # 7 accounts: batches of 3, 3 and 1
    for n in range(6):
        await link_account(client, tenant, sandbox.add_key(f"team{n}"), verify=False)
    await db.execute("DELETE FROM sync_jobs")
    planned, inserts = await _plan(app)

    # The same units for every account as when it was planned alone (its own key)...
    units = await _units(db)
    assert len(units) == 7 and planned >= 7 * len(one)
    for account_units in units.values():
        assert {unit[:-1] for unit in account_units} == {unit[:-1] for unit in one}
        assert len({unit[-1] for unit in account_units}) == 1
    assert len({next(iter(u))[-1] for u in units.values()}) == 7
    # ... written in one statement per dataset, refresh group and batch: three batches here,
    # against seven accounts (and against one statement per account and dataset before).
    assert inserts == 3 * alone_inserts
    # Planning again queues nothing new: every unit is queued already.
    assert (await _plan(app))[0] == 0


async def _recorded_round(app: FastAPI) -> list[str]:
    """Every statement one planning round sends (the way tests/security counts a request's)."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with app.state.sessionmaker() as session, session.begin():
            assert await plan_round(session, app.state.registry, dt.datetime.now(dt.UTC))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


async def _link_listed(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, names: range
) -> list[uuid.UUID]:
    """Accounts whose apps are listed (their ``apps`` unit ran), so every per-app dataset plans."""
    linked = []
    for n in names:
        account_id = await link_account(client, tenant, sandbox.add_key(f"t{n}"), verify=False)
        await run_unit(app, account_id, "apps", "all")
        linked.append(account_id)
    return linked


async def test_a_rounds_statements_do_not_grow_with_the_accounts(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    few = await _link_listed(app, client, tenant, sandbox, range(2))
    await db.execute("DELETE FROM sync_jobs")
    with_few = await _recorded_round(app)
    many = few + await _link_listed(app, client, tenant, sandbox, range(2, 8))
    await db.execute("DELETE FROM sync_jobs")
    with_many = await _recorded_round(app)

    # Every planner's read is one statement for all accounts: 8 accounts cost what 2 did
    # (planned one account at a time, each per-app or dated dataset read once per account).
    reads = [s for s in with_many if not s.lstrip().upper().startswith("INSERT")]
    assert len(with_many) == len(with_few), "\n".join(with_many)
    assert len(reads) == len([s for s in with_few if not s.lstrip().upper().startswith("INSERT")])
    # The round's lock and accounts, then at most one read per planner (a one-unit-per-account
    # planner too, since it leaves out the accounts whose unit is kept).
    registry = app.state.registry
    assert len(reads) <= 2 + len(registry.all()) + len(registry.public())

    # ... and each account's units are what its own plan (one account, as on link) says.
    queued = await db.fetch("SELECT account_id, dataset, unit_key FROM sync_jobs")
    per_app = {row["dataset"] for row in queued if row["unit_key"].isdigit()}
    assert {"reviews", "beta_feedback"} <= per_app
    async with app.state.sessionmaker() as session:
        for account_id in many:
            account = await session.get(AscAccount, account_id)
            assert account is not None
            for dataset in app.state.registry.all():
                own = []
                if missing_requirement(dataset, account) is None:
                    own = await routine_units(session, account, dataset, dt.datetime.now(dt.UTC))
                stored = {r["unit_key"] for r in queued if r["account_id"] == account_id
                          and r["dataset"] == dataset.name}  # fmt: skip
                assert stored == {unit.unit_key for unit in own}, (dataset.name, account_id)


async def _row_versions(db: asyncpg.Connection) -> dict[Any, tuple[Any, ...]]:
    """Every unit as stored, with its row version: ``xmin`` changes when a row is rewritten,
    ``xmax`` when a statement locks it (``ON CONFLICT DO UPDATE … WHERE false`` does)."""
    rows = await db.fetch(
        "SELECT id, state, priority, fair_rank, run_after, attempts, xmin::text AS xmin, "
        "xmax::text AS xmax FROM sync_jobs"
    )
    return {row["id"]: tuple(row.values())[1:] for row in rows}


async def test_a_round_over_queued_units_writes_nothing_and_a_stale_unit_is_due_again(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    stale, fresh = [
        await link_account(client, tenant, sandbox.add_key(f"q{n}"), verify=False) for n in range(2)
    ]
    await db.execute("DELETE FROM sync_jobs")
    planned, _ = await _plan(app)
    assert planned > 0
    before = await _row_versions(db)
    assert len(before) == planned

    # Every unit is queued already: the round skips them all before writing (it neither
    # rewrites nor locks a row: 650,000 of them at 10,000 accounts took most of a round).
    assert (await _plan(app))[0] == 0
    assert await _row_versions(db) == before

    # A finished unit is left alone until its refresh_after (the catalog's cadence) elapses,
    # then queued again; a finished unit still fresh stays finished.
    now = dt.datetime.now(dt.UTC)
    finish = (
        "UPDATE sync_jobs SET state = 'succeeded', finished_at = $2, attempts = 1 "
        "WHERE account_id = $1 AND dataset = 'apps' AND unit_key = 'all'"
    )
    await db.execute(finish, stale, now - dt.timedelta(days=1))
    await db.execute(finish, fresh, now - dt.timedelta(seconds=5))
    finished = await _row_versions(db)
    assert (await _plan(app))[0] == 1
    after = await _row_versions(db)
    changed = {job for job in after if after[job] != finished[job]}
    (requeued,) = changed
    assert await db.fetchrow(
        "SELECT account_id, dataset, unit_key, state, attempts FROM sync_jobs WHERE id = $1",
        requeued,
    ) == (stale, "apps", "all", "queued", 0)
    assert (
        await db.fetchval(
            "SELECT state FROM sync_jobs WHERE account_id = $1 AND dataset = 'apps'", fresh
        )
        == "succeeded"
    )


async def _proposals(
    app: FastAPI, now: dt.datetime, *, skip_kept: bool
) -> dict[tuple[uuid.UUID, str, str], dt.timedelta | None]:
    """Every unit each dataset's planner proposes for every account, as a round asks it
    (``skip_kept``) or as a link does: (account, dataset, unit key) → refresh."""
    proposed: dict[tuple[uuid.UUID, str, str], dt.timedelta | None] = {}
    async with app.state.sessionmaker() as session:
        accounts = list(await session.scalars(select(AscAccount)))
        for dataset in app.state.registry.all():
            eligible = [a for a in accounts if missing_requirement(dataset, a) is None]
            planned = await plan_accounts(session, dataset, eligible, now, skip_kept=skip_kept)
            for account_id, units in planned.items():
                for unit in units:
                    proposed[(account_id, dataset.name, unit.unit_key)] = unit.refresh_after
    return proposed


async def test_a_rounds_planners_leave_out_the_units_it_would_skip(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    first, second = await _link_listed(app, client, tenant, sandbox, range(2))
    await db.execute("DELETE FROM sync_jobs")
    planned, _ = await _plan(app)
    now = dt.datetime.now(dt.UTC)
    every = await _proposals(app, now, skip_kept=False)
    assert planned > 0
    assert len(every) == await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE account_id IS NOT NULL"
    )
    # A later round: every unit is kept, so no planner proposes one (none is built, sent to
    # PostgreSQL and dropped by the INSERT's anti-join: 650,000 a round at 10,000 accounts).
    assert await _proposals(app, now, skip_kept=True) == {}

    # Then units change: due again are a newest day past its late refresh, a catalog unit
    # and a per-app unit past their cadence, a unit deleted, and a provisional "no sales"
    # day fetched before Apple's latest batch; an older day, a fresh unit and a final "no
    # sales" day stay kept.
    newest, *older = DAILY.routine(now)
    weekly = WEEKLY.unit_key(WEEKLY.routine(now)[0])
    apple_id = min(key[2] for key in every if key[:2] == (first, "reviews"))
    batch = calendar.latest_batch(now)
    finished = {
        (first, "sales_daily", DAILY.unit_key(newest)): now - dt.timedelta(days=2),
        (first, "sales_daily", DAILY.unit_key(older[0])): now - dt.timedelta(days=2),
        (second, "apps", "all"): now - dt.timedelta(days=1),
        (first, "apps", "all"): now - dt.timedelta(seconds=5),
        (first, "reviews", apple_id): now - dt.timedelta(days=1),
        (second, "sales_daily", DAILY.unit_key(older[2])): batch - dt.timedelta(minutes=1),
        (second, "sales_daily", DAILY.unit_key(older[3])): batch - dt.timedelta(minutes=1),
    }
    for (account_id, dataset, key), at in finished.items():
        await db.execute(
            "UPDATE sync_jobs SET state = 'succeeded', finished_at = $4 "
            "WHERE account_id = $1 AND dataset = $2 AND unit_key = $3",
            account_id,
            dataset,
            key,
            at,
        )
    await db.execute(
        "DELETE FROM sync_jobs WHERE account_id = $1 AND dataset = 'sales_weekly' "
        "AND unit_key = $2",
        second,
        weekly,
    )
    for day, fetched in (
        (older[2], DAILY.available_at(older[2])),  # inside the provisional window
        (older[3], DAILY.available_at(older[3]) + calendar.PROVISIONAL),  # after it: final
    ):
        await db.execute(
            "INSERT INTO dataset_availability (account_id, dataset, report_date, state, "
            "fetched_at, row_count) VALUES ($1, 'sales_daily', $2, 'no_data', $3, 0)",
            second,
            day,
            fetched,
        )

    every = await _proposals(app, now, skip_kept=False)
    due = await _proposals(app, now, skip_kept=True)
    assert set(due) == {
        (first, "sales_daily", DAILY.unit_key(newest)),
        (second, "apps", "all"),
        (first, "reviews", apple_id),
        (second, "sales_weekly", weekly),
        (second, "sales_daily", DAILY.unit_key(older[2])),
    }
    # ... each with the refresh the full plan gives it, and exactly the units the INSERT's
    # own anti-join would have queued of the full plan.
    assert due == {unit: every[unit] for unit in due}
    stored = {
        (row["account_id"], row["dataset"], row["unit_key"]): (row["state"], row["finished_at"])
        for row in await db.fetch(
            "SELECT account_id, dataset, unit_key, state, finished_at FROM sync_jobs "
            "WHERE account_id IS NOT NULL"
        )
    }

    def requeued(unit: tuple[uuid.UUID, str, str], refresh: dt.timedelta | None) -> bool:
        if unit not in stored:
            return True
        state, finished_at = stored[unit]
        finished = state in ("succeeded", "failed")
        return finished and refresh is not None and finished_at < now - refresh

    assert set(due) == {unit for unit, refresh in every.items() if requeued(unit, refresh)}
    assert (await _plan(app))[0] == len(due)


async def test_a_rounds_analytics_planner_leaves_out_the_instances_it_would_skip(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    linked = []
    for name in ("north", "south"):
        key, sandbox_app = one_app_team(sandbox, name)
        existing_request(sandbox, sandbox_app, days_ago=2)
        account_id = await link_account(client, tenant, key, verify=False)
        await run_unit(app, account_id, "apps", "all")
        await run_unit(app, account_id, "analytics_requests", sandbox_app.id)
        linked.append(account_id)
    pending = {
        (row["account_id"], "analytics_instances", row["apple_instance_id"])
        for row in await db.fetch(
            "SELECT account_id, apple_instance_id FROM analytics_instances WHERE state = 'pending'"
        )
    }
    assert {unit[0] for unit in pending} == set(linked)  # Apple published some for both
    await db.execute("DELETE FROM sync_jobs")
    assert (await _plan(app))[0] > len(pending)
    now = dt.datetime.now(dt.UTC)
    every = await _proposals(app, now, skip_kept=False)
    assert {unit for unit in every if unit[1] == "analytics_instances"} == pending
    # A later round: every instance's unit is queued, so the planner proposes none.
    assert await _proposals(app, now, skip_kept=True) == {}

    # An instance's unit is never refreshed: one finished, failed, running or paused stays
    # kept; one deleted is due again.
    north = sorted(unit[2] for unit in pending if unit[0] == linked[0])
    assert len(north) >= 5
    for instance, state in zip(north, ("succeeded", "failed", "running", "paused"), strict=False):
        await db.execute(
            "UPDATE sync_jobs SET state = $3, finished_at = $4 "
            "WHERE account_id = $1 AND dataset = 'analytics_instances' AND unit_key = $2",
            linked[0],
            instance,
            state,
            now - dt.timedelta(days=30) if state in ("succeeded", "failed") else None,
        )
    await db.execute(
        "DELETE FROM sync_jobs WHERE account_id = $1 AND dataset = 'analytics_instances' "
        "AND unit_key = $2",
        linked[0],
        north[4],
    )
    due = await _proposals(app, now, skip_kept=True)
    assert due == {(linked[0], "analytics_instances", north[4]): None}
    # ... exactly what the round's INSERT queues of the full plan.
    assert (await _plan(app))[0] == len(due)
    assert await _proposals(app, now, skip_kept=True) == {}
