"""At least once across a crash: ``kill -9`` of a worker process in the middle of sending an
event loses nothing; the next worker sends that event again with the same ``webhook-id`` and
then the rest, in order. Real processes, a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.config import Settings
from app.demo import QuietServer, free_port
from tests.fixtures.accounts import Tenant
from tests.webhooks.helpers import emit


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhooks_allow_private": True})


@dataclass
class LocalReceiver:
    url: str
    received: list[str] = field(default_factory=list)  # webhook-id per request, in order
    answered: list[str] = field(default_factory=list)  # those answered 2xx
    hang: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def local_receiver() -> Iterator[LocalReceiver]:
    port = free_port()
    receiver = LocalReceiver(url=f"http://127.0.0.1:{port}/hook")

    async def hook(request: Request) -> Response:
        await request.body()
        msg_id = request.headers["webhook-id"]
        receiver.received.append(msg_id)
        while receiver.hang.is_set() and not receiver.released.is_set():
            await asyncio.sleep(0.02)  # mid-send: the worker is waiting for us
        receiver.answered.append(msg_id)
        return Response("ok")

    server = QuietServer(
        uvicorn.Config(
            Starlette(routes=[Route("/hook", hook, methods=["POST"])]),
            host="127.0.0.1",
            port=port,
            log_config=None,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "receiver did not start"
        time.sleep(0.02)
    yield receiver
    receiver.released.set()
    server.should_exit = True
    thread.join(timeout=10)


def _worker(settings: Settings, database_url: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    environment.update(
        ORCHARD_DATABASE_URL=database_url,
        ORCHARD_DATA_DIR=str(settings.data_dir),  # the same key decrypts the signing secret
        ORCHARD_ASC_BASE_URL="http://127.0.0.1:9",  # no account is linked: never called
        ORCHARD_WEBHOOKS_ALLOW_PRIVATE="true",
        ORCHARD_WEBHOOKS_TIMEOUT_SECONDS="1",
        ORCHARD_WEBHOOKS_LEASE_SECONDS="1",  # lease = timeout + 1 s
        ORCHARD_WEBHOOKS_POLL_SECONDS="0.05",
        ORCHARD_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--concurrency", "1"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def _until(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_kill_9_mid_send_loses_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    settings: Settings,
    database_url: str,
    db: asyncpg.Connection,
    local_receiver: LocalReceiver,
) -> None:
    created = await client.post(
        "/v1/webhooks",
        json={"url": local_receiver.url, "event_types": ["review.created"]},
        headers=tenant.headers(),
    )
    assert created.status_code == 201, created.text
    ids = [str(await emit(app, tenant, "review.created", {"n": n})) for n in range(5)]
    local_receiver.hang.set()
    first = _worker(settings, database_url)
    try:

        async def mid_send() -> bool:
            return bool(local_receiver.received)

        await _until(mid_send, 60)
    finally:
        first.kill()  # SIGKILL: no goodbye, the lease is still held
        first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert local_receiver.received == [ids[0]] and local_receiver.answered == []
    owner = await db.fetchval("SELECT lease_owner FROM webhook_endpoints")
    assert owner is not None and owner.split(":")[1] == str(first.pid)
    assert (
        await db.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending' AND attempts = 0"
        )
        == 5
    )

    local_receiver.released.set()
    second = _worker(settings, database_url)
    try:

        async def all_delivered() -> bool:
            left = await db.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE state <> 'succeeded'"
            )
            return left == 0

        await _until(all_delivered, 60)
    finally:
        second.send_signal(signal.SIGTERM)
        output, _ = second.communicate(timeout=30)
    assert second.returncode == 0, output
    # The event in flight was sent again under the same id; nothing was lost or reordered.
    assert local_receiver.received[:2] == [ids[0], ids[0]]
    assert list(dict.fromkeys(local_receiver.answered)) == ids
    assert local_receiver.received.count(ids[0]) == 2
    assert await db.fetchval("SELECT lease_owner FROM webhook_endpoints") is None
