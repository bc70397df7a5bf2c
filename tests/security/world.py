"""Two workspaces with real synced data, built once and shared by the security tests.

Workspace A ("victim") and workspace B ("intruder") each link a sandbox account of their own
team and sync it to the end, so every table holds rows of both. The security tests then call
the API as B with A's identifiers, and compare what B sees and what the database holds with
what A owns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.auth.tokens import Scope
from app.config import Settings
from app.main import create_app
from app.sandbox.app import create_sandbox_app
from app.sandbox.searchads import AppleAdsState, create_apple_ads_app
from app.sandbox.state import SandboxKey, SandboxState
from app.sync.scheduler import plan_round
from app.webhooks.deps import get_webhook_sender
from tests.fixtures.accounts import Tenant, link_account, make_tenant, make_token
from tests.fixtures.database import plain, with_database
from tests.fixtures.engine import INSTANT_RETRY, drain
from tests.fixtures.hosts import HostRouter
from tests.fixtures.sandbox import SANDBOX_URL
from tests.webhooks.helpers import FakeDns, Receiver, make_sender, subscribe

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Shorter strings (country codes, states, currencies) are shared vocabulary, not identity.
MIN_MARKER_LENGTH = 8
#: Where the Apple Ads sandbox answers (each workspace links an Apple Ads credential).
ADS_URL = "https://ads.test"


def world_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        data_dir=data_dir,
        log_format="text",  # type: ignore[arg-type]
        asc_base_url=SANDBOX_URL,
        run_worker=False,
        expect_worker=False,
        initial_backfill_days=1,
        retry_base_seconds=0.01,
        budget_reserve=3,
        # The fuzzer and the hostile-input tests send hundreds of requests with one token.
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        store_enabled=False,  # public store units have their own tests (tests/store)
        # Every GET of the security tests reads through a read-only "replica" session (the same
        # database): a read route that wrote anything would fail here.
        database_read_url=database_url,  # type: ignore[arg-type]
        apple_ads_base_url=ADS_URL,
        apple_ads_token_url=f"{ADS_URL}/auth/oauth2/token",
        searchads_backfill_days=2,
        fx_ecb_enabled=False,  # currency rates have their own tests (tests/fx)
    )


@asynccontextmanager
async def scratch_database(pg_server_url: str, template: str) -> AsyncIterator[str]:
    """A fresh migrated database (a copy of the session's template) for a group of tests."""
    name = f"orchard_sec_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(with_database(pg_server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield with_database(pg_server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def running_app(
    settings: Settings, sandbox: SandboxState, ads: AppleAdsState | None = None
) -> AsyncIterator[FastAPI]:
    transport = HostRouter(
        {"ads.test": httpx.ASGITransport(app=create_apple_ads_app(ads or AppleAdsState()))},
        default=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
    )
    application = create_app(settings, asc_transport=transport, asc_retry=INSTANT_RETRY)
    async with application.router.lifespan_context(application):
        # Webhooks never leave the process: a fake DNS and an in-process receiver.
        sender = make_sender(Receiver(), FakeDns())
        application.dependency_overrides[get_webhook_sender] = lambda: sender
        try:
            yield application
        finally:
            await sender.aclose()


