"""The per-subscriber tables answer exactly what the raw Subscriber rows answer.

A random world of SUBSCRIBER rows (Subscriber IDs with histories of charges of several
durations, late rows, plan and storefront changes, gaps and returns, two charges on one day,
refunds by flag and by negative price that name their charge's Purchase Date, missing proceeds,
untrimmed and empty values, rows without an app or an ID, two accounts and two apps) is stored
one report day at a time, each day's rows re-derived by the code the sync unit runs; then, for
many random ranges, groupings and period counts, whole-month MRR movements — of one app
(named by its Apple ID or by Orchard's id), of an account's or the workspace's apps, with or
without a storefront filter — and one app's cohort sizes, retention, revenue (per month and per
day) and renewal rate by period number read from the per-subscriber tables, and the newest Event
Date read from the per-day rollup, equal those computed from the raw rows — also after report days
are replaced (a re-sync with other rows, a day emptied). The migration's backfill builds the same
tables as the units.
"""

import datetime as dt
import importlib.util
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import create_engine, create_sessionmaker
from app.reports import calendar
from app.subscriptions import analytics_repository as repo
from app.subscriptions import cohort_repository as cohorts
from app.subscriptions import subscriber_rollup
from app.subscriptions.analytics_repository import RowScope
from app.subscriptions.rollup import REFUND, rebuild_transaction_rollup
from app.subscriptions.schemas import RowFilter
from tests.fixtures.accounts import Tenant
from tests.sales.helpers import add_app

FIRST = dt.date(2025, 1, 1)
DAYS = 150
APPS = ["111", "222"]
SUBS = ["9001", "9002", " 9003", None, ""]
COUNTRIES = ["US", "GB", " DE", None, ""]
OFFERS = [None, "", " Spring ", "CODE1"]
DURATIONS = ["1 Month", "1 Month", "1 Year", "7 Days", "2 Weeks", "3 Days", "1 Months ", None,
             "0 Days", "Monthly"]  # fmt: skip
CURRENCIES = [("USD", "USD"), ("EUR", "EUR"), ("GBP", "USD"), (None, None)]
DIMENSIONS = ["app", "subscription", "country", "offer", "duration"]
STOREFRONTS = ["US", "GB", "DE", "FR"]  # as the API passes them (" DE" is stored DE)
STEP = {"1 Month": 30, "1 Year": 365, "7 Days": 7, "2 Weeks": 14, "3 Days": 3}

Row = tuple[Any, ...]


