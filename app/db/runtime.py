"""The database a process uses: the configured server, or the embedded one, started and migrated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import migrate
from app.db.embedded import EmbeddedPostgres
from app.db.engine import create_engine, create_sessionmaker


@dataclass(frozen=True)
class Database:
    url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    #: Sessions on the read replica (ORCHARD_DATABASE_READ_URL), when one is configured.
    read_sessionmaker: async_sessionmaker[AsyncSession] | None = None


async def resolve_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """The database URL, starting and migrating the embedded server when none is configured."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), None
    embedded = EmbeddedPostgres(settings.data_dir)
    url = await asyncio.to_thread(embedded.start)
    try:
        await migrate.upgrade(url)
    except BaseException:
        embedded.stop()
        raise
    return url, embedded


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    url, embedded = await resolve_url(settings)
    engine = create_engine(url, pool_size=settings.db_pool_size)
    replica = None
    if settings.database_read_url is not None:
        replica = create_engine(
            settings.database_read_url.get_secret_value(),
            pool_size=settings.db_pool_size,
            read_only=True,
        )
    try:
        yield Database(
            url=url,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            read_sessionmaker=create_sessionmaker(replica) if replica is not None else None,
        )
    finally:
        await engine.dispose()
        if replica is not None:
            await replica.dispose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
