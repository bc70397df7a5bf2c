"""The per-day Subscription Report rollup answers exactly what the raw snapshot rows answer.

A random world of SUBSCRIPTION rows (two accounts, two apps, untrimmed and empty dimension
values, zero and missing counts, rows without developer proceeds, unrecognised durations and
currencies) is stored and each (account, report date) rollup rebuilt by the code the sync unit
runs. Then, for many random requests — the summary's and series' kinds (``snapshot_kinds``:
totals, groups by subscription / country / offer type), the metrics' snapshot days and bucket
ends (``snapshot_days``, ``bucket_ends``: every grouping, storefront filters, scopes) — the
rollup's answer equals the raw rows' answer; also after report days are replaced, and the
migration's backfill builds exactly what the units build.
"""

import datetime as dt
import importlib.util
import itertools
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import create_engine, create_sessionmaker
from app.subscriptions import analytics_repository as repo
from app.subscriptions import repository
from app.subscriptions.analytics_repository import RowScope
from app.subscriptions.metrics import STATISTICS, MrrTotal, OfferType
from app.subscriptions.schemas import EVENT_METRICS, Metric, RowFilter, SummaryDimension
from app.subscriptions.service import Tally, _money, summary_groups
from app.subscriptions.snapshot_rollup import rebuild_snapshot_rollup
from tests.fixtures.accounts import Tenant

FIRST = dt.date(2025, 3, 1)
DAYS = 30
COUNTS = [kind.column for kind in OfferType] + list(STATISTICS)
#: Subscription Apple ID → (app, name): a subscription belongs to one app, as at Apple.
SUBS = {"9001": ("111", "Pro"), "9002": ("111", "Lite"), " 9003": ("222", "Max"),
        None: ("222", None)}  # fmt: skip
COUNTRIES = ["US", "GB", " DE", None, ""]
OFFERS = [None, "", " Spring ", "CODE1"]
DURATIONS = ["1 Month", "1 Year", "7 Days", "3 Fortnights", None]
CURRENCIES = ["USD", "EUR", "JPY", None, ""]
DIMENSIONS = ["app", "subscription", "country", "offer", "duration"]
COUNT_METRICS = [m for m in Metric if m not in EVENT_METRICS and m is not Metric.ESTIMATED_MRR]


async def _account(conn: asyncpg.Connection, workspace_id: uuid.UUID, n: int) -> uuid.UUID:
    account_id = uuid.uuid4()
    await conn.execute(
        """
        INSERT INTO asc_accounts (id, workspace_id, name, key_id, key_type, vendor_number,
                                  key_fingerprint, credential_status, capabilities)
        VALUES ($1, $2, $3, $4, 'team', $5, $6, 'active', '{}'::jsonb)
        """,
        account_id, workspace_id, f"Account {n}", f"KEY{n:05d}", f"{80000000 + n}", f"fp-{n}",
    )  # fmt: skip
    return account_id


def _count(rng: random.Random) -> int | None:
    return rng.choice([None, 0, 0, 0, 1, 2, 7, 40])


def _rows(rng: random.Random, ws: uuid.UUID, account: uuid.UUID, day: dt.date) -> list[Any]:
    rows = []
    for _ in range(rng.randint(0, 30)):
        sub = rng.choice(list(SUBS))
        app, name = SUBS[sub]
        proceeds = rng.choice([Decimal("6.99"), Decimal("0.7"), Decimal("41.99"), None])
        rows.append(
            (
                ws, account, day, app, sub, name, rng.choice(COUNTRIES), rng.choice(OFFERS),
                rng.choice(DURATIONS), proceeds, rng.choice(CURRENCIES),
                *(_count(rng) for _ in COUNTS),
            )
        )  # fmt: skip
    return rows