def _world(rng: random.Random, ws: uuid.UUID, account: uuid.UUID) -> dict[dt.date, list[Row]]:
    """Rows by report date."""
    by_day: dict[dt.date, list[Row]] = defaultdict(list)

    def add(day: dt.date, late: int, *values: Any) -> None:
        report = day + dt.timedelta(days=late)
        if report < FIRST + dt.timedelta(days=DAYS):
            by_day[report].append((ws, account, report, day, *values))

    for i in range(70):
        sid = rng.choice([f"s{i}", f" s{i} "])
        app = rng.choice([*APPS, *APPS, None])
        day = FIRST + dt.timedelta(days=rng.randint(-20, DAYS - 1))
        plan = [rng.choice(SUBS), rng.choice(COUNTRIES), rng.choice(OFFERS),
                rng.choice(DURATIONS), rng.choice(CURRENCIES),
                rng.choice([Decimal("4.99"), Decimal("9.99"), Decimal("29.99")])]  # fmt: skip
        while day < FIRST + dt.timedelta(days=DAYS):
            if rng.random() < 0.15:  # a plan, storefront or price change
                which = rng.randrange(len(plan))
                plan[which] = [rng.choice(SUBS), rng.choice(COUNTRIES), rng.choice(OFFERS),
                               rng.choice(DURATIONS), rng.choice(CURRENCIES),
                               rng.choice([Decimal("4.99"), Decimal("19.99")])][which]  # fmt: skip
            sub, country, offer, duration, (cc, pc), price = plan
            proceeds = (
                None if rng.random() < 0.05 else (price * Decimal("0.7")).quantize(Decimal("0.01"))
            )
            late = rng.choice([0, 0, 0, 1, 3])
            add(day, late, app, sub, country, offer, duration, price, cc, proceeds, pc, sid,
                rng.choice([None, False]), None)  # fmt: skip
            if rng.random() < 0.05:  # a second charge the same day
                add(day, late, app, sub, country, offer, duration, price + 1, cc,
                    (price * Decimal("0.85")).quantize(Decimal("0.01")), pc, sid, False, None)  # fmt: skip
            if rng.random() < 0.12:  # refunded later, by flag or by a negative price
                flag = rng.choice([True, None])
                add(day + dt.timedelta(days=rng.randint(0, 40)), 0, app, sub, country, offer,
                    duration, -price, cc, proceeds, pc, sid, flag, day)  # fmt: skip
            step = STEP.get((duration or "").strip(), 30)
            day += dt.timedelta(days=step + rng.choice([0, 0, 0, 0, 1, 2, 45, 200]))
            if rng.random() < 0.1:
                break
    for n in range(DAYS):  # noise: no ID, no Event Date
        day = FIRST + dt.timedelta(days=n)
        if rng.random() < 0.1:
            by_day[day].append((ws, account, day, day, "111", "9001", "US", None, "1 Month",
                                Decimal("1"), "USD", Decimal("0.7"), "USD",
                                rng.choice(["", "  ", None]), None, None))  # fmt: skip
        if rng.random() < 0.05:
            by_day[day].append((ws, account, day, None, "111", "9001", "US", None, "1 Month",
                                Decimal("1"), "USD", Decimal("0.7"), "USD", "s1", None, None))  # fmt: skip
    return by_day


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


async def _store_day(
    conn: asyncpg.Connection,
    session: AsyncSession,
    account: uuid.UUID,
    day: dt.date,
    rows: list[Row],
) -> None:
    """Replace one report day's rows, then run what the sync unit runs after the load."""
    await conn.execute(
        "DELETE FROM subscriber_transaction_rows WHERE account_id = $1 AND report_date = $2",
        account,
        day,
    )
    await _insert_rows(conn, rows)
    await rebuild_transaction_rollup(session, account, day)
    await session.commit()


async def _insert_rows(conn: asyncpg.Connection, rows: list[Row]) -> None:
    await conn.executemany(
        """
        INSERT INTO subscriber_transaction_rows (
            workspace_id, account_id, report_date, event_date, app_apple_id,
            subscription_apple_id, country, offer_name, standard_duration, customer_price,
            customer_currency, developer_proceeds, proceeds_currency, subscriber_id, refund,
            purchase_date)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        """,
        rows,
    )


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as opened:
            yield opened
    finally:
        await engine.dispose()


