"""Conversion on the revenue read routes: hand computations on the simulator's ECB rates,
weekend fallback, a currency the ECB lacks (unconverted, then converted with a manual rate), a
late publication recomputed, the workspace's default currency, and bad input."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from app.cli import render_openapi
from app.config import Settings
from app.fx import kept, repository
from app.fx.rates import significant
from app.main import create_app
from app.sales.schemas import AppSalesSummary, SalesReport
from app.sandbox.fx import FxState, create_fx_app
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import INSTANT_RETRY, run_unit
from tests.fixtures.hosts import HostRouter
from tests.fx.helpers import NOW, FakeClock, run_public_unit
from tests.sales.helpers import FakeApple, add_app, row, tsv
from tests.web.test_spec import schema_validator

A = "1000000001"
FRI, SAT, TUE = "2025-06-06", "2025-06-07", "2025-06-10"
DAYS = {
    # Friday: 10 × 0.70 USD, 5 × 1.00 EUR, 2 × 500 KZT (a currency the ECB does not publish).
    FRI: [
        row(type="1", units="10", proceeds="0.70", price="0.99", currency="USD", apple_id=A),
        row(type="1", units="5", proceeds="1.00", price="1.49", currency="EUR", apple_id=A),
        row(type="1", units="2", proceeds="500", price="700", currency="KZT", apple_id=A),
    ],
    # Saturday (no ECB fix): 5 × 1.00 EUR converts at Friday's rate.
    SAT: [row(type="1", units="5", proceeds="1.00", price="1.49", currency="EUR", apple_id=A)],
    # Tuesday, published late by the ECB in one test.
    TUE: [row(type="1", units="3", proceeds="2.00", price="2.99", currency="EUR", apple_id=A)],
}


@dataclass
class World:
    app: FastAPI
    http: httpx.AsyncClient
    tenant: Tenant
    app_id: str
    fx: FxState

    async def sales(self, **params: Any) -> dict[str, Any]:
        response = await self.http.get("/v1/sales", params=params, headers=self.tenant.headers())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        SalesReport.model_validate(body)
        return body


@pytest.fixture
async def world(
    settings: Settings,
    tenant: Tenant,
    sandbox: SandboxState,
    fx: FxState,
    db: Any,
) -> AsyncIterator[World]:
    apple = FakeApple()
    router = HostRouter(
        {"ecb.test": httpx.ASGITransport(app=create_fx_app(fx))}, default=apple.transport()
    )
    app = create_app(settings, asc_transport=router, asc_retry=INSTANT_RETRY)
    async with app.router.lifespan_context(app):
        account, _ = await link_new_key(app, tenant, sandbox, "acme")
        app_id = await add_app(db, tenant, account, A, "app.a")
        apple.reports.update({day: tsv(lines, day) for day, lines in DAYS.items()})
        for day in DAYS:
            await run_unit(app, account, "sales_daily", day)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as http:
            yield World(app, http, tenant, str(app_id), fx)


@contextmanager
def recorded_statements(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app sends inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


def _by_currency(items: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    return {entry["currency"]: entry for entry in items}


async def test_hand_computation_weekend_fallback_and_unconverted(world: World) -> None:
    await run_public_unit(world.app, "fx_ecb", "history")
    usd_per_eur = world.fx.rate(dt.date(2025, 6, 6), "USD")
    assert usd_per_eur is not None
    body = await world.sales(**{"from": FRI, "to": SAT, "granularity": "month", "currency": "usd"})
    assert body["currency"] == "USD"
    [bucket] = body["items"]
    proceeds = _by_currency(bucket["proceeds"])
    # The original amounts are untouched.
    assert proceeds["EUR"]["amount"] == "10.00" and proceeds["USD"]["amount"] == "7.00"
    # EUR: Friday's 5.00 at Friday's rate, Saturday's 5.00 at Friday's rate too (no fix).
    eur = proceeds["EUR"]["converted"]
    assert eur["amount"] == cents(Decimal("10.00") * usd_per_eur)
    assert eur["rate"] == str(usd_per_eur) and eur["rate_date"] == FRI
    assert eur["source"] == "ecb" and eur["complete"] is True
    assert "rates" not in eur  # one rate converted both days: named once
    assert proceeds["USD"]["converted"]["amount"] == "7.00"
    assert proceeds["USD"]["converted"]["source"] == "identity"
    # KZT has no ECB rate: never dropped, never zero — listed, and the total says partial.
    assert proceeds["KZT"]["converted"] is None
    total = bucket["proceeds_total_converted"]
    assert total["amount"] == cents(Decimal("7.00") + Decimal("10.00") * usd_per_eur)
    assert total["partial"] is True
    assert total["unconverted"] == [
        {
            "amount": "1000",
            "currency": "KZT",
            "reason": "no_rate",
            "detail": f"no KZT rate on or within 7 days before {FRI} (report dates {FRI}..{FRI})",
        }
    ]
    # Without currency= (and no workspace default) nothing is converted.
    plain = await world.sales(**{"from": FRI, "to": SAT, "granularity": "month"})
    assert plain["currency"] is None
    assert "converted" not in plain["items"][0]["proceeds"][0]


async def test_one_rate_is_named_once_and_several_are_listed(world: World) -> None:
    """A day's amount converts at one rate: ``rate``, ``rate_date`` and ``source`` name it,
    with no ``rates`` list repeating it. An amount over report dates with different fixes
    has ``rate`` null and lists each rate by date, with its method."""
    await run_public_unit(world.app, "fx_ecb", "history")
    fixes = {day: world.fx.rate(dt.date.fromisoformat(day), "USD") for day in (FRI, TUE)}
    # Each converted document is also checked against the spec's shape.
    documented = schema_validator(json.loads(render_openapi()), "ConvertedAmount")
    span = {"from": FRI, "to": TUE, "currency": "USD"}
    for grouping in ({}, {"group_by": "country"}):
        by_day = await world.sales(**span, **grouping)
        converted = [
            entry["converted"]
            for item in by_day["items"]
            for entry in item["proceeds"] + item["customer_sales"]
            if entry["converted"]
        ]
        assert len(converted) == 8  # Friday: USD and EUR; Saturday, Tuesday: EUR (× 2 measures)
        for one in converted:
            assert one["rate"] is not None and one["rate_date"] is not None
            assert "rates" not in one
            documented.validate(one)
    month = await world.sales(**span, granularity="month")
    eur = _by_currency(month["items"][0]["proceeds"])["EUR"]["converted"]
    assert eur["rate"] is None and eur["rate_date"] is None and eur["source"] == "ecb"
    assert eur["rates"] == [
        {"rate": str(fixes[FRI]), "rate_date": FRI, "source": "ecb", "method": "direct"},
        {"rate": str(fixes[TUE]), "rate_date": TUE, "source": "ecb", "method": "direct"},
    ]
    documented.validate(eur)


async def test_a_manual_rate_converts_a_currency_the_ecb_lacks(world: World) -> None:
    await run_public_unit(world.app, "fx_ecb", "history")
    upload = {"rates": [{"date": FRI, "base": "EUR", "quote": "KZT", "rate": "580.00"}]}
    admin = world.tenant.headers(world.tenant.admin_token)
    response = await world.http.put("/v1/fx/rates", json=upload, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json() == {"written": 1}
    body = await world.sales(**{"from": FRI, "to": FRI, "currency": "USD"})
    kzt = _by_currency(body["items"][0]["proceeds"])["KZT"]["converted"]
    usd_per_eur = world.fx.rate(dt.date(2025, 6, 6), "USD")
    assert usd_per_eur is not None
    rate = significant(usd_per_eur / Decimal("580.00"))
    assert kzt["rate"] == format(rate, "f")
    assert kzt["amount"] == cents(Decimal(1000) * rate)
    assert kzt["source"] == "ecb+manual"
    assert "rates" not in kzt  # one rate, named once (its method: cross-EUR, KZT→EUR→USD)
    assert body["items"][0]["proceeds_total_converted"]["partial"] is False


async def test_a_late_publication_is_recomputed(world: World, fx_clock: FakeClock) -> None:
    tuesday = dt.date(2025, 6, 10)
    world.fx.delay_publication(tuesday, dt.timedelta(hours=20))
    await run_public_unit(world.app, "fx_ecb", "history")
    first = await world.sales(**{"from": TUE, "to": TUE, "currency": "USD"})
    eur = _by_currency(first["items"][0]["proceeds"])["EUR"]["converted"]
    assert eur["rate_date"] == "2025-06-09"  # the previous fix, said so
    fx_clock.advance(hours=20)
    await run_public_unit(world.app, "fx_ecb", "recent")
    again = await world.sales(**{"from": TUE, "to": TUE, "currency": "USD"})
    eur = _by_currency(again["items"][0]["proceeds"])["EUR"]["converted"]
    assert eur["rate_date"] == TUE
    assert eur["rate"] == str(world.fx.rate(tuesday, "USD"))


async def test_workspace_default_currency_and_app_summary(world: World) -> None:
    await run_public_unit(world.app, "fx_ecb", "history")
    admin = world.tenant.headers(world.tenant.admin_token)
    response = await world.http.patch(
        "/v1/fx/settings", json={"reporting_currency": "EUR"}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = await world.sales(**{"from": FRI, "to": SAT})
    assert body["currency"] == "EUR"
    response = await world.http.get(
        f"/v1/apps/{world.app_id}/sales/summary",
        params={"from": FRI, "to": SAT, "currency": "JPY"},
        headers=world.tenant.headers(),
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    AppSalesSummary.model_validate(summary)
    assert summary["currency"] == "JPY"
    jpy_per_eur = world.fx.rate(dt.date(2025, 6, 6), "JPY")
    assert jpy_per_eur is not None
    eur = _by_currency(summary["totals"]["proceeds"])["EUR"]["converted"]
    assert eur["amount"] == str((Decimal("10.00") * jpy_per_eur).quantize(Decimal(1)))
    assert [day["proceeds_total_converted"]["currency"] for day in summary["series"]] == [
        "JPY",
        "JPY",
    ]


async def test_the_default_currency_is_read_with_the_token(world: World) -> None:
    """The workspace's default currency comes in the token lookup's statement (issue 21 item
    3: no extra round trip per converted read), and a change applies from the next request."""
    admin = world.tenant.headers(world.tenant.admin_token)
    with recorded_statements(world.app) as statements:
        for currency in ("EUR", None):
            response = await world.http.patch(
                "/v1/fx/settings", json={"reporting_currency": currency}, headers=admin
            )
            assert response.status_code == 200, response.text
            statements.clear()
            body = await world.sales(**{"from": FRI, "to": FRI})
            assert body["currency"] == currency
            reads = [s for s in statements if "fx_workspace_settings" in s]
            assert len(reads) == 1, statements
            assert "FROM api_tokens LEFT OUTER JOIN fx_workspace_settings" in reads[0]


async def test_an_unknown_currency_is_a_problem(world: World) -> None:
    response = await world.http.get(
        "/v1/sales",
        params={"from": FRI, "to": FRI, "currency": "XXZ"},
        headers=world.tenant.headers(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "query.currency"


# --- rates kept per process (app.fx.kept) --------------------------------------------------


async def _proceeds(world: World, currency: str, **params: Any) -> dict[str, Any]:
    body = await world.sales(**{"currency": "USD", **params})
    return _by_currency(body["items"][0]["proceeds"])[currency]


@pytest.mark.parametrize("granularity", ["day", "month"])
async def test_a_rate_uploaded_after_a_conversion_changes_the_next_answer(
    world: World, granularity: str
) -> None:
    """The book kept by the first answer (``app.fx.kept``) is not used once a rate is written:
    day buckets (converted in Python) and month buckets (in the statement) alike."""
    await run_public_unit(world.app, "fx_ecb", "history")
    span = {"from": FRI, "to": FRI, "granularity": granularity}
    before = await _proceeds(world, "KZT", **span)
    assert before["converted"] is None
    upload = {"rates": [{"date": FRI, "base": "EUR", "quote": "KZT", "rate": "580.00"}]}
    admin = world.tenant.headers(world.tenant.admin_token)
    response = await world.http.put("/v1/fx/rates", json=upload, headers=admin)
    assert response.status_code == 200, response.text
    after = await _proceeds(world, "KZT", **span)
    assert after["converted"] is not None
    assert after["converted"]["source"] == "ecb+manual"


async def test_a_rate_changed_by_any_writer_changes_the_next_answer(world: World) -> None:
    """Another process (or a hand edit) writing ``fx_rates`` is seen too: the version is bumped
    by the database, not by Orchard's code."""
    await run_public_unit(world.app, "fx_ecb", "history")
    span = {"from": FRI, "to": SAT, "granularity": "month"}
    first = (await _proceeds(world, "EUR", **span))["converted"]
    async with world.app.state.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE fx_rates SET rate = rate * 2 "
                "WHERE source = 'ecb' AND quote = 'USD' AND day = :day"
            ),
            {"day": dt.date(2025, 6, 6)},
        )
    again = (await _proceeds(world, "EUR", **span))["converted"]
    assert Decimal(again["rate"]) == 2 * Decimal(first["rate"])
    assert again["amount"] == cents(Decimal("10.00") * Decimal(again["rate"]))


