"""Benchmark: App Analytics and Apple Ads rows in the partition layouts they could have.

    python tests/benchmarks/analytics_partitions.py                  # 4 accounts × a year
    python tests/benchmarks/analytics_partitions.py --accounts 2 --rows-per-date 20 --repeat 3

Generates a year of rows for ``--accounts`` accounts into the migrated tables (migration
``21_analytics_partitions``, leaves made as a unit makes them), then copies each table side by
side into the other layouts it could have, with the same rows and indexes:

``analytics_rows`` (``--apps`` apps an account, one DAILY instance a day for each, each holding
its last 3 dates — Apple restates a date in the next instances — of ``--rows-per-date`` rows):

* ``processing month`` (chosen): by granularity, then by the instance's processing month;
* ``report month``: ``PARTITION BY RANGE (report_date)``, a leaf a month;
* ``account hash``: ``PARTITION BY HASH (account_id)`` into 16 leaves (an ``account_id``
  column added: the rows have none);
* ``unpartitioned``: one table with its primary key and the three foreign keys it had.

``searchads_daily`` (``--ads-rows`` rows an account-day: campaign, ad group, keyword and
search-term levels): ``report month`` (chosen), ``account hash`` (16 leaves), ``unpartitioned``.

Each operation runs ``--repeat`` times on each layout, interleaved (load on the shared machine
skews the layouts alike), and prints p50/p95 and the ratio to the chosen layout:

* replace one instance (analytics: its rows deleted and inserted again, by what each layout
  knows of it) or one account's 10-day window of one level (Apple Ads), committed;
* retention: the oldest month (``DROP TABLE`` of a leaf where the layout has one, a ``DELETE``
  otherwise), rolled back;
* purge one account, rolled back;
* a read: 90 days of one app from the raw rows, by territory (as ``/v1/analytics`` with
  ``vintage=first`` reads them: each chosen vintage's rows looked up by it), or a workspace's 90 days by campaign (``/v1/search-ads``).

It also prints each table's bytes per row (every leaf with its indexes, after VACUUM) and what
a year of one account weighs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
import uuid
from collections.abc import Callable
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

END = dt.date(2026, 11, 30)
DAYS = 365
TERRITORIES = "US CA MX BR GB DE FR IT ES NL JP KR CN AU IN".split()  # noqa: SIM905
Statements = list[tuple[str, tuple[Any, ...]]]


async def _leaves(url: str, first: dt.date) -> None:
    """Every month's leaf of both tables, made as a sync unit makes it."""
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            month = first.replace(day=1)
            while month <= END:
                await partitions.ensure_leaf(session, "analytics_rows", "DAILY", month)
                await partitions.ensure_leaf(session, "searchads_daily", "DAILY", month)
                month = (month + dt.timedelta(days=32)).replace(day=1)
    finally:
        await engine.dispose()


ANALYTICS_SQL = """
    WITH made AS (
        INSERT INTO analytics_instances (id, workspace_id, account_id, app_id, apple_instance_id,
            access_type, report, report_name, granularity, processing_date, state, rows, segments)
        SELECT gen_random_uuid(), $1, $2, $3, gen_random_uuid()::text, 'ONGOING', 'sessions',
               'App Sessions Standard', 'DAILY', $4::date - d, 'loaded', 3 * $5, 1
        FROM generate_series(0, $6 - 1) AS d
        RETURNING id, workspace_id, app_id, processing_date
    ), dated AS (
        INSERT INTO analytics_vintages (instance_id, report_date, workspace_id, account_id,
            app_id, report, granularity, processing_date, rows)
        SELECT m.id, m.processing_date - back, m.workspace_id, $2, m.app_id, 'sessions', 'DAILY',
               m.processing_date, $5
        FROM made AS m, generate_series(1, 3) AS back
        RETURNING instance_id, report_date, workspace_id, app_id, processing_date
    )
    INSERT INTO analytics_rows (workspace_id, app_id, instance_id, segment, report, report_date,
        app_version, device, platform_version, source_type, page_type, territory, count,
        duration, unique_count, granularity, processing_date)
    SELECT v.workspace_id, v.app_id, v.instance_id, 0, 'sessions', v.report_date,
           (n % 40)::text, (ARRAY['iPhone','iPad','Apple TV','Desktop'])[1 + n % 4],
           'iOS 18.' || (n % 6), (ARRAY['App Store search','App referrer','Web referrer',
           'Unavailable'])[1 + n % 4], 'No page', ($7::text[])[1 + n % 15],
           1 + (random() * 300)::int, 60 * (1 + n % 300), 1 + n % 150, 'DAILY', v.processing_date
    FROM dated AS v, generate_series(1, $5) AS n
"""

