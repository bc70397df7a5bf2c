"""``ORCHARD_DATABASE_READ_URL``: GET and HEAD routes read from the replica, everything else —
authentication included — uses the primary. (The security tests run every GET route through a
read-only session, which proves none of them writes.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from app.auth.tokens import Scope
from app.config import Settings
from app.main import create_app
from tests.fixtures.accounts import Tenant, make_token
from tests.fixtures.database import plain, with_database


@pytest.fixture
async def replica_url(database_url: str, tenant: Tenant) -> AsyncIterator[str]:
    """A copy of the primary as it is now (a replica that has not seen what comes next)."""
    name = f"orchard_replica_{uuid.uuid4().hex[:12]}"
    source = urlsplit(plain(database_url)).path.lstrip("/")
    admin = await asyncpg.connect(with_database(database_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        yield with_database(database_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def token_names(url: str) -> set[str]:
    conn = await asyncpg.connect(plain(url))
    try:
        return {row["name"] for row in await conn.fetch("SELECT name FROM api_tokens")}
    finally:
        await conn.close()


async def test_reads_go_to_the_replica_and_everything_else_to_the_primary(
    settings: Settings, database_url: str, replica_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    newer = await make_token(database_url, tenant, [Scope.READ])  # the replica lags: not there
    app = create_app(settings.model_copy(update={"database_read_url": SecretStr(replica_url)}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        listed = await client.get("/v1/tokens", headers=tenant.headers())
        assert listed.status_code == 200, listed.text
        # The list is the replica's: one token, not the two the primary has.
        assert len(listed.json()["items"]) == 1
        # Authentication reads the primary: a token the replica has not seen yet works.
        assert (await client.get("/v1/accounts", headers=tenant.headers(newer))).status_code == 200
        created = await client.post(
            "/v1/tokens", json={"name": "written", "scopes": ["read"]}, headers=tenant.headers()
        )
        assert created.status_code == 201, created.text
    assert "written" in await token_names(database_url)
    assert "written" not in await token_names(replica_url)


async def test_replica_sessions_cannot_write(
    settings: Settings, database_url: str, tenant: Tenant
) -> None:
    """Even when the read URL is really the primary's, a read session refuses writes."""
    app = create_app(settings.model_copy(update={"database_read_url": SecretStr(database_url)}))
    async with app.router.lifespan_context(app), app.state.read_sessionmaker() as session:
        with pytest.raises(Exception, match="read-only transaction"):
            await session.execute(text("UPDATE workspaces SET name = name"))
