"""Payments end to end: the sandbox's FINANCIAL reports synced, then read back and checked
against the raw files."""

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.reports import fiscal
from app.sandbox.finance import generate_finance_rows
from app.sandbox.payment_regions import region_of
from app.sandbox.state import SandboxState, utc_now
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit

NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)
MAY_2025 = "2025-08"  # fiscal 2025, period 8: 05/04/2025–05/31/2025, Apple's "May 2025"

#: ISO 4217 currencies without minor units, among those Apple pays in (ISO 4217 list one).
ISO_ZERO_DECIMALS = frozenset({"CLP", "ISK", "JPY", "KRW", "VND", "UGX", "XAF", "XOF"})


def _minor(amount: object, currency: str) -> str:
    """An amount as Orchard writes it: the currency's ISO 4217 minor units (issue 15)."""
    places = Decimal(1).scaleb(-(0 if currency in ISO_ZERO_DECIMALS else 2))
    return format(Decimal(str(amount)).quantize(places), "f")


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now
    return state


def test_fiscal_calendar_estimate() -> None:
    may = fiscal.FiscalPeriod.parse(MAY_2025)
    assert may.bounds() == (dt.date(2025, 5, 4), dt.date(2025, 5, 31))
    assert may.month == dt.date(2025, 5, 1)
    assert fiscal.FiscalPeriod.parse("2014-12").bounds() == (
        dt.date(2014, 8, 31),
        dt.date(2014, 9, 27),
    )
    assert fiscal.FiscalPeriod.parse("2022-01").bounds()[0] == dt.date(2021, 9, 26)
    assert fiscal.period_containing(dt.date(2025, 6, 10)).key == "2025-09"
    # May's report is expected a week after May 31; on June 10 it is the newest one.
    assert fiscal.latest_available(NOW).key == MAY_2025
    assert fiscal.latest_available(dt.datetime(2025, 6, 3, tzinfo=dt.UTC)).key == "2025-07"
    assert [p.key for p in fiscal.periods_between(dt.date(2025, 3, 1), dt.date(2025, 5, 10))] == [
        "2025-05",
        "2025-06",
        "2025-07",
        "2025-08",
    ]
    with pytest.raises(ValueError, match="fiscal period"):
        fiscal.FiscalPeriod.parse("2025-13")


async def _get(client: httpx.AsyncClient, tenant: Tenant, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("finance_regions", ["JP,EU"])
async def test_payouts_match_the_raw_files(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("FINANCE",)))
    assert response.status_code == 201, response.text
    assert response.json()["capabilities"]["finance"]["available"] is True
    account_id = uuid.UUID(response.json()["id"])
    await run_unit(app, account_id, "finance_monthly", MAY_2025)

    raw = generate_finance_rows(sandbox.team("acme"), 2025, 8, "ZZ")
    assert len(raw) > 60
    expected: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"units_sold": 0, "returns": 0, "earned": Decimal(0), "rows": 0}
    )
    for row in raw:
        # One payment per payment region and currency: US, LL and WW all pay in USD.
        entry = expected[(region_of(row["Country Of Sale"]), row["Partner Share Currency"])]
        quantity = int(row["Quantity"])
        if row["Sales or Return"] == "R":
            entry["returns"] -= quantity
        else:
            entry["units_sold"] += quantity
        entry["earned"] += Decimal(row["Extended Partner Share"])
        entry["rows"] += 1
    assert any(entry["returns"] for entry in expected.values())

    report = await _get(client, tenant, "/v1/payments", from_period="2025-04", to_period="2025-05")
    items = report["items"]
    assert [(item["payment_region"], item["currency"]) for item in items] == sorted(expected)
    assert {region for region, currency in expected if currency == "USD"} == {"US", "LL", "WW"}
    for item in items:
        want = expected[(item["payment_region"], item["currency"])]
        assert (item["period"], item["region"], item["account_id"]) == (
            "2025-05",
            "ZZ",
            str(account_id),
        )
        assert (item["period_start"], item["period_end"]) == ("2025-05-04", "2025-05-31")
        assert (item["units_sold"], item["returns"], item["rows"]) == (
            want["units_sold"],
            want["returns"],
            want["rows"],
        )
        assert item["net_units"] == want["units_sold"] - want["returns"]
        assert item["earned"] == {
            "amount": _minor(want["earned"], item["currency"]),
            "currency": item["currency"],
        }
    # April was never fetched: it is listed, not shown as zero.
    assert report["incomplete_periods"] == [
        {"period": "2025-04", "account_id": str(account_id), "state": "not_fetched"}
    ]

    # Paging through the summary gives the same items.
    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"from_period": "2025-05", "to_period": "2025-05", "limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = await _get(client, tenant, "/v1/payments", **params)
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == items

    # The rows behind the figures, by cursor, in the file's order.
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 25} | ({"cursor": cursor} if cursor else {})
        page = await _get(client, tenant, "/v1/payments/2025-05/rows", **params)
        rows += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(rows) == len(raw)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    for got, want in zip(rows, raw, strict=True):
        currency = want["Partner Share Currency"]
        assert got["vendor_identifier"] == want["Vendor Identifier"]
        assert got["quantity"] == int(want["Quantity"])
        assert got["partner_share"] == {
            "amount": _minor(want["Partner Share"], currency),
            "currency": currency,
        }
        assert got["extended_partner_share"] == {
            "amount": _minor(want["Extended Partner Share"], currency),
            "currency": currency,
        }
        assert got["customer_price"] == {
            "amount": _minor(want["Customer Price"], want["Customer Currency"]),
            "currency": want["Customer Currency"],
        }
        assert (got["sale_or_return"], got["country_of_sale"]) == (
            want["Sales or Return"],
            want["Country Of Sale"],
        )
        assert got["extra"] == {"Artist/Show/Developer/Author": "acme"}
    euro = await _get(client, tenant, "/v1/payments/2025-05/rows", currency="EUR", limit=200)
    assert euro["items"] and {r["partner_share"]["currency"] for r in euro["items"]} == {"EUR"}

    # Regional files, fetched besides ZZ, are reported under their own region only.
    for region in ("JP", "EU"):
        regional = generate_finance_rows(sandbox.team("acme"), 2025, 8, region)
        [item] = (await _get(client, tenant, "/v1/payments", to_period="2025-05", region=region))[
            "items"
        ]
        total = sum(Decimal(row["Extended Partner Share"]) for row in regional)
        assert (item["rows"], item["earned"]["amount"]) == (
            len(regional),
            _minor(total, item["currency"]),
        )
        assert item["earned"]["amount"] == _minor(
            expected[(region, item["currency"])]["earned"], item["currency"]
        )

    # Another workspace sees none of it.
    theirs = await _get(
        client, other_tenant, "/v1/payments", from_period="2025-05", to_period="2025-05"
    )
    assert theirs == {"items": [], "next_cursor": None, "incomplete_periods": []}
    assert (await _get(client, other_tenant, "/v1/payments/2025-05/rows"))["items"] == []
    stolen = await client.get(
        "/v1/payments",
        params={"account_id": str(account_id)},
        headers=other_tenant.headers(),
    )
    assert stolen.status_code == 404

    for params in (
        {"from_period": "2025-13"},
        {"from_period": "2025-06", "to_period": "2025-05"},
        {"region": "europe"},
        {"cursor": "nonsense"},
    ):
        bad = await client.get("/v1/payments", params=params, headers=tenant.headers())
        assert bad.status_code == 422, params
    assert (
        await client.get("/v1/payments/2025-5/rows", headers=tenant.headers())
    ).status_code == 422