async def test_rates_read_inside_another_statement_are_the_rates_read_alone(
    world: World,
) -> None:
    """``rates_unless_current_also`` (a route's rates read in a statement it runs anyway) gives
    what ``rates_unless_current`` gives: the version, every public and manual rate exactly
    (decimals, dates, sources), or none while the kept version is current."""
    await run_public_unit(world.app, "fx_ecb", "history")
    upload = {"rates": [{"date": FRI, "base": "EUR", "quote": "KZT", "rate": "580.123456789"}]}
    admin = world.tenant.headers(world.tenant.admin_token)
    response = await world.http.put("/v1/fx/rates", json=upload, headers=admin)
    assert response.status_code == 200, response.text
    start, end = dt.date(2025, 6, 1), dt.date(2025, 6, 30)
    workspace_id = world.tenant.workspace_id
    async with world.app.state.sessionmaker() as session:
        for kept_version in (None, uuid.uuid4(), "current"):
            alone = await repository.rates_unless_current(
                session, workspace_id, kept=None, start=start, end=end
            )
            known = alone[0] if kept_version == "current" else kept_version
            assert known is None or isinstance(known, uuid.UUID)
            also = repository.rates_unless_current_also(
                workspace_id, kept=known, start=start, end=end
            )
            value = await session.scalar(text(f"SELECT {also.sql}"), also.params)
            version, rows = repository.rates_of_also(value)
            assert version == alone[0]
            if kept_version == "current":
                assert rows is None
                continue
            assert rows is not None and alone[1] is not None
            assert sorted(rows) == sorted(tuple(r) for r in alone[1])
            assert ("manual", Decimal("580.123456789")) in {(r[4], r[3]) for r in rows}


