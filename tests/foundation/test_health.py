"""Liveness, readiness (including a database that goes away and comes back) and metrics."""

import subprocess
import tempfile
import warnings
from pathlib import Path

import asyncpg
import httpx
import pytest

from app.config import Settings
from app.db import migrate
from app.main import create_app
from app.registry import worker_parts
from tests.fixtures.database import with_database


async def test_ready_when_database_is_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert {check["name"]: check["ok"] for check in body["checks"]} == {
        "database": True,
        "migrations": True,
    }


async def test_not_ready_when_schema_is_behind(pg_server_url: str, tmp_path: Path) -> None:
    admin = await asyncpg.connect(with_database(pg_server_url, "postgres"))
    await admin.execute('CREATE DATABASE "orchard_unmigrated"')
    try:
        settings = Settings(
            database_url=with_database(pg_server_url, "orchard_unmigrated"),  # type: ignore[arg-type]
            data_dir=tmp_path,
            run_worker=False,
            expect_worker=False,
        )
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):
            response = await c.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert "migrations" in body["detail"] and "orchard migrate" in body["detail"]
        assert {c["name"]: c["ok"] for c in body["checks"]} == {
            "database": True,
            "migrations": False,
        }
    finally:
        await admin.execute('DROP DATABASE "orchard_unmigrated" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def own_server() -> object:
    """A PostgreSQL of this test's own, so stopping it disturbs no other test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(Path(tempfile.mkdtemp()) / "pg", cleanup_mode="delete")
    yield server
    server.cleanup()


def _pg_ctl(server: object, action: str) -> None:
    from pgserver._commands import POSTGRES_BIN_PATH

    pgdata = server.pgdata  # type: ignore[attr-defined]
    user = server.system_user  # type: ignore[attr-defined]
    socket_dir = server.get_uri().split("host=")[1]  # type: ignore[attr-defined]
    command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w"]
    if action == "start":
        command += ["-o", f'-h "" -k {socket_dir}', "-l", str(pgdata / "log"), "start"]
    else:
        command += ["-m", "fast", "stop"]
    if user:
        command = ["su", user, "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in command)]
    subprocess.run(command, check=True, capture_output=True, timeout=30)


async def test_ready_turns_503_while_database_is_down_and_recovers(
    own_server: object, tmp_path: Path
) -> None:
    url = own_server.get_uri()  # type: ignore[attr-defined]
    await migrate.upgrade(url)
    app = create_app(
        Settings(database_url=url, data_dir=tmp_path, run_worker=False, expect_worker=False)
    )  # type: ignore[arg-type]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        assert (await c.get("/health/ready")).status_code == 200

        _pg_ctl(own_server, "stop")
        down = await c.get("/health/ready")
        assert down.status_code == 503
        assert down.headers["content-type"] == "application/problem+json"
        assert down.json()["checks"][0] == {
            "name": "database",
            "ok": False,
            "detail": down.json()["checks"][0]["detail"],
        }
        assert "database unreachable" in down.json()["detail"]
        assert (await c.get("/health")).status_code == 200  # liveness does not touch the DB

        _pg_ctl(own_server, "start")
        assert (await c.get("/health/ready")).status_code == 200


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, tenant: object
) -> None:
    await client.get("/health")
    await client.delete("/v1/tokens/00000000-0000-0000-0000-000000000000")
    await client.get("/no/such/route")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'orchard_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert (
        'orchard_http_requests_total{method="DELETE",route="/v1/tokens/{token_id}",status="401"} 1.0'
        in text
    )
    assert 'route="unmatched",status="404"' in text
    assert "orchard_http_request_duration_seconds_bucket" in text


async def test_ready_is_degraded_without_a_live_worker(
    settings: Settings, sandbox: object, tmp_path: Path
) -> None:
    from app.sync.worker import SyncWorker

    expecting = settings.model_copy(update={"expect_worker": True, "worker_stale_seconds": 30})
    app = create_app(expecting)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        response = await c.get("/health/ready")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        workers = next(check for check in body["checks"] if check["name"] == "workers")
        assert workers["ok"] is False
        assert "orchard worker" in workers["detail"]

        worker = SyncWorker(
            expecting, app.state.sessionmaker, app.state.asc_clients, worker_parts(expecting)
        )
        await worker.heartbeat()
        assert (await c.get("/health/ready")).json()["status"] == "ready"
