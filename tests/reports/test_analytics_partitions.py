"""App Analytics rows are partitioned (migration 21_analytics_partitions) by granularity, then by
the month their report instance was processed: an instance's leaf is made when its unit first
needs it, reloading it rewrites no other row, retention drops whole months of instances, a
purge deletes only the account's rows, and the migration keeps every row both ways."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import migrate
from app.reports import partitions
from app.sandbox.state import SandboxState, utc_now
from tests.analytics.helpers import existing_request, link_and_sync, one_app_team, running_app
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import run_unit
from tests.sales.test_partitions import _filenode
from tests.sandbox.conftest import FakeClock

TABLE = "analytics_rows"
#: Apple's clock in these tests: instances processed from late February into March.
NOW = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)
DEFAULTS = {f"{TABLE}_{g}_default" for g in ("daily", "weekly", "monthly")}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1, "analytics_snapshot": False})


@pytest.fixture
async def world(
    settings: Settings,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, SandboxState]]:
    sandbox = SandboxState(seed=7, clock=FakeClock(NOW))
    sandbox.token_clock = utc_now  # Orchard mints its tokens with the real time
    async with running_app(settings, sandbox) as (app, client):
        yield app, client, sandbox


async def _synced(
    world: tuple[FastAPI, httpx.AsyncClient, SandboxState],
    tenant: Tenant,
    db: asyncpg.Connection,
    team: str = "acme",
) -> uuid.UUID:
    app, client, sandbox = world
    key, sandbox_app = one_app_team(sandbox, team)
    existing_request(sandbox, sandbox_app, days_ago=6)
    return await link_and_sync(app, client, tenant, key, db)


async def _leaves(db: asyncpg.Connection) -> set[str]:
    rows = await db.fetch(
        "SELECT relid::regclass::text AS leaf FROM pg_partition_tree($1) WHERE isleaf", TABLE
    )
    return {row["leaf"] for row in rows}


async def _placed(db: asyncpg.Connection, where: str = "true", *args: object) -> set[tuple]:
    """Where every row is: (leaf, ctid, id) — a row rewritten or moved changes its triple."""
    rows = await db.fetch(
        f"SELECT tableoid::regclass::text AS leaf, ctid::text AS ctid, id FROM {TABLE} "
        f"WHERE {where}",
        *args,
    )
    return {(row["leaf"], row["ctid"], row["id"]) for row in rows}


async def _expected_leaf(db: asyncpg.Connection) -> dict[uuid.UUID, str]:
    """Each loaded instance's leaf, by its granularity and processing date."""
    rows = await db.fetch(
        "SELECT id, granularity, processing_date FROM analytics_instances WHERE rows > 0"
    )
    return {
        row["id"]: partitions.leaf_of(TABLE, row["granularity"], row["processing_date"]).name
        for row in rows
    }


async def test_an_instance_lands_in_its_processing_months_leaf_made_on_demand_and_reloading_it_rewrites_no_other_row(
    world: tuple[FastAPI, httpx.AsyncClient, SandboxState],
    tenant: Tenant,
    db: asyncpg.Connection,
) -> None:
    assert await _leaves(db) == DEFAULTS  # none made before a unit needs it
    account = await _synced(world, tenant, db)

    expected = await _expected_leaf(db)
    found = await db.fetch(
        f"SELECT DISTINCT instance_id, tableoid::regclass::text AS leaf FROM {TABLE}"
    )
    assert {row["instance_id"]: row["leaf"] for row in found} == expected
    assert len(found) == len(expected)  # one leaf per instance
    # Exactly the leaves the instances needed, and the catch-alls stay empty.
    assert await _leaves(db) == DEFAULTS | set(expected.values())
    assert {f"{TABLE}_daily_2026_02", f"{TABLE}_daily_2026_03"} <= set(expected.values())
    for leaf in DEFAULTS:
        assert await db.fetchval(f"SELECT count(*) FROM {leaf}") == 0
    indexes = "SELECT count(*) FROM pg_indexes WHERE tablename = $1"
    assert await db.fetchval(indexes, f"{TABLE}_daily_2026_03") == 1

    # Reload the newest daily instance: its rows are replaced in its leaf, no other row moves.
    instance = await db.fetchrow(
        "SELECT id, apple_instance_id, rows FROM analytics_instances WHERE granularity = 'DAILY' "
        "AND rows > 0 ORDER BY processing_date DESC LIMIT 1"
    )
    others = await _placed(db, "instance_id <> $1", instance["id"])
    own = await _placed(db, "instance_id = $1", instance["id"])
    february = await _filenode(db, f"{TABLE}_daily_2026_02")

    app, _, _ = world
    await run_unit(app, account, "analytics_instances", instance["apple_instance_id"])

    assert await _placed(db, "instance_id <> $1", instance["id"]) == others
    reloaded = await _placed(db, "instance_id = $1", instance["id"])
    assert len(reloaded) == len(own) == instance["rows"]
    assert {leaf for leaf, _, _ in reloaded} == {expected[instance["id"]]}
    assert not {id_ for _, _, id_ in reloaded} & {id_ for _, _, id_ in own}  # new rows
    assert await _filenode(db, f"{TABLE}_daily_2026_02") == february


