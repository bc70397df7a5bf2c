"""The optional ``fx_frankfurter`` source against the simulated Frankfurter v2 server: off by
default, the 14 gap currencies stored as dated with the provider Frankfurter names, decimals
exact, re-sync idempotent, and its rates used where the ECB has none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.config import Settings
from app.fx import frankfurter
from app.fx.currencies import ECB_GAPS
from app.registry import build_registry
from app.sandbox.fx import FxState
from tests.fixtures.accounts import Tenant
from tests.fx.helpers import FRANKFURTER_URL, public_jobs, run_public_unit, stored_rates


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return Settings.model_validate({**settings.model_dump(), "fx_frankfurter_url": FRANKFURTER_URL})


def test_off_by_default() -> None:
    found = build_registry(Settings()).get_public("fx_frankfurter")
    assert found is not None and found.enabled is False
    assert "ORCHARD_FX_FRANKFURTER_URL" in (found.disabled_reason or "")


async def test_gap_currencies_are_stored_with_their_provider(
    app: FastAPI, fx: FxState, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await run_public_unit(app, "fx_ecb", "history")
    await run_public_unit(app, "fx_frankfurter", "history")
    request = fx.requests[-1]
    assert request.path == "/v2/rates"
    assert "expand=providers" in request.query and "base=EUR" in request.query
    rows = await stored_rates(app, "frankfurter")
    assert {quote for _, quote in rows} == set(ECB_GAPS)
    checked = 0
    for (day, quote), row in rows.items():
        truth = fx.truth.frankfurter_rate(day, quote)
        if truth is not None:
            assert row.rate == truth, (day, quote)
            checked += 1
    assert checked > 100
    async with app.state.sessionmaker() as session:
        providers = {
            r.quote: r.provider
            for r in await session.execute(
                text("SELECT DISTINCT quote, provider FROM fx_rates WHERE source = 'frankfurter'")
            )
        }
    assert providers["AED"] == "peg"  # a pegged row has no providers (FACTS §3)
    assert providers["KZT"] not in ("", "peg")

    response = await client.get(
        "/v1/fx/rates",
        params={"source": "frankfurter", "quote": "KZT", "from": "2025-06-02", "to": "2025-06-06"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items and {i["provider"] for i in items} == {providers["KZT"]}
    assert "KZT" not in response.json()["currencies_without_rate"]

    before = await stored_rates(app, "frankfurter")
    await run_public_unit(app, "fx_frankfurter", "recent")
    after = await stored_rates(app, "frankfurter")
    assert all(after[k].rate == before[k].rate and after[k].revised_at is None for k in before)


def test_parse_reads_numbers_as_decimals() -> None:
    content = (
        b'[{"date":"2025-06-06","base":"EUR","quote":"KZT","rate":580.123,'
        b'"providers":[{"key":"NBK","date":"2025-06-06","rate":580.123}]},'
        b'{"date":"2025-06-06","base":"EUR","quote":"EUR","rate":1.0},'
        b'{"date":"2025-06-06","base":"EUR","quote":"AED","rate":4.1}]'
    )
    rows = frankfurter.parse(content)
    assert rows == [
        {
            "day": dt.date(2025, 6, 6),
            "base": "EUR",
            "quote": "KZT",
            "rate": Decimal("580.123"),
            "provider": "NBK",
        },
        {
            "day": dt.date(2025, 6, 6),
            "base": "EUR",
            "quote": "AED",
            "rate": Decimal("4.1"),
            "provider": "peg",
        },
    ]
    with pytest.raises(frankfurter.FrankfurterAnswerError):
        frankfurter.parse(b'[{"date":"2025-06-06","base":"EUR","quote":"KZT","rate":-1}]')


@pytest.mark.parametrize("empty", ["not_found", "empty_list"])
async def test_an_empty_answer_stores_nothing_and_succeeds(
    app: FastAPI, fx: FxState, empty: str
) -> None:
    # FACTS §3 leaves open whether an empty v2 query is 404 "not found" or []: both are empty.
    fx.variants = fx.variants.with_changes({"v2_empty": empty})
    fx.set_now(dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC))  # before any rate exists
    await run_public_unit(app, "fx_frankfurter", "history")
    assert fx.requests[-1].status == (404 if empty == "not_found" else 200)
    jobs = {row.unit_key: row.state for row in await public_jobs(app, "fx_frankfurter")}
    assert jobs == {"history": "succeeded"}
    assert await stored_rates(app, "frankfurter") == {}