async def _store_day(
    conn: asyncpg.Connection, rng: random.Random, ws: uuid.UUID, account: uuid.UUID, day: dt.date
) -> None:
    await conn.execute(
        "DELETE FROM subscription_snapshot_rows WHERE account_id = $1 AND report_date = $2",
        account,
        day,
    )
    values = ", ".join(f"${n}" for n in range(1, 12 + len(COUNTS)))
    await conn.executemany(
        f"""
        INSERT INTO subscription_snapshot_rows (
            workspace_id, account_id, report_date, app_apple_id, subscription_apple_id,
            subscription_name, country, offer_name, standard_duration, developer_proceeds,
            proceeds_currency, {", ".join(COUNTS)})
        VALUES ({values})
        """,
        _rows(rng, ws, account, day),
    )


async def _rebuild(session: AsyncSession, account: uuid.UUID, day: dt.date) -> None:
    """What the sync unit runs after loading a day's Subscription Report."""
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


def _filters(rng: random.Random, accounts: list[uuid.UUID]) -> RowFilter:
    return rng.choice(
        [
            RowFilter(),
            RowFilter(account_id=accounts[0]),
            RowFilter(accounts[1], rng.choice(["111", "222"])),
        ]
    )


def _span(rng: random.Random) -> tuple[dt.date, dt.date]:
    start = FIRST + dt.timedelta(days=rng.randint(-3, DAYS - 1))
    return start, start + dt.timedelta(days=rng.randint(0, DAYS))


def _tallies(rows: list[repository.KindRow]) -> dict[dt.date, Any]:
    tallies: dict[dt.date, Tally] = {}
    for row in rows:
        tallies.setdefault(row.report_date, Tally()).add(row)
    return {
        day: (tally.measures(), {m: tally.value(m) for m in COUNT_METRICS})
        for day, tally in tallies.items()
    }


async def _compare_kinds(
    session: AsyncSession, rng: random.Random, ws: uuid.UUID, accounts: list[uuid.UUID]
) -> None:
    """The summary's and series' read: totals per day, and the summary's groups."""
    filters = _filters(rng, accounts)
    start, end = _span(rng)
    group_by = sorted(
        rng.sample(list(SummaryDimension), rng.randint(0, len(SummaryDimension))),
        key=list(SummaryDimension).index,
    )
    sql_dims = [d.value for d in group_by if d is not SummaryDimension.OFFER_TYPE]
    found = {
        source: await repository.snapshot_kinds(
            session, ws, filters, start, end, sql_dims, source=source
        )
        for source in ("rollup", "raw")
    }
    choice = (filters, start, end, group_by)
    assert _tallies(found["rollup"]) == _tallies(found["raw"]), choice
    # The series' estimated MRR reads the kinds already added up: the same MRR per day.
    parts = {
        source: await repository.snapshot_mrr(session, ws, filters, start, end, source=source)
        for source in ("rollup", "raw")
    }
    assert parts["rollup"] == parts["raw"], choice
    mrr: dict[dt.date, MrrTotal] = defaultdict(MrrTotal)
    for part in parts["raw"]:
        mrr[part.report_date].add(part.currency, part.duration, part.base, part.priced)
    from_kinds = {day: tally[0]["estimated_mrr"] for day, tally in _tallies(found["raw"]).items()}
    from_parts = {day: _money(total.rounded()) for day, total in mrr.items()}
    assert {d: m for d, m in from_parts.items() if m} == {
        d: m for d, m in from_kinds.items() if m
    }, choice
    assert any(from_parts.values()) or not any(from_kinds.values())
    day = rng.choice([start, end])
    one_day = {
        source: [row for row in rows if row.report_date == day] for source, rows in found.items()
    }
    assert summary_groups(one_day["rollup"], group_by) == summary_groups(
        one_day["raw"], group_by
    ), choice


def _days(found: list[repo.SnapshotDay]) -> dict[Any, Any]:
    return {
        (d.day, d.group): (
            d.counts,
            d.active_by_currency,
            sorted(d.mrr_parts, key=repr),
            d.mrr,
            d.rows,
        )
        for d in found
    }


