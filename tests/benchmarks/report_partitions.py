"""Benchmark: the subscription report tables by month, by account hash and unpartitioned.

    python tests/benchmarks/report_partitions.py                         # 8 accounts × 25,000
    python tests/benchmarks/report_partitions.py --accounts 4 --subscribers 10000

Loads a year of Apple's three subscription reports for ``--accounts`` accounts (the generator
of ``subscription_metrics``: one app of ``--subscribers`` subscribers each) into the migrated
tables (snapshot and event rows by month, subscriber rows by account hash into 16 leaves), then
copies ``subscriber_transaction_rows`` side by side into the two other layouts it could have:

* ``month``: ``PARTITION BY RANGE (report_date)``, one leaf per month, as the other two tables;
* ``unpartitioned``: one table with its primary key and the two foreign keys it had before
  migration ``21_report_partitions``.

Each operation then runs ``--repeat`` times on each layout, interleaved (so load on the shared
machine skews the layouts alike), and prints p50/p95 and the ratio to the month layout:

* replace one account's report day (delete it and insert it again, committed), as a unit does;
* retention: remove the oldest month (``DROP TABLE`` of its leaf by month; a ``DELETE``
  otherwise), rolled back;
* purge one account (``DELETE … WHERE account_id``), rolled back;
* re-derive 200 of an app's Subscriber IDs (their rows over all dates, as
  ``subscriber_rollup`` reads them), and a workspace's 90 days by event date.

It also prints what a year of each table weighs per account (rows, bytes per row with every
index, bytes per account-year).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from app.db.engine import create_engine, create_sessionmaker
from app.reports import partitions
from tests.benchmarks.sales_common import (
    add_account,
    add_app,
    add_database_argument,
    benchmark_database,
    describe,
    load_average,
    machine,
    make_tenant,
    percentile,
)
from tests.benchmarks.subscription_metrics import (
    APPLE_ID,
    END,
    EVENTS_SQL,
    SNAPSHOT_SQL,
    SUBSCRIBERS_SQL,
)

TABLE = "subscriber_transaction_rows"
REPORTS = {
    "subscriber_transaction_rows": SUBSCRIBERS_SQL,
    "subscription_event_rows": EVENTS_SQL,
    "subscription_snapshot_rows": SNAPSHOT_SQL,
}
INDEXES = (
    "CREATE INDEX ON {t} (account_id, report_date)",
    "CREATE INDEX ON {t} (workspace_id, event_date)",
    "CREATE INDEX ON {t} (account_id, app_apple_id, btrim(subscriber_id))",
)
LAYOUTS = {"account hash": TABLE, "month": "bench_month", "unpartitioned": "bench_plain"}


async def _leaves(url: str) -> None:
    """Every month's leaf of the three tables, made as a sync unit makes it."""
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            first = (END - dt.timedelta(days=366)).replace(day=1)
            while first <= END:
                for table in REPORTS:
                    await partitions.ensure_leaf(session, table, "DAILY", first)
                first = (first + dt.timedelta(days=32)).replace(day=1)
    finally:
        await engine.dispose()


async def load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await make_tenant(url, "bench")
    await _leaves(url)
    conn = await asyncpg.connect(url)
    accounts = []
    rows = dict.fromkeys(REPORTS, 0)
    try:
        await conn.execute("SELECT setseed(0.21)")
        started = time.perf_counter()
        for n in range(args.accounts):
            account_id = await add_account(conn, tenant.workspace_id, n)
            await add_app(conn, tenant.workspace_id, account_id, APPLE_ID, f"bench.subs{n}")
            accounts.append(account_id)
            for table, sql in REPORTS.items():
                status = await conn.execute(
                    sql, tenant.workspace_id, account_id, END, args.subscribers
                )
                rows[table] += int(status.split()[-1])
        print(
            f"loaded {args.accounts} accounts × a year in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{table} {n:,} rows" for table, n in rows.items())
        )
        for table in REPORTS:
            await conn.execute(f"VACUUM ANALYZE {table}")
        await _sizes(conn, rows, args.accounts)
        # The two other layouts of the biggest table, with the same rows and indexes.
        await conn.execute(f"CREATE TABLE bench_plain (LIKE {TABLE} INCLUDING DEFAULTS)")
        await conn.execute(f"INSERT INTO bench_plain SELECT * FROM {TABLE}")
        await conn.execute("ALTER TABLE bench_plain ADD PRIMARY KEY (id)")
        await conn.execute(
            "ALTER TABLE bench_plain ADD FOREIGN KEY (account_id) REFERENCES asc_accounts (id) "
            "ON DELETE CASCADE"
        )
        await conn.execute(
            "ALTER TABLE bench_plain ADD FOREIGN KEY (workspace_id) REFERENCES workspaces (id) "
            "ON DELETE CASCADE"
        )
        await conn.execute(
            f"CREATE TABLE bench_month (LIKE {TABLE} INCLUDING DEFAULTS) "
            "PARTITION BY RANGE (report_date)"
        )
        first = (END - dt.timedelta(days=366)).replace(day=1)
        while first <= END:
            following = (first + dt.timedelta(days=32)).replace(day=1)
            await conn.execute(
                f"CREATE TABLE bench_month_{first:%Y_%m} PARTITION OF bench_month "
                f"FOR VALUES FROM ('{first}') TO ('{following}')"
            )
            first = following
        await conn.execute(f"INSERT INTO bench_month SELECT * FROM {TABLE}")
        for table in ("bench_plain", "bench_month"):
            for statement in INDEXES:
                await conn.execute(statement.format(t=table))
            await conn.execute(f"VACUUM ANALYZE {table}")
        ids = await conn.fetch(
            f"SELECT DISTINCT btrim(subscriber_id) AS sid FROM {TABLE} "
            "WHERE account_id = $1 LIMIT 200",
            accounts[0],
        )
    finally:
        await conn.close()
    return {"tenant": tenant, "accounts": accounts, "sids": [row["sid"] for row in ids]}


