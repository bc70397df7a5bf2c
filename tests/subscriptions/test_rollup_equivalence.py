"""The per-day rollups answer exactly what the raw rows answer.

A random world of SUBSCRIPTION_EVENT and SUBSCRIBER rows (several Event Dates per report date,
untrimmed and empty dimension values, refunds by flag and by negative price, missing prices,
two accounts and two apps) is stored, each (account, report date) rollup rebuilt by the code the
sync unit runs; then, for many random metric sets, groupings, granularities, ranges and filters,
the metric sums read from the rollups equal those read from the raw rows — also after a report
day is replaced. Distinct payers are checked against a count in Python.
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
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import create_engine, create_sessionmaker
from app.subscriptions import analytics_repository as repo
from app.subscriptions.analytics import needs_of
from app.subscriptions.analytics_repository import RowScope
from app.subscriptions.catalog import METRICS, Family
from app.subscriptions.rollup import rebuild_event_rollup, rebuild_transaction_rollup
from app.subscriptions.schemas import RowFilter
from tests.fixtures.accounts import Tenant

FIRST = dt.date(2025, 3, 1)
DAYS = 40
EVENTS = [
    "Subscribe", " Start Introductory Offer", "Paid Subscription from Introductory Offer",
    "Renew", "cancel", "Canceled from Billing Retry", "Billing Retry from Paid Subscription",
    "Renewal from Billing Retry", "Upgrade", "Reactivate", "Start Offer Code", "",
]  # fmt: skip
OFFER_TYPES = [None, "Free Trial", " free trial ", "Pay As You Go", ""]
OFFERS = [None, "", " Spring ", "CODE1"]
COUNTRIES = ["US", "GB", " DE", None, ""]
APPS = ["111", "222"]
SUBS = ["9001", "9002", " 9003", None]
DURATIONS = ["1 Month", "1 Year", "7 Days", None]
REASONS = [None, "Billing issue", "Other", ""]
CURRENCIES = [("USD", "USD"), ("EUR", "EUR"), ("GBP", "USD"), (None, None)]
DIMENSIONS = ["app", "subscription", "country", "offer", "duration"]


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


def _event_rows(rng: random.Random, ws: uuid.UUID, account: uuid.UUID, day: dt.date) -> list[Any]:
    rows = []
    for _ in range(rng.randint(0, 25)):
        late = rng.choice([0, 0, 0, 1, 2])
        rows.append(
            (
                ws, account, day,
                None if rng.random() < 0.03 else day - dt.timedelta(days=late),
                rng.choice(EVENTS), rng.choice(APPS), rng.choice(SUBS), rng.choice(COUNTRIES),
                rng.choice(OFFERS), rng.choice(DURATIONS), rng.choice(OFFER_TYPES),
                rng.choice(REASONS), rng.choice([None, 1, 2, 5, 12]), rng.randint(1, 5),
            )
        )  # fmt: skip
    return rows


def _subscriber_rows(
    rng: random.Random, ws: uuid.UUID, account: uuid.UUID, day: dt.date
) -> list[Any]:
    rows = []
    for _ in range(rng.randint(0, 25)):
        late = rng.choice([0, 0, 1, 2])
        cc, pc = rng.choice(CURRENCIES)
        price = rng.choice([Decimal("4.99"), Decimal("9.99"), Decimal("-9.99"), None])
        proceeds = (
            None if price is None else (abs(price) * Decimal("0.7")).quantize(Decimal("0.01"))
        )
        rows.append(
            (
                ws, account, day,
                None if rng.random() < 0.03 else day - dt.timedelta(days=late),
                rng.choice(APPS), rng.choice(SUBS), rng.choice(COUNTRIES), rng.choice(OFFERS),
                rng.choice(DURATIONS), price, cc, proceeds, pc, f"sid{rng.randint(1, 30)}",
                rng.choice([None, True, False, False, False]),
            )
        )  # fmt: skip
    return rows


async def _store_day(
    conn: asyncpg.Connection, rng: random.Random, ws: uuid.UUID, account: uuid.UUID, day: dt.date
) -> None:
    for table in ("subscription_event_rows", "subscriber_transaction_rows"):
        await conn.execute(
            f"DELETE FROM {table} WHERE account_id = $1 AND report_date = $2",
            account,
            day,
        )
    await conn.executemany(
        """
        INSERT INTO subscription_event_rows (
            workspace_id, account_id, report_date, event_date, event, app_apple_id,
            subscription_apple_id, country, offer_name, standard_duration, offer_type,
            cancellation_reason, consecutive_paid_periods, quantity)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        """,
        _event_rows(rng, ws, account, day),
    )
    await conn.executemany(
        """
        INSERT INTO subscriber_transaction_rows (
            workspace_id, account_id, report_date, event_date, app_apple_id,
            subscription_apple_id, country, offer_name, standard_duration, customer_price,
            customer_currency, developer_proceeds, proceeds_currency, subscriber_id, refund)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        """,
        _subscriber_rows(rng, ws, account, day),
    )


async def _rebuild(session: AsyncSession, account: uuid.UUID, day: dt.date) -> None:
    """What the sync unit runs after loading a day's files."""
    await rebuild_event_rollup(session, account, day)
    await rebuild_transaction_rollup(session, account, day)
    await session.commit()


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as opened:
            yield opened
    finally:
        await engine.dispose()


EVENT_PREDICATES = needs_of([m for m in METRICS if m.family is Family.EVENTS]).events


