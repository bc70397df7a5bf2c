"""PostgreSQL restarted in the middle of a sync: the API says 503 while it is down, workers
ride it out, and both carry on by themselves once it is back (no process restart)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.config import Settings
from app.db import migrate
from app.kit.middleware import database_unavailable
from app.main import create_app
from app.registry import worker_parts
from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxState
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import link_account, make_tenant
from tests.fixtures.database import plain
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.sandbox import SANDBOX_URL
from tests.foundation.test_health import _pg_ctl, own_server  # noqa: F401  (fixture)
from tests.reliability.world import (
    TEAMS,
    Reference,
    add_keys,
    final_job_states,
    settled,
    snapshot,
    sync_app_lists_first,
    world_settings,
)


@contextlib.asynccontextmanager
async def connect(url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection for one look at the database (the server goes away in between)."""
    conn = await asyncpg.connect(plain(url))
    try:
        yield conn
    finally:
        await conn.close()


async def _mid_sync(url: str) -> bool:
    """Eight units done and one running now, which stopping PostgreSQL cuts off (waiting for
    eight done alone sometimes stopped it between units: nothing was cut, nothing run again)."""
    async with connect(url) as db:
        done, running = await db.fetchrow(
            "SELECT count(*) FILTER (WHERE state = 'succeeded'), "
            "count(*) FILTER (WHERE state = 'running') FROM sync_jobs"
        )
    return bool(done >= 8 and running >= 1)


async def test_postgres_restart_mid_sync_gives_503s_then_everything_resumes(
    own_server: object,  # noqa: F811
    tmp_path: Path,
    sandbox: SandboxState,
    reference: Reference,
) -> None:
    url = own_server.get_uri()  # type: ignore[attr-defined]
    await migrate.upgrade(url)
    settings = world_settings(
        Settings(
            database_url=url,
            data_dir=tmp_path,
            asc_base_url=SANDBOX_URL,
            log_format="text",
            run_worker=False,  # started below, once the app list is in (world.py)
            expect_worker=False,
            store_enabled=False,  # public store data has its own world (tests/store)
            fx_ecb_enabled=False,  # currency rates too (tests/fx)
        )
    ).model_copy(update={"lease_seconds": 2.0})  # units cut off by the outage return soon
    tenant = await make_tenant(url, "acme")
    key = add_keys(sandbox, TEAMS[:1])[0]
    app = create_app(
        settings,
        asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
        asc_retry=INSTANT_RETRY,
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as api,
    ):
        await link_account(api, tenant, key)
        await sync_app_lists_first(app)
        sandbox.latency_seconds = 0.05  # a sync that lasts long enough to be interrupted
        worker = SyncWorker(
            settings, app.state.sessionmaker, app.state.asc_clients, worker_parts(settings)
        )
        await worker.start()
        try:  # a failure here must not leave the worker running into later tests
            async with asyncio.timeout(30):
                while not await _mid_sync(url):
                    await asyncio.sleep(0.02)
            _pg_ctl(own_server, "stop")

            # While it is down: a clean 503 problem, not a 500 with a stack trace …
            down = await api.get("/v1/accounts", headers=tenant.headers())
            assert down.status_code == 503, down.text
            assert down.headers["content-type"] == "application/problem+json"
            problem = down.json()
            assert problem["type"].endswith("service_unavailable")
            assert problem["status"] == 503 and "database" in problem["detail"]
            assert "Traceback" not in down.text and "asyncpg" not in down.text
            assert "retry-after" in down.headers
            assert (await api.get("/health/ready")).status_code == 503
            assert (await api.get("/health")).status_code == 200
            # … and the worker keeps trying instead of dying.
            await asyncio.sleep(1.5)
            assert not any(task.done() for task in worker._loops + worker._tasks)

            _pg_ctl(own_server, "start")
            # Back, with nothing restarted: the same app and worker carry on.
            up = await api.get("/v1/accounts", headers=tenant.headers())
            assert up.status_code == 200, up.text
            async with asyncio.timeout(60):
                while True:
                    async with connect(url) as db:
                        if await settled(db):
                            break
                    await asyncio.sleep(0.1)
        finally:
            await worker.stop()

    async with connect(url) as db:
        # Units cut off by the restart were run again (their first attempt rolled back) …
        assert await db.fetchval("SELECT count(*) FROM sync_jobs WHERE attempts > 1") >= 1
        # … and the account ends exactly as after a clean run.
        assert await final_job_states(db) == {
            unit: state for unit, state in reference.jobs.items() if unit[0] == key.key_id
        }
        assert (await snapshot(db)).differences(reference.snapshot.only([key.key_id])) == []


async def test_what_counts_as_a_database_outage() -> None:
    """503 for "cannot reach PostgreSQL now", never for a bug or a bad statement."""

    def wrapped(driver_error: Exception) -> DBAPIError:
        try:
            try:
                raise driver_error
            except Exception as exc:
                raise DBAPIError("SELECT 1", None, exc) from exc
        except DBAPIError as error:
            return error

    with pytest.raises(FileNotFoundError) as refused:
        await asyncpg.connect("postgresql://orchard@/orchard?host=/nonexistent/socket/dir")
    assert database_unavailable(refused.value)  # nothing listening: raised by the driver
    assert database_unavailable(PoolTimeout("QueuePool limit of size 10 overflow 10 reached"))
    assert database_unavailable(wrapped(asyncpg.AdminShutdownError("terminating connection")))
    assert database_unavailable(wrapped(asyncpg.CannotConnectNowError("starting up")))
    assert database_unavailable(wrapped(asyncpg.ConnectionDoesNotExistError("closed")))
    assert not database_unavailable(wrapped(asyncpg.UniqueViolationError("duplicate key")))
    assert not database_unavailable(wrapped(asyncpg.UndefinedTableError("no such table")))
    assert not database_unavailable(ValueError("a bug"))
    assert not database_unavailable(FileNotFoundError("a file, not the database"))
