"""Benchmark: `/v1/sales?granularity=year` latency, through the HTTP API.

    python tests/benchmarks/sales_yearly.py --rows 1000000   # a quick run
    python tests/benchmarks/sales_yearly.py                  # 10,000,000 rows

Loads the world of ``sales_query.py`` (``--rows`` daily lines over 365 days ending
2026-10-31, their daily rollup), then stores a yearly SALES file for 2025 per account: the
account's 2025 daily lines copied as ``YEARLY`` rows (the size of a yearly file without
aggregation, so an upper bound), its availability ``published``. The yearly queries then read
2025 from the yearly rows and 2026 from the daily rollup; the monthly query over the same days
is the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from tests.benchmarks import sales_query
from tests.benchmarks.sales_common import add_database_argument, benchmark_database, machine

SPAN = {"from": "2025-01-01", "to": "2026-10-31"}


async def add_yearly_file(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        columns = [
            row["column_name"]
            for row in await conn.fetch(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'sales_rows' AND column_name NOT IN "
                "('id', 'frequency', 'report_date') AND is_generated = 'NEVER' "
                "ORDER BY ordinal_position"
            )
        ]
        names = ", ".join(columns)
        started = time.perf_counter()
        copied = await conn.execute(
            f"INSERT INTO sales_rows (frequency, report_date, {names}) "
            f"SELECT 'YEARLY', DATE '2025-01-01', {names} FROM sales_rows "
            "WHERE frequency = 'DAILY' AND report_date BETWEEN '2025-01-01' AND '2025-12-31'"
        )
        await conn.execute(
            "INSERT INTO dataset_availability (account_id, dataset, report_date, state) "
            "SELECT id, 'sales_yearly', DATE '2025-01-01', 'published' FROM asc_accounts"
        )
        await conn.execute("VACUUM ANALYZE sales_rows")
        print(f"yearly file 2025: {copied} in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()


def queries(world: dict[str, Any]) -> list[tuple[str, Any, float | None]]:
    apps = world["apps"]
    year = {**SPAN, "granularity": "year"}
    last365 = {"from": "2025-11-01", "to": "2026-10-31"}
    return [
        (
            "365 days, month, one app (baseline, daily rollup)",
            lambda n: {**last365, "granularity": "month", "app_id": apps[n % len(apps)]},
            None,
        ),
        (
            "365 days, year, one app (daily rollup only)",
            lambda n: {**last365, "granularity": "year", "app_id": apps[n % len(apps)]},
            None,
        ),
        (
            "2025-01..2026-10, year, one app",
            lambda n: {**year, "app_id": apps[n % len(apps)]},
            None,
        ),
        (
            "365 days, month, whole workspace (baseline, daily rollup)",
            lambda n: {**last365, "granularity": "month"},
            None,
        ),
        (
            "365 days, year, whole workspace (daily rollup only)",
            lambda n: {**last365, "granularity": "year"},
            None,
        ),
        ("2025-01..2026-10, year, whole workspace", lambda n: year, None),
        (
            "2025-01..2026-10, year, whole workspace, group_by=country",
            lambda n: {**year, "group_by": "country"},
            None,
        ),
    ]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--apps", type=int, default=10, help="apps per account")
    parser.add_argument("--repeat", type=int, default=20, help="measured runs per query")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--seconds-per-query", type=float, default=30.0)
    add_database_argument(parser)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    # The whole 2025 range exceeds the daily rollup's 400-day cap: only `year` may ask it.
    async with benchmark_database(args.database_url) as url:
        world = await sales_query.load(url, args)
        await add_yearly_file(url)
        sales_query.queries = queries  # measured by sales_query's own loop
        await sales_query.measure(url, world, args)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
