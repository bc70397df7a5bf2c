"""The subscription reports' row tables are partitioned (migration 21_report_partitions): the
snapshot and event rows by report month, the subscriber rows by account hash. A day lands in
its leaf, replacing it touches no other leaf, retention drops whole month leaves (and leaves
the subscriber rows alone), a purge deletes only the account's rows, and the migration keeps
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
from tests.sales.test_partitions import _filenode
from tests.subscriptions.apple import FakeApple, api, app_with
from tests.subscriptions.test_ingest import EVENTS, SUBSCRIBERS, SUBSCRIPTION, _sample_rows

#: table → (dataset, report type, its sample, rows in the sample)
REPORTS = {
    "subscription_snapshot_rows": ("subscriptions_daily", "SUBSCRIPTION", SUBSCRIPTION),
    "subscription_event_rows": ("subscription_events_daily", "SUBSCRIPTION_EVENT", EVENTS),
    "subscriber_transaction_rows": ("subscribers_daily", "SUBSCRIBER", SUBSCRIBERS),
}
ROWS = {table: len(_sample_rows(sample)) for table, (_, _, sample) in REPORTS.items()}
BY_MONTH = ("subscription_snapshot_rows", "subscription_event_rows")
BY_ACCOUNT = "subscriber_transaction_rows"


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


async def _ids(db: asyncpg.Connection, table: str, account: uuid.UUID) -> list[int]:
    return list(
        await db.fetchval(
            f"SELECT array_agg(id ORDER BY id) FROM {table} WHERE account_id = $1", account
        )
    )


async def _leaf_of(db: asyncpg.Connection, account: uuid.UUID) -> str:
    """The one hash leaf holding an account's subscriber rows."""
    (leaf,) = await db.fetch(
        f"SELECT DISTINCT tableoid::regclass::text AS leaf FROM {BY_ACCOUNT} WHERE account_id = $1",
        account,
    )
    return str(leaf["leaf"])


