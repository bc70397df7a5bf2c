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
from alembic.util.exc import CommandError

from app.auth import service as auth_service
from app.auth.tokens import Scope
from app.db import migrate
from app.db.engine import create_engine, create_sessionmaker


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@asynccontextmanager
async def benchmark_database(
    server_url: str | None = None, prefix: str = "orchard_bench_"
) -> AsyncIterator[str]:
    """A fresh, migrated database named ``prefix`` + 8 hex digits (a shared server's owners
    tell theirs apart by the prefix); yields its URL and drops it afterwards."""
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
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
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


@asynccontextmanager
async def kept_database(
    server_url: str, name: str, built_sql: str
) -> AsyncIterator[tuple[str, bool]]:
    """The database ``name`` on ``server_url``, created if missing and never dropped: a big
    world takes many minutes to build, so later runs (and a checkout of another branch, for a
    before/after) measure the same data again. Yields (URL, whether it already held a world:
    ``built_sql``, one boolean, says so)."""
    admin = await asyncpg.connect(_with_database(server_url, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(server_url, name)
    try:
        await migrate.upgrade(url)  # a world built before a newer migration still gets it
    except CommandError as error:  # a newer branch migrated it: this checkout measures as is
        print(f"not migrating the kept database ({error})")
    conn = await asyncpg.connect(url)
    try:
        built = bool(exists) and bool(await conn.fetchval(built_sql))
    finally:
        await conn.close()
    yield url, built


async def reused_workspace(url: str, purpose: str) -> tuple[uuid.UUID, str]:
    """A kept world's workspace ("bench") and a new admin token for it: the first token's
    secret is not stored."""
    engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            workspace = await auth_service.workspace_by_name(session, "bench")
            issued = await auth_service.create_token(
                session, workspace.id, name=purpose, scopes=[Scope.ADMIN]
            )
    finally:
        await engine.dispose()
    return workspace.id, issued.secret


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