def _month(index: int) -> dt.date:
    return dt.date(2024 + index // 12, index % 12 + 1, 1)


Moves = dict[tuple[dt.date, tuple[str | None, ...], str | None], dict[str, Decimal]]


async def _movements(
    session: AsyncSession,
    scope: RowScope,
    buckets: list[tuple[dt.date, dt.date, dt.date]],
    dims: list[str],
    source: str,
) -> Moves:
    found = await repo.mrr_movements(
        session, scope, buckets=buckets, dimensions=dims, source=source
    )
    moves = {(r.bucket, r.group, r.currency): r.amounts for r in found}
    assert len(moves) == len(found)
    return moves


def _summed(moves: list[Moves], keep: Any = lambda key: True, key: Any = lambda k: k) -> Moves:
    """Movement rows added up per ``key`` of their (bucket, group, currency), over those kept."""
    total: dict[Any, dict[str, Decimal]] = {}
    for part in moves:
        for k, amounts in part.items():
            if keep(k):
                cell = total.setdefault(key(k), dict.fromkeys(amounts, Decimal(0)))
                for name, amount in amounts.items():
                    cell[name] += amount
    return total


def _movement_scope(
    rng: random.Random, ws: uuid.UUID, accounts: list[uuid.UUID], app_ids: dict[Any, uuid.UUID]
) -> RowScope:
    """One app (by Apple ID or by Orchard's id), an account's apps or the workspace's; with a
    storefront filter or not."""
    account, app = rng.choice(accounts), rng.choice(APPS)
    countries = tuple(rng.sample(STOREFRONTS, rng.randint(1, 2))) if rng.random() < 0.4 else ()
    return rng.choice([
        RowScope(ws, RowFilter(account, app), countries),
        RowScope(ws, RowFilter(), countries, app_ids[account, app]),
        RowScope(ws, RowFilter(account), countries),
        RowScope(ws, RowFilter(), countries),
    ])  # fmt: skip


async def _compare(
    session: AsyncSession,
    rng: random.Random,
    ws: uuid.UUID,
    accounts: list[uuid.UUID],
    app_ids: dict[Any, uuid.UUID],
) -> tuple[int, int]:
    """One random request of each kind through both paths; (movement rows, cohort cells)."""
    start = rng.randint(11, 16)
    months = [_month(i) for i in range(start, start + rng.randint(1, 6))]
    buckets = [(m, m, calendar.month_end(m)) for m in months]
    dims = rng.sample(DIMENSIONS, rng.randint(0, 2))
    wide = _movement_scope(rng, ws, accounts, app_ids)
    moves = {
        source: await _movements(session, wide, buckets, dims, source)
        for source in ("precomputed", "raw")
    }
    assert moves["precomputed"] == moves["raw"], (wide, months, dims)
    if wide.app_id is None and wide.filters.app_apple_id is None:
        # Several apps: each subscriber is in one app, so the apps' movements add up to them.
        apps = [
            await _movements(session, RowScope(ws, RowFilter(account, app), wide.countries),
                             buckets, dims, "raw")
            for account in accounts if wide.filters.account_id in (None, account)
            for app in APPS
        ]  # fmt: skip
        assert _summed(apps) == moves["raw"], (wide, dims)
    if wide.countries:
        # A storefront filter keeps the cells of those storefronts of group_by=country.
        by_country = dims if "country" in dims else [*dims, "country"]
        at = by_country.index("country")
        split = await _movements(session, replace(wide, countries=()), buckets, by_country, "raw")
        kept = _summed(
            [split],
            keep=lambda k: k[1][at] in wide.countries,
            key=lambda k: k if "country" in dims else (k[0], k[1][:-1], k[2]),
        )
        assert kept == moves["raw"], (wide, dims)
    scope = RowScope(ws, RowFilter(rng.choice(accounts), rng.choice(APPS)))
    assert repo.app_scope(scope) is not None
    first, last = months[0], months[-1]
    periods = rng.randint(0, 6)
    answers: dict[str, Any] = {}
    for source in ("precomputed", "raw"):
        answers[source] = (
            await cohorts.cohort_sizes(session, scope, first, last, source=source),
            await cohorts.retention(session, scope, first, last, periods, source=source),
            await cohorts.revenue(session, scope, first, last, periods, source=source),
            await cohorts.renewals_by_period(session, scope, first, last, periods, source=source),
            await cohorts.revenue_days(session, scope, first, last, source=source),
            [await cohorts.newest_event_date(session, scope, trial=False, source=source)],
        )
    assert cohorts.one_app(scope) and not cohorts.one_app(scope, "raw")
    for found, expected in zip(answers["precomputed"], answers["raw"], strict=True):
        if isinstance(found, list):  # per-day rows: the same rows in any order
            found, expected = sorted(found, key=repr), sorted(expected, key=repr)
        assert found == expected, (scope, first, last, periods)
    return len(moves["raw"]), sum(len(part) for part in answers["raw"])


async def test_per_subscriber_tables_answer_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(1805)
    ws = tenant.workspace_id
    accounts = [await _account(db, ws, n) for n in range(2)]
    app_ids = {
        (account, app): await add_app(db, tenant, account, app, f"subs{n}-{app}")
        for n, account in enumerate(accounts)
        for app in APPS
    }
    for account in accounts:
        world = _world(rng, ws, account)
        for n in range(DAYS):
            day = FIRST + dt.timedelta(days=n)
            await _store_day(db, session, account, day, world.get(day, []))
    seen = [await _compare(session, rng, ws, accounts, app_ids) for _ in range(40)]
    # The requests found something: movements and cohort cells, not empty answers.
    assert sum(m for m, _ in seen) > 100 and sum(c for _, c in seen) > 100
    renewals = await db.fetch(
        "SELECT period, sum(subscribers), sum(renewed) FROM subscriber_renewal_periods "
        "GROUP BY period"
    )
    assert len(renewals) > 3 and any(0 < r[2] < r[1] for r in renewals)  # renewed and not
    assert await db.fetchval("SELECT count(*) FROM subscriber_mrr_movement_months") > 0
    assert await db.fetchval(
        f"SELECT count(*) FROM subscriber_transaction_rows WHERE {REFUND} "
        "AND purchase_date IS NOT NULL"
    )
    # Report days replaced (a re-sync with other rows; a day emptied): the per-subscriber
    # rows of the IDs they named before and name now follow, the answers still agree.
    other = _world(rng, ws, accounts[0])
    for n in (10, 11, 40, 95):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, accounts[0], day, other.get(day, []))
    await _store_day(db, session, accounts[0], FIRST + dt.timedelta(days=60), [])
    for _ in range(25):
        await _compare(session, rng, ws, accounts, app_ids)


