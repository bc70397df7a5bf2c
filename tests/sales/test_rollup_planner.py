"""The sales rollups answer exactly what the raw rows answer (issue 21), property-based.

A small random world of raw ``sales_rows`` (two accounts, unlinked rows, refunds, partial
refunds, rows without currency or country, mixed currency pairs in one storefront) spans the
end of January to mid-March, so months are whole and partial. Its rollups are built by
Orchard's own ``rebuild_daily_rollup`` (what the sales_daily unit runs after each day). For
random ranges, granularities, groupings and filters, the planned answer — and the answer of
every rollup able to answer — equals ``sales_rows`` summed directly, whole and page by page.
Replacing a day and linking rows to a new app later keep every rollup equal to the raw rows.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.engine import create_engine, create_sessionmaker
from app.sales import planner, repository
from app.sales.layout import unit_kind
from app.sales.repository import AggregateRow
from app.sales.schemas import SalesFilter
from tests.fixtures.accounts import Tenant

FIRST = dt.date(2024, 1, 27)
DAYS = 46  # to 2024-03-12: the end of January, all of February, part of March
COUNTRIES = {"US": ("USD", "USD"), "GB": ("GBP", "GBP"), "DE": ("EUR", "EUR"), None: (None, None)}
PRODUCT_TYPES = ["1", "3", "7", "IA1", "IAY", "IA3", "1F", "F1", "ZZ"]
DEVICES = ["iPhone", "iPad", "Desktop", None]
DIMENSIONS = ["account", "app", "product", "country", "device", "unit_kind", "platform"]


@dataclass
class RollupWorld:
    workspace_id: uuid.UUID
    accounts: list[uuid.UUID]
    apps: list[uuid.UUID]  # apps[0], apps[1] of accounts[0]; apps[2] of accounts[1]
    skus: list[str]
    sessions: async_sessionmaker[AsyncSession]


async def _account(db: asyncpg.Connection, workspace_id: uuid.UUID, n: int) -> uuid.UUID:
    account_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO asc_accounts (id, workspace_id, name, key_id, key_type, vendor_number,
                                     key_fingerprint, credential_status, capabilities)
           VALUES ($1, $2, $3, $4, 'team', $5, $6, 'active', '{}'::jsonb)""",
        account_id,
        workspace_id,
        f"Account {n}",
        f"PROP{n:05d}",
        f"{81000000 + n}",
        f"fingerprint-prop-{n}",
    )
    return account_id


async def _app(
    db: asyncpg.Connection, workspace_id: uuid.UUID, account_id: uuid.UUID, apple_id: str
) -> uuid.UUID:
    app_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        app_id,
        workspace_id,
        account_id,
        apple_id,
        f"App {apple_id}",
        f"com.example.a{apple_id}",
        f"sku{apple_id}",
    )
    return app_id


def _row(
    rng: random.Random,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    day: dt.date,
    app: tuple[uuid.UUID | None, str],
) -> tuple[Any, ...]:
    country = rng.choice(list(COUNTRIES))
    proceeds_currency, customer_currency = COUNTRIES[country]
    if country == "US" and rng.random() < 0.3:
        customer_currency = "EUR"  # two currency pairs in one storefront
    product_type = rng.choice(PRODUCT_TYPES)
    units = Decimal(rng.choice([-2, -1, 0, 0, 1, 1, 3, 12]))
    proceeds = rng.choice([None, Decimal(0), Decimal("0.70"), Decimal("1.4"), Decimal("123.457")])
    price = rng.choice([None, Decimal(0), Decimal("0.99"), Decimal("-1.99"), Decimal("2")])
    device = rng.choice(DEVICES)
    platform = "macos" if device == "Desktop" or product_type == "F1" else "ios"
    app_id, apple_id = app
    product = apple_id + rng.choice(["", "", "01", "02"])
    return (
        workspace_id,
        account_id,
        "DAILY",
        day,
        app_id,
        f"sku.{product}",
        product_type,
        unit_kind(product_type).value,
        units,
        proceeds,
        proceeds_currency,
        price,
        customer_currency,
        country,
        product,
        device,
        platform,
    )


INSERT = """
    INSERT INTO sales_rows (workspace_id, account_id, frequency, report_date, app_id, sku,
        product_type, unit_kind, units, developer_proceeds, proceeds_currency, customer_price,
        customer_currency, country_code, apple_identifier, device, platform)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
"""


async def _rebuild(world: RollupWorld, account_id: uuid.UUID, days: list[dt.date]) -> None:
    async with world.sessions() as session, session.begin():
        for day in days:
            await repository.rebuild_daily_rollup(session, account_id, day)