ADS_SQL = """
    INSERT INTO searchads_daily (account_id, level, report_date, campaign_id, ad_group_id,
        keyword_id, country, search_term, workspace_id, keyword_text, currency, spend,
        impressions, taps, tap_installs, view_installs, total_installs, tap_new_downloads,
        tap_redownloads, view_new_downloads, view_redownloads, total_new_downloads,
        total_redownloads)
    SELECT $1, level, $3::date - d,
           CASE WHEN level = 'campaign' THEN 1000 + n ELSE 1000 + n % 10 END,
           CASE level WHEN 'campaign' THEN 0 WHEN 'ad_group' THEN 2000 + n
                      ELSE 2000 + n % 30 END,
           CASE WHEN level IN ('keyword', 'search_term') THEN 3000 + n ELSE 0 END,
           ($5::text[])[1 + n % 5],
           CASE WHEN level = 'search_term' THEN 'term ' || n ELSE '' END, $2,
           CASE WHEN level IN ('keyword', 'search_term') THEN 'keyword ' || n END, 'USD',
           round((random() * 50)::numeric, 2), (random() * 5000)::int, (random() * 300)::int,
           (random() * 40)::int, (random() * 5)::int, (random() * 45)::int, (random() * 30)::int,
           (random() * 10)::int, (random() * 3)::int, (random() * 2)::int,
           (random() * 33)::int, (random() * 12)::int
    FROM generate_series(0, $4 - 1) AS d,
         (VALUES ('campaign', 0.03), ('ad_group', 0.1), ('keyword', 0.5), ('search_term', 0.37))
             AS l(level, share),
         LATERAL generate_series(1, greatest(1, (share * $6)::int)) AS n
"""


async def _ads_account(conn: asyncpg.Connection, workspace_id: uuid.UUID, n: int) -> uuid.UUID:
    credential = await conn.fetchval(
        "INSERT INTO searchads_credentials (id, workspace_id, name, client_id, team_id, key_id, "
        "api_version, key_fingerprint, credential_status) VALUES (gen_random_uuid(), $1, $2, "
        "$2, $2, $2, 'v1', $2, 'active') RETURNING id",
        workspace_id,
        f"bench{n}",
    )
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO searchads_accounts (id, credential_id, workspace_id, ad_account_id, name) "
        "VALUES (gen_random_uuid(), $1, $2, $3, $4) RETURNING id",
        credential,
        workspace_id,
        9_000_000 + n,
        f"bench{n}",
    )