async def test_other_scopes_read_the_rows(tenant: Tenant) -> None:
    """Only one app of one account, all storefronts, is a per-subscriber partition."""
    ws, account = tenant.workspace_id, uuid.uuid4()
    assert repo.app_scope(RowScope(ws, RowFilter())) is None
    assert repo.app_scope(RowScope(ws, RowFilter(account))) is None
    assert repo.app_scope(RowScope(ws, RowFilter(account, "111"), ("US",))) is None
    assert repo.app_scope(RowScope(ws, RowFilter(account, "111"))) == (
        subscriber_rollup.AppScope(ws, account, "111")
    )


def _migration(revision: str = "18_subscriber_months") -> Any:
    path = next(Path(__file__).parents[2].glob(f"migrations/versions/*-{revision}.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _normal(value: Any) -> Any:
    return value.normalize() if isinstance(value, Decimal) else value


async def _contents(db: asyncpg.Connection, table: str) -> list[Any]:
    """The rows but their ids, sums written alike (0.50 as 0.5), in one order."""
    rows = await db.fetch(f"SELECT * FROM {table}")
    return sorted((tuple(_normal(v) for v in r.values())[1:] for r in rows), key=repr)


async def test_the_migration_and_the_full_rebuild_build_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(23)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    world = _world(rng, ws, account)
    for n in range(DAYS):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, account, day, world.get(day, []))
    migration = _migration()
    periods = _migration("18_cohort_periods")
    # The cohort migration's subscriber tables (its trial conversions: test_cohort_rollup_…).
    tables = [*migration.TABLES, "subscriber_periods", "subscriber_renewal_periods"]
    built = {table: await _contents(db, table) for table in tables}
    assert all(built.values())
    for table in tables:
        await db.execute(f"DELETE FROM {table}")
    for backfill in (migration.BACKFILL_REPORT_DAYS, migration.BACKFILL_SUBSCRIBERS,
                     migration.BACKFILL_MOVEMENTS, migration.BACKFILL_COHORTS,
                     periods.BACKFILL_PERIODS, periods.BACKFILL_RENEWALS):  # fmt: skip
        await db.execute(backfill)
    # 18_mrr_spans sums the months again, with their holders (test_mrr_span_equivalence).
    await db.execute("DELETE FROM subscriber_mrr_movement_months")
    await db.execute(_migration("18_mrr_spans").BACKFILL_MOVEMENTS)
    for table in tables:
        assert await _contents(db, table) == built[table], table
    await subscriber_rollup.rebuild_all(session, account)
    await session.commit()
    for table in tables:
        assert await _contents(db, table) == built[table], table
