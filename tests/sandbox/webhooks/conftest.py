"""Fixtures for the webhook and TestFlight feedback sandbox tests: an in-process receiver the
sandbox delivers into, the hub wired to it, and helpers to create webhooks through the API."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.webhooks.delivery import asgi_sender
from app.sandbox.webhooks.hub import WebhookHub, webhooks

ALL_EVENT_TYPES = [
    "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED",
    "ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED",
    "ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED",
    "APP_STORE_VERSION_APP_VERSION_STATE_UPDATED",
    "BACKGROUND_ASSET_VERSION_APP_STORE_RELEASE_STATE_UPDATED",
    "BACKGROUND_ASSET_VERSION_EXTERNAL_BETA_RELEASE_STATE_UPDATED",
    "BACKGROUND_ASSET_VERSION_INTERNAL_BETA_RELEASE_CREATED",
    "BACKGROUND_ASSET_VERSION_STATE_UPDATED",
    "BETA_FEEDBACK_CRASH_SUBMISSION_CREATED",
    "BETA_FEEDBACK_SCREENSHOT_SUBMISSION_CREATED",
    "BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED",
    "BUILD_UPLOAD_STATE_UPDATED",
]
SECRET = "orchard-webhook-secret"


def expected_signature(secret: str, body: bytes) -> str:
    """WEBHOOKS §5, recomputed here independently of the sandbox's own signing code."""
    return "hmacsha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload["data"]
        return data


@dataclass
class Receiver:
    """An ASGI app standing in for Orchard's webhook endpoint."""

    requests: list[Received] = field(default_factory=list)
    #: Statuses to answer, in order; 200 once they run out.
    statuses: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        async def receive(request: Request) -> Response:
            self.requests.append(
                Received(request.url.path, dict(request.headers), await request.body())
            )
            status = self.statuses.pop(0) if self.statuses else 200
            return Response("ok" if status < 300 else "boom", status_code=status)

        self.app = Starlette(routes=[Route("/hooks/{name}", receive, methods=["POST"])])

    def of_type(self, data_type: str) -> list[Received]:
        return [r for r in self.requests if r.data["type"] == data_type]


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def hub(state: SandboxState, receiver: Receiver) -> WebhookHub:
    found = webhooks(state)
    found.sender = asgi_sender(receiver.app)
    return found


@pytest.fixture
def app0(admin_key: SandboxKey) -> SandboxApp:
    return team_apps(admin_key.team)[0]


def create_body(app_id: str, **attributes: Any) -> dict[str, Any]:
    values = {
        "enabled": True,
        "eventTypes": ALL_EVENT_TYPES,
        "name": "Orchard",
        "secret": SECRET,
        "url": "https://orchard.test/hooks/asc",
    }
    values.update(attributes)
    return {
        "data": {
            "type": "webhooks",
            "attributes": values,
            "relationships": {"app": {"data": {"type": "apps", "id": app_id}}},
        }
    }


CreateWebhook = Callable[..., Any]


@pytest.fixture
def create_webhook(
    client: httpx.AsyncClient,
    admin_key: SandboxKey,
    headers_for: Callable[..., dict[str, str]],
    hub: WebhookHub,
) -> CreateWebhook:
    """``await create_webhook(app_id, **attributes)`` → the created resource (asserts 201)."""

    async def create(app_id: str, **attributes: Any) -> dict[str, Any]:
        response = await client.post(
            "/v1/webhooks", json=create_body(app_id, **attributes), headers=headers_for(admin_key)
        )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    return create
