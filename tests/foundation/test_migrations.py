"""The Alembic history: one head, reversible, and identical to the ORM models."""

import asyncio
from collections.abc import Mapping

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

import app.models  # noqa: F401
from app.db import migrate
from app.db.base import Base
from app.db.engine import create_engine
from tests.fixtures.database import plain


def test_single_head() -> None:
    assert len(migrate.head_revisions()) == 1


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    await migrate.upgrade(database_url)  # already at head: a no-op
    await asyncio.to_thread(migrate.downgrade_sync, database_url, "base")
    conn = await asyncpg.connect(plain(database_url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        assert tables == []
        await migrate.upgrade(database_url)
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
        version = await conn.fetchval("SELECT version_num FROM alembic_version")
        assert {version} == migrate.head_revisions()
    finally:
        await conn.close()


async def test_models_match_migrations(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)

    def diff(connection: Connection, partitions: set[str]) -> list[object]:
        # Partitions of a partitioned table (created at run time) are not models: the parent is.
        def include_name(name: str | None, type_: str, parents: Mapping[str, str | None]) -> bool:
            table = name if type_ == "table" else parents.get("table_name")
            return table not in partitions

        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as conn:
            partitions = set(
                (
                    await conn.execute(text("SELECT relname FROM pg_class WHERE relispartition"))
                ).scalars()
            )
            differences = await conn.run_sync(diff, partitions)
    finally:
        await engine.dispose()
    assert differences == []