async def _sizes(conn: asyncpg.Connection, rows: dict[str, int], accounts: int) -> None:
    for table, n in rows.items():
        size = await conn.fetchval(
            "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1)", table
        )
        per_row = size / n
        print(
            f"  {table:<30} {per_row:6.0f} B a row (with its indexes); a year of one account: "
            f"{n // accounts:>9,} rows, {per_row * n / accounts / 2**20:7.1f} MB"
        )


async def _timed(conn: asyncpg.Connection, statements: list[tuple[str, tuple[Any, ...]]]) -> float:
    started = time.perf_counter()
    for sql, params in statements:
        await conn.execute(sql, *params)
    return time.perf_counter() - started


async def measure(url: str, world: dict[str, Any], args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(url)
    day = END - dt.timedelta(days=40)
    oldest = (END - dt.timedelta(days=364)).replace(day=1)
    following = (oldest + dt.timedelta(days=32)).replace(day=1)
    account, other = world["accounts"][0], world["accounts"][-1]
    await conn.execute(
        f"CREATE TEMP TABLE the_day AS SELECT * FROM {TABLE} "
        "WHERE account_id = $1 AND report_date = $2",
        account,
        day,
    )
    day_rows = await conn.fetchval("SELECT count(*) FROM the_day")
    oldest_rows = await conn.fetchval(
        f"SELECT count(*) FROM {TABLE} WHERE report_date < $1",
        following,
    )
    account_rows = await conn.fetchval(
        f"SELECT count(*) FROM {TABLE} WHERE account_id = $1",
        other,
    )
    total = await conn.fetchval(f"SELECT count(*) FROM {TABLE}")
    leaf = f"bench_month_{oldest:%Y_%m}"

    def replace(t: str) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            ("BEGIN", ()),
            (f"DELETE FROM {t} WHERE account_id = $1 AND report_date = $2", (account, day)),
            (f"INSERT INTO {t} OVERRIDING SYSTEM VALUE SELECT * FROM the_day", ()),
            ("COMMIT", ()),
        ]

    def retention(t: str) -> list[tuple[str, tuple[Any, ...]]]:
        if t == "bench_month":
            return [("BEGIN", ()), (f"DROP TABLE {leaf}", ()), ("ROLLBACK", ())]
        return [
            ("BEGIN", ()),
            (f"DELETE FROM {t} WHERE report_date < $1", (following,)),
            ("ROLLBACK", ()),
        ]

    def purge(t: str) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            ("BEGIN", ()),
            (f"DELETE FROM {t} WHERE account_id = $1", (other,)),
            ("ROLLBACK", ()),
        ]

    def subscribers(t: str) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (
                f"SELECT count(*), sum(developer_proceeds) FROM {t} "
                "WHERE account_id = $1 AND app_apple_id = $2 "
                "AND btrim(subscriber_id) = ANY($3::text[])",
                (account, APPLE_ID, world["sids"]),
            )
        ]

    def window(t: str) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (
                f"SELECT count(*), sum(developer_proceeds) FROM {t} "
                "WHERE workspace_id = $1 AND event_date BETWEEN $2 AND $3",
                (world["tenant"].workspace_id, END - dt.timedelta(days=89), END),
            )
        ]

    operations = {
        f"replace a day ({day_rows:,} rows of {total:,})": replace,
        f"retention: the oldest month ({oldest_rows:,} rows)": retention,
        f"purge an account ({account_rows:,} rows)": purge,
        f"re-derive {len(world['sids'])} Subscriber IDs": subscribers,
        "a workspace's 90 days by event date": window,
    }
    print(f"\n{TABLE}, {args.repeat} runs per layout, interleaved; {load_average()}")
    try:
        for label, statements in operations.items():
            samples: dict[str, list[float]] = {layout: [] for layout in LAYOUTS}
            for _ in range(args.repeat):
                for layout, table in LAYOUTS.items():
                    samples[layout].append(await _timed(conn, statements(table)))
            chosen = percentile(samples["account hash"], 0.5)
            print(f"{label}:")
            for layout in LAYOUTS:
                ratio = percentile(samples[layout], 0.5) / chosen
                print(f"  {layout:<14} {describe(samples[layout])}  ×{ratio:.2f} of account hash")
    finally:
        await conn.close()
    print(load_average())


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--subscribers", type=int, default=25_000)
    parser.add_argument("--repeat", type=int, default=7)
    add_database_argument(parser)
    args = parser.parse_args()
    print(f"machine: {machine()}; {load_average()}")
    async with benchmark_database(args.database_url) as url:
        world = await load(url, args)
        await measure(url, world, args)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