async def test_a_day_lands_in_its_leaf_and_replacing_it_rewrites_no_other_leaf(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    account, _ = await link_new_key(app, tenant, sandbox, "acme")
    other, _ = await link_new_key(app, tenant, sandbox, "globex")
    await _sync(app, account, "2020-10-05")
    await _sync(app, account, "2020-11-02")
    await _sync(app, other, "2020-10-05")
    november = {}
    for table in BY_MONTH:
        assert await _leaf_rows(db, table) == {
            f"{table}_2020_10": 2 * ROWS[table],
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
    # The subscriber rows: every row of an account in the one leaf its id hashes to.
    leaf = await _leaf_of(db, account)
    assert (await _leaf_rows(db, BY_ACCOUNT))[leaf] >= 2 * ROWS[BY_ACCOUNT]
    assert sum((await _leaf_rows(db, BY_ACCOUNT)).values()) == 3 * ROWS[BY_ACCOUNT]
    leaves = await db.fetchval(
        "SELECT count(*) FROM pg_partition_tree($1) WHERE isleaf", BY_ACCOUNT
    )
    assert leaves == 16
    other_ids = {table: await _ids(db, table, other) for table in REPORTS}

    await _sync(app, account, "2020-10-05")  # a re-sync replaces the day

    for table in BY_MONTH:
        assert await _leaf_rows(db, table) == {
            f"{table}_2020_10": 2 * ROWS[table],
            f"{table}_2020_11": ROWS[table],
        }
        assert (
            await _filenode(db, f"{table}_2020_11"),
            await db.fetchval(f"SELECT array_agg(id ORDER BY id) FROM {table}_2020_11"),
        ) == november[table]
        assert await db.fetchval(f"SELECT count(*) FROM {table}_default") == 0
    assert await _leaf_of(db, account) == leaf
    for table in REPORTS:  # the other account's rows untouched
        assert await _ids(db, table, other) == other_ids[table]


async def test_retention_drops_whole_month_leaves_and_leaves_subscriber_rows(
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
    november = {table: await _filenode(db, f"{table}_2020_11") for table in BY_MONTH}

    # Daily rows are kept from 2020-11-10 on.
    window = dt.datetime.now(dt.UTC).date() - dt.date(2020, 11, 10)
    task = partitions.retention_task(settings.model_copy(update={"report_retention_daily": window}))
    pruned = {p.table: p for p in await task.run(app.state.sessionmaker, app.state.asc_clients)}  # type: ignore[attr-defined]

    for table in BY_MONTH:
        assert pruned[table].dropped == [f"{table}_2020_10"]
        assert pruned[table].deleted_rows == ROWS[table]  # 2020-11-02, in the leaf it cuts
        assert await db.fetchval("SELECT to_regclass($1)", f"{table}_2020_10") is None
        kept = await db.fetch(f"SELECT DISTINCT report_date FROM {table}")
        assert [row["report_date"] for row in kept] == [dt.date(2020, 11, 20)]
        assert await _filenode(db, f"{table}_2020_11") == november[table]
    assert await db.fetchval(rollup) == rollup_rows  # derived data stays
    # A Subscriber ID's history is derived from all its rows: they are not pruned.
    assert BY_ACCOUNT not in pruned
    assert await db.fetchval(f"SELECT count(*) FROM {BY_ACCOUNT}") == 3 * ROWS[BY_ACCOUNT]


async def test_purge_deletes_only_the_accounts_rows_in_place(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    gone, _ = await link_new_key(app, tenant, sandbox, "acme")
    stays, _ = await link_new_key(app, tenant, sandbox, "globex")
    for account in (gone, stays):
        await _sync(app, account, "2020-10-05")
    october = {table: await _filenode(db, f"{table}_2020_10") for table in BY_MONTH}
    kept = {table: await _ids(db, table, stays) for table in REPORTS}

    async with api(app) as client:
        response = await client.delete(
            f"/v1/accounts/{gone}", params={"purge": "true"}, headers=tenant.headers()
        )
    assert response.status_code == 204, response.text

    for table in REPORTS:
        counts = dict(await db.fetch(f"SELECT account_id, count(*) FROM {table} GROUP BY 1"))
        assert counts == {stays: ROWS[table]}
        assert await _ids(db, table, stays) == kept[table]
    for table in BY_MONTH:
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
    leaf = await _leaf_of(db, account)

    # To the revision before this one, whatever it is once the history is chained.
    await asyncio.to_thread(migrate.downgrade_sync, database_url, "21_report_partitions-1")
    for table in REPORTS:
        kind = await db.fetchval("SELECT relkind::text FROM pg_class WHERE relname = $1", table)
        assert kind == "r"
        rows = await db.fetch(f"SELECT * FROM {table} ORDER BY id")
        assert [dict(row) for row in rows] == before[table]
    await migrate.upgrade(database_url)

    for table in REPORTS:
        rows = await db.fetch(f"SELECT * FROM {table} ORDER BY id")
        assert [dict(row) for row in rows] == before[table]  # ids kept
        required = ", quantity" if table == "subscription_event_rows" else ""
        new_id = await db.fetchval(
            f"INSERT INTO {table} (workspace_id, account_id, report_date{required}) "
            f"VALUES ($1, $2, '2020-10-06'{', 1' if required else ''}) RETURNING id",
            tenant.workspace_id,
            account,
        )
        assert new_id > max(row["id"] for row in before[table])  # the identity continues
    for table in BY_MONTH:
        assert await _leaf_rows(db, table) == {
            f"{table}_2020_10": ROWS[table] + 1,
            f"{table}_2020_11": ROWS[table],
        }
    assert await _leaf_rows(db, BY_ACCOUNT) == {leaf: 2 * ROWS[BY_ACCOUNT] + 1}
    # The account's deletion still takes its rows (the trigger came back with the upgrade).
    await db.execute("DELETE FROM asc_accounts WHERE id = $1", account)
    for table in REPORTS:
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_a_stale_subscriber_leaf_is_analyzed_before_a_unit_loads(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    # The rollup's own staleness check reads the parent's counters, which a partitioned table
    # does not keep: its leaves are checked by the unit instead.
    account, _ = await link_new_key(app, tenant, sandbox)
    await _sync(app, account, "2020-10-05")
    leaf = await _leaf_of(db, account)
    analyzed = "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = $1"
    assert await db.fetchval(analyzed, leaf) is None
    await db.execute(
        f"INSERT INTO {BY_ACCOUNT} (workspace_id, account_id, report_date) "
        "SELECT $1, $2, '2020-10-01' FROM generate_series(1, 2000)",
        tenant.workspace_id,
        account,
    )
    await db.execute("SELECT pg_stat_force_next_flush()")
    await db.execute("SELECT 1")  # the counters are flushed after this statement

    await run_unit(app, account, "subscribers_daily", "2020-10-06")

    assert await db.fetchval(analyzed, leaf) is not None
    others = await db.fetchval(
        "SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE $1 AND relname <> $2 "
        "AND last_analyze IS NOT NULL",
        f"{BY_ACCOUNT}_h%",
        leaf,
    )
    assert others == 0  # fresh leaves are left alone
