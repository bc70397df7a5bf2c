"""Test fixtures: a real PostgreSQL, a fresh migrated database per test, the app over ASGI.

The server is ``ORCHARD_TEST_DATABASE_URL`` when set (any database on it; the suite creates its
own), else an embedded PostgreSQL from pgserver in a temporary folder. The schema is built once
by the Alembic migrations into a template database; each test gets a copy of the template
(``CREATE DATABASE … TEMPLATE``), so tests are isolated and may use many connections.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import migrate
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, make_tenant
from tests.fixtures.database import plain, with_database
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.sandbox import SANDBOX_URL

#: Fails the session if a private key, an Orchard token or a JWT ever reaches a log record.
#: Fails a test that reads a file beside the repository (a clone has nothing there).
pytest_plugins = ["tests.secrets_guard", "tests.fixtures.outside_reads"]


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    configured = os.environ.get("ORCHARD_TEST_DATABASE_URL")
    if configured:
        yield plain(configured)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        root = Path(tempfile.mkdtemp(prefix="orchard-test-"))
        server = pgserver.get_server(root / "pg", cleanup_mode="delete")
    try:
        _without_durability(server)
        yield server.get_uri()
    finally:
        server.cleanup()


def _without_durability(server: Any) -> None:
    """The embedded server is thrown away with the session, so nothing it writes needs to
    survive a crash: without fsync a test's `DROP DATABASE` takes a tenth of the time, and its
    commits do not wait for the disk. (A server of ORCHARD_TEST_DATABASE_URL is the caller's
    and keeps its settings.)"""
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        server.psql(f"ALTER SYSTEM SET {setting} = off;")
    server.psql("SELECT pg_reload_conf();")


@pytest.fixture(scope="session")
async def template_database(pg_server_url: str) -> AsyncIterator[str]:
    name = f"orchard_tpl_{os.getpid()}"
    admin = await asyncpg.connect(with_database(pg_server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(pg_server_url, name)
        await migrate.upgrade(url)
        yield name
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def database_url(pg_server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test only.

    Made and dropped while no test runs: copying the template ahead, during the test before,
    was tried and holds back every snapshot's xmin (a `CREATE DATABASE` is a transaction of the
    whole cluster), which the events feed reads as its horizon — its tests then saw no events.
    """
    name = f"orchard_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(with_database(pg_server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield with_database(pg_server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        log_format="text",  # type: ignore[arg-type]
        asc_base_url=SANDBOX_URL,
        run_worker=False,  # tests drive background work explicitly
        expect_worker=False,
        # Public App Store data has its own simulator and tests (tests/store); elsewhere no
        # store unit is planned, so App Store Connect tests run exactly the units they expect.
        store_enabled=False,
        # Currency rates have their own simulator and tests (tests/fx).
        fx_ecb_enabled=False,
    )


@pytest.fixture
def embedded_data_dir() -> Iterator[Path]:
    """An ``ORCHARD_DATA_DIR`` for a process that starts the embedded PostgreSQL.

    Not under pytest's temporary root: pgserver runs PostgreSQL as its own user when started
    by root and opens the path to the data for it, and pytest closes its root (0700) again
    whenever a pytest process starts — a race with any other test session on the machine.
    """
    path = Path(tempfile.mkdtemp(prefix="orchard-embedded-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sandbox() -> SandboxState:
    """Apple, simulated: the built-in App Store Connect sandbox, reached in-process."""
    return SandboxState(seed=7)


@pytest.fixture
async def app(settings: Settings, sandbox: SandboxState) -> AsyncIterator[FastAPI]:
    application = create_app(
        settings,
        asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
        asc_retry=INSTANT_RETRY,
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as c:
        yield c


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection for assertions that read tables directly."""
    conn = await asyncpg.connect(plain(database_url))
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def tenant(database_url: str) -> Tenant:
    return await make_tenant(database_url, "acme")


@pytest.fixture
async def other_tenant(database_url: str) -> Tenant:
    return await make_tenant(database_url, "globex")
