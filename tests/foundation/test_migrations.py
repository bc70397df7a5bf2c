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
from app.reports import partitions
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


async def test_every_table_the_partition_code_names_is_partitioned_as_it_expects(
    database_url: str,
) -> None:
    """``app.reports.partitions`` makes leaves and prunes by what it believes of each table (a
    level by frequency or not, the range key): the migrations must have built it so."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        for table in sorted(partitions.PARTITIONED):
            ranged = {
                partitions.parent_of(table, frequency)
                for frequency in (partitions.SPANS if partitions.BY_FREQUENCY[table] else ["DAILY"])
            }
            found = await conn.fetch(
                "SELECT c.relname, p.partstrat::text AS partstrat, a.attname FROM pg_partitioned_table p "
                "JOIN pg_class c ON c.oid = p.partrelid "
                "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
                "WHERE c.relname = ANY($1::text[])",
                list(ranged),
            )
            assert found, table
            for row in found:
                assert (row["partstrat"], row["attname"]) == ("r", partitions.key_of(table)), row
            # Each range level has its catch-all, which ensure_leaf empties into a new leaf.
            for row in found:
                default = f"{row['relname']}_default"
                assert await conn.fetchval("SELECT to_regclass($1)", default) is not None
    finally:
        await conn.close()