async def test_an_unchanged_version_reads_no_rates(world: World) -> None:
    """While the rates are unchanged a kept book is reused and its statement returns the
    version alone — a re-sync storing the same rates changes nothing; the next rate written
    makes it read (and keep) the rates again."""
    await run_public_unit(world.app, "fx_ecb", "history")
    start, end = dt.date(2025, 6, 1), dt.date(2025, 6, 30)
    async with world.app.state.sessionmaker() as session:
        kept.forget()
        version, rows = await repository.rates_unless_current(
            session, world.tenant.workspace_id, kept=None, start=start, end=end
        )
        assert version is not None and rows
        again, none = await repository.rates_unless_current(
            session, world.tenant.workspace_id, kept=version, start=start, end=end
        )
        assert (again, none) == (version, None)
        first = await kept.book(
            session, world.tenant.workspace_id, target="USD", start=start, end=end, max_age_days=7
        )
        second = await kept.book(
            session, world.tenant.workspace_id, target="USD", start=start, end=end, max_age_days=7
        )
        assert second is first
        other = await kept.book(
            session, uuid.uuid4(), target="USD", start=start, end=end, max_age_days=7
        )
        assert other is not first  # kept per workspace: manual rates are a workspace's own
    await run_public_unit(world.app, "fx_ecb", "recent")  # the same rates again
    async with world.app.state.sessionmaker() as session:
        same, none = await repository.rates_unless_current(
            session, world.tenant.workspace_id, kept=version, start=start, end=end
        )
        assert (same, none) == (version, None)
        assert (
            await kept.book(
                session,
                world.tenant.workspace_id,
                target="USD",
                start=start,
                end=end,
                max_age_days=7,
            )
            is first
        )
    async with world.app.state.sessionmaker() as session, session.begin():
        rate = {
            "day": start,
            "base": "EUR",
            "quote": "XAF",
            "rate": Decimal("655.957"),
            "note": None,
        }
        await repository.upsert_manual(session, world.tenant.workspace_id, [rate], NOW)
    async with world.app.state.sessionmaker() as session:
        newer, rows = await repository.rates_unless_current(
            session, world.tenant.workspace_id, kept=version, start=start, end=end
        )
        assert newer != version and rows
        third = await kept.book(
            session, world.tenant.workspace_id, target="USD", start=start, end=end, max_age_days=7
        )
        assert third is not first


