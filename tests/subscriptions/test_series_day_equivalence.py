"""The series' values precomputed per day (``series_days``: the estimated MRR per currency and
the Subscription Report counts, per app and per account) answer exactly what the raw snapshot
rows answer: the whole series document, amount text for amount text.

A random world of SUBSCRIPTION rows (two accounts, apps by untrimmed and missing Apple IDs,
durations of every unit and unrecognised ones, currencies of 0, 2 and 3 minor units and none,
proceeds on exact half minor units, rows without proceeds, zero and missing counts) is stored
and each (account, report date) rebuilt by the code the sync unit runs. For many random
requests — the workspace (on days with one account's MRR and with several), an account, an
app by Orchard's id (with its account or not), ranges cut anywhere, ``estimated_mrr`` and every count metric — the series from the precomputed days
equals the series from the raw rows and from the snapshot rollup; also after report days are
replaced (late data), a day's proceeds currency changes and a day is emptied. The migration's
backfill builds exactly what the units build.
"""

import datetime as dt
import importlib.util
import random
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import create_engine, create_sessionmaker
from app.subscriptions import repository, service
from app.subscriptions.request_repository import ScopeAsk
from app.subscriptions.schemas import EVENT_METRICS, Metric, RowFilter
from app.subscriptions.series_days import COUNT_COLUMNS
from app.subscriptions.snapshot_rollup import rebuild_snapshot_rollup
from tests.fixtures.accounts import Tenant
from tests.sales.helpers import add_app
from tests.subscriptions.test_snapshot_rollup_equivalence import _account

FIRST = dt.date(2025, 3, 1)
DAYS = 14
NOW = dt.datetime(2025, 4, 15, tzinfo=dt.UTC)
#: Subscription Apple ID → app Apple ID (as stored: untrimmed, or missing).
SUBS = {"9001": "111", "9002": "111", "9003": " 222", "9004": None, None: "111"}
APPS = ["111", " 222"]
COUNTRIES = ["US", "GB", "JP", None]
DURATIONS = ["1 Month", "1 Year", "7 Days", "2 Weeks", "3 Months", "1 month", "12 Months",
             "3 Fortnights", None]  # fmt: skip
CURRENCIES = ["USD", "EUR", "JPY", "KWD", None, ""]
#: Proceeds per period, several on exact half minor units (half-even and half-up differ).
PROCEEDS = [Decimal("6.99"), Decimal("0.125"), Decimal("0.005"), Decimal("2.5"),
            Decimal("41.99"), Decimal("0.0625"), None]  # fmt: skip
COUNT_METRICS = [m for m in Metric if m not in EVENT_METRICS and m is not Metric.ESTIMATED_MRR]


def _count(rng: random.Random) -> int | None:
    return rng.choice([None, 0, 0, 1, 1, 2, 3, 40])


def _rows(rng: random.Random, ws: uuid.UUID, account: uuid.UUID, day: dt.date) -> list[Any]:
    rows = []
    for _ in range(rng.randint(0, 14)):
        sub = rng.choice(list(SUBS))
        rows.append(
            (ws, account, day, SUBS[sub], sub, rng.choice(COUNTRIES), rng.choice(DURATIONS),
             rng.choice(PROCEEDS), rng.choice(CURRENCIES), *(_count(rng) for _ in COUNT_COLUMNS))
        )  # fmt: skip
    return rows


async def _store_day(
    db: asyncpg.Connection, session: AsyncSession, account: uuid.UUID, day: dt.date, rows: list[Any]
) -> None:
    """A report day replaced, and what the sync unit then rebuilds in its transaction."""
    await db.execute(
        "DELETE FROM subscription_snapshot_rows WHERE account_id = $1 AND report_date = $2",
        account,
        day,
    )
    values = ", ".join(f"${n}" for n in range(1, 10 + len(COUNT_COLUMNS)))
    await db.executemany(
        f"""
        INSERT INTO subscription_snapshot_rows (
            workspace_id, account_id, report_date, app_apple_id, subscription_apple_id, country,
            standard_duration, developer_proceeds, proceeds_currency, {", ".join(COUNT_COLUMNS)})
        VALUES ({values})
        """,
        rows,
    )
    await rebuild_snapshot_rollup(session, account, day)
    await session.commit()


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as opened:
            yield opened
    finally:
        await engine.dispose()


def _document(found: Any) -> Any:
    return found if isinstance(found, dict) else found.model_dump()


async def _compare(
    session: AsyncSession, rng: random.Random, asks: list[ScopeAsk]
) -> tuple[Metric, int]:
    ask = rng.choice(asks)
    metric = rng.choice([Metric.ESTIMATED_MRR] * 3 + COUNT_METRICS)
    start = FIRST + dt.timedelta(days=rng.randint(-3, DAYS - 1))
    end = start + dt.timedelta(days=rng.randint(0, DAYS))
    found = {}
    for source in ("precomputed", "rollup", "raw"):
        document = await service.series(
            session, ask, metric=metric, start=start, end=end, now=NOW, series_source=source
        )
        found[source] = _document(document)
        await session.rollback()
    choice = (ask, metric, start, end)
    assert found["precomputed"] == found["raw"], choice
    assert found["rollup"] == found["raw"], choice
    points = found["raw"]["points"]
    values = [p.get("amounts") or p.get("value") for p in points]
    return metric, sum(1 for v in values if v)


