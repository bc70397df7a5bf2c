"""Shared set-up for benchmark scripts: a migrated PostgreSQL to measure against.

Uses ``--database-url`` / ``ORCHARD_TEST_DATABASE_URL`` when given (the benchmark creates and
drops its own database there), else an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import os
import platform
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from app.db import migrate


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@asynccontextmanager
async def benchmark_database(server_url: str | None = None) -> AsyncIterator[str]:
    """A fresh, migrated database; yields its URL and drops it afterwards."""
    server_url = server_url or os.environ.get("ORCHARD_TEST_DATABASE_URL")
    server = None
    if not server_url:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import get_server

            server = get_server(
                Path(tempfile.mkdtemp(prefix="orchard-bench-")) / "pg", cleanup_mode="delete"
            )
        server_url = server.get_uri()
    name = f"orchard_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_with_database(server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = _with_database(server_url, name)
            await migrate.upgrade(url)
            yield url
        finally:  # a failed run leaves no database behind on a shared server either
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
        if server is not None:
            server.cleanup()


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
