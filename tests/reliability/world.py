"""The world every reliability test syncs, a clean reference run of it, and ways to compare.

Three sandbox accounts (one app each, so a full backfill stays small) are backfilled over every
registered dataset. A test runs that backfill under stress (faults, SIGKILLs, a database
restart) and compares the result with a clean run of the same sandbox: every data table's rows,
with what Orchard generates itself (ids, its own clock) left out and generated references
(account and app ids) replaced by Apple's identifiers, so two databases compare.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg
import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from app.config import Settings
from app.main import create_app
from app.registry import worker_parts
from app.sandbox.app import create_sandbox_app
from app.sandbox.periods import Frequency, latest_available
from app.sandbox.sales import is_no_sales_day
from app.sandbox.state import SandboxKey, SandboxState, utc_now
from app.sync.worker import SyncWorker
from tests.fixtures.accounts import link_account, make_tenant
from tests.fixtures.database import plain, with_database
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.sandbox import SANDBOX_URL

SEED = 7
TEAMS = ("Orchard Fault 0", "Orchard Fault 1", "Orchard Fault 2")
#: A small initial window (the routine plans add the latest periods of every frequency).
BACKFILL_DAYS = 2
#: The sandbox's clock stands still for the whole session, so every run of the world (the
#: reference and the stressed ones) sees exactly the same Apple, whatever the wall clock does.
SANDBOX_NOW = utc_now().replace(microsecond=0)

#: Orchard's bookkeeping: how syncing went, not what Apple said. Differs run to run by design.
BOOKKEEPING = frozenset(
    {
        "alembic_version",
        "api_tokens",
        "asc_accounts",
        "asc_key_budgets",
        "asc_key_history",
        "review_reply_requests",
        "review_sync_states",
        "sync_dataset_states",
        "sync_jobs",
        "apple_webhook_receivers",  # whether webhooks are on, checked when
        "sync_workers",
        "workspaces",
    }
)
#: Columns Orchard fills from its own sequences and clock (when it saw something, not what).
GENERATED = frozenset(
    {"id", "seq", "txid", "workspace_id", "first_seen_at", "last_seen_at", "observed_at"}
    | {"fetched_at", "last_pass_at", "last_full_pass_at"}
    # When Orchard last checked an analytics report request, found or loaded an instance.
    | {"checked_at", "discovered_at", "loaded_at"}
    # Apple's id of an analytics report request Orchard created: it depends on the order in
    # which Apple (the simulator) received the POSTs of every app, which retries reorder.
    | {"apple_request_id"}
    # When Orchard first saw a version in its state (unless Apple dated it).
    | {"state_since"}
    # TestFlight screenshots: Apple mints a temporary URL (and its expiry) per request.
    | {"screenshots"}
    # A crash log's link is Apple's URL for it: it names the host that answered (the sandbox
    # runs at a different address in each world).
    | {"crash_log_url"}
    # An analytics request Orchard created just before a crash (Apple has it, the commit was
    # lost) is found at Apple on the next run and adopted: Orchard cannot tell it made it.
    | {"created_by_orchard"}
)
#: How each report table is partitioned: one partition is one report file, replaced whole.
PARTITIONS = {
    "sales_rows": ("frequency", "report_date"),
    "sales_daily_rollup": ("report_date",),
    "subscription_snapshot_rows": ("report_date",),
    "subscription_event_rows": ("report_date",),
    "subscriber_transaction_rows": ("report_date",),
    "finance_report_rows": ("fiscal_request", "report_type", "region_code"),
}


def frozen_sandbox() -> SandboxState:
    sandbox = SandboxState(seed=SEED, clock=lambda: SANDBOX_NOW)
    sandbox.token_clock = utc_now  # Orchard mints tokens on the wall clock
    return sandbox


def add_keys(sandbox: SandboxState, teams: Iterable[str] = TEAMS) -> list[SandboxKey]:
    return [sandbox.add_key(sandbox.add_team(name, apps=1)) for name in teams]


def world_settings(settings: Settings) -> Settings:
    """Small windows, quick engine retries, enough attempts to outlast injected faults."""
    return settings.model_copy(
        update={
            "initial_backfill_days": BACKFILL_DAYS,
            "retry_base_seconds": 0.01,
            "lease_seconds": 5.0,
            "worker_poll_seconds": 0.05,
            "scheduler_seconds": 0.5,
            "budget_reserve": 3,
            "max_attempts": 10,
        }
    )


# -- snapshots of the data ------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every data table's rows as sorted canonical JSON, per table."""

    tables: dict[str, list[str]]

    def only(self, key_ids: Iterable[str]) -> Snapshot:
        wanted = {f'"account": "{key}"' for key in key_ids}
        return Snapshot(
            {
                table: [row for row in rows if any(w in row for w in wanted)]
                for table, rows in self.tables.items()
            }
        )

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.tables.items()}

    def differences(self, other: Snapshot, limit: int = 6) -> list[str]:
        """Human-readable differences (empty when equal)."""
        found = []
        for table in sorted(set(self.tables) | set(other.tables)):
            mine, theirs = self.tables.get(table, []), other.tables.get(table, [])
            if mine == theirs:
                continue
            diff = [
                line[:400]
                for line in difflib.unified_diff(theirs, mine, lineterm="", n=0)
                if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
            ]
            found.append(
                f"{table}: {len(mine)} rows vs {len(theirs)} expected; " + str(diff[:limit])
            )
        return found