def _stored(found: list[repo.SnapshotDay]) -> dict[Any, Any]:
    """What the stored days keep of a report day (no parts, no actives per currency)."""
    return {d.day: (d.counts, d.mrr, d.rows) for d in found}


async def _compare_days(
    session: AsyncSession, rng: random.Random, ws: uuid.UUID, accounts: list[uuid.UUID]
) -> None:
    """The metrics' read: bucket ends and the counts and MRR parts of report days."""
    scope = RowScope(ws, _filters(rng, accounts), rng.choice([(), ("US",), ("GB", " DE")]))
    start, end = _span(rng)
    granularity = rng.choice(["day", "week", "month"])
    ends = {
        source: await repo.bucket_ends(
            session, scope, start=start, end=end, granularity=granularity, source=source
        )
        for source in ("rollup", "raw")
    }
    assert ends["rollup"] == ends["raw"], (scope, start, end, granularity)
    days = sorted(set(ends["raw"].values()) | {start - dt.timedelta(days=1)})
    dims = rng.sample(DIMENSIONS, rng.randint(0, 3))
    found = {
        source: _days(
            await repo.snapshot_days(session, scope, days=days, dimensions=dims, source=source)
        )
        for source in ("rollup", "raw")
    }
    assert found["rollup"] == found["raw"], (scope, days, dims)
    # One app or account, ungrouped: the metrics read the values stored per day instead.
    whole = RowScope(ws, scope.filters)
    if repo.stored_days_answer(whole, [], by_currency=False):
        stored = await repo.stored_days(session, whole, days=days)
        rollup = await repo.snapshot_days(session, whole, days=days, dimensions=[])
        assert _stored(stored) == _stored(rollup), (whole, days)


async def test_the_snapshot_rollup_answers_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(1805)
    ws = tenant.workspace_id
    accounts = [await _account(db, ws, n) for n in range(2)]
    for account, n in itertools.product(accounts, range(DAYS)):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, rng, ws, account, day)
        await _rebuild(session, account, day)
    assert await db.fetchval("SELECT count(*) FROM subscription_snapshot_day_rollup") > 0
    for _ in range(40):
        await _compare_kinds(session, rng, ws, accounts)
        await _compare_days(session, rng, ws, accounts)
    # Report days replaced (a re-sync, one of them now empty): the rollup follows.
    for n in (2, 3, 17):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, rng, ws, accounts[0], day)
        await _rebuild(session, accounts[0], day)
    await db.execute(
        "DELETE FROM subscription_snapshot_rows WHERE account_id = $1 AND report_date = $2",
        accounts[1],
        FIRST + dt.timedelta(days=5),
    )
    await _rebuild(session, accounts[1], FIRST + dt.timedelta(days=5))
    assert not await db.fetchval(
        "SELECT count(*) FROM subscription_snapshot_day_rollup "
        "WHERE account_id = $1 AND report_date = $2",
        accounts[1],
        FIRST + dt.timedelta(days=5),
    )
    for _ in range(20):
        await _compare_kinds(session, rng, ws, accounts)
        await _compare_days(session, rng, ws, accounts)


def _migration() -> Any:
    path = next(Path(__file__).parents[2].glob("migrations/versions/*-18_snapshot_rollup.py"))
    spec = importlib.util.spec_from_file_location("migration_18_snapshot", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_migration_backfills_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(5)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    for n in range(10):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, rng, ws, account, day)
        await _rebuild(session, account, day)
    query = "SELECT * FROM subscription_snapshot_day_rollup"
    built = sorted((tuple(r.values())[1:] for r in await db.fetch(query)), key=repr)
    await db.execute("DELETE FROM subscription_snapshot_day_rollup")
    await db.execute(_migration().BACKFILL)
    backfilled = sorted((tuple(r.values())[1:] for r in await db.fetch(query)), key=repr)
    assert built and backfilled == built
