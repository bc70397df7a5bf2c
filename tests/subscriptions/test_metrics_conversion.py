"""Subscription metrics in one reporting currency: a fixture of Subscriber and Subscription
files (USD, EUR and KZT, across a weekend) synced through the engine, fixed manual EUR→USD
rates uploaded through the API, and every converted value computed here by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit
from tests.subscriptions.apple import app_with
from tests.subscriptions.test_metrics_by_hand import (
    DE,
    MONTHLY,
    SNAPSHOT_HEADER,
    SUBSCRIBER_HEADER,
    US,
    YEARLY,
    DatedApple,
    _charge,
    _snap,
    _tsv,
)

KZ = {"Country": "KZ", "Customer Currency": "KZT", "Proceeds Currency": "KZT"}
REFUND = {"Refund": "Yes", "Units": "0"}
# Report date → rows. Event Dates: Wed 8, Fri 10, Sat 11, Sun 12, Mon 13, Tue 14 Jan 2025.
SUBSCRIBERS = {
    "2025-01-10": [
        _charge("2025-01-08", "sub-E", MONTHLY, DE, "8.99", "7.00"),
        _charge("2025-01-08", "sub-K", MONTHLY, KZ, "4500", "3000"),
        _charge("2025-01-10", "sub-A"),  # USD 6.99
    ],
    "2025-01-12": [
        _charge("2025-01-11", "sub-B", MONTHLY, DE, "8.99", "7.00"),
        _charge("2025-01-12", "sub-C", YEARLY, DE, "49.99", "35.00"),
    ],
    "2025-01-14": [
        _charge("2025-01-13", "sub-D", MONTHLY, DE, "8.99", "7.00"),
        _charge("2025-01-14", "sub-B", MONTHLY, DE, "-8.99", "7.00",
                **REFUND, **{"Purchase Date": "2025-01-11"}),
    ],
    "2025-02-10": [_charge("2025-02-10", "sub-A")],  # so January's cohort month is over
}  # fmt: skip
SNAPSHOTS = {
    "2025-01-12": [
        _snap(MONTHLY, US, "9.99", "6.99", standard=10, trial=2),
        _snap(YEARLY, DE, "49.99", "35.00", standard=4),
        _snap(MONTHLY, KZ, "4500", "3000", standard=2),
    ],
    "2025-01-14": [
        _snap(MONTHLY, US, "9.99", "6.99", standard=10),
        _snap(YEARLY, DE, "49.99", "35.00", standard=5),
    ],
}
#: Manual EUR→USD fixes: none on the weekend (Friday's converts Saturday and Sunday).
RATES = {
    "2025-01-06": "1.0300",
    "2025-01-08": "1.0400",
    "2025-01-10": "1.0500",
    "2025-01-13": "1.0600",
    "2025-01-14": "1.0700",
}
CENT = Decimal("0.01")


def r(day: str) -> Decimal:
    """The EUR→USD rate converting ``day``: the latest fix on or before it."""
    return Decimal(RATES[max(d for d in RATES if d <= day)])


def usd(value: Decimal) -> str:
    return str(value.quantize(CENT, ROUND_HALF_EVEN))


@pytest.fixture
async def synced(
    settings: Settings, tenant: Tenant, sandbox: SandboxState
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    apple = DatedApple()
    apple.files = {}
    plan = (
        ("SUBSCRIPTION", "subscriptions_daily", SNAPSHOT_HEADER, SNAPSHOTS),
        ("SUBSCRIBER", "subscribers_daily", SUBSCRIBER_HEADER, SUBSCRIBERS),
    )
    for report, _, header, files in plan:
        for day, rows in files.items():
            apple.files[(report, day)] = _tsv(header, rows)
    async with app_with(settings, apple) as application:
        account_id = (await link_new_key(application, tenant, sandbox))[0]
        for _, dataset, _, files in plan:
            for day in files:
                await run_unit(application, account_id, dataset, day)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard") as client:
            rates = [
                {"date": day, "base": "EUR", "quote": "USD", "rate": rate}
                for day, rate in RATES.items()
            ]
            response = await client.put(
                "/v1/fx/rates", json={"rates": rates}, headers=tenant.headers()
            )
            assert response.status_code == 200, response.text
            yield application, client


async def _metrics(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await client.get(
        "/v1/subscriptions/metrics", params=params, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _by_currency(money: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["currency"]: m for m in money}


async def test_flows_convert_each_event_date_at_its_own_rate(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant
) -> None:
    _, client = synced
    body = await _metrics(
        client, tenant, metric="proceeds,net_proceeds,refunded_proceeds,arppu",
        granularity="month", **{"from": "2025-01-01", "to": "2025-01-31"}, currency="usd",
    )  # fmt: skip
    assert body["currency"] == "USD"
    [bucket] = body["items"]
    values, totals = bucket["values"], bucket["values_total_converted"]
    # EUR proceeds on Wed 8 (1.04), Sat 11 + Sun 12 (Friday's 1.05), Mon 13 (1.06).
    eur = Decimal("7.00") * r("2025-01-08") + Decimal("42.00") * r("2025-01-11")
    eur += Decimal("7.00") * r("2025-01-13")
    assert r("2025-01-11") == r("2025-01-12") == Decimal("1.0500")
    proceeds = _by_currency(values["proceeds"])
    assert proceeds["EUR"]["amount"] == "56.00"
    converted = proceeds["EUR"]["converted"]
    assert converted["amount"] == usd(eur) == "58.80"
    assert converted["rate"] is None and converted["complete"] is True  # several rates
    assert [(x["rate_date"], x["rate"]) for x in converted["rates"]] == [
        ("2025-01-08", "1.0400"),
        ("2025-01-10", "1.0500"),
        ("2025-01-13", "1.0600"),
    ]
    assert proceeds["USD"]["converted"]["amount"] == "6.99"
    assert proceeds["USD"]["converted"]["source"] == "identity"
    assert proceeds["KZT"]["converted"] is None
    total = totals["proceeds"]
    assert total == {
        "amount": usd(eur + Decimal("6.99")),
        "currency": "USD",
        "partial": True,
        "unconverted": [
            {
                "amount": "3000",
                "currency": "KZT",
                "reason": "no_rate",
                "detail": total["unconverted"][0]["detail"],
            }
        ],
    }
    assert "2025-01-08" in total["unconverted"][0]["detail"]
    # The refund (Tue 14) converts at Tuesday's rate, not at the month's or the charge's.
    refund = Decimal("7.00") * r("2025-01-14")
    assert totals["refunded_proceeds"]["amount"] == usd(refund) == "7.49"
    assert totals["refunded_proceeds"]["partial"] is False
    net = eur - refund + Decimal("6.99")
    assert totals["net_proceeds"]["amount"] == usd(net)
    # arppu: converted net proceeds ÷ distinct payers (A, B, C, D, E, K: 6), rounded once.
    assert totals["arppu"]["amount"] == usd(net / 6)
    assert totals["arppu"]["partial"] is True
    arppu = _by_currency(values["arppu"])
    assert arppu["EUR"]["converted"]["amount"] == usd((eur - refund) / 4)  # B, C, D, E

    # The same month, one rate for the month (any of them) would differ: by day it is not.
    week = await _metrics(
        client, tenant, metric="proceeds", granularity="week",
        **{"from": "2025-01-06", "to": "2025-01-12"}, currency="USD",
    )  # fmt: skip
    [bucket] = week["items"]
    weekly = Decimal("7.00") * r("2025-01-08") + Decimal("42.00") * r("2025-01-11")
    assert bucket["values_total_converted"]["proceeds"]["amount"] == usd(weekly + Decimal("6.99"))


async def test_stocks_convert_at_the_as_of_rate_and_movements_at_the_last_day(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant
) -> None:
    _, client = synced
    body = await _metrics(
        client, tenant, metric="mrr,arr,arpu,mrr_new", granularity="day",
        **{"from": "2025-01-12", "to": "2025-01-12"}, currency="USD",
    )  # fmt: skip
    [bucket] = body["items"]
    assert bucket["as_of"] == "2025-01-12"
    mrr = _by_currency(bucket["values"]["mrr"])
    eur = Decimal("140.00") / 12  # 4 yearly subscriptions of 35.00, unrounded
    assert mrr["EUR"]["amount"] == "11.67"
    # A Sunday: Friday's fix; the exact MRR converts, not its rounded amount.
    assert mrr["EUR"]["converted"]["amount"] == usd(eur * r("2025-01-12")) == "12.25"
    assert mrr["EUR"]["converted"]["rate_date"] == "2025-01-10"
    totals = bucket["values_total_converted"]
    assert totals["mrr"]["amount"] == usd(Decimal("69.90") + eur * r("2025-01-12"))
    assert totals["mrr"]["unconverted"][0]["currency"] == "KZT"
    assert totals["arr"]["amount"] == usd(12 * (Decimal("69.90") + eur * r("2025-01-12")))
    # arpu: Sunday's net proceeds (C: EUR 35.00) ÷ all 18 active subscriptions.
    assert totals["arpu"]["amount"] == usd(Decimal("35.00") * r("2025-01-12") / 18)
    assert totals["arpu"]["partial"] is False

    month = await _metrics(
        client, tenant, metric="mrr,mrr_new", granularity="month",
        **{"from": "2025-01-01", "to": "2025-01-14"}, currency="USD",
    )  # fmt: skip
    [bucket] = month["items"]
    assert bucket["as_of"] == "2025-01-14"
    mrr = _by_currency(bucket["values"]["mrr"])
    assert mrr["EUR"]["converted"]["rate"] == "1.0700"  # the as_of date's, not an average
    # mrr_new is a difference of two MRR states: the rate of the bucket's last day in range
    # (the 14th). New in EUR: E and D monthly (7.00 each), C yearly (35.00 / 12); B's charge
    # was refunded.
    new = _by_currency(bucket["values"]["mrr_new"])
    exact = Decimal("14.00") + Decimal("35.00") / 12
    assert new["EUR"]["amount"] == "16.92"
    assert new["EUR"]["converted"]["rate_date"] == "2025-01-14"
    assert new["EUR"]["converted"]["amount"] == usd(exact * r("2025-01-14")) == "18.10"
    assert bucket["values_total_converted"]["mrr_new"]["amount"] == usd(
        exact * r("2025-01-14") + Decimal("6.99")
    )

    # A month read up to its end: the last fix (14th) is older than the allowed 7 days on the
    # 31st, so the movements stay unconverted — listed, never zero.
    late = await _metrics(
        client, tenant, metric="mrr_new", granularity="month",
        **{"from": "2025-01-01", "to": "2025-01-31"}, currency="USD",
    )  # fmt: skip
    total = late["items"][0]["values_total_converted"]["mrr_new"]
    assert total["partial"] is True
    assert {u["currency"] for u in total["unconverted"]} == {"EUR", "KZT"}
    assert total["amount"] == "6.99"


async def test_the_workspace_default_applies_and_the_parameter_overrides(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant
) -> None:
    _, client = synced
    params = {"metric": "proceeds", "granularity": "day", "from": "2025-01-11", "to": "2025-01-11"}
    plain = await _metrics(client, tenant, **params)
    assert "currency" not in plain and "values_total_converted" not in plain["items"][0]
    assert all(set(m) == {"amount", "currency"} for m in plain["items"][0]["values"]["proceeds"])

    response = await client.patch(
        "/v1/fx/settings", json={"reporting_currency": "USD"}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    body = await _metrics(client, tenant, **params)
    assert body["currency"] == "USD"
    assert body["items"][0]["values_total_converted"]["proceeds"]["amount"] == usd(
        Decimal("7.00") * r("2025-01-11")
    )
    body = await _metrics(client, tenant, **params, currency="EUR")
    assert body["currency"] == "EUR"
    total = body["items"][0]["values_total_converted"]["proceeds"]
    assert total == {"amount": "7.00", "currency": "EUR", "partial": False, "unconverted": []}
    # Count metrics only: nothing to convert, the document as without a currency.
    counts = await _metrics(client, tenant, **{**params, "metric": "transactions"})
    assert "currency" not in counts and "values_total_converted" not in counts["items"][0]
    # The rows and the cohorts take the default too (the rows read it with the rows).
    rows = {k: v for k, v in params.items() if k != "granularity"}
    response = await client.get(
        "/v1/subscriptions/metrics/rows", params=rows, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert response.json()["currency"] == "USD"
    assert response.json()["amounts_total_converted"]["amount"] == usd(
        Decimal("7.00") * r("2025-01-11")
    )
    response = await client.get(
        "/v1/subscriptions/cohorts",
        params={"metric": "revenue", "from": "2025-01-01", "to": "2025-01-01", "currency": "eur"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json()["currency"] == "EUR"


async def test_metric_rows_convert_each_row_at_its_own_day(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant
) -> None:
    _, client = synced
    params = {"metric": "proceeds", "from": "2025-01-08", "to": "2025-01-12"}
    plain = await client.get(
        "/v1/subscriptions/metrics/rows", params=params, headers=tenant.headers()
    )
    assert plain.status_code == 200, plain.text
    assert "currency" not in plain.json() and "amounts_total_converted" not in plain.json()
    assert all(set(i["amount"]) == {"amount", "currency"} for i in plain.json()["items"])

    response = await client.get(
        "/v1/subscriptions/metrics/rows",
        params={**params, "currency": "USD"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currency"] == "USD"
    seen = {}
    for item in body["items"]:
        amount, converted = item["amount"], item["amount"]["converted"]
        day = item["event_date"]
        if amount["currency"] == "KZT":
            assert converted is None
            continue
        rate = Decimal(1) if amount["currency"] == "USD" else r(day)
        assert converted["amount"] == usd(Decimal(amount["amount"]) * rate)
        seen[item["detail"]["subscriber_id"]] = converted["rate_date"]
    # Saturday's charge (B) at Friday's fix; Wednesday's (E) at Wednesday's.
    assert seen["sub-B"] == "2025-01-10" and seen["sub-E"] == "2025-01-08"
    total = body["amounts_total_converted"]
    assert total["amount"] == usd(
        Decimal("7.00") * r("2025-01-08") + Decimal("6.99") + Decimal("42.00") * r("2025-01-11")
    )
    assert total["partial"] is True
    assert [(u["currency"], u["amount"]) for u in total["unconverted"]] == [("KZT", "3000")]


async def test_revenue_cohorts_convert_each_event_date(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant
) -> None:
    _, client = synced
    params = {"metric": "revenue", "from": "2025-01-01", "to": "2025-01-31", "periods": "1"}
    plain = await client.get("/v1/subscriptions/cohorts", params=params, headers=tenant.headers())
    assert plain.status_code == 200, plain.text
    assert "currency" not in plain.json()
    assert "amounts_total_converted" not in plain.json()["cohorts"][0]["periods"][0]

    response = await client.get(
        "/v1/subscriptions/cohorts", params={**params, "currency": "USD"}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["currency"] == "USD"
    [cohort] = body["cohorts"]
    assert cohort["size"] == 6  # A, B, C, D, E, K
    january, february = cohort["periods"]
    amounts = _by_currency(january["amounts"])
    assert amounts["EUR"]["amount"] == "49.00"  # 7 + 7 + 35 + 7 − 7 (B's refund)
    eur = Decimal("7.00") * r("2025-01-08") + Decimal("42.00") * r("2025-01-11")
    eur += Decimal("7.00") * r("2025-01-13") - Decimal("7.00") * r("2025-01-14")
    assert amounts["EUR"]["converted"]["amount"] == usd(eur) == "51.31"
    assert len(amounts["EUR"]["converted"]["rates"]) == 4
    assert amounts["KZT"]["converted"] is None
    total = january["amounts_total_converted"]
    assert total["amount"] == usd(eur + Decimal("6.99"))
    assert total["partial"] is True and total["unconverted"][0]["currency"] == "KZT"
    per = january["per_subscriber_total_converted"]
    assert per["amount"] == usd((eur + Decimal("6.99")) / 6) == "9.72"
    per_eur = _by_currency(january["per_subscriber"])["EUR"]
    assert per_eur["converted"]["amount"] == usd(eur / 6)
    # February is not over (data through 10 February): null, never zero.
    assert february["amounts"] is None
    assert february["amounts_total_converted"] is None
