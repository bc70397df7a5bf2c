"""A connection over a Unix socket (the embedded server's) gets a wide send buffer, so a COPY's
server does not wait for Python between chunks (``app.db.engine.widen_send_buffer``); TCP is
left to size its own."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from app.db.engine import UNIX_SEND_BUFFER_BYTES, create_engine, widen_send_buffer


def _widened() -> int:
    """What Linux reports for ``UNIX_SEND_BUFFER_BYTES`` asked: capped at wmem_max, doubled."""
    cap = int(Path("/proc/sys/net/core/wmem_max").read_text())
    return 2 * min(UNIX_SEND_BUFFER_BYTES, cap)


def _send_buffer(connection: asyncpg.Connection) -> tuple[int, int]:
    sock = connection._transport.get_extra_info("socket")  # asyncpg has no public handle
    return sock.family, sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)


async def test_the_engines_connections_over_a_unix_socket_get_the_wide_buffer(
    database_url: str,
) -> None:
    plain = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        family, default = _send_buffer(plain)
    finally:
        await plain.close()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            raw = await connection.get_raw_connection()
            found_family, found = _send_buffer(raw.driver_connection)
    finally:
        await engine.dispose()
    assert found_family == family
    if family == socket.AF_UNIX:  # the embedded servers (the suite's default)
        assert default < _widened()
        assert found == _widened()
    else:  # ORCHARD_TEST_DATABASE_URL over TCP: untouched (the kernel tunes it)
        assert found == default


async def test_a_unix_socket_is_widened_and_a_tcp_one_is_not(tmp_path: Path) -> None:
    """The function itself, on sockets of both kinds (whatever server the suite runs on)."""

    class Held:  # what widen_send_buffer reads of an asyncpg connection: its transport
        def __init__(self, transport: asyncio.BaseTransport) -> None:
            self._transport = transport

    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    unix_server = await asyncio.start_unix_server(answer, path=str(tmp_path / "s"))
    tcp_server = await asyncio.start_server(answer, host="127.0.0.1", port=0)
    port = tcp_server.sockets[0].getsockname()[1]
    try:
        _, unix_writer = await asyncio.open_unix_connection(str(tmp_path / "s"))
        _, tcp_writer = await asyncio.open_connection("127.0.0.1", port)
        unix_sock = unix_writer.transport.get_extra_info("socket")
        tcp_sock = tcp_writer.transport.get_extra_info("socket")
        tcp_before = tcp_sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        widen_send_buffer(Held(unix_writer.transport))
        widen_send_buffer(Held(tcp_writer.transport))
        assert unix_sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == _widened()
        assert tcp_sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == tcp_before
        widen_send_buffer(object())  # no transport: nothing to do, nothing raised
        for writer in (unix_writer, tcp_writer):
            writer.close()
    finally:
        unix_server.close()
        tcp_server.close()


@pytest.fixture(autouse=True)
def _linux_only() -> None:
    if not Path("/proc/sys/net/core/wmem_max").exists():
        pytest.skip("the expected sizes are Linux's (wmem_max, doubled on set)")
