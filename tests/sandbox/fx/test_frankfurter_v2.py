"""Frankfurter v2 (FACTS §3; [R-FRANK] v2 openapi and ``RateQuery``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from app.sandbox.fx import FxState, FxVariants
from app.sandbox.fx.numbers import frankfurter_round
from tests.sandbox.fx.helpers import GAP

TODAY = "2025-06-10"


def by_quote(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(row["quote"]): row for row in rows}


async def test_latest_covers_ecb_and_gap_currencies(
    client: httpx.AsyncClient, state: FxState
) -> None:
    response = await client.get("/v2/rates")
    assert response.status_code == 200
    rows = response.json()
    assert all(set(row) == {"date", "base", "quote", "rate"} for row in rows)
    assert [row["quote"] for row in rows] == sorted(row["quote"] for row in rows)
    quotes = by_quote(rows)
    assert set(GAP) <= set(quotes) and "USD" in quotes and "JPY" in quotes
    assert quotes["EUR"] == {"date": TODAY, "base": "EUR", "quote": "EUR", "rate": 1.0}
    usd = state.rate(date(2025, 6, 10), "USD")
    assert usd is not None
    assert quotes["USD"]["rate"] == float(frankfurter_round(usd))
    # Pegs: the USD row times the peg (FACTS §3), dated like the USD row.
    assert quotes["AED"]["rate"] == float(frankfurter_round(usd * Decimal("3.6725")))
    assert quotes["AED"]["date"] == quotes["USD"]["date"] == TODAY
    # Monthly providers: PKR (SBP) and TWD (CBC) are dated the last weekday of May.
    assert quotes["PKR"]["date"] == quotes["TWD"]["date"] == "2025-05-30"
    pkr = state.rate(date(2025, 5, 30), "PKR")
    assert quotes["PKR"]["rate"] == float(pkr)  # type: ignore[arg-type]


async def test_frankfurter_rounding_differs_from_the_ecb_digits(
    client: httpx.AsyncClient, state: FxState
) -> None:
    idr = state.rate(date(2025, 6, 10), "IDR")
    assert idr is not None and idr != idr.to_integral_value()
    blended = by_quote((await client.get("/v2/rates?quotes=IDR")).json())["IDR"]["rate"]
    assert blended == int(frankfurter_round(idr)) and isinstance(blended, int)
    # A single provider's own digits pass through unrounded ([R-FRANK] passthrough).
    pinned = by_quote((await client.get("/v2/rates?quotes=IDR&providers=ECB")).json())
    assert pinned["IDR"]["rate"] == float(idr)


async def test_base_quotes_and_weekend_fallback(client: httpx.AsyncClient, state: FxState) -> None:
    rows = (await client.get("/v2/rates?base=USD&quotes=EUR,JPY,RUB&date=2025-06-08")).json()
    quotes = by_quote(rows)
    assert set(quotes) == {"EUR", "JPY", "RUB"}
    assert all(row["base"] == "USD" for row in rows)
    assert quotes["JPY"]["date"] == "2025-06-06"  # Sunday → Friday's fix
    usd, jpy = state.rate(date(2025, 6, 6), "USD"), state.rate(date(2025, 6, 6), "JPY")
    assert usd is not None and jpy is not None
    assert quotes["JPY"]["rate"] == float(frankfurter_round(jpy / usd))
    assert quotes["EUR"]["rate"] == float(frankfurter_round(1 / usd))


async def test_expand_providers(client: httpx.AsyncClient, state: FxState) -> None:
    rows = by_quote((await client.get("/v2/rates?expand=providers&quotes=USD,RUB,AED")).json())
    usd = state.rate(date(2025, 6, 10), "USD")
    assert rows["USD"]["providers"] == [{"key": "ECB", "date": TODAY, "rate": float(usd)}]  # type: ignore[arg-type]
    assert rows["RUB"]["providers"][0]["key"] == "CBR"  # type: ignore[index]
    assert "providers" not in rows["AED"]  # pegged rows carry none
    state.variants = FxVariants(v2_provider_dates=False)
    rows = by_quote((await client.get("/v2/rates?expand=providers&quotes=USD")).json())
    assert rows["USD"]["providers"] == [{"key": "ECB", "rate": float(usd)}]  # type: ignore[arg-type]


async def test_providers_filter_drops_pegs_and_others(client: httpx.AsyncClient) -> None:
    quotes = by_quote((await client.get("/v2/rates?providers=ECB")).json())
    assert not set(GAP) & set(quotes)
    cbr = by_quote((await client.get("/v2/rates?providers=CBR")).json())
    assert set(cbr) == {"RUB", "EUR"}


async def test_series(client: httpx.AsyncClient, state: FxState) -> None:
    rows = (await client.get("/v2/rates?from=2025-06-01&to=2025-06-10&quotes=USD,PKR")).json()
    keys = [(row["date"], row["quote"]) for row in rows]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    usd_days = [row["date"] for row in rows if row["quote"] == "USD"]
    # Sunday 1 June snaps back to Friday 30 May; then every fix once.
    assert usd_days == ["2025-05-30", "2025-06-02", "2025-06-03", "2025-06-04", "2025-06-05",
                        "2025-06-06", "2025-06-09", "2025-06-10"]  # fmt: skip
    assert [row["date"] for row in rows if row["quote"] == "PKR"] == ["2025-05-30"]
    open_ended = (await client.get("/v2/rates?from=2025-06-09&quotes=USD")).json()
    assert [row["date"] for row in open_ended if row["quote"] == "USD"] == ["2025-06-09", TODAY]


@pytest.mark.parametrize(("group", "first"), [("week", "2025-04-28"), ("month", "2025-05-01")])
async def test_grouped_series(client: httpx.AsyncClient, group: str, first: str) -> None:
    path = f"/v2/rates?from=2025-05-02&to=2025-06-10&quotes=USD&group={group}"
    rows = [row for row in (await client.get(path)).json() if row["quote"] == "USD"]
    days = [row["date"] for row in rows]
    assert days[0] == first and days == sorted(days)
    assert len(days) == (7 if group == "week" else 2)  # buckets dated by their first day


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("colour=red", "unknown parameter: colour"),
        ("date=2025-02-30", "invalid date"),
        ("date=2025-06-02&from=2025-06-01", "conflicting params"),
        ("group=year&from=2025-01-02", "invalid group"),
        ("expand=everything", "invalid expand: everything"),
        ("quotes=USD,XYZ", "invalid currency: XYZ"),
        ("base=ABC", "invalid currency: ABC"),
    ],
)
async def test_validation_errors(client: httpx.AsyncClient, query: str, message: str) -> None:
    response = await client.get(f"/v2/rates?{query}")
    assert response.status_code == 422
    assert response.json() == {"status": 422, "message": message}


async def test_no_data(client: httpx.AsyncClient, state: FxState) -> None:
    response = await client.get("/v2/rates?date=2024-06-03")  # before history_start
    assert response.status_code == 404 and response.json() == {
        "status": 404,
        "message": "not found",
    }
    state.variants = FxVariants(v2_empty="empty_list")
    response = await client.get("/v2/rates?date=2024-06-03")
    assert response.status_code == 200 and response.json() == []
    assert (await client.get("/v2/nothing")).json() == {"status": 404, "message": "not found"}


async def test_identity_row_variant(client: httpx.AsyncClient, state: FxState) -> None:
    state.variants = FxVariants(v2_identity_row=False)
    assert "EUR" not in by_quote((await client.get("/v2/rates")).json())


async def test_one_pair(client: httpx.AsyncClient, state: FxState) -> None:
    row = (await client.get("/v2/rate/EUR/USD")).json()
    usd = state.rate(date(2025, 6, 10), "USD")
    assert row == {"date": TODAY, "base": "EUR", "quote": "USD", "rate": float(usd)}  # type: ignore[arg-type]
    dated = (await client.get("/v2/rate/usd/jpy?date=2025-06-07")).json()
    assert dated["date"] == "2025-06-06" and dated["base"] == "USD"
    assert (await client.get("/v2/rate/EUR/XYZ")).status_code == 422
    missing = await client.get("/v2/rate/EUR/USD?date=2020-01-01")
    assert missing.status_code == 404


async def test_csv_output(client: httpx.AsyncClient) -> None:
    text = (await client.get("/v2/rates.csv?quotes=USD,GBP")).text
    lines = text.splitlines()
    assert lines[0] == "date,base,quote,rate" and len(lines) == 3
    assert lines[1].startswith("2025-06-10,EUR,GBP,")
    accept = await client.get("/v2/rates?quotes=USD,GBP", headers={"Accept": "text/csv"})
    assert accept.headers["content-type"].startswith("text/csv") and accept.text == text


async def test_gap_source_variant_moves_gap_currencies_to_the_imf(
    client: httpx.AsyncClient, state: FxState
) -> None:
    state.variants = FxVariants(gap_source="imf")
    rows = by_quote((await client.get("/v2/rates?expand=providers&quotes=PKR,VND")).json())
    assert rows["PKR"]["date"] == TODAY  # the IMF publishes daily
    assert rows["VND"]["providers"][0]["key"] == "IMF"  # type: ignore[index]
    assert state.quote(date(2025, 6, 10), "PKR").source == "frankfurter:IMF"  # type: ignore[union-attr]


async def test_provider_outage_falls_back_to_its_previous_day(
    client: httpx.AsyncClient, state: FxState
) -> None:
    state.skip_day(date(2025, 6, 10), source="NBK")
    rows = by_quote((await client.get("/v2/rates?quotes=KZT")).json())
    assert rows["KZT"]["date"] == "2025-06-09"


async def test_currencies_and_providers(client: httpx.AsyncClient, state: FxState) -> None:
    listed = (await client.get("/v2/currencies")).json()
    codes = [c["iso_code"] for c in listed]
    assert codes == sorted(codes) and set(GAP) <= set(codes) and "HRK" not in codes
    usd = next(c for c in listed if c["iso_code"] == "USD")
    assert usd == {"iso_code": "USD", "iso_numeric": "840", "name": "United States Dollar",
                   "symbol": "$", "start_date": "2025-01-02", "end_date": TODAY,
                   "providers": ["ECB"]}  # fmt: skip
    everything = (await client.get("/v2/currencies?scope=all")).json()
    assert "HRK" in [c["iso_code"] for c in everything]
    aed = (await client.get("/v2/currency/aed")).json()
    assert aed["peg"] == {"base": "USD", "rate": 3.6725, "authority": "Central Bank of the UAE"}
    assert (await client.get("/v2/currency/XYZ")).status_code == 404
    providers = (await client.get("/v2/providers")).json()
    keys = [p["key"] for p in providers]
    assert keys == sorted(keys) and {"ECB", "CBR", "SBP", "CBC"} <= set(keys)
    sbp = next(p for p in providers if p["key"] == "SBP")
    assert sbp["currencies"] == ["PKR"] and sbp["end_date"] == "2025-05-30"
