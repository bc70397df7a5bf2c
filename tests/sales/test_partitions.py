"""sales_rows is partitioned (migration 21_partitions): a day lands in its month's leaf,
replacing it touches no other leaf, retention drops whole leaves, a purge deletes only the
account's rows, and the foreign keys' ON DELETE actions still hold (triggers)."""

import asyncio
import datetime as dt
import gzip
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import migrate
from app.main import create_app
from app.reports import partitions
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import INSTANT_RETRY, run_unit
from tests.sales.test_ingest import SAMPLE, _apple

ROWS = 46  # rows of the sample file


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    body = SAMPLE.read_bytes()
    application = create_app(
        settings, asc_transport=_apple(lambda _: gzip.compress(body)), asc_retry=INSTANT_RETRY
    )
    async with application.router.lifespan_context(application):
        yield application


async def _account(app: FastAPI, tenant: Tenant, sandbox: SandboxState, team: str) -> uuid.UUID:
    key = sandbox.add_key(team)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await link(c, tenant, key, verify=False)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _leaf_rows(db: asyncpg.Connection) -> dict[str, int]:
    rows = await db.fetch(
        "SELECT tableoid::regclass::text AS leaf, count(*) AS n FROM sales_rows GROUP BY 1"
    )
    return {row["leaf"]: row["n"] for row in rows}


async def _filenode(db: asyncpg.Connection, table: str) -> int:
    return int(await db.fetchval("SELECT relfilenode FROM pg_class WHERE relname = $1", table))


