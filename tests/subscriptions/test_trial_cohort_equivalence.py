"""Trial-start cohorts read from the per-day conversion sums answer exactly what the raw
Subscription Event rows answer.

A random world of SUBSCRIPTION_EVENT rows (conversions from free trials and from other offers,
billing-retry look-alikes, event names and offer types untrimmed and in other cases, late rows
and several Event Dates per report date, Original Start Dates months back or missing, rows
without an Event Date, untrimmed and empty storefronts, two accounts and two apps) is stored one
report day at a time, each day's sums rebuilt by the code the sync unit runs; then, for many
random scopes (workspace, account, app by Apple ID or by Orchard's id, storefront filters),
cohort ranges and period counts, the trial starts and conversions per cohort and the newest
Event Date equal those read from the raw rows — also after report days are replaced (a re-sync
with other rows, a day emptied). The migration's backfill builds the same sums as the units.
"""

import datetime as dt
import random
import uuid
from collections import defaultdict
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from app.subscriptions import cohort_repository as cohorts
from app.subscriptions.analytics_repository import RowScope
from app.subscriptions.rollup import rebuild_event_rollup
from app.subscriptions.schemas import RowFilter
from tests.fixtures.accounts import Tenant
from tests.subscriptions.test_subscriber_rollup_equivalence import (  # the same helpers
    _account,
    _migration,
    session,
)

__all__ = ["session"]  # a fixture, used by name

FIRST = dt.date(2025, 1, 1)
DAYS = 120
EVENTS = [
    "Paid Subscription from Introductory Offer", " paid subscription from introductory offer ",
    "Crossgrade from Introductory Offer", "Upgrade from Introductory Offer",
    "Billing Retry from Introductory Offer", "Paid Subscription from Offer Code",
    "Start Introductory Offer", " start introductory offer", "Renew", "Subscribe", "",
]  # fmt: skip
OFFER_TYPES = ["Free Trial", " free trial ", "FREE TRIAL", "Pay Up Front", None, ""]
COUNTRIES = ["US", "GB", " DE", None, ""]
APPS = ["111", "222", None]

Row = tuple[Any, ...]


def _world(rng: random.Random, ws: uuid.UUID, account: uuid.UUID) -> dict[dt.date, list[Row]]:
    """Rows by report date."""
    by_day: dict[dt.date, list[Row]] = defaultdict(list)
    for n in range(DAYS):
        day = FIRST + dt.timedelta(days=n)
        for _ in range(rng.randint(0, 12)):
            event_day = day - dt.timedelta(days=rng.choice([0, 0, 0, 1, 2, 3]))
            start = event_day - dt.timedelta(days=rng.choice([0, 3, 7, 14, 30, 45, 90, 200]))
            by_day[day].append(
                (
                    ws, account, day, None if rng.random() < 0.03 else event_day,
                    rng.choice(EVENTS), rng.choice(APPS), rng.choice(COUNTRIES),
                    rng.choice(OFFER_TYPES), None if rng.random() < 0.05 else start,
                    rng.randint(1, 4),
                )
            )  # fmt: skip
    return by_day


async def _store_day(
    conn: asyncpg.Connection,
    session: AsyncSession,
    account: uuid.UUID,
    day: dt.date,
    rows: list[Row],
) -> None:
    """Replace one report day's rows, then run what the sync unit runs after the load."""
    await conn.execute(
        "DELETE FROM subscription_event_rows WHERE account_id = $1 AND report_date = $2",
        account,
        day,
    )
    await conn.executemany(
        """
        INSERT INTO subscription_event_rows (
            workspace_id, account_id, report_date, event_date, event, app_apple_id, country,
            offer_type, original_start_date, quantity)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        rows,
    )
    await rebuild_event_rollup(session, account, day)
    await session.commit()


def _scope(
    rng: random.Random, ws: uuid.UUID, accounts: list[uuid.UUID], app_id: uuid.UUID
) -> RowScope:
    countries = tuple(rng.sample(["US", "GB", " DE", "FR"], rng.choice([0, 0, 1, 2])))
    account = rng.choice([None, *accounts])
    if rng.random() < 0.25:  # the app by Orchard's id (accounts[0]'s "111")
        return RowScope(ws, RowFilter(rng.choice([None, accounts[0]])), countries, app_id)
    app = rng.choice([None, "111", "222"]) if account is not None else None
    return RowScope(ws, RowFilter(account, app), countries)


async def _compare(
    session: AsyncSession,
    rng: random.Random,
    ws: uuid.UUID,
    accounts: list[uuid.UUID],
    app_id: uuid.UUID,
) -> int:
    """One random request through both paths; the cells found."""
    scope = _scope(rng, ws, accounts, app_id)
    start = rng.randint(0, 4)
    first = dt.date(2024, 12, 1) + dt.timedelta(days=31 * start)
    first = first.replace(day=1)
    last = (first + dt.timedelta(days=31 * rng.randint(0, 3))).replace(day=1)
    periods = rng.randint(0, 5)
    answers = {}
    for source in ("precomputed", "raw"):
        starts, conversions = await cohorts.trial_cohorts(
            session, scope, first, last, periods, source=source
        )
        newest = await cohorts.newest_event_date(session, scope, trial=True, source=source)
        answers[source] = (starts, conversions, newest)
    assert answers["precomputed"] == answers["raw"], (scope, first, last, periods)
    return len(answers["raw"][1])


async def test_conversion_sums_answer_what_the_raw_rows_answer(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(1821)
    ws = tenant.workspace_id
    accounts = [await _account(db, ws, n) for n in range(2)]
    app_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, '111', 'App', 'com.example.app', 'app')",
        app_id, ws, accounts[0],
    )  # fmt: skip
    for account in accounts:
        world = _world(rng, ws, account)
        for n in range(DAYS):
            day = FIRST + dt.timedelta(days=n)
            await _store_day(db, session, account, day, world.get(day, []))
    cells = [await _compare(session, rng, ws, accounts, app_id) for _ in range(60)]
    # The requests found conversions, and the layers hold both kinds of rows.
    assert sum(cells) > 100
    assert (
        await db.fetchval(
            "SELECT count(DISTINCT by_country) FROM subscription_trial_conversion_months"
        )
        == 2
    )
    # Report days replaced (a re-sync with other rows; a day emptied): the sums follow.
    other = _world(rng, ws, accounts[0])
    for n in (5, 31, 32, 77):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, accounts[0], day, other.get(day, []))
    await _store_day(db, session, accounts[0], FIRST + dt.timedelta(days=60), [])
    for _ in range(30):
        await _compare(session, rng, ws, accounts, app_id)


async def test_the_migration_backfills_what_the_units_build(
    db: asyncpg.Connection, tenant: Tenant, session: AsyncSession
) -> None:
    rng = random.Random(7)
    ws = tenant.workspace_id
    account = await _account(db, ws, 0)
    world = _world(rng, ws, account)
    for n in range(0, DAYS, 3):
        day = FIRST + dt.timedelta(days=n)
        await _store_day(db, session, account, day, world.get(day, []))
    query = (
        "SELECT workspace_id, account_id, report_date, app_apple_id, country, start_month, "
        "event_month, quantity, source_rows, by_country FROM subscription_trial_conversion_months"
    )
    built = sorted(map(tuple, await db.fetch(query)), key=repr)
    assert built
    await db.execute("DELETE FROM subscription_trial_conversion_months")
    await db.execute(_migration("18_cohort_periods").BACKFILL_TRIAL_CONVERSIONS)
    assert sorted(map(tuple, await db.fetch(query)), key=repr) == built