def _choice(rng: random.Random, accounts: list[uuid.UUID], ws: uuid.UUID) -> dict[str, Any]:
    start = FIRST + dt.timedelta(days=rng.randint(-3, DAYS - 1))
    end = start + dt.timedelta(days=rng.randint(0, DAYS))
    filters = rng.choice(
        [RowFilter(), RowFilter(account_id=accounts[0]), RowFilter(accounts[1], rng.choice(APPS))]
    )
    countries = rng.choice([(), ("US",), ("GB", " DE")])
    return {
        "scope": RowScope(ws, filters, countries),
        "start": start,
        "end": end,
        "granularity": rng.choice(["day", "week", "month"]),
        "dimensions": rng.sample(DIMENSIONS, rng.randint(0, 2)),
    }


async def _compare(session: AsyncSession, rng: random.Random, choice: dict[str, Any]) -> None:
    names = rng.sample(sorted(EVENT_PREDICATES), rng.randint(1, len(EVENT_PREDICATES)))
    events = {}
    dims = choice["dimensions"] + (["cancellation_reason"] if rng.random() < 0.2 else [])
    for source in ("rollup", "raw"):
        found = await repo.event_buckets(
            session,
            **{**choice, "dimensions": dims},
            predicates={n: EVENT_PREDICATES[n] for n in names},
            source=source,
        )
        events[source] = {(b.bucket, b.group): b for b in found}
    assert events["rollup"] == events["raw"], choice
    transactions = {}
    for source in ("rollup", "raw"):
        found_t = await repo.transaction_buckets(
            session, **choice, distinct_payers=False, source=source
        )
        transactions[source] = {(b.bucket, b.group): b for b in found_t}
    assert transactions["rollup"] == transactions["raw"], choice


async def test_rollups_answer_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(18)
    ws = tenant.workspace_id
    accounts = [await _account(db, ws, n) for n in range(2)]
    for account in accounts:
        for n in range(DAYS):
            day = FIRST + dt.timedelta(days=n)
            await _store_day(db, rng, ws, account, day)
            await _rebuild(session, account, day)
    assert await db.fetchval("SELECT count(*) FROM subscription_event_day_rollup") > 0
    assert await db.fetchval("SELECT count(*) FROM subscriber_transaction_day_rollup") > 0
    for _ in range(40):
        await _compare(session, rng, _choice(rng, accounts, ws))
    # A report day replaced (re-sync): its rollup follows, the answers still agree.
    for n in (3, 4, 17):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, rng, ws, accounts[0], day)
        await _rebuild(session, accounts[0], day)
    for _ in range(15):
        await _compare(session, rng, _choice(rng, accounts, ws))
    # The monthly payer counts (one app, whole months) equal the raw rows' distinct count.
    for account in accounts:
        for app in APPS:
            scope = RowScope(ws, RowFilter(account, app))
            answers = [
                {
                    (b.bucket, b.group): (b.payers, b.payers_by_currency)
                    for b in await repo.transaction_buckets(
                        session,
                        scope,
                        start=dt.date(2025, 2, 1),
                        end=dt.date(2025, 4, 30),
                        granularity="month",
                        dimensions=[],
                        source=source,
                    )
                }
                for source in ("rollup", "raw")
            ]
            assert answers[0] == answers[1]
            assert sum(payers for payers, _ in answers[0].values()) > 0


def _key(value: str | None) -> str | None:
    return (value or "").strip() or None


async def test_distinct_payers_count_each_subscriber_once(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(7)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    for n in range(DAYS):
        await _store_day(db, rng, ws, account, FIRST + dt.timedelta(days=n))
    found = await repo.transaction_buckets(
        session,
        RowScope(ws, RowFilter()),
        start=FIRST,
        end=FIRST + dt.timedelta(days=DAYS),
        granularity="month",
        dimensions=["country"],
    )
    rows = await db.fetch(
        """
        SELECT date_trunc('month', event_date)::date AS m, country, customer_currency AS cc,
               proceeds_currency AS pc, subscriber_id AS sid
        FROM subscriber_transaction_rows
        WHERE event_date >= $1
              AND NOT (COALESCE(refund, false) OR COALESCE(customer_price, 0) < 0)
        """,
        FIRST,
    )
    total: dict[Any, set[str]] = {}
    per_pair: dict[Any, set[str]] = {}
    for r in rows:
        key = (r["m"], (_key(r["country"]),))
        total.setdefault(key, set()).add(r["sid"])
        per_pair.setdefault((key, r["cc"], r["pc"]), set()).add(r["sid"])
    by_currency: dict[Any, dict[str | None, int]] = {}
    for (key, _cc, pc), sids in per_pair.items():
        by_currency.setdefault(key, {})[pc] = by_currency.get(key, {}).get(pc, 0) + len(sids)
    assert len(total) > 3
    served = {(b.bucket, b.group): b for b in found}
    for key, sids in total.items():
        assert served[key].payers == len(sids)
        assert served[key].payers_by_currency == by_currency[key]


def _migration() -> Any:
    path = next(Path(__file__).parents[2].glob("migrations/versions/*-18_subscription_rollups.py"))
    spec = importlib.util.spec_from_file_location("migration_18", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_migration_backfills_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(3)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    for n in range(DAYS):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, rng, ws, account, day)
        await _rebuild(session, account, day)
    migration = _migration()
    for table, backfill in (
        ("subscription_event_day_rollup", migration.BACKFILL_EVENTS),
        ("subscriber_transaction_day_rollup", migration.BACKFILL_TRANSACTIONS),
        ("subscriber_payer_months", migration.BACKFILL_PAYER_MONTHS),
    ):
        query = f"SELECT * FROM {table}"
        built = sorted((tuple(r.values())[1:] for r in await db.fetch(query)), key=repr)
        await db.execute(f"DELETE FROM {table}")
        await db.execute(backfill)
        backfilled = sorted((tuple(r.values())[1:] for r in await db.fetch(query)), key=repr)
        assert built and backfilled == built, table
