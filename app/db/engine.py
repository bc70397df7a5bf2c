"""Engine and session factory. Nothing connects at import time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``) and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def create_engine(url: str, *, pool_size: int = 10, read_only: bool = False) -> AsyncEngine:
    """``read_only``: every transaction is READ ONLY (a replica's sessions: a route that tried
    to write there fails loudly, even when the replica URL is really the primary's)."""
    server_settings = {"application_name": "orchard"}
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    return create_async_engine(
        normalise_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        # A server restart kills every pooled connection; pre-ping replaces them on checkout.
        connect_args={"command_timeout": 60, "server_settings": server_settings},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
