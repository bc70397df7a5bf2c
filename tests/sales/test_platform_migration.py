"""Migration 15_platform_casing: stored sales platforms move to Apple's casing and back."""

import asyncio

import asyncpg

from app.db import migrate
from tests.sales.world import World


async def test_stored_platforms_are_rewritten_both_ways(
    world: World, database_url: str, db: asyncpg.Connection
) -> None:
    query = "SELECT DISTINCT platform FROM {} ORDER BY 1"
    for table in ("sales_rows", "sales_daily_rollup"):
        assert [r[0] for r in await db.fetch(query.format(table))] == ["IOS", "MAC_OS"]
    await asyncio.to_thread(
        migrate.downgrade_sync, database_url, "17_fx_rate_days"
    )  # the revision before it
    for table in ("sales_rows", "sales_daily_rollup"):
        assert [r[0] for r in await db.fetch(query.format(table))] == ["ios", "macos"]
    await migrate.upgrade(database_url)
    for table in ("sales_rows", "sales_daily_rollup"):
        assert [r[0] for r in await db.fetch(query.format(table))] == ["IOS", "MAC_OS"]
