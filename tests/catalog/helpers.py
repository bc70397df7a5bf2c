from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.asc.client import AscClient
from app.models import AscAccount
from app.sandbox import SandboxKey, SandboxState, create_sandbox_app
from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.releases import Release, app_releases
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.sandbox import SANDBOX_URL

# Tuesday 10 June 2025, 11:00 in Cupertino.
NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)


def first_app(key: SandboxKey) -> SandboxApp:
    return team_apps(key.team)[0]


def transition(
    key: SandboxKey, to_state: str, *, after: dt.datetime
) -> tuple[SandboxApp, Release, dt.datetime]:
    """The first moment after ``after`` when some version of the team enters ``to_state``."""
    found: list[tuple[dt.datetime, SandboxApp, Release]] = []
    for candidate in team_apps(key.team):
        for item in app_releases(key.team, candidate, after + dt.timedelta(days=60)):
            for moment, state in item.moments():
                if state == to_state and moment > after:
                    found.append((moment, candidate, item))
    moment, found_app, item = min(found, key=lambda entry: entry[0])
    return found_app, item, moment


def set_app_count(sandbox: SandboxState, key: SandboxKey, count: int) -> None:
    """Apps disappear (or come back) from the end of the team's app list."""
    team = replace(key.team, app_count=count)
    sandbox.teams[team.name] = team
    for other in sandbox.keys.values():
        if other.team.name == team.name:
            other.team = team


async def app_id_of(db: asyncpg.Connection, apple_id: str) -> uuid.UUID:
    value = await db.fetchval("SELECT id FROM apps WHERE apple_id = $1", apple_id)
    assert value is not None
    return uuid.UUID(str(value))


def rows(records: list[Any]) -> list[dict[str, Any]]:
    return [dict(record) for record in records]


Rewrite = Callable[[httpx.Request, dict[str, Any]], dict[str, Any]]


@asynccontextmanager
async def rewritten_apple(
    app: FastAPI, sandbox: SandboxState, account_id: uuid.UUID, rewrite: Rewrite
) -> AsyncIterator[AscClient]:
    """An ASC client for the account whose answers come from the sandbox, edited by
    ``rewrite`` (Apple at the HTTP boundary, saying something the sandbox would not)."""
    upstream = httpx.ASGITransport(app=create_sandbox_app(sandbox))

    async def apple(request: httpx.Request) -> httpx.Response:
        response = await upstream.handle_async_request(request)
        body = json.loads(await response.aread())
        if response.status_code == 200:
            body = rewrite(request, body)
        headers = {"X-Rate-Limit": response.headers.get("X-Rate-Limit", "")}
        return httpx.Response(response.status_code, json=body, headers=headers)

    async with app.state.sessionmaker() as session:
        account = await session.get(AscAccount, account_id)
    assert account is not None
    credentials = app.state.asc_clients.credentials_of(account)
    async with httpx.AsyncClient(transport=httpx.MockTransport(apple)) as http:
        yield AscClient(http, credentials, SANDBOX_URL, retry=INSTANT_RETRY)