@pytest.fixture
async def rollup_world(
    database_url: str, tenant: Tenant, db: asyncpg.Connection
) -> AsyncIterator[RollupWorld]:
    rng = random.Random(21)
    accounts = [await _account(db, tenant.workspace_id, n) for n in range(2)]
    apps = [
        await _app(db, tenant.workspace_id, accounts[0], "1400000001"),
        await _app(db, tenant.workspace_id, accounts[0], "1400000002"),
        await _app(db, tenant.workspace_id, accounts[1], "1400000003"),
    ]
    catalog = {
        accounts[0]: [(apps[0], "1400000001"), (apps[1], "1400000002"), (None, "1400000009")],
        accounts[1]: [(apps[2], "1400000003"), (None, "1400000008")],
    }
    rows = []
    for offset in range(DAYS):
        day = FIRST + dt.timedelta(days=offset)
        for account_id, account_apps in catalog.items():
            if rng.random() < 0.1:
                continue  # a day without rows for this account
            for _ in range(rng.randint(1, 9)):
                rows.append(
                    _row(rng, tenant.workspace_id, account_id, day, rng.choice(account_apps))
                )
    await db.executemany(INSERT, rows)
    engine = create_engine(database_url, pool_size=2)
    world = RollupWorld(
        tenant.workspace_id,
        accounts,
        apps,
        sorted({row[5] for row in rows}),
        create_sessionmaker(engine),
    )
    days = [FIRST + dt.timedelta(days=n) for n in range(DAYS)]
    for account_id in accounts:
        await _rebuild(world, account_id, days)
    try:
        yield world
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Query:
    start: dt.date
    end: dt.date
    granularity: str
    dimensions: list[str]
    filters: SalesFilter
    by_day: bool


def _normal(rows: list[AggregateRow]) -> list[AggregateRow]:
    # Per-day money arrives in no particular order (and split per table read): sum it per
    # (day, currency pair) so only the amounts are compared.
    out = []
    for row in rows:
        if row.daily is None:
            out.append(row)
            continue
        summed: dict[tuple[Any, ...], list[Decimal]] = {}
        for day, pc, pa, cc, ca in row.daily:
            totals = summed.setdefault((day, pc, cc), [Decimal(0), Decimal(0)])
            totals[0] += pa or 0
            totals[1] += ca or 0
        daily = sorted(
            ((d, pc, t[0], cc, t[1]) for (d, pc, cc), t in summed.items() if any(t)),
            key=repr,
        )
        out.append(replace(row, daily=daily))
    return out


async def _answer(
    world: RollupWorld, query: Query, source: str | None, limit: int = 10_000
) -> list[AggregateRow]:
    """The whole answer, page by page with ``limit`` rows per page (the API's keyset)."""
    rows: list[AggregateRow] = []
    after = None
    async with world.sessions() as session:
        while True:
            page = await repository.aggregate(
                session,
                world.workspace_id,
                start=query.start,
                end=query.end,
                granularity=query.granularity,
                dimensions=query.dimensions,
                filters=query.filters,
                after=after,
                limit=limit + 1,
                by_day=query.by_day,
                source=source,
            )
            rows += page[:limit]
            if len(page) <= limit:
                return _normal(rows)
            after = page[limit - 1].sort_key()


def _queries(world: RollupWorld) -> st.SearchStrategy[Query]:
    def subset(values: list[Any]) -> st.SearchStrategy[list[Any]]:
        return st.one_of(
            st.just([]), st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True)
        )

    @st.composite
    def build(draw: st.DrawFn) -> Query:
        first = draw(st.integers(-3, DAYS))
        length = draw(st.integers(0, DAYS))
        filters = SalesFilter(
            account_ids=draw(st.one_of(st.just([]), subset(world.accounts))),
            app_ids=draw(st.one_of(st.just([]), subset(world.apps))),
            skus=draw(st.one_of(st.just([]), subset(world.skus))),
            countries=draw(st.one_of(st.just([]), subset(["US", "DE", "JP"]))),
            devices=draw(st.one_of(st.just([]), subset(["iPhone", "Desktop"]))),
            unit_kinds=draw(st.one_of(st.just([]), subset(["iap", "redownload", "other"]))),
        )
        return Query(
            start=FIRST + dt.timedelta(days=first),
            end=FIRST + dt.timedelta(days=first + length),
            granularity=draw(st.sampled_from(["day", "week", "month", "year"])),
            dimensions=draw(st.lists(st.sampled_from(DIMENSIONS), max_size=3, unique=True)),
            filters=filters,
            by_day=draw(st.booleans()),
        )

    return build()


