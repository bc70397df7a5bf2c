"""Load the sales benchmark's data into a named database and keep it (for
``sales_side_by_side.py``, which needs a loaded database to compare two trees on).

    python tests/benchmarks/sales_load.py --database-url postgresql://postgres@127.0.0.1/postgres \\
        --name orchard_bench_sales --rows 20000000     # ~5 M rows in the last 90 days

Creates (or replaces) database ``--name`` on that server, migrates it to this tree's head and
loads it exactly as ``sales_query.py`` does; prints the database's URL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # runnable as a script

from app.db import migrate
from tests.benchmarks.common import _with_database
from tests.benchmarks.sales_query import load


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a server to create it on")
    parser.add_argument("--name", default="orchard_bench_sales")
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--apps", type=int, default=10, help="apps per account")
    args = parser.parse_args()
    admin = await asyncpg.connect(_with_database(args.database_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{args.name}"')
    finally:
        await admin.close()
    url = _with_database(args.database_url, args.name)
    await migrate.upgrade(url)
    await load(url, args)
    print(url)


if __name__ == "__main__":
    asyncio.run(main())