async def _columns(db: asyncpg.Connection) -> dict[str, list[tuple[str, str]]]:
    # A partitioned table is read through its parent, never its partitions.
    rows = await db.fetch(
        """
        SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
          AND c.table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition)
        ORDER BY c.table_name, c.ordinal_position
        """
    )
    tables: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], []).append((row["column_name"], row["data_type"]))
    return tables


async def _foreign_keys(db: asyncpg.Connection) -> dict[tuple[str, str], str]:
    rows = await db.fetch(
        """
        SELECT cl.relname AS table_name, a.attname AS column_name, ref.relname AS target
        FROM pg_constraint con
        JOIN pg_class cl ON cl.oid = con.conrelid
        JOIN pg_class ref ON ref.oid = con.confrelid
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
        WHERE con.contype = 'f' AND array_length(con.conkey, 1) = 1
        """
    )
    found = {(row["table_name"], row["column_name"]): row["target"] for row in rows}
    return {**found, **IMPLIED_FOREIGN_KEYS}


#: References a table keeps without a constraint (sales_rows: per-row checks cost more than
#: the insert; see migration 21_partitions; the subscription reports' rows likewise,
#: 21_report_partitions).
IMPLIED_FOREIGN_KEYS = {
    **{
        (table, column): target
        for table in (
            "subscription_snapshot_rows",
            "subscription_event_rows",
            "subscriber_transaction_rows",
        )
        for column, target in (("workspace_id", "workspaces"), ("account_id", "asc_accounts"))
    },
    ("sales_rows", "workspace_id"): "workspaces",
    ("sales_rows", "account_id"): "asc_accounts",
    ("sales_rows", "app_id"): "apps",
    ("sales_daily_rollup", "workspace_id"): "workspaces",
    ("sales_daily_rollup", "account_id"): "asc_accounts",
    ("sales_daily_rollup", "app_id"): "apps",
    # 21_analytics_partitions: a trigger on analytics_instances deletes an instance's rows.
    ("analytics_rows", "workspace_id"): "workspaces",
    ("analytics_rows", "app_id"): "apps",
    ("analytics_rows", "instance_id"): "analytics_instances",
}


async def snapshot(db: asyncpg.Connection) -> Snapshot:
    columns = await _columns(db)
    foreign = await _foreign_keys(db)
    tables: dict[str, list[str]] = {}
    for table, cols in columns.items():
        names = {name for name, _ in cols}
        if table in BOOKKEEPING or "account_id" not in names:
            continue
        dropped = [
            name
            for name, kind in cols
            if name in GENERATED or name.endswith("_synced_at") or kind == "uuid"
        ]
        joins, mapped = [], []
        for position, (name, kind) in enumerate(cols):
            target = foreign.get((table, name))
            if kind != "uuid" or target is None or name == "workspace_id":
                continue
            natural = "key_id" if target == "asc_accounts" else "apple_id"
            if natural not in {n for n, _ in columns.get(target, [])}:
                continue
            alias = f"r{position}"
            joins.append(f"LEFT JOIN {target} {alias} ON {alias}.id = t.{name}")
            label = "account" if name == "account_id" else name
            mapped.append(f"'{label}', {alias}.{natural}")
        extra = f" || jsonb_build_object({', '.join(mapped)})" if mapped else ""
        drop = ", ".join(f"'{name}'" for name in dropped)
        query = (
            f"SELECT (to_jsonb(t) - ARRAY[{drop}]::text[]{extra})::text AS row "
            f"FROM {table} t {' '.join(joins)}"
        )
        tables[table] = sorted(row["row"] for row in await db.fetch(query))
    return Snapshot(tables)


async def partition_counts(db: asyncpg.Connection) -> dict[tuple[str, ...], int]:
    """Rows per report partition: (table, account key, partition values…) → count."""
    existing = set(await _columns(db))
    counts: dict[tuple[str, ...], int] = {}
    for table, keys in PARTITIONS.items():
        if table not in existing:
            continue
        cols = ", ".join(f"t.{key}::text" for key in keys)
        rows = await db.fetch(
            f"SELECT a.key_id, {cols}, count(*) AS n FROM {table} t "
            f"JOIN asc_accounts a ON a.id = t.account_id GROUP BY a.key_id, {cols}"
        )
        for row in rows:
            values = tuple(str(value) for value in list(row.values())[:-1])
            counts[(table, *values)] = row["n"]
    return counts


async def final_job_states(db: asyncpg.Connection) -> dict[tuple[str, str, str], str]:
    rows = await db.fetch("SELECT key_id, dataset, unit_key, state FROM sync_jobs")
    return {(r["key_id"], r["dataset"], r["unit_key"]): r["state"] for r in rows}


# -- driving the engine ---------------------------------------------------------------------

