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
    try:
        yield Database(url=url, engine=engine, sessionmaker=create_sessionmaker(engine))
    finally:
        await engine.dispose()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