async def _world(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession, rng: random.Random
) -> tuple[list[uuid.UUID], list[ScopeAsk]]:
    ws = tenant.workspace_id
    accounts = [await _account(db, ws, n) for n in range(2)]
    asks = [ScopeAsk(ws)] * 4  # the workspace: its days of one and of several accounts
    for n, account in enumerate(accounts):
        asks.append(ScopeAsk(ws, account))
        for apple_id in APPS:
            app_id = await add_app(db, tenant, account, apple_id, f"series{n}{apple_id.strip()}")
            asks += [ScopeAsk(ws, None, app_id), ScopeAsk(ws, account, app_id)]
        for i in range(DAYS):
            day = FIRST + dt.timedelta(days=i)
            # The second account has no rows some days: the workspace's MRR is then the
            # first account's alone (read precomputed), on the others added up from parts.
            rows = [] if n == 1 and i % 3 == 0 else _rows(rng, ws, account, day)
            await _store_day(db, session, account, day, rows)
            if i != 7:  # one day never published: its points are null, not zero
                await db.execute(
                    "INSERT INTO dataset_availability (account_id, dataset, report_date, state, "
                    "row_count) VALUES ($1, 'subscriptions_daily', $2, 'published', 0)",
                    account,
                    day,
                )
    return accounts, asks


async def test_precomputed_series_days_answer_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(1807)
    ws = tenant.workspace_id
    accounts, asks = await _world(db, tenant, session, rng)
    single = await db.fetchval(
        "SELECT count(*) FROM (SELECT report_date FROM subscription_mrr_days WHERE NOT by_app "
        "GROUP BY report_date HAVING count(DISTINCT account_id) = 1) AS d"
    )
    assert 0 < single < DAYS
    seen = [await _compare(session, rng, asks) for _ in range(30)]
    assert {m for m, _ in seen} >= {Metric.ESTIMATED_MRR, Metric.ACTIVE}
    assert sum(n for m, n in seen if m is Metric.ESTIMATED_MRR) > 10  # days with money
    # Late data: report days replaced by other rows, one emptied; a day's proceeds currency
    # changes (the old currency's MRR must leave that day).
    for i in (2, 3, 11):
        day = FIRST + dt.timedelta(days=i)
        await _store_day(db, session, accounts[0], day, _rows(rng, ws, accounts[0], day))
    await _store_day(db, session, accounts[1], FIRST + dt.timedelta(days=5), [])
    day = FIRST + dt.timedelta(days=10)
    stored = "SELECT DISTINCT proceeds_currency FROM subscription_mrr_days WHERE account_id = $1"
    stored += " AND report_date = $2"
    assert {r[0] for r in await db.fetch(stored, accounts[1], day)} - {"EUR"}
    rows = [(*r[:8], "EUR", *r[9:]) for r in _rows(rng, ws, accounts[1], day)]
    await _store_day(db, session, accounts[1], day, rows)
    assert {r[0] for r in await db.fetch(stored, accounts[1], day)} <= {"EUR"}
    for _ in range(20):
        await _compare(session, rng, asks)
    # The precomputed path is what answers one app's series: without its rows it says nothing.
    app_ask = next(a for a in asks if a.app_id is not None and a.account_id is None)
    await db.execute("DELETE FROM subscription_mrr_days")
    emptied = await service.series(
        session, app_ask, metric=Metric.ESTIMATED_MRR, start=FIRST, end=day, now=NOW
    )
    assert isinstance(emptied, dict)
    assert not any(p["amounts"] for p in emptied["points"])


async def test_a_count_series_value_is_the_summary_measure(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    """The series computes only the measure it serves (``Tally.value``): the summary's."""
    await _world(db, tenant, session, random.Random(3))
    end = FIRST + dt.timedelta(days=DAYS)
    rows = await repository.snapshot_kinds(
        session, tenant.workspace_id, RowFilter(), FIRST, end, [], source="raw"
    )
    tallies: dict[dt.date, service.Tally] = {}
    for row in rows:
        tallies.setdefault(row.report_date, service.Tally()).add(row)
    assert len(tallies) >= DAYS - 2
    for tally in tallies.values():
        measures = tally.measures()
        assert {m: tally.value(m) for m in COUNT_METRICS} == {
            m: measures[m.value] for m in COUNT_METRICS
        }
    assert any(t.value(Metric.ACTIVE) != t.value(Metric.PAYING) for t in tallies.values())


def _migration(name: str = "18_series_days") -> Any:
    path = next(Path(__file__).parents[2].glob(f"migrations/versions/*-{name}.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _contents(db: asyncpg.Connection, table: str) -> list[tuple[Any, ...]]:
    rows = await db.fetch(f"SELECT * FROM {table}")
    return sorted((tuple(r.values())[1:] for r in rows), key=repr)


async def test_the_migration_backfills_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession, database_url: str
) -> None:
    rng = random.Random(18)
    await _world(db, tenant, session, rng)
    migration = _migration()
    tables = (migration.TABLE, migration.COUNTS_TABLE)
    built = {table: await _contents(db, table) for table in tables}
    assert all(built.values())
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))
            await conn.run_sync(migration.backfill)
            # The counts as the later revision rebuilt them (with their source rows).
            await conn.execute(text(_migration("18_count_rows").COUNTS_BACKFILL))
    finally:
        await engine.dispose()
    for table in tables:
        assert await _contents(db, table) == built[table], table
