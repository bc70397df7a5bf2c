"""Engine and session factory. Nothing connects at import time."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: A pooled connection idle longer than this is pinged before use; one used more recently is
#: only checked for a closed socket (no round trip).
PING_AFTER_IDLE_SECONDS = 10.0
_RETURNED_AT = "orchard_returned_at"
#: The send buffer asked for on a connection over a Unix socket (the embedded server's); the
#: kernel caps it at ``net.core.wmem_max``. See ``widen_send_buffer``.
UNIX_SEND_BUFFER_BYTES = 4 * 1024 * 1024


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
    engine = create_async_engine(
        normalise_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        connect_args={"command_timeout": 60, "server_settings": server_settings},
    )
    _check_on_checkout(engine)

    @event.listens_for(engine.sync_engine.pool, "connect")
    def connected(dbapi: Any, _record: Any) -> None:
        widen_send_buffer(dbapi.driver_connection)

    return engine


async def asyncpg_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``'s transaction, for what SQLAlchemy does not
    wrap (``COPY``)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    return driver


def widen_send_buffer(connection: Any) -> None:
    """Give an asyncpg connection over a Unix socket a send buffer of
    ``UNIX_SEND_BUFFER_BYTES`` (as far as the kernel allows); any other connection is left as
    it is (TCP sizes its own buffers).

    A COPY streams what Python cleans while the server stores it, both at once. Over a Unix
    socket the kernel holds about 200 KB by default, and wakes the sender only once the
    server has read three quarters of that: the server then waited for the next chunk while
    Python was cleaning one. A 1 M-row SALES day's COPY took 5.6 s over the local server's
    socket against 4.3 s over TCP (which grows its buffer to megabytes), and 4.0–4.4 s over
    the socket with this buffer (2026-12-07, ``tests/benchmarks/ingest.py``). asyncpg keeps
    the socket only on its private transport, hence ``getattr``.
    """
    transport = getattr(connection, "_transport", None)
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is None or sock.family != getattr(socket, "AF_UNIX", None):
        return
    with contextlib.suppress(OSError):  # a platform that refuses: the default buffer stays
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, UNIX_SEND_BUFFER_BYTES)


def _check_on_checkout(engine: AsyncEngine) -> None:
    """A server restart kills every pooled connection: replace them on checkout.

    SQLAlchemy's ``pool_pre_ping`` does it with three round trips on every checkout (BEGIN,
    ``;``, ROLLBACK through asyncpg), about a third of all a sync unit's round trips (a unit
    checks out a connection four to eight times). A restarted server closes each connection's
    socket, which asyncpg notices without a round trip (``is_closed``); only a connection
    idle for ``PING_AFTER_IDLE_SECONDS`` (a firewall may have dropped it silently) is pinged.
    """

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def returned(_dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def check(dbapi: Any, record: Any, _proxy: Any) -> None:
        if dbapi.driver_connection.is_closed():
            # Usually a restart: every connection made before now is gone too.
            raise InvalidatePoolError("connection closed by the server")
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return  # new (just connected) or in use a moment ago
        try:
            dbapi.ping()
        except Exception as exc:
            raise InvalidatePoolError(f"ping failed: {exc}") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