async def test_retention_drops_whole_months_of_instances_and_keeps_the_rollups(
    world: tuple[FastAPI, httpx.AsyncClient, SandboxState],
    tenant: Tenant,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    await _synced(world, tenant, db)
    rollups = await db.fetch("SELECT * FROM analytics_rollups ORDER BY id")
    cutoff = dt.date(2026, 3, 2)
    cut = await db.fetchval(
        f"SELECT count(*) FROM {TABLE} WHERE granularity = 'DAILY' "
        "AND processing_date >= '2026-03-01' AND processing_date < $1",
        cutoff,
    )
    assert cut > 0
    kept = await _placed(db, "granularity <> 'DAILY' OR processing_date >= $1", cutoff)
    march = await _filenode(db, f"{TABLE}_daily_2026_03")

    # Daily instances are kept from 2026-03-02 on; weekly and monthly ones have no retention.
    window = dt.datetime.now(dt.UTC).date() - cutoff
    task = partitions.retention_task(settings.model_copy(update={"report_retention_daily": window}))
    app, _, _ = world
    pruned = {p.table: p for p in await task.run(app.state.sessionmaker, app.state.asc_clients)}  # type: ignore[attr-defined]

    assert pruned[TABLE].dropped == [f"{TABLE}_daily_2026_02"]
    assert pruned[TABLE].deleted_rows == cut  # the 1 March instance, in the leaf it cuts
    assert await db.fetchval("SELECT to_regclass($1)", f"{TABLE}_daily_2026_02") is None
    assert await _placed(db) == kept  # everything else in place
    assert await _filenode(db, f"{TABLE}_daily_2026_03") == march
    # Every row of a date the cut-off keeps is kept (a date is reported on or before its
    # processing date), and the rollups, what the API reads, stay.
    assert (
        await db.fetchval(f"SELECT min(report_date) FROM {TABLE} WHERE granularity = 'DAILY'")
        <= cutoff
    )
    assert await db.fetch("SELECT * FROM analytics_rollups ORDER BY id") == rollups


async def test_purge_deletes_only_the_accounts_rows_in_place(
    world: tuple[FastAPI, httpx.AsyncClient, SandboxState],
    tenant: Tenant,
    db: asyncpg.Connection,
) -> None:
    gone = await _synced(world, tenant, db, "acme")
    stays = await _synced(world, tenant, db, "globex")
    instances = "SELECT array_agg(id) FROM analytics_instances WHERE account_id = $1"
    gone_instances = await db.fetchval(instances, gone)
    kept = await _placed(db, "instance_id = ANY($1)", await db.fetchval(instances, stays))
    assert kept and await _placed(db, "instance_id = ANY($1)", gone_instances)
    nodes = {leaf: await _filenode(db, leaf) for leaf in await _leaves(db)}

    _, client, _ = world
    response = await client.delete(
        f"/v1/accounts/{gone}", params={"purge": "true"}, headers=tenant.headers()
    )
    assert response.status_code == 204, response.text

    assert await _placed(db) == kept  # the gone account's rows in every leaf, and no other
    assert {leaf: await _filenode(db, leaf) for leaf in await _leaves(db)} == nodes


async def test_the_migration_moves_stored_rows_into_partitions_and_back(
    world: tuple[FastAPI, httpx.AsyncClient, SandboxState],
    tenant: Tenant,
    db: asyncpg.Connection,
    database_url: str,
) -> None:
    await _synced(world, tenant, db)
    rows = f"SELECT * FROM {TABLE} ORDER BY id"
    before = [dict(row) for row in await db.fetch(rows)]
    assert before
    expected = await _expected_leaf(db)

    # To the revision before this one, whatever it is once the history is chained.
    await asyncio.to_thread(migrate.downgrade_sync, database_url, "21_analytics_partitions-1")
    kind = await db.fetchval("SELECT relkind::text FROM pg_class WHERE relname = $1", TABLE)
    assert kind == "r"
    keys = ("granularity", "processing_date")
    assert [dict(row) for row in await db.fetch(rows)] == [
        {k: v for k, v in row.items() if k not in keys} for row in before
    ]
    await migrate.upgrade(database_url)

    assert [dict(row) for row in await db.fetch(rows)] == before  # ids and partition keys
    found = await db.fetch(
        f"SELECT DISTINCT instance_id, tableoid::regclass::text AS leaf FROM {TABLE}"
    )
    assert {row["instance_id"]: row["leaf"] for row in found} == expected
    instance = before[0]["instance_id"]
    new_id = await db.fetchval(
        f"INSERT INTO {TABLE} (workspace_id, app_id, instance_id, segment, report, "
        "report_date, count, granularity, processing_date) "
        "SELECT workspace_id, app_id, instance_id, 9, report, report_date, 1, granularity, "
        f"processing_date FROM {TABLE} WHERE id = $1 RETURNING id",
        before[0]["id"],
    )
    assert new_id > max(row["id"] for row in before)  # the identity continues
    # An instance's deletion still takes its rows (the trigger came back with the upgrade).
    await db.execute("DELETE FROM analytics_instances WHERE id = $1", instance)
    assert await db.fetchval(f"SELECT count(*) FROM {TABLE} WHERE instance_id = $1", instance) == 0
    assert await db.fetchval(f"SELECT count(*) FROM {TABLE}") > 0