# One world per test function (built before the examples, read-only while they run).
FIXTURE_OK = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FIXTURE_OK
@given(data=st.data())
async def test_every_rollup_answers_what_the_raw_rows_answer(
    rollup_world: RollupWorld, data: st.DataObject
) -> None:
    query = data.draw(_queries(rollup_world))
    raw = await _answer(rollup_world, query, "raw")
    planned = await _answer(rollup_world, query, None)
    assert planned == raw
    wanted = planner.needed(query.dimensions, query.filters)
    for source in ("full", "app", "account", "workspace"):
        if wanted <= planner.SOURCES[source].dimensions:
            assert await _answer(rollup_world, query, source) == raw, source
    # Page by page (the API's cursor) gives the same rows.
    limit = data.draw(st.integers(1, 7))
    assert await _answer(rollup_world, query, None, limit) == raw


async def test_a_replaced_day_and_newly_linked_rows_keep_every_rollup_exact(
    rollup_world: RollupWorld, db: asyncpg.Connection
) -> None:
    world = rollup_world
    day = dt.date(2024, 2, 14)
    account = world.accounts[0]
    # Apple re-publishes the day: different rows, same account-day (a unit replaces it).
    await db.execute(
        "DELETE FROM sales_rows WHERE account_id = $1 AND report_date = $2", account, day
    )
    rng = random.Random(7)
    await db.executemany(
        INSERT,
        [
            _row(rng, world.workspace_id, account, day, (world.apps[1], "1400000002"))
            for _ in range(5)
        ]
        + [_row(rng, world.workspace_id, account, day, (None, "1400000007")) for _ in range(3)],
    )
    await _rebuild(world, account, [day])
    # An app the catalog learns of later: its earlier rows link to it, rollups follow.
    late_app = await _app(db, world.workspace_id, account, "1400000007")
    async with world.sessions() as session, session.begin():
        linked = await repository.link_rows_to_apps(session, account)
    assert day in linked
    for granularity in ("day", "month", "year"):
        for dimensions in ([], ["app"], ["account", "country"]):
            query = Query(
                FIRST, FIRST + dt.timedelta(days=DAYS - 1), granularity, dimensions,
                SalesFilter(), False,
            )  # fmt: skip
            assert await _answer(world, query, None) == await _answer(world, query, "raw")
    only_late = Query(day, day, "month", ["app"], SalesFilter(app_ids=[late_app]), False)
    rows = await _answer(world, only_late, None)
    assert [row.group for row in rows] == [(str(late_app),)]
    assert rows == await _answer(world, only_late, "raw")
    # A purged account (``DELETE … asc_accounts``, its rows going by cascade) leaves the
    # whole-workspace table too.
    whole = Query(
        FIRST, FIRST + dt.timedelta(days=DAYS - 1), "day", ["country"], SalesFilter(), False
    )
    before = await _answer(world, whole, None)
    await db.execute("DELETE FROM asc_accounts WHERE id = $1", world.accounts[1])
    after = await _answer(world, whole, None)
    assert after != before
    assert after == await _answer(world, whole, "raw")
    assert after == await _answer(world, whole, "workspace")


def test_the_planner_reads_the_smallest_rollup_and_whole_months() -> None:
    none = SalesFilter()
    jan, end = dt.date(2024, 1, 10), dt.date(2024, 6, 20)
    parts = planner.plan(jan, end, "month", ["country"], none)
    assert [(p.table, p.start, p.end) for p in parts] == [
        ("sales_rollup_workspace_day", jan, dt.date(2024, 1, 31)),
        ("sales_rollup_account_month", dt.date(2024, 2, 1), dt.date(2024, 5, 31)),
        ("sales_rollup_workspace_day", dt.date(2024, 6, 1), end),
    ]
    by_account = planner.plan(jan, end, "week", ["account"], none)
    assert [p.table for p in by_account] == ["sales_rollup_account_day"]
    by_app = planner.plan(jan, end, "day", ["country"], SalesFilter(app_ids=[uuid.uuid4()]))
    assert [p.table for p in by_app] == ["sales_rollup_app_day"]
    # Per-day conversion needs days; a product split needs the per-dimension rollup.
    assert [p.table for p in planner.plan(jan, end, "year", [], none, by_day=True)] == [
        "sales_rollup_workspace_day"
    ]
    assert [p.table for p in planner.plan(jan, end, "month", ["product"], none)] == [
        "sales_daily_rollup"
    ]
    assert [p.table for p in planner.plan(jan, end, "day", [], SalesFilter(devices=["iPad"]))] == [
        "sales_daily_rollup"
    ]
    with pytest.raises(ValueError, match="cannot answer"):
        planner.plan(jan, end, "day", ["device"], none, source="app")
