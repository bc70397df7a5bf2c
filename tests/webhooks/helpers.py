"""Receivers, DNS and clocks for the webhooks tests.

Receivers are small Starlette apps reached in-process through ``httpx.ASGITransport`` (the
sender still resolves and checks the host first, through a fake DNS), so no packet leaves
the process. Each path of a :class:`Receiver` is one endpoint with its own scripted answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.outbox.writer import OutboxEvent, publish
from app.webhooks.deps import get_webhook_sender
from app.webhooks.dispatcher import DeliveryConfig, Dispatcher
from app.webhooks.sender import WebhookSender
from tests.fixtures.accounts import Tenant

HOST = "hooks.example.com"
PUBLIC = "93.184.216.34"  # a global address; the in-process transport never dials it


class FakeDns:
    """``host → addresses``, changeable mid-test (DNS rebinding)."""

    def __init__(self, records: dict[str, list[str]] | None = None) -> None:
        self.records = {HOST: [PUBLIC], **(records or {})}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.records:
            raise OSError(f"no such host {host}")
        return list(self.records[host])


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """Answers each path from its script (then 200), or waits on a gate first."""

    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, list[int | tuple[int, dict[str, str], str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    gates: dict[str, asyncio.Event] = field(default_factory=dict)

    def answer(self, path: str, *answers: int | tuple[int, dict[str, str], str]) -> None:
        self.scripts[path].extend(answers)

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def ok(self, path: str) -> list[Received]:
        return [r for r in self.on(path) if 200 <= r.status < 300]

    @property
    def app(self) -> Starlette:
        async def handle(request: Request) -> Response:
            path = request.url.path
            body = await request.body()
            gate = self.gates.get(path)
            if gate is not None:
                await gate.wait()
            script = self.scripts[path]
            answer = script.pop(0) if script else 200
            status, headers, text = (answer, {}, "ok") if isinstance(answer, int) else answer
            self.requests.append(Received(path, dict(request.headers), body, status))
            return Response(text, status_code=status, headers=headers)

        return Starlette(routes=[Route("/{rest:path}", handle, methods=["POST"])])


def url(path: str) -> str:
    return f"https://{HOST}{path}"


def make_sender(
    receiver: Receiver, dns: FakeDns, *, allow_private: bool = False, timeout: float = 10.0
) -> WebhookSender:
    return WebhookSender(
        timeout=timeout,
        allow_private=allow_private,
        resolver=dns,
        transport=httpx.ASGITransport(app=receiver.app),
    )


def use_sender(app: FastAPI, sender: WebhookSender) -> None:
    app.dependency_overrides[get_webhook_sender] = lambda: sender


class FakeClock:
    def __init__(self, now: dt.datetime | None = None) -> None:
        self.now = now or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


class Midpoint:
    """A jitter source that always draws the middle: delays exactly as scheduled."""

    def uniform(self, low: float, high: float) -> float:
        return (low + high) / 2


def dispatcher(
    app: FastAPI,
    sender: WebhookSender,
    clock: FakeClock | None = None,
    **config: Any,
) -> Dispatcher:
    return Dispatcher(
        app.state.sessionmaker,
        app.state.asc_clients.cipher,
        sender,
        DeliveryConfig(**config),
        clock=clock or FakeClock(),
        rng=Midpoint(),  # type: ignore[arg-type]
    )


async def subscribe(
    client: httpx.AsyncClient, tenant: Tenant, path: str, types: list[str], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks",
        json={"url": url(path), "event_types": types, **body},
        headers=tenant.headers(),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def emit(
    app: FastAPI, tenant: Tenant, event_type: str, data: dict[str, Any], **fields: Any
) -> uuid.UUID:
    """An event written the way every writer writes one: in a committed transaction."""
    event = OutboxEvent(type=event_type, data=data, occurred_at=dt.datetime.now(dt.UTC), **fields)
    async with app.state.sessionmaker() as session, session.begin():
        await publish(session, tenant.workspace_id, [event])
    return event.id
