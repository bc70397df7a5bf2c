"""Frankfurter v1 (FACTS §3; [R-FRANK] v1 openapi and ``versions/v1``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from app.sandbox.fx import FxState, FxVariants
from tests.sandbox.fx.conftest import FakeClock
from tests.sandbox.fx.helpers import GAP, ROSTER_2025

ROSTER = set(ROSTER_2025)


def ecb(state: FxState, day: str, code: str) -> float:
    rate = state.rate(date.fromisoformat(day), code)
    assert rate is not None
    return float(rate)


async def test_latest(client: httpx.AsyncClient, state: FxState) -> None:
    response = await client.get("/v1/latest")
    assert response.status_code == 200
    body = response.json()
    assert body["amount"] == 1.0 and body["base"] == "EUR" and body["date"] == "2025-06-10"
    assert set(body["rates"]) == ROSTER  # ECB data only (v1_source="ecb")
    assert list(body["rates"]) == sorted(body["rates"])
    assert body["rates"]["USD"] == ecb(state, "2025-06-10", "USD")  # the ECB's own digits
    assert (await client.get("/latest")).json() == body  # the older unversioned path
    assert (await client.get("/v1/current")).json() == body


async def test_latest_before_four_pm_is_yesterday(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 6, 10, 9, tzinfo=UTC)
    assert (await client.get("/v1/latest")).json()["date"] == "2025-06-09"


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        ("2025-06-06", "2025-06-06"),
        ("2025-06-07", "2025-06-06"),  # Saturday → Friday
        ("2025-06-08", "2025-06-06"),
        ("2025-04-21", "2025-04-17"),  # Easter Monday → Maundy Thursday
        ("2025-01-01", None),  # before the first fix: not found
        ("2030-01-01", "2025-06-10"),  # a future date → latest
    ],
)
async def test_date_falls_back_to_the_previous_working_day(
    client: httpx.AsyncClient, asked: str, served: str | None
) -> None:
    response = await client.get(f"/v1/{asked}")
    if served is None:
        assert response.status_code == 404 and response.json() == {"message": "not found"}
    else:
        assert response.json()["date"] == served


async def test_range(client: httpx.AsyncClient, state: FxState) -> None:
    body = (await client.get("/v1/2025-06-01..2025-06-10?symbols=USD,GBP")).json()
    # 1 June is a Sunday: the range starts at the previous working day, 30 May.
    assert body["start_date"] == "2025-05-30" and body["end_date"] == "2025-06-10"
    assert list(body["rates"]) == ["2025-05-30", "2025-06-02", "2025-06-03", "2025-06-04",
                                   "2025-06-05", "2025-06-06", "2025-06-09", "2025-06-10"]  # fmt: skip
    assert body["rates"]["2025-06-04"] == {
        "GBP": ecb(state, "2025-06-04", "GBP"),
        "USD": ecb(state, "2025-06-04", "USD"),
    }
    open_ended = (await client.get("/v1/2025-06-05..?symbols=USD")).json()
    assert open_ended["end_date"] == "2025-06-10"
    assert (await client.get("/v1/2026-01-01..2026-02-01")).status_code == 404


async def test_rebase_amount_and_symbols(client: httpx.AsyncClient, state: FxState) -> None:
    body = (await client.get("/v1/2025-06-10?base=USD&symbols=EUR,JPY,GBP")).json()
    assert body["base"] == "USD" and set(body["rates"]) == {"EUR", "GBP", "JPY"}
    usd, jpy = Decimal(str(ecb(state, "2025-06-10", "USD"))), state.rate(date(2025, 6, 10), "JPY")
    assert jpy is not None
    expected_jpy = (jpy / usd).quantize(Decimal("0.01"), ROUND_HALF_UP)  # > 80: two decimals
    assert body["rates"]["JPY"] == float(expected_jpy)
    assert body["rates"]["EUR"] == pytest.approx(float(1 / usd), abs=1e-5)
    aliases = (await client.get("/v1/2025-06-10?from=USD&to=EUR,JPY,GBP")).json()
    assert aliases == body
    doubled = (await client.get("/v1/2025-06-10?amount=2&symbols=CHF")).json()
    assert doubled["amount"] == 2.0
    assert doubled["rates"]["CHF"] == pytest.approx(2 * ecb(state, "2025-06-10", "CHF"), abs=1e-4)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/v1/2025-13-45", 422, "invalid date"),
        ("/v1/latest?amount=0", 422, "invalid amount"),
        ("/v1/latest?amount=abc", 422, "invalid amount"),
        ("/v1/latest?base=USD&symbols=USD", 422, "bad currency pair"),
        ("/v1/latest?base=XYZ", 404, "not found"),
        ("/v1/latest?symbols=RUB", 404, "not found"),  # not an ECB currency any more
    ],
)
async def test_errors(client: httpx.AsyncClient, path: str, status: int, message: str) -> None:
    response = await client.get(path)
    assert response.status_code == status and response.json() == {"message": message}


async def test_unknown_v1_path(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/rates")).status_code == 404


async def test_currencies(client: httpx.AsyncClient) -> None:
    names = (await client.get("/v1/currencies")).json()
    assert set(names) == ROSTER | {"EUR"}
    assert names["USD"] == "US Dollar" and names["EUR"] == "Euro"


async def test_variant_blended_v1_adds_the_gap_currencies(
    client: httpx.AsyncClient, state: FxState
) -> None:
    state.variants = FxVariants(v1_source="blended")
    rates = (await client.get("/v1/latest")).json()["rates"]
    gap = set(GAP)
    assert gap <= set(rates)
    assert rates["RUB"] == float(state.rate(date(2025, 6, 10), "RUB"))  # type: ignore[arg-type]
    names = (await client.get("/v1/currencies")).json()
    assert gap <= set(names)
