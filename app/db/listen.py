"""``LISTEN`` on a PostgreSQL channel from a connection of its own, outside the engine's pool.

A listening connection is held for a process's whole life and closed when it stops. Taken
from the pool, its close at stop went through the pool's return path, where a cancellation
is logged as an error ("Exception closing connection"); it also held one of the pool's
connections for ever. A plain asyncpg connection, made from the engine's URL, is closed by
the listener itself, once, when asked to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import URL

log = logging.getLogger("orchard.db.listen")


def plain_dsn(url: URL) -> str:
    """The engine's URL as asyncpg's own ``connect`` reads it (no ``+asyncpg`` driver)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(
    url: URL,
    channel: str,
    notified: Callable[[], None],
    stopping: asyncio.Event,
    *,
    retry_seconds: float = 1.0,
    max_retry_seconds: float = 30.0,
) -> None:
    """Calls ``notified`` for each ``NOTIFY`` on ``channel`` until ``stopping`` is set, then
    closes its connection and returns.

    A failed connect or a lost connection is logged as a warning and retried after
    ``retry_seconds``, twice as long after each failure in a row up to ``max_retry_seconds``
    (a database that is down is not hammered, nor the log filled). Whoever relies on the
    notifications must poll as well, since nothing is heard while disconnected; ``notified``
    is also called on each (re)connect, for what was announced while nobody listened.
    """

    def on_notify(*_: object) -> None:
        notified()

    delay = retry_seconds
    while not stopping.is_set():
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(
                plain_dsn(url),
                timeout=10,
                server_settings={"application_name": "orchard-listen"},
            )
            await connection.add_listener(channel, on_notify)
            delay = retry_seconds
            notified()
            if await _until_stopped_or_lost(connection, stopping):
                log.warning("lost the listening connection; polling", extra={"channel": channel})
        except Exception:  # any failure: poll, and try again (never end the worker)
            log.warning("cannot listen; polling", extra={"channel": channel}, exc_info=True)
        finally:
            if connection is not None and not connection.is_closed():
                # Shielded: a stop that cancels this task still closes the connection
                # properly (a cancelled close would leave it to the server to notice).
                with contextlib.suppress(Exception):
                    await asyncio.shield(_close(connection))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=delay)
        delay = min(delay * 2, max_retry_seconds)


async def _until_stopped_or_lost(connection: asyncpg.Connection, stopping: asyncio.Event) -> bool:
    """Waits until ``stopping`` is set (False) or the server closed ``connection`` (True)."""
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _: lost.set())
    if connection.is_closed():  # before the listener was added
        lost.set()
    waits = [asyncio.create_task(event.wait()) for event in (stopping, lost)]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    return not stopping.is_set()


async def _close(connection: asyncpg.Connection) -> None:
    try:
        await connection.close(timeout=5)
    except Exception:
        connection.terminate()