#: Waits shorter than this are the engine's own retries and "look again shortly"s (e.g. a
#: reviews unit waiting for the account's app list): skipping them is moving the clock on.
#: Longer ones ("Apple has not published this day yet") are left alone, as in a real run.
SHORT_WAIT = dt.timedelta(seconds=30)


async def skip_short_waits(db: asyncpg.Connection) -> int:
    rows = await db.fetch(
        "UPDATE sync_jobs SET state = 'queued', run_after = now() WHERE state = 'waiting' "
        "AND run_after < now() + make_interval(secs => $1) RETURNING id",
        SHORT_WAIT.total_seconds(),
    )
    return len(rows)


async def settled(db: asyncpg.Connection) -> bool:
    """Nothing queued, running or about to run: the backfill is over. (Skips short waits
    first, see ``skip_short_waits``.)"""
    await skip_short_waits(db)
    busy = await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE state IN ('queued', 'running') "
        "OR (state = 'waiting' AND run_after < now() + make_interval(secs => $1))",
        SHORT_WAIT.total_seconds(),
    )
    return int(busy) == 0


async def wait_until_settled(db: asyncpg.Connection, timeout: float, poll: float = 0.1) -> None:
    async with asyncio.timeout(timeout):
        while not await settled(db):
            await asyncio.sleep(poll)


async def sync_app_lists_first(app: FastAPI) -> int:
    """Run every queued ``apps`` unit now, ahead of everything else, through the engine.

    Sales rows are linked to their app when a report is loaded, or by the next app list; a
    report that commits while the app list is being stored is missed by both (a known race,
    see test_unit_order.py). Runs whose units interleave differently could then store
    different rows for that reason alone, so the world's app lists come first in every run.
    """
    async with app.state.sessionmaker() as session, session.begin():
        result = await session.execute(
            text(
                "UPDATE sync_jobs SET priority = -1 WHERE dataset = 'apps' AND state = 'queued' "
                "RETURNING id"
            )
        )
        count = len(result.fetchall())
    worker = SyncWorker(
        app.state.settings,
        app.state.sessionmaker,
        app.state.asc_clients,
        worker_parts(app.state.settings),
    )
    for _ in range(count):
        assert await worker.runner.run_once()
    return count


async def run_workers(
    app: FastAPI, db: asyncpg.Connection, *, timeout: float, workers: int = 2, concurrency: int = 3
) -> None:
    """In-process workers (``workers`` × ``concurrency`` units at a time) until the backfill
    is over."""
    running = [
        SyncWorker(
            app.state.settings,
            app.state.sessionmaker,
            app.state.asc_clients,
            worker_parts(app.state.settings),
            concurrency=concurrency,
        )
        for _ in range(workers)
    ]
    await running[0].plan()  # what is due now is queued before "nothing left" is judged
    for worker in running:
        await worker.start()
    try:
        await wait_until_settled(db, timeout=timeout)
    finally:
        for worker in running:
            await worker.stop()


# -- the clean reference --------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    snapshot: Snapshot
    partitions: dict[tuple[str, ...], int]
    jobs: dict[tuple[str, str, str], str]


_REFERENCE: dict[tuple[str, ...], Reference] = {}


async def clean_reference(
    pg_server_url: str, template: str, settings: Settings, teams: tuple[str, ...] = TEAMS
) -> Reference:
    """The world backfilled with nothing going wrong (computed once per session and hour): a
    fresh database, the sandbox in-process, in-process workers."""
    # Orchard plans by the wall clock, and what it plans changes only on whole hours (Apple's
    # publication hours, midnights): a reference from another hour may expect other units.
    cache_key = (template, dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H"), *teams)
    if cache_key in _REFERENCE:
        return _REFERENCE[cache_key]
    name = f"orchard_ref_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(with_database(pg_server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = with_database(pg_server_url, name)
    try:
        sandbox = frozen_sandbox()
        keys = add_keys(sandbox, teams)
        clean = world_settings(settings).model_copy(
            update={"database_url": SecretStr(url), "asc_base_url": SANDBOX_URL}
        )
        app = create_app(
            clean,
            asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
            asc_retry=INSTANT_RETRY,
        )
        tenant = await make_tenant(url, "reference")
        db = await asyncpg.connect(plain(url))
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://orchard.test"
                ) as client,
            ):
                for key in keys:
                    await link_account(client, tenant, key)
                await sync_app_lists_first(app)
                await run_workers(app, db, timeout=120)
            reference = Reference(
                await snapshot(db), await partition_counts(db), await final_job_states(db)
            )
        finally:
            await db.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    assert sum(reference.snapshot.counts().values()) > 0, "the clean run stored nothing"
    _REFERENCE[cache_key] = reference
    return reference


def day_with_sales(key: SandboxKey) -> dt.date:
    """The newest published day the key's team sold something. The newest published day moves
    with the wall clock, and the sandbox has seeded days without sales (a 404 "no sales"): a
    test reading one would store nothing, and compare nothing with nothing."""
    day = latest_available(Frequency.DAILY, dt.datetime.now(dt.UTC)).end
    while is_no_sales_day(key.team, day):
        day -= dt.timedelta(days=1)
    return day
