"""The subscription reports' row tables are partitioned by report month (migration
21_report_partitions): a day lands in its month's leaf, replacing it touches no other leaf,
retention drops whole leaves, a purge deletes only the account's rows, and the migration keeps
every row with its id both ways."""

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import migrate
from app.reports import partitions
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit
from tests.subscriptions.apple import FakeApple, api, app_with
from tests.subscriptions.test_ingest import EVENTS, SUBSCRIBERS, SUBSCRIPTION, _sample_rows

#: table → (dataset, report type, its sample, rows in the sample)
REPORTS = {
    "subscription_snapshot_rows": ("subscriptions_daily", "SUBSCRIPTION", SUBSCRIPTION),
    "subscription_event_rows": ("subscription_events_daily", "SUBSCRIPTION_EVENT", EVENTS),
    "subscriber_transaction_rows": ("subscribers_daily", "SUBSCRIBER", SUBSCRIBERS),
}
ROWS = {table: len(_sample_rows(sample)) for table, (_, _, sample) in REPORTS.items()}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    apple = FakeApple()
    for _, report_type, sample in REPORTS.values():
        apple.set_text(report_type, sample.read_bytes())
    async with app_with(settings, apple) as application:
        yield application


async def _sync(app: FastAPI, account: uuid.UUID, day: str) -> None:
    for dataset, _, _ in REPORTS.values():
        await run_unit(app, account, dataset, day)


async def _leaf_rows(db: asyncpg.Connection, table: str) -> dict[str, int]:
    rows = await db.fetch(
        f"SELECT tableoid::regclass::text AS leaf, count(*) AS n FROM {table} GROUP BY 1"
    )
    return {row["leaf"]: row["n"] for row in rows}


async def _filenode(db: asyncpg.Connection, table: str) -> int:
    return int(await db.fetchval("SELECT relfilenode FROM pg_class WHERE relname = $1", table))


async def test_a_day_lands_in_its_month_and_replacing_it_rewrites_no_other_leaf(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    account, _ = await link_new_key(app, tenant, sandbox)
    await _sync(app, account, "2020-10-05")
    await _sync(app, account, "2020-11-02")
    november = {}
    for table in REPORTS:
        assert await _leaf_rows(db, table) == {
            f"{table}_2020_10": ROWS[table],
            f"{table}_2020_11": ROWS[table],
        }
        november[table] = (
            await _filenode(db, f"{table}_2020_11"),
            await db.fetchval(f"SELECT array_agg(id ORDER BY id) FROM {table}_2020_11"),
        )
        # Created with the parent's indexes.
        indexes = await db.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE tablename = $1", f"{table}_2020_10"
        )
        parent = await db.fetchval("SELECT count(*) FROM pg_indexes WHERE tablename = $1", table)
        assert indexes == parent >= 2

    await _sync(app, account, "2020-10-05")  # a re-sync replaces the day

    for table in REPORTS:
        assert await _leaf_rows(db, table) == {
            f"{table}_2020_10": ROWS[table],
            f"{table}_2020_11": ROWS[table],
        }
        assert (
            await _filenode(db, f"{table}_2020_11"),
            await db.fetchval(f"SELECT array_agg(id ORDER BY id) FROM {table}_2020_11"),
        ) == november[table]
        assert await db.fetchval(f"SELECT count(*) FROM {table}_default") == 0


async def test_retention_drops_whole_leaves_of_every_report_table(
    app: FastAPI,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    account, _ = await link_new_key(app, tenant, sandbox)
    for day in ("2020-10-05", "2020-11-02", "2020-11-20"):
        await _sync(app, account, day)
    rollup = "SELECT count(*) FROM subscription_event_day_rollup"
    rollup_rows = await db.fetchval(rollup)
    assert rollup_rows > 0
    november = {table: await _filenode(db, f"{table}_2020_11") for table in REPORTS}

    # Daily rows are kept from 2020-11-10 on.
    window = dt.datetime.now(dt.UTC).date() - dt.date(2020, 11, 10)
    task = partitions.retention_task(settings.model_copy(update={"report_retention_daily": window}))
    pruned = {p.table: p for p in await task.run(app.state.sessionmaker, app.state.asc_clients)}  # type: ignore[attr-defined]

    for table in REPORTS:
        assert pruned[table].dropped == [f"{table}_2020_10"]
        assert pruned[table].deleted_rows == ROWS[table]  # 2020-11-02, in the leaf it cuts
        assert await db.fetchval("SELECT to_regclass($1)", f"{table}_2020_10") is None
        kept = await db.fetch(f"SELECT DISTINCT report_date FROM {table}")
        assert [row["report_date"] for row in kept] == [dt.date(2020, 11, 20)]
        assert await _filenode(db, f"{table}_2020_11") == november[table]
    assert await db.fetchval(rollup) == rollup_rows  # derived data stays


async def test_purge_deletes_only_the_accounts_rows_in_place(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    gone, _ = await link_new_key(app, tenant, sandbox, "acme")
    stays, _ = await link_new_key(app, tenant, sandbox, "globex")
    for account in (gone, stays):
        await _sync(app, account, "2020-10-05")
    october = {table: await _filenode(db, f"{table}_2020_10") for table in REPORTS}

    async with api(app) as client:
        response = await client.delete(
            f"/v1/accounts/{gone}", params={"purge": "true"}, headers=tenant.headers()
        )
    assert response.status_code == 204, response.text

    for table in REPORTS:
        counts = dict(await db.fetch(f"SELECT account_id, count(*) FROM {table} GROUP BY 1"))
        assert counts == {stays: ROWS[table]}
        assert await _filenode(db, f"{table}_2020_10") == october[table]


async def test_the_migration_moves_stored_rows_into_partitions_and_back(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection, database_url: str
) -> None:
    account, _ = await link_new_key(app, tenant, sandbox)
    await _sync(app, account, "2020-10-05")
    await _sync(app, account, "2020-11-02")
    before = {
        table: [dict(row) for row in await db.fetch(f"SELECT * FROM {table} ORDER BY id")]
        for table in REPORTS
    }

    await asyncio.to_thread(migrate.downgrade_sync, database_url, "18_subscriber_months")
    for table in REPORTS:
        kind = await db.fetchval("SELECT relkind::text FROM pg_class WHERE relname = $1", table)
        assert kind == "r"
        rows = await db.fetch(f"SELECT * FROM {table} ORDER BY id")
        assert [dict(row) for row in rows] == before[table]
    await migrate.upgrade(database_url)

    for table in REPORTS:
        rows = await db.fetch(f"SELECT * FROM {table} ORDER BY id")
        assert [dict(row) for row in rows] == before[table]  # ids kept
        assert await _leaf_rows(db, table) == {
            f"{table}_2020_10": ROWS[table],
            f"{table}_2020_11": ROWS[table],
        }
        required = ", quantity" if table == "subscription_event_rows" else ""
        new_id = await db.fetchval(
            f"INSERT INTO {table} (workspace_id, account_id, report_date{required}) "
            f"VALUES ($1, $2, '2020-10-06'{', 1' if required else ''}) RETURNING id",
            tenant.workspace_id,
            account,
        )
        assert new_id > max(row["id"] for row in before[table])  # the identity continues
    # The account's deletion still takes its rows (the trigger came back with the upgrade).
    await db.execute("DELETE FROM asc_accounts WHERE id = $1", account)
    for table in REPORTS:
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0