@dataclass(repr=False)
class World:
    app: FastAPI
    client: httpx.AsyncClient
    db: asyncpg.Connection
    database_url: str
    sandbox: SandboxState
    victim: Tenant
    intruder: Tenant
    victim_key: SandboxKey
    intruder_key: SandboxKey
    #: The secret of A's read-only token (the token B tries to revoke).
    victim_reader_secret: str
    #: Strings and ids that only A's rows hold (see ``owned_markers``).
    victim_markers: frozenset[str] = field(default_factory=frozenset)

    def __repr__(self) -> str:
        return f"<World {self.victim.name} / {self.intruder.name}>"

    def leaked(self, text: str, sent: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """A's markers found in ``text`` (empty: nothing of A's is in it).

        What the caller sent itself (an id in the path, echoed in a 404) is not a leak.
        """
        found = {m for m in UUID_RE.findall(text) if m in self.victim_markers}
        try:
            strings = set(_strings(json.loads(text)))
        except ValueError:  # not JSON: any occurrence counts
            found |= {m for m in self.victim_markers if m in text}
        else:
            found |= strings & self.victim_markers
        return sorted(found - sent)


def _strings(document: Any) -> Iterator[str]:
    """Every string in a JSON document, keys included."""
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for key, value in document.items():
            yield key
            yield from _strings(value)
    elif isinstance(document, list):
        for value in document:
            yield from _strings(value)


async def workspace_tables(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name = 'workspace_id' ORDER BY table_name"
    )
    return [row["table_name"] for row in rows]


async def _values(db: asyncpg.Connection, workspace_id: uuid.UUID) -> set[str]:
    """Every uuid and every longer string stored in the workspace's rows."""
    values: set[str] = set()
    for table in await workspace_tables(db):
        for row in await db.fetch(f'SELECT * FROM "{table}" WHERE workspace_id = $1', workspace_id):
            for value in row.values():
                if isinstance(value, uuid.UUID):
                    values.add(str(value))
                elif isinstance(value, str) and len(value) >= MIN_MARKER_LENGTH:
                    values.add(value)
    return values


async def owned_markers(db: asyncpg.Connection, owner: Tenant, other: Tenant) -> frozenset[str]:
    """Values only ``owner``'s rows hold: seeing one in ``other``'s answers is a leak.

    Values both workspaces hold (shared vocabulary such as product type names or dates) are
    left out, as is the owner's workspace id (it never appears in answers anyway).
    """
    mine = await _values(db, owner.workspace_id)
    theirs = await _values(db, other.workspace_id)
    return frozenset(mine - theirs - {str(owner.workspace_id)})


async def database_digest(db: asyncpg.Connection) -> dict[str, str]:
    """A digest of every table's rows, to prove a refused request changed nothing.

    A token's ``last_used_at`` and its request budget (``api_request_budgets``) move on every
    authenticated request by design, so they are left out; everything else must stay byte for
    byte the same.
    """
    # Every table but partitions (a partitioned table's rows are its partitions' rows, read
    # once through it), each digested in one statement: one round trip, not one per table.
    # (Names come from the catalogue: our own tables, plain identifiers.)
    tables = await db.fetch(
        "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "AND c.relname <> 'api_request_budgets' ORDER BY c.relname"
    )
    parts = [
        f"SELECT '{row['relname']}' AS name, "
        f"(SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) FROM "
        f"(SELECT (to_jsonb(t) - 'last_used_at')::text AS r FROM \"{row['relname']}\" t) s) AS digest"
        for row in tables
    ]
    rows = await db.fetch(" UNION ALL ".join(parts))
    return {row["name"]: row["digest"] for row in rows}


async def link_search_ads(client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState) -> None:
    """An Apple Ads credential of the tenant's own (a new API user of the sandbox org)."""
    credential = ads.add_credential(label=f"security-{tenant.name}")
    response = await client.post(
        "/v1/search-ads/accounts",
        json={
            "name": f"{tenant.name} ads",
            "client_id": credential.client_id,
            "team_id": credential.team_id,
            "key_id": credential.key_id,
            "private_key": credential.private_key_pem,
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 201, response.text


@asynccontextmanager
async def build_world(
    database_url: str, data_dir: Path, *, intruder_data: bool = True
) -> AsyncIterator[World]:
    """Link and fully sync an account for A (two apps) and one for B (one app)."""
    sandbox = SandboxState(seed=7)
    victim = await make_tenant(database_url, "victim")
    intruder = await make_tenant(database_url, "intruder")
    reader = await make_token(database_url, victim, [Scope.READ])
    victim_key = sandbox.add_key(sandbox.add_team("Victim Orchards", apps=2))
    intruder_key = sandbox.add_key(sandbox.add_team("Intruder Farms", apps=1))
    settings = world_settings(database_url, data_dir)
    ads = AppleAdsState(seed=7)
    async with (
        running_app(settings, sandbox, ads) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://orchard.test"
        ) as client,
    ):
        accounts = {victim.name: await link_account(client, victim, victim_key)}
        await link_search_ads(client, victim, ads)
        if intruder_data:
            accounts[intruder.name] = await link_account(client, intruder, intruder_key)
            await link_search_ads(client, intruder, ads)
        for tenant in (victim, intruder) if intruder_data else (victim,):
            # An on-demand refresh, so each workspace has a sync request to follow.
            refresh = await client.post(
                f"/v1/accounts/{accounts[tenant.name]}/sync",
                json={"datasets": ["apps"]},
                headers=tenant.headers(),
            )
            assert refresh.status_code == 202, refresh.text
        for tenant in (victim, intruder) if intruder_data else (victim,):
            hook = await subscribe(client, tenant, f"/{tenant.name}", ["*"])
            await client.post(f"/v1/webhooks/{hook['id']}/test", headers=tenant.headers())
        await drain(app)
        # The scheduler's next rounds: units planned from what the first pass stored (one
        # reviews unit per listed app; Search Ads reports once the campaigns are stored).
        for _ in range(2):
            async with app.state.sessionmaker() as session, session.begin():
                await plan_round(session, app.state.registry, dt.datetime.now(dt.UTC))
            await drain(app)
        db = await asyncpg.connect(plain(database_url))
        try:
            world = World(
                app=app,
                client=client,
                db=db,
                database_url=database_url,
                sandbox=sandbox,
                victim=victim,
                intruder=intruder,
                victim_key=victim_key,
                intruder_key=intruder_key,
                victim_reader_secret=reader,
            )
            world.victim_markers = await owned_markers(db, victim, intruder)
            yield world
        finally:
            await db.close()