@pytest.mark.parametrize("granularity", ["day", "month"])
async def test_a_converted_report_reads_its_rates_in_one_statement(
    world: World, granularity: str
) -> None:
    """The rates (or, with a current kept book, only their version) cost one statement, as the
    rates read did before books were kept: a converted report runs no more statements."""
    await run_public_unit(world.app, "fx_ecb", "history")
    with recorded_statements(world.app) as statements:
        for _ in range(2):  # the first reads and keeps the rates, the second only checks
            statements.clear()
            await world.sales(
                **{"from": FRI, "to": TUE, "granularity": granularity, "currency": "USD"}
            )
            rates = [s for s in statements if "fx_rates" in s or "fx_data_version" in s]
            assert len(rates) == 1, statements


async def test_a_month_by_storefront_converts_like_the_per_day_sums(world: World) -> None:
    """By storefront alone the workspace rollup's rows already are one day and currency pair
    each (read without a per-day GROUP BY); by storefront and app the app rollup is summed per
    day first. With one app both give the same converted money, rates and gaps."""
    await run_public_unit(world.app, "fx_ecb", "history")
    span = {"from": FRI, "to": TUE, "granularity": "month", "currency": "USD"}
    alone = await world.sales(**span, group_by="country")
    with_app = await world.sales(**span, group_by="country,app")
    money = ("proceeds", "customer_sales", "proceeds_total_converted")
    assert alone["items"] and len(alone["items"]) == len(with_app["items"])
    for one, other in zip(alone["items"], with_app["items"], strict=True):
        assert one["group"]["country"] == other["group"]["country"]
        assert {m: one[m] for m in money} == {m: other[m] for m in money}
    assert any(e["converted"] for i in alone["items"] for e in i["proceeds"])