async def _copy_layouts(conn: asyncpg.Connection) -> None:
    """The other layouts of both tables, with the same rows and indexes."""
    months = []
    month = (END - dt.timedelta(days=DAYS + 3)).replace(day=1)
    while month <= END:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        months.append((month, following))
        month = following

    async def by_month(table: str, source: str, key: str) -> None:
        await conn.execute(
            f"CREATE TABLE {table} (LIKE {source} INCLUDING DEFAULTS) PARTITION BY RANGE ({key})"
        )
        for first, following in months:
            await conn.execute(
                f"CREATE TABLE {table}_{first:%Y_%m} PARTITION OF {table} "
                f"FOR VALUES FROM ('{first}') TO ('{following}')"
            )

    async def by_hash(table: str, source: str, extra: str = "") -> None:
        await conn.execute(
            f"CREATE TABLE {table} (LIKE {source} INCLUDING DEFAULTS{extra}) "
            "PARTITION BY HASH (account_id)"
        )
        for remainder in range(16):
            await conn.execute(
                f"CREATE TABLE {table}_h{remainder:02d} PARTITION OF {table} "
                f"FOR VALUES WITH (MODULUS 16, REMAINDER {remainder})"
            )

    # analytics_rows
    await by_month("bench_a_month", "analytics_rows", "report_date")
    await conn.execute("INSERT INTO bench_a_month SELECT * FROM analytics_rows")
    await by_hash("bench_a_hash", "analytics_rows", ", account_id uuid NOT NULL")
    await conn.execute(
        "INSERT INTO bench_a_hash SELECT r.*, i.account_id FROM analytics_rows r "
        "JOIN analytics_instances i ON i.id = r.instance_id"
    )
    await conn.execute("CREATE TABLE bench_a_plain (LIKE analytics_rows INCLUDING DEFAULTS)")
    await conn.execute("INSERT INTO bench_a_plain SELECT * FROM analytics_rows")
    await conn.execute("ALTER TABLE bench_a_plain ADD PRIMARY KEY (id)")
    for column, target in (
        ("workspace_id", "workspaces"),
        ("app_id", "apps"),
        ("instance_id", "analytics_instances"),
    ):
        await conn.execute(
            f"ALTER TABLE bench_a_plain ADD FOREIGN KEY ({column}) REFERENCES {target} (id) "
            "ON DELETE CASCADE"
        )
    for table in ("bench_a_month", "bench_a_hash", "bench_a_plain"):
        await conn.execute(f"CREATE INDEX ON {table} (instance_id, segment, report_date)")
    # searchads_daily
    key = "account_id, level, report_date, campaign_id, ad_group_id, keyword_id, country, "
    key += "search_term"
    await by_hash("bench_s_hash", "searchads_daily")
    await conn.execute("CREATE TABLE bench_s_plain (LIKE searchads_daily INCLUDING DEFAULTS)")
    for table in ("bench_s_hash", "bench_s_plain"):
        await conn.execute(f"INSERT INTO {table} SELECT * FROM searchads_daily")
        await conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
        await conn.execute(f"CREATE INDEX ON {table} (workspace_id, level, report_date)")
        for column, target in (
            ("account_id", "searchads_accounts"),
            ("workspace_id", "workspaces"),
        ):
            await conn.execute(
                f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) REFERENCES {target} (id) "
                "ON DELETE CASCADE"
            )
    for table in (
        "bench_a_month",
        "bench_a_hash",
        "bench_a_plain",
        "bench_s_hash",
        "bench_s_plain",
    ):
        await conn.execute(f"VACUUM ANALYZE {table}")


