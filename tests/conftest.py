"""Test fixtures: a real PostgreSQL, a fresh migrated database per test, the app over ASGI.

The server is ``ORCHARD_TEST_DATABASE_URL`` when set (any database on it; the suite creates its
own), else an embedded PostgreSQL from pgserver in a temporary folder. The schema is built once
by the Alembic migrations into a template database; each test gets a copy of the template
(``CREATE DATABASE … TEMPLATE``), so tests are isolated and may use many connections.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.asc.client import RetryPolicy
from app.auth import service as auth_service
from app.auth.tokens import Scope
from app.config import Settings
from app.db import migrate
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from app.registry import worker_parts
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState

#: Fails the session if a private key, an Orchard token or a JWT ever reaches a log record.
#: Fails a test that reads a file beside the repository (a clone has nothing there).
pytest_plugins = ["tests.secrets_guard", "tests.fixtures.outside_reads"]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _plain(url: str) -> str:
    """asyncpg's own connect() wants postgresql:// without the SQLAlchemy driver suffix."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    configured = os.environ.get("ORCHARD_TEST_DATABASE_URL")
    if configured:
        yield _plain(configured)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        root = Path(tempfile.mkdtemp(prefix="orchard-test-"))
        server = pgserver.get_server(root / "pg", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
async def template_database(pg_server_url: str) -> AsyncIterator[str]:
    name = f"orchard_tpl_{os.getpid()}"
    admin = await asyncpg.connect(_with_database(pg_server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(pg_server_url, name)
        await migrate.upgrade(url)
        yield name
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def database_url(pg_server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test only."""
    name = f"orchard_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_with_database(pg_server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield _with_database(pg_server_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


SANDBOX_URL = "https://sandbox.test"


async def _no_sleep(_seconds: float) -> None:
    return None


#: Retries happen, but without waiting: tests count attempts, not seconds.
INSTANT_RETRY = RetryPolicy(max_attempts=3, sleep=_no_sleep)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        log_format="text",  # type: ignore[arg-type]
        asc_base_url=SANDBOX_URL,
        run_worker=False,  # tests drive background work explicitly
        expect_worker=False,
    )


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
    conn = await asyncpg.connect(_plain(database_url))
    try:
        yield conn
    finally:
        await conn.close()


@dataclass(frozen=True)
class Tenant:
    workspace_id: uuid.UUID
    name: str
    admin_token: str

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}"}


async def make_tenant(database_url: str, name: str) -> Tenant:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace, issued = await auth_service.create_workspace(session, name)
            await session.commit()
            return Tenant(workspace.id, name, issued.secret)
    finally:
        await engine.dispose()


async def make_token(database_url: str, tenant: Tenant, scopes: list[Scope]) -> str:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            issued = await auth_service.create_token(
                session, tenant.workspace_id, name="test", scopes=scopes
            )
            await session.commit()
            return issued.secret
    finally:
        await engine.dispose()


@pytest.fixture
async def tenant(database_url: str) -> Tenant:
    return await make_tenant(database_url, "acme")


@pytest.fixture
async def other_tenant(database_url: str) -> Tenant:
    return await make_tenant(database_url, "globex")


async def drain(app: FastAPI, *, max_units: int = 2000) -> int:
    """Run due sync units one after another until none is left; returns how many ran.

    The real engine (claim, lease, unit transaction, completion) with no background loop, so
    a test decides exactly when work happens.
    """
    from app.sync.worker import SyncWorker

    worker = SyncWorker(
        app.state.settings,
        app.state.sessionmaker,
        app.state.asc_clients,
        worker_parts(app.state.settings),
    )
    ran = 0
    while ran < max_units:
        await worker.maintain_queue()
        if not await worker.runner.run_once():
            break
        ran += 1
    return ran


async def run_unit(app: FastAPI, account_id: uuid.UUID, dataset: str, unit_key: str) -> None:
    """Queue one unit ahead of everything else and run it (and only it) through the engine."""
    import datetime as dt

    from sqlalchemy import text

    from app.models import AscAccount
    from app.sync import queue
    from app.sync.contract import PlannedUnit, Priority

    async with app.state.sessionmaker() as session, session.begin():
        account = await session.get(AscAccount, account_id)
        assert account is not None
        # Park everything else so the runner can only pick this unit.
        await session.execute(
            text("UPDATE sync_jobs SET state = 'paused' WHERE state IN ('queued', 'waiting')")
        )
        await queue.enqueue(
            session,
            account_id=account.id,
            workspace_id=account.workspace_id,
            key_id=account.key_id,
            dataset=dataset,
            units=[PlannedUnit(unit_key, priority=Priority.MANUAL)],
            now=dt.datetime.now(dt.UTC),
            force=True,
        )
        await session.execute(
            text(
                "UPDATE sync_jobs SET state = 'queued', run_after = now() "
                "WHERE account_id = :a AND dataset = :d AND unit_key = :u"
            ),
            {"a": account_id, "d": dataset, "u": unit_key},
        )
    from app.sync.worker import SyncWorker

    worker = SyncWorker(
        app.state.settings,
        app.state.sessionmaker,
        app.state.asc_clients,
        worker_parts(app.state.settings),
    )
    assert await worker.runner.run_once(), "the unit was not claimed"
