"""Test fixtures: a real PostgreSQL, a fresh migrated database per test, the app over ASGI.

The server is ``ORCHARD_TEST_DATABASE_URL`` when set (any database on it; the suite creates its
own), else an embedded PostgreSQL from pgserver in a temporary folder. The schema is built once
by the Alembic migrations into a template database; each test gets a copy of the template
(``CREATE DATABASE … TEMPLATE``), so tests are isolated and may use many connections. The
copies come from a pool (tests/fixtures/database_pool.py) that, embedded, makes them on a
server no test is using at the time. Embedded, each pytest-xdist worker process (see
``pytest_xdist_auto_num_workers``) has servers of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, make_tenant
from tests.fixtures.database import plain
from tests.fixtures.database_pool import DatabasePool, drop_database, migrated_template
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.sandbox import SANDBOX_URL

#: Fails the session if a private key, an Orchard token or a JWT ever reaches a log record.
#: Fails a test that reads a file beside the repository (a clone has nothing there).
pytest_plugins = ["tests.secrets_guard", "tests.fixtures.outside_reads"]


#: Workers beyond this add embedded servers (three each) faster than they save time; measured
#: on 2 cores only.
MAX_WORKERS = 4


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many pytest-xdist workers ``-n auto`` (pyproject.toml) starts.

    Embedded, each worker has servers of its own, so no copy ever runs beside another worker's
    test. With ORCHARD_TEST_DATABASE_URL all would share one server, where one worker's
    ``CREATE DATABASE`` holds back the snapshot horizon of the other's test (the events feed
    and the outbox would read nothing; tests/fixtures/database_pool.py): no workers then, the
    tests run in this process.
    """
    if os.environ.get("ORCHARD_TEST_DATABASE_URL"):
        return 0
    cores = os.cpu_count() or 1
    return min(cores, MAX_WORKERS) if cores > 1 else 0


#: The system user pgserver runs its servers as when the tests run as root (pgserver's own name).
PGSERVER_SYSTEM_USER = "pgserver"


def pytest_configure(config: pytest.Config) -> None:
    """Run as root, pgserver starts its servers as a system user of its own, which it creates
    on first use. On a machine without that user (a fresh one, a container), the xdist
    workers starting their servers at once both found it missing, and one worker's servers
    then failed ``initdb`` ("could not change permissions of directory"): every test on that
    worker errored (seen in 2 of 4 first runs, 2026-12-07). So the controller creates it once,
    before any worker starts, with pgserver's own function."""
    embedded = not os.environ.get("ORCHARD_TEST_DATABASE_URL")
    is_worker = hasattr(config, "workerinput")
    if embedded and not is_worker and os.name == "posix" and os.geteuid() == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.utils import ensure_user_exists

        ensure_user_exists(PGSERVER_SYSTEM_USER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test gets a node id of its own.

    Schemathesis names each operation's test ``test_fuzz[GET /v1/apps]`` but gives all of
    them the node id ``…::test_fuzz``: a report could not say which failed, and pytest-xdist's
    scope-keyed modes (loadscope, loadgroup, loadfile) would silently run one of them. Such
    tests take their name as node id; any id still shared stops the run.
    """
    seen = Counter(item.nodeid for item in items)
    for item in items:
        if seen[item.nodeid] > 1 and item.parent is not None:
            item._id = item.parent.id.child(item.name)
    shared = [nodeid for nodeid, count in Counter(i.nodeid for i in items).items() if count > 1]
    if shared:
        raise pytest.UsageError(f"tests share a node id (xdist would run one): {shared[:5]}")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The server of the tests that make databases of their own (not one a pool copies on)."""
    configured = os.environ.get("ORCHARD_TEST_DATABASE_URL")
    if configured:
        yield plain(configured)
        return
    with _embedded_server() as url:
        yield url


@contextlib.contextmanager
def _embedded_server() -> Iterator[str]:
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
def template_database(pg_server_url: str) -> Iterator[str]:
    name = migrated_template(pg_server_url)
    yield name
    drop_database(pg_server_url, name)


@pytest.fixture(scope="session")
def database_pool(request: pytest.FixtureRequest) -> Iterator[DatabasePool]:
    """Where each test's database comes from (see tests/fixtures/database_pool.py).

    Embedded: two servers of the pool's own, which take turns copying databases ahead while
    the tests run on the other, so a test does not wait for its copy (0.3–1.6 s each, most of
    the suite's time before). Neither is ``pg_server_url``'s, whose databases (made by the
    tests that use it) must not see a copy running beside them. ORCHARD_TEST_DATABASE_URL:
    that one server, copying each database right before its test.
    """
    if os.environ.get("ORCHARD_TEST_DATABASE_URL"):
        url = request.getfixturevalue("pg_server_url")
        pool = DatabasePool([(url, request.getfixturevalue("template_database"))])
        yield pool
        pool.close()
        return
    with _embedded_server() as first, _embedded_server() as second:
        # One after the other: Alembic's context is global to the process, not per thread.
        pool = DatabasePool([(url, migrated_template(url)) for url in (first, second)])
        try:
            yield pool
        finally:
            pool.close()


@pytest.fixture
async def database_url(database_pool: DatabasePool) -> AsyncIterator[str]:
    """A fresh, migrated database for this test only."""
    url = await database_pool.take()
    yield url
    await database_pool.give_back(url)


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