async def load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await make_tenant(url, "bench")
    await _leaves(url, END - dt.timedelta(days=DAYS + 3))
    conn = await asyncpg.connect(url)
    world: dict[str, Any] = {"tenant": tenant, "accounts": [], "ads": [], "apps": []}
    try:
        await conn.execute("SELECT setseed(0.21)")
        started = time.perf_counter()
        for n in range(args.accounts):
            account_id = await add_account(conn, tenant.workspace_id, n)
            world["accounts"].append(account_id)
            for m in range(args.apps):
                app_id = await add_app(
                    conn, tenant.workspace_id, account_id, str(1_700_000_000 + 100 * n + m),
                    f"bench.analytics{n}.{m}",
                )  # fmt: skip
                world["apps"].append(app_id)
                await conn.execute(
                    ANALYTICS_SQL, tenant.workspace_id, account_id, app_id, END, args.rows_per_date,
                    DAYS, TERRITORIES,
                )  # fmt: skip
            ads_id = await _ads_account(conn, tenant.workspace_id, n)
            world["ads"].append(ads_id)
            await conn.execute(
                ADS_SQL, ads_id, tenant.workspace_id, END, DAYS, TERRITORIES[:5], args.ads_rows
            )
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("analytics_rows", "searchads_daily")
        }
        print(
            f"loaded {args.accounts} accounts × a year in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{table} {n:,} rows" for table, n in counts.items())
        )
        for table in ("analytics_rows", "analytics_vintages", "analytics_instances"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        await conn.execute("VACUUM ANALYZE searchads_daily")
        await _sizes(conn, counts, args.accounts)
        started = time.perf_counter()
        await _copy_layouts(conn)
        print(f"copied into the other layouts in {time.perf_counter() - started:.0f} s")
    finally:
        await conn.close()
    return world


async def _sizes(conn: asyncpg.Connection, counts: dict[str, int], accounts: int) -> None:
    for table, rows in counts.items():
        size = await conn.fetchval(
            "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree($1)", table
        )
        per_row = size / rows
        print(
            f"  {table:<16} {per_row:6.0f} B a row (with its indexes); a year of one account: "
            f"{rows // accounts:>9,} rows, {per_row * rows / accounts / 2**20:7.1f} MB"
        )
    for table in ("analytics_vintages", "analytics_instances"):
        size = await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
        print(f"  {table:<20} {size / accounts / 2**20:7.1f} MB a year of one account")


async def _timed(conn: asyncpg.Connection, statements: Statements) -> float:
    started = time.perf_counter()
    for sql, params in statements:
        await conn.execute(sql, *params)
    return time.perf_counter() - started


async def _run(
    conn: asyncpg.Connection,
    title: str,
    layouts: dict[str, str],
    operations: dict[str, Callable[[str, str], Statements]],
    repeat: int,
) -> None:
    print(f"\n{title}, {repeat} runs per layout, interleaved; {load_average()}")
    chosen = next(iter(layouts))
    for label, statements in operations.items():
        samples: dict[str, list[float]] = {layout: [] for layout in layouts}
        for _ in range(repeat):
            for layout, table in layouts.items():
                samples[layout].append(await _timed(conn, statements(layout, table)))
        base = percentile(samples[chosen], 0.5)
        print(f"{label}:")
        for layout in layouts:
            ratio = percentile(samples[layout], 0.5) / base
            print(f"  {layout:<16} {describe(samples[layout])}  ×{ratio:.2f} of {chosen}")


async def measure(url: str, world: dict[str, Any], args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(url)
    try:
        await _analytics(conn, world, args)
        await _searchads(conn, world, args)
    finally:
        await conn.close()
    print(load_average())


async def _analytics(
    conn: asyncpg.Connection, world: dict[str, Any], args: argparse.Namespace
) -> None:
    day = END - dt.timedelta(days=40)
    instance = await conn.fetchrow(
        "SELECT id, account_id, app_id, granularity, processing_date FROM analytics_instances "
        "WHERE app_id = $1 AND processing_date = $2",
        world["apps"][0],
        day,
    )
    dates = [day - dt.timedelta(days=back) for back in (1, 2, 3)]
    await conn.execute(
        "CREATE TEMP TABLE the_instance AS SELECT * FROM analytics_rows WHERE instance_id = $1",
        instance["id"],
    )
    rows = await conn.fetchval("SELECT count(*) FROM the_instance")
    total = await conn.fetchval("SELECT count(*) FROM analytics_rows")
    oldest = (END - dt.timedelta(days=DAYS - 1)).replace(day=1)  # the first processing month
    following = (oldest + dt.timedelta(days=32)).replace(day=1)
    oldest_rows = await conn.fetchval(
        "SELECT count(*) FROM analytics_rows WHERE processing_date < $1", following
    )
    gone = world["accounts"][-1]
    gone_instances = [
        r["id"]
        for r in await conn.fetch("SELECT id FROM analytics_instances WHERE account_id = $1", gone)
    ]
    gone_rows = await conn.fetchval(
        "SELECT count(*) FROM analytics_rows WHERE instance_id = ANY($1::uuid[])", gone_instances
    )
    layouts = {
        "processing month": "analytics_rows",
        "report month": "bench_a_month",
        "account hash": "bench_a_hash",
        "unpartitioned": "bench_a_plain",
    }

    def replace(layout: str, t: str) -> Statements:
        where, params = "instance_id = $1", [instance["id"]]
        columns = "*"
        if layout == "processing month":
            where += " AND granularity = $2 AND processing_date = $3"
            params += [instance["granularity"], instance["processing_date"]]
        elif layout == "report month":  # the dates its vintages name
            where += " AND report_date = ANY($2::date[])"
            params.append(dates)
        elif layout == "account hash":
            where += " AND account_id = $2"
            params.append(instance["account_id"])
            columns = "*, $1::uuid"
        insert = f"INSERT INTO {t} OVERRIDING SYSTEM VALUE SELECT {columns} FROM the_instance"
        return [
            ("BEGIN", ()),
            (f"DELETE FROM {t} WHERE {where}", tuple(params)),
            (insert, (instance["account_id"],) if layout == "account hash" else ()),
            ("COMMIT", ()),
        ]

    def retention(layout: str, t: str) -> Statements:
        if layout == "processing month":
            drop = f"DROP TABLE analytics_rows_daily_{oldest:%Y_%m}"
            return [("BEGIN", ()), (drop, ()), ("ROLLBACK", ())]
        if layout == "report month":
            return [("BEGIN", ()), (f"DROP TABLE {t}_{oldest:%Y_%m}", ()), ("ROLLBACK", ())]
        delete = f"DELETE FROM {t} WHERE processing_date < $1"
        return [("BEGIN", ()), (delete, (following,)), ("ROLLBACK", ())]

    def purge(layout: str, t: str) -> Statements:
        if layout == "account hash":
            delete = f"DELETE FROM {t} WHERE account_id = $1"
            return [("BEGIN", ()), (delete, (gone,)), ("ROLLBACK", ())]
        # An instance at a time, as the trigger (and before it the foreign key's cascade) does,
        # by what the layout knows of an instance.
        where = {
            "processing month": "granularity = i.granularity "
            "AND processing_date = i.processing_date AND instance_id = i.id",
        }.get(layout, "instance_id = i.id")
        loop = f"""
            DO $$ DECLARE i record; BEGIN
                FOR i IN SELECT id, granularity, processing_date FROM analytics_instances
                         WHERE account_id = '{gone}' LOOP
                    DELETE FROM {t} WHERE {where};
                END LOOP;
            END $$
        """
        return [("BEGIN", ()), (loop, ()), ("ROLLBACK", ())]

    def read(layout: str, t: str) -> Statements:
        start, end = END - dt.timedelta(days=95), END - dt.timedelta(days=6)
        prune = {
            "processing month": "AND r.processing_date >= $2 AND r.granularity = 'DAILY' "
            "AND r.processing_date = v.processing_date AND r.granularity = v.granularity",
            "report month": "AND r.report_date BETWEEN $2 AND $3",
        }.get(layout, "")
        sql = f"""
            WITH v AS (
                SELECT DISTINCT ON (v.app_id, v.report, v.granularity, v.report_date)
                       v.instance_id, v.report_date, v.granularity, v.processing_date
                FROM analytics_vintages AS v
                WHERE v.app_id = $1 AND v.granularity = 'DAILY'
                  AND v.report_date BETWEEN $2 AND $3
                ORDER BY v.app_id, v.report, v.granularity, v.report_date,
                         v.processing_date ASC, v.instance_id ASC
            )
            SELECT r.territory, sum(r.count) FROM v CROSS JOIN LATERAL (
                SELECT r.* FROM {t} AS r
                WHERE r.instance_id = v.instance_id AND r.report_date = v.report_date {prune}
                OFFSET 0
            ) AS r
            GROUP BY 1
        """
        return [(sql, (world["apps"][0], start, end))]

    operations = {
        f"replace an instance ({rows:,} rows of {total:,})": replace,
        f"retention: the oldest month ({oldest_rows:,} rows)": retention,
        f"purge an account ({gone_rows:,} rows, {len(gone_instances):,} instances)": purge,
        "one app's 90 days by territory from the raw rows (first vintage)": read,
    }
    await _run(conn, "analytics_rows", layouts, operations, args.repeat)


async def _searchads(
    conn: asyncpg.Connection, world: dict[str, Any], args: argparse.Namespace
) -> None:
    account, gone = world["ads"][0], world["ads"][-1]
    start, end = END - dt.timedelta(days=39), END - dt.timedelta(days=30)
    await conn.execute(
        "CREATE TEMP TABLE the_window AS SELECT * FROM searchads_daily WHERE account_id = $1 "
        "AND level = 'keyword' AND report_date BETWEEN $2 AND $3",
        account,
        start,
        end,
    )
    rows = await conn.fetchval("SELECT count(*) FROM the_window")
    total = await conn.fetchval("SELECT count(*) FROM searchads_daily")
    oldest = (END - dt.timedelta(days=DAYS - 1)).replace(day=1)
    following = (oldest + dt.timedelta(days=32)).replace(day=1)
    oldest_rows = await conn.fetchval(
        "SELECT count(*) FROM searchads_daily WHERE report_date < $1", following
    )
    gone_rows = await conn.fetchval(
        "SELECT count(*) FROM searchads_daily WHERE account_id = $1", gone
    )
    layouts = {
        "report month": "searchads_daily",
        "account hash": "bench_s_hash",
        "unpartitioned": "bench_s_plain",
    }

    def replace(layout: str, t: str) -> Statements:
        delete = (
            f"DELETE FROM {t} WHERE account_id = $1 AND level = 'keyword' "
            "AND report_date BETWEEN $2 AND $3"
        )
        return [
            ("BEGIN", ()),
            (delete, (account, start, end)),
            (f"INSERT INTO {t} SELECT * FROM the_window", ()),
            ("COMMIT", ()),
        ]

    def retention(layout: str, t: str) -> Statements:
        if layout == "report month":
            return [("BEGIN", ()), (f"DROP TABLE {t}_{oldest:%Y_%m}", ()), ("ROLLBACK", ())]
        delete = f"DELETE FROM {t} WHERE report_date < $1"
        return [("BEGIN", ()), (delete, (following,)), ("ROLLBACK", ())]

    def purge(layout: str, t: str) -> Statements:
        delete = f"DELETE FROM {t} WHERE account_id = $1"
        return [("BEGIN", ()), (delete, (gone,)), ("ROLLBACK", ())]

    def read(layout: str, t: str) -> Statements:
        sql = f"""
            SELECT d.campaign_id, sum(d.spend), sum(d.taps), sum(d.total_installs)
            FROM {t} d WHERE d.workspace_id = $1 AND d.level = 'campaign'
              AND d.report_date BETWEEN $2 AND $3
            GROUP BY 1
        """
        return [(sql, (world["tenant"].workspace_id, END - dt.timedelta(days=89), END))]

    operations = {
        f"replace a 10-day keyword window ({rows:,} rows of {total:,})": replace,
        f"retention: the oldest month ({oldest_rows:,} rows)": retention,
        f"purge an ad account ({gone_rows:,} rows)": purge,
        "a workspace's 90 days by campaign": read,
    }
    await _run(conn, "searchads_daily", layouts, operations, args.repeat)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--apps", type=int, default=2)
    parser.add_argument("--rows-per-date", type=int, default=60)
    parser.add_argument("--ads-rows", type=int, default=400, help="Apple Ads rows an account-day")
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