async def test_a_day_lands_in_its_month_and_replacing_it_rewrites_no_other_leaf(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    account = await _account(app, tenant, sandbox, "acme")
    await run_unit(app, account, "sales_daily", "2020-10-05")
    await run_unit(app, account, "sales_daily", "2020-11-02")
    await run_unit(app, account, "sales_weekly", "2020-11-01")
    assert await _leaf_rows(db) == {
        "sales_rows_daily_2020_10": ROWS,
        "sales_rows_daily_2020_11": ROWS,
        "sales_rows_weekly_2020": ROWS,
    }
    november = await _filenode(db, "sales_rows_daily_2020_11")
    ids = await db.fetchval("SELECT array_agg(id) FROM sales_rows_daily_2020_11")

    await run_unit(app, account, "sales_daily", "2020-10-05")  # a re-sync replaces the day

    assert await _leaf_rows(db) == {
        "sales_rows_daily_2020_10": ROWS,
        "sales_rows_daily_2020_11": ROWS,
        "sales_rows_weekly_2020": ROWS,
    }
    assert await _filenode(db, "sales_rows_daily_2020_11") == november
    assert await db.fetchval("SELECT array_agg(id) FROM sales_rows_daily_2020_11") == ids
    assert await db.fetchval("SELECT count(*) FROM sales_rows_daily_default") == 0
    # Created with the parent's indexes (the workspace's days, and rows awaiting their app).
    indexes = await db.fetchval(
        "SELECT count(*) FROM pg_indexes WHERE tablename = 'sales_rows_daily_2020_10'"
    )
    parent = await db.fetchval("SELECT count(*) FROM pg_indexes WHERE tablename = 'sales_rows'")
    assert indexes == parent == 2


async def test_retention_drops_whole_leaves_and_deletes_only_in_the_leaf_it_cuts(
    app: FastAPI,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    account = await _account(app, tenant, sandbox, "acme")
    for day in ("2020-10-05", "2020-11-02", "2020-11-20"):
        await run_unit(app, account, "sales_daily", day)
    await run_unit(app, account, "sales_weekly", "2020-11-01")
    rollup_rows = await db.fetchval("SELECT count(*) FROM sales_daily_rollup")
    november = await _filenode(db, "sales_rows_daily_2020_11")

    # Daily rows are kept from 2020-11-10 on; weekly ones for ever (no setting).
    today = dt.datetime.now(dt.UTC).date()
    window = today - dt.date(2020, 11, 10)
    task = partitions.retention_task(settings.model_copy(update={"report_retention_daily": window}))
    results = await task.run(app.state.sessionmaker, app.state.asc_clients)  # type: ignore[attr-defined]
    (pruned,) = [result for result in results if result.table == "sales_rows"]

    assert pruned.dropped == ["sales_rows_daily_2020_10"]
    assert pruned.deleted_rows == ROWS
    assert await db.fetchval("SELECT to_regclass('sales_rows_daily_2020_10')") is None
    kept = await db.fetch("SELECT DISTINCT frequency, report_date FROM sales_rows ORDER BY 1, 2")
    assert [(r["frequency"], r["report_date"]) for r in kept] == [
        ("DAILY", dt.date(2020, 11, 20)),
        ("WEEKLY", dt.date(2020, 11, 1)),
    ]
    assert await _filenode(db, "sales_rows_daily_2020_11") == november  # deleted in, not rewritten
    # The rollups answer for the dates whose raw rows are gone.
    assert await db.fetchval("SELECT count(*) FROM sales_daily_rollup") == rollup_rows

    # Nothing set: nothing pruned.
    assert await partitions.retention_task(settings).run(app.state.sessionmaker, None) == []  # type: ignore[arg-type]


async def test_purge_deletes_only_the_accounts_rows_and_a_deleted_app_unlinks_its_rows(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    gone = await _account(app, tenant, sandbox, "acme")
    stays = await _account(app, tenant, sandbox, "globex")
    for account in (gone, stays):
        await run_unit(app, account, "sales_daily", "2020-10-05")
    october = await _filenode(db, "sales_rows_daily_2020_10")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.delete(
            f"/v1/accounts/{gone}", params={"purge": "true"}, headers=tenant.headers()
        )
    assert response.status_code == 204, response.text

    counts = dict(await db.fetch("SELECT account_id, count(*) FROM sales_rows GROUP BY 1"))
    assert counts == {stays: ROWS}
    rolled = await db.fetch("SELECT DISTINCT account_id FROM sales_daily_rollup")
    assert [row["account_id"] for row in rolled] == [stays]
    assert await _filenode(db, "sales_rows_daily_2020_10") == october

    # An app deleted from the catalog: its rows stay, without their app (ON DELETE SET NULL).
    app_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, '1', 'A', 'com.a', 'a')",
        app_id,
        tenant.workspace_id,
        stays,
    )
    await db.execute("UPDATE sales_rows SET app_id = $1", app_id)
    await db.execute("DELETE FROM apps WHERE id = $1", app_id)
    assert await db.fetchval("SELECT count(*) FROM sales_rows WHERE app_id IS NULL") == ROWS
    await db.execute("UPDATE sales_daily_rollup SET app_id = NULL")  # likewise for the rollup
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, '1', 'A', 'com.a', 'a')",
        app_id,
        tenant.workspace_id,
        stays,
    )
    await db.execute("UPDATE sales_daily_rollup SET app_id = $1", app_id)
    await db.execute("DELETE FROM apps WHERE id = $1", app_id)
    assert (
        await db.fetchval("SELECT count(*) FROM sales_daily_rollup WHERE app_id = $1", app_id) == 0
    )


async def test_the_migration_moves_stored_rows_into_partitions_and_back(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection, database_url: str
) -> None:
    account = await _account(app, tenant, sandbox, "acme")
    await run_unit(app, account, "sales_daily", "2020-10-05")
    await run_unit(app, account, "sales_weekly", "2020-11-01")
    rows = "SELECT * FROM sales_rows ORDER BY id"
    before = [dict(row) for row in await db.fetch(rows)]
    assert len(before) == 2 * ROWS

    await asyncio.to_thread(migrate.downgrade_sync, database_url, "18_snapshot_rollup")
    assert (
        await db.fetchval("SELECT relkind::text FROM pg_class WHERE relname = 'sales_rows'") == "r"
    )
    assert [dict(row) for row in await db.fetch(rows)] == before
    await migrate.upgrade(database_url)

    assert [dict(row) for row in await db.fetch(rows)] == before  # ids kept
    assert await _leaf_rows(db) == {
        "sales_rows_daily_2020_10": ROWS,
        "sales_rows_weekly_2020": ROWS,
    }
    new_id = await db.fetchval(
        "INSERT INTO sales_rows (workspace_id, account_id, frequency, report_date, unit_kind, "
        "units, platform) VALUES ($1, $2, 'DAILY', '2020-10-06', 'update', 1, 'IOS') RETURNING id",
        tenant.workspace_id,
        account,
    )
    assert new_id > max(row["id"] for row in before)  # the identity continues after them
