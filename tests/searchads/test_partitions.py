"""Apple Ads daily rows are partitioned by report month (migration 21_analytics_partitions): a
window's leaves are made when its unit first needs them, re-fetching recent days rewrites no
older row, retention drops whole months, an ad account's deletion takes its rows from every
leaf and no other row, and the migration keeps every row both ways."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.db import migrate
from app.reports import partitions
from app.sandbox.searchads import AppleAdsState
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import drain
from tests.sales.test_partitions import _filenode
from tests.searchads.helpers import link_ok

TABLE = "searchads_daily"


async def _leaves(db: asyncpg.Connection) -> set[str]:
    rows = await db.fetch(
        "SELECT relid::regclass::text AS leaf FROM pg_partition_tree($1) WHERE isleaf", TABLE
    )
    return {row["leaf"] for row in rows}


async def _placed(db: asyncpg.Connection, where: str = "true", *args: object) -> set[tuple]:
    """Where every row is: (leaf, ctid, day) — a row rewritten or moved changes its triple."""
    rows = await db.fetch(
        f"SELECT tableoid::regclass::text AS leaf, ctid::text AS ctid, report_date "
        f"FROM {TABLE} WHERE {where}",
        *args,
    )
    return {(row["leaf"], row["ctid"], row["report_date"]) for row in rows}


async def _sync(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState, *labels: str
) -> None:
    accounts = [ads.account(label).ad_account_id for label in labels]
    await link_ok(client, tenant, ads.add_credential(), sync_ad_accounts=accounts)
    await drain(app, plan=True)


async def test_days_land_in_their_months_leaves_made_on_demand_and_a_refetch_rewrites_no_older_row(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    assert await _leaves(db) == {f"{TABLE}_default"}  # none made before a unit needs it
    await _sync(app, client, tenant, ads, "US")

    rows = await db.fetch(
        f"SELECT DISTINCT report_date, tableoid::regclass::text AS leaf FROM {TABLE}"
    )
    assert rows
    expected = {partitions.leaf_of(TABLE, "DAILY", row["report_date"]).name for row in rows}
    assert all(
        row["leaf"] == partitions.leaf_of(TABLE, "DAILY", row["report_date"]).name for row in rows
    )
    assert await _leaves(db) == {f"{TABLE}_default"} | expected
    assert await db.fetchval(f"SELECT count(*) FROM {TABLE}_default") == 0
    fetched = "SELECT level, report_date, fetched_at FROM searchads_days"
    before = {(r["level"], r["report_date"]): r["fetched_at"] for r in await db.fetch(fetched)}
    placed = {key: await _placed(db, "level = $1 AND report_date = $2", *key) for key in before}

    # A second pass later: the recent days are fetched again and replaced, the others stay.
    await db.execute(
        "UPDATE sync_jobs SET finished_at = finished_at - interval '7 hours' "
        "WHERE dataset LIKE 'search_ads%'"
    )
    await drain(app, plan=True)

    after = {(r["level"], r["report_date"]): r["fetched_at"] for r in await db.fetch(fetched)}
    refetched = {key for key in before if after[key] != before[key]}
    assert refetched and refetched != set(before)
    for key in before:
        now = await _placed(db, "level = $1 AND report_date = $2", *key)
        if key in refetched:
            assert not now & placed[key] or not placed[key]  # deleted and inserted again
        else:
            assert now == placed[key]  # not rewritten, not moved


async def test_retention_drops_whole_month_leaves(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
    settings: Settings,
) -> None:
    await _sync(app, client, tenant, ads, "US")
    # Two old months of rows: the first day's again on 2020-01-10 and on 2020-02-10.
    async with app.state.sessionmaker() as session:
        for month in (dt.date(2020, 1, 1), dt.date(2020, 2, 1)):
            await partitions.ensure_leaf(session, TABLE, "DAILY", month)
    first = await db.fetchval(f"SELECT min(report_date) FROM {TABLE}")
    for day in (dt.date(2020, 1, 10), dt.date(2020, 2, 10)):
        await db.execute(
            f"INSERT INTO {TABLE} SELECT account_id, level, $2, campaign_id, ad_group_id, "
            "keyword_id, country, search_term, workspace_id, keyword_text, currency, spend, "
            "impressions, taps, tap_installs, view_installs, total_installs, tap_new_downloads, "
            "tap_redownloads, view_new_downloads, view_redownloads, total_new_downloads, "
            f"total_redownloads FROM {TABLE} WHERE report_date = $1",
            first,
            day,
        )
    cut = await db.fetchval(f"SELECT count(*) FROM {TABLE} WHERE report_date = '2020-02-10'")
    assert cut > 0
    kept = await _placed(db, "report_date > '2020-02-15'")
    february = await _filenode(db, f"{TABLE}_2020_02")

    window = dt.datetime.now(dt.UTC).date() - dt.date(2020, 2, 15)
    task = partitions.retention_task(settings.model_copy(update={"report_retention_daily": window}))
    pruned = {p.table: p for p in await task.run(app.state.sessionmaker, app.state.asc_clients)}  # type: ignore[attr-defined]

    assert pruned[TABLE].dropped == [f"{TABLE}_2020_01"]
    assert pruned[TABLE].deleted_rows == cut  # 2020-02-10, in the leaf the cut-off falls in
    assert await db.fetchval("SELECT to_regclass($1)", f"{TABLE}_2020_01") is None
    assert await _placed(db) == kept
    assert await _filenode(db, f"{TABLE}_2020_02") == february


async def test_an_ad_accounts_deletion_takes_its_rows_from_every_leaf_and_no_other(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    await _sync(app, client, tenant, ads, "US", "EUR")
    ids = {
        r["ad_account_id"]: r["id"]
        for r in await db.fetch("SELECT id, ad_account_id FROM searchads_accounts")
    }
    gone, stays = ids[ads.account("EUR").ad_account_id], ids[ads.account("US").ad_account_id]
    kept = await _placed(db, "account_id = $1", stays)
    assert kept and await _placed(db, "account_id = $1", gone)
    nodes = {leaf: await _filenode(db, leaf) for leaf in await _leaves(db)}

    await db.execute("DELETE FROM searchads_accounts WHERE id = $1", gone)

    assert await _placed(db) == kept
    assert {leaf: await _filenode(db, leaf) for leaf in await _leaves(db)} == nodes


async def test_the_migration_moves_stored_rows_into_partitions_and_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
    database_url: str,
) -> None:
    await _sync(app, client, tenant, ads, "US")
    rows = f"SELECT * FROM {TABLE} ORDER BY account_id, level, report_date, campaign_id, ad_group_id, keyword_id, country, search_term"
    before = [dict(row) for row in await db.fetch(rows)]
    assert before

    await asyncio.to_thread(migrate.downgrade_sync, database_url, "21_analytics_partitions-1")
    kind = await db.fetchval("SELECT relkind::text FROM pg_class WHERE relname = $1", TABLE)
    assert kind == "r"
    assert [dict(row) for row in await db.fetch(rows)] == before
    await migrate.upgrade(database_url)

    assert [dict(row) for row in await db.fetch(rows)] == before
    placed = await db.fetch(
        f"SELECT DISTINCT report_date, tableoid::regclass::text AS leaf FROM {TABLE}"
    )
    assert all(
        row["leaf"] == partitions.leaf_of(TABLE, "DAILY", row["report_date"]).name for row in placed
    )
    # The primary key and the account's cascade came back with the upgrade.
    with_key = await db.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = CAST($1 AS regclass) "
        "AND contype IN ('p', 'f')",
        TABLE,
    )
    assert with_key == 3
    await db.execute("DELETE FROM searchads_accounts")
    assert await db.fetchval(f"SELECT count(*) FROM {TABLE}") == 0
