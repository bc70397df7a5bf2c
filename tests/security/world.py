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


#: Tables whose rows an authenticated request changes by design: a token's ``last_used_at``
#: (compared without it, by content) and its request budget (left out).
WRITTEN_BY_EVERY_REQUEST = {"api_tokens": "last_used_at"}
LEFT_OUT = "api_request_budgets"


@dataclass(frozen=True)
class DatabaseState:
    """What ``changed_tables`` compares with: taken before a request that must change nothing."""

    #: The moment it was taken: a row version committed later is one this snapshot cannot see.
    snapshot: str
    #: Each table's row count then.
    rows: dict[str, int]
    #: A digest of the rows of the tables every request writes, without the moving column.
    digests: dict[str, str]


async def _tables(db: asyncpg.Connection) -> list[str]:
    """Every table but partitions (a partitioned table's rows are its partitions' rows, read
    once through it). Names come from the catalogue: our own tables, plain identifiers."""
    rows = await db.fetch(
        "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "AND c.relname <> $1 ORDER BY c.relname",
        LEFT_OUT,
    )
    return [row["relname"] for row in rows]


def _content_digest(table: str) -> str:
    column = WRITTEN_BY_EVERY_REQUEST[table]
    return (
        f"(SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) FROM "
        f"(SELECT (to_jsonb(t) - '{column}')::text AS r FROM \"{table}\" t) s)"
    )


async def database_state(db: asyncpg.Connection) -> DatabaseState:
    """Row counts, a snapshot and the content of the tables every request writes, in one
    statement (so one snapshot: the counts are exactly the rows the snapshot sees)."""
    tables = await _tables(db)
    parts = [
        f"SELECT '{table}' AS name, (SELECT count(*) FROM \"{table}\") AS rows, "
        + (_content_digest(table) if table in WRITTEN_BY_EVERY_REQUEST else "NULL::text")
        + " AS digest, pg_current_snapshot()::text AS snapshot"
        for table in tables
    ]
    rows = await db.fetch(" UNION ALL ".join(parts))
    return DatabaseState(
        snapshot=rows[0]["snapshot"],
        rows={row["name"]: row["rows"] for row in rows},
        digests={row["name"]: row["digest"] for row in rows if row["digest"] is not None},
    )


#: The row versions ``before`` could not see: written by a transaction that had no id yet when
#: it was taken (its xid is at or past the snapshot's xmax) or was still running then (its xid
#: is in the snapshot's in-progress list). xmin is a 32-bit xid without an order, so "at or
#: past" is told by age(), which counts back from one point for the whole statement.
_BEFORE = (
    "WITH before AS (SELECT (pg_snapshot_xmax(s)::text::bigint % 4294967296)::text::xid AS xmax, "
    "ARRAY(SELECT (x::text::bigint % 4294967296)::text::xid FROM pg_snapshot_xip(s) AS x) "
    "AS running FROM (SELECT $1::text::pg_snapshot AS s) AS given) "
)


async def changed_tables(db: asyncpg.Connection, before: DatabaseState) -> list[str]:
    """The tables whose rows are not exactly those of ``before``.

    Cheaper than a digest of every row and just as complete: an INSERT or UPDATE leaves a row
    version whose xmin is a transaction ``before``'s snapshot could not see, and a DELETE
    alone changes the row count (a DELETE with an INSERT or UPDATE leaves such a version
    too). So equal counts and no such version mean the very same row versions, hence the same
    rows. Stricter than comparing contents: an UPDATE that rewrites a row as it was counts as
    a change. (Statistics such as pg_stat_user_tables would not do: a backend reports its
    counts up to a second after its commit.) The tables every request writes are compared by
    content instead, without the column that moves."""
    tables = await _tables(db)
    parts = [
        (
            f"SELECT '{table}' AS name, (SELECT count(*) FROM \"{table}\") AS rows, "
            f"false AS newer, {_content_digest(table)} AS digest"
        )
        if table in WRITTEN_BY_EVERY_REQUEST
        else (
            f"SELECT '{table}' AS name, count(*) AS rows, coalesce(bool_or(age(t.xmin) <= "
            "age(b.xmax) OR t.xmin = ANY(b.running)), false) AS newer, NULL::text AS digest "
            f'FROM "{table}" AS t, before AS b'
        )
        for table in tables
    ]
    rows = await db.fetch(_BEFORE + " UNION ALL ".join(parts), before.snapshot)
    return sorted(
        row["name"]
        for row in rows
        if row["newer"]
        or row["rows"] != before.rows.get(row["name"])
        or row["digest"] != before.digests.get(row["name"])
    )


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
