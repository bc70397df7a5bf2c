"""The Search Ads read API: performance equal to the sandbox's own totals, derived measures
from sums, currencies never added, incomplete dates, campaigns, and an app's spend beside
its App Store proceeds."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from app.sandbox.searchads import AppleAdsState
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain
from tests.searchads.helpers import link_ok

#: ISO 4217 currencies without minor units (ISO 4217 list one), among Apple Ads currencies.
ISO_ZERO_DECIMALS = frozenset({"CLP", "ISK", "JPY", "KRW", "VND"})


def _minor(value: Decimal, currency: str) -> Decimal:
    """Money as Orchard writes it: the currency's ISO 4217 minor units, half-even (issue 15)."""
    places = Decimal(1).scaleb(-(0 if currency in ISO_ZERO_DECIMALS else 2))
    return value.quantize(places, rounding=ROUND_HALF_EVEN)


async def _synced(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState, **extra: Any
) -> dict[str, Any]:
    body = await link_ok(client, tenant, ads.add_credential(), **extra)
    await drain(app, plan=True)
    return body


def _window(ads: AppleAdsState) -> tuple[dt.date, dt.date]:
    # Days every account has fetched: the backfill (20 days) ends today in each zone.
    today = ads.now().date()
    return today - dt.timedelta(days=15), today - dt.timedelta(days=2)


async def test_campaign_totals_equal_the_sandbox_and_derive_from_sums(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    await _synced(app, client, tenant, ads)
    start, end = _window(ads)
    response = await client.get(
        "/v1/search-ads/performance",
        params={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "granularity": "total",
            "group_by": "campaign",
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["incomplete_dates"] == []
    items = {item["campaign_id"]: item for item in page["items"]}
    checked = 0
    for account in ads.accounts():
        if account.product != "APPSTORE":
            continue
        for campaign in ads.truth.campaigns(account):
            if campaign.app is None:
                continue
            values = ads.truth.values(ads.truth.metrics(campaign.id, start, end), account)
            item = items.get(campaign.id)
            if values["impressions"] == 0:
                assert item is None
                continue
            assert item is not None
            currency = account.currency
            assert Decimal(item["spend"]["amount"]) == _minor(values["localSpend"], currency)
            assert item["spend"]["currency"] == item["currency"] == account.currency
            assert item["installs"] == values["totalInstalls"]
            assert item["tap_installs"] == values["tapInstalls"]
            assert item["view_installs"] == values["viewInstalls"]
            assert item["new_downloads"] == values["totalNewDownloads"]
            if values["totalInstalls"]:
                cpa = _minor(values["localSpend"] / values["totalInstalls"], currency)
                assert Decimal(item["cpa"]["amount"]) == cpa
            checked += 1
    assert checked >= 6


async def test_currencies_are_never_added_and_days_split_by_country(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    await _synced(app, client, tenant, ads)
    start, end = _window(ads)
    response = await client.get(
        "/v1/search-ads/performance",
        params={"from": start.isoformat(), "to": end.isoformat(), "granularity": "total"},
        headers=tenant.headers(),
    )
    items = response.json()["items"]
    # No grouping asked: still one row per currency (USD, EUR, JPY), never a blended sum.
    assert sorted(i["currency"] for i in items) == ["EUR", "JPY", "USD"]
    by_day = await client.get(
        "/v1/search-ads/performance",
        params={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "group_by": "country,org",
            "limit": 5,
        },
        headers=tenant.headers(),
    )
    first = by_day.json()
    assert len(first["items"]) == 5 and first["next_cursor"]
    rest = await client.get(
        "/v1/search-ads/performance",
        params={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "group_by": "country,org",
            "limit": 5000,
            "cursor": first["next_cursor"],
        },
        headers=tenant.headers(),
    )
    rows = first["items"] + rest.json()["items"]
    keys = [(r["period_start"], r["ad_account_id"], r["country"]) for r in rows]
    assert len(keys) == len(set(keys))
    total_usd = sum(Decimal(r["spend"]["amount"]) for r in rows if r["currency"] == "USD")
    usd_total = next(i for i in items if i["currency"] == "USD")
    assert total_usd == Decimal(usd_total["spend"]["amount"])


async def test_unfetched_days_are_incomplete_and_bad_input_is_refused(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    await _synced(app, client, tenant, ads)
    today = ads.now().date()
    old = today - dt.timedelta(days=60)
    response = await client.get(
        "/v1/search-ads/performance",
        params={"from": old.isoformat(), "to": (old + dt.timedelta(days=2)).isoformat()},
        headers=tenant.headers(),
    )
    assert response.json()["incomplete_dates"] == [
        (old + dt.timedelta(days=i)).isoformat() for i in range(3)
    ]
    for params, field in (
        ({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-01-02", "group_by": "device"}, "group_by"),
        ({"from": "2026-01-01", "to": "2026-01-02", "granularity": "hour"}, "granularity"),
    ):
        bad = await client.get(
            "/v1/search-ads/performance", params=params, headers=tenant.headers()
        )
        assert bad.status_code == 422, params
        assert field in bad.text


async def test_campaign_list(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    eur = ads.account("EUR")
    await _synced(app, client, tenant, ads, sync_ad_accounts=[eur.ad_account_id])
    response = await client.get("/v1/search-ads/campaigns", headers=tenant.headers())
    items = response.json()["items"]
    truth = {c.id: c for c in ads.truth.campaigns(eur)}
    assert {i["campaign_id"] for i in items} == set(truth)
    for item in items:
        assert item["daily_budget"]["currency"] == "EUR"
        assert item["countries"]
    paused = await client.get(
        "/v1/search-ads/campaigns", params={"status": "PAUSED"}, headers=tenant.headers()
    )
    assert paused.json()["items"]
    assert all(i["status"] == "PAUSED" for i in paused.json()["items"])


async def test_app_summary_puts_spend_beside_proceeds(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    await link_account(client, tenant, sandbox.default_demo_key())
    await drain(app)
    await _synced(app, client, tenant, ads)
    start, end = _window(ads)
    app_row = await db.fetchrow(
        "SELECT a.id, a.apple_id FROM apps a JOIN searchads_campaigns c ON c.app_id = a.id "
        "ORDER BY a.name LIMIT 1"
    )
    response = await client.get(
        f"/v1/apps/{app_row['id']}/search-ads/summary",
        params={"from": start.isoformat(), "to": end.isoformat()},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["adam_id"] == int(app_row["apple_id"])
    expected: dict[str, Decimal] = {}
    installs = 0
    for account in ads.accounts():
        for campaign in ads.truth.campaigns(account):
            if campaign.app is None or campaign.app.adam_id != int(app_row["apple_id"]):
                continue
            values = ads.truth.values(ads.truth.metrics(campaign.id, start, end), account)
            if values["impressions"]:
                expected[account.currency] = (
                    expected.get(account.currency, Decimal(0)) + values["localSpend"]
                )
            installs += values["totalInstalls"]
    assert {m["currency"]: Decimal(m["amount"]) for m in summary["spend"]} == {
        currency: _minor(amount, currency) for currency, amount in expected.items()
    }
    assert summary["installs"] == installs
    assert summary["proceeds"], "the app sold in the same days"
    proceeds = {m["currency"]: Decimal(m["amount"]) for m in summary["proceeds"]}
    for ratio in summary["proceeds_per_ad_spend"]:
        currency = ratio["currency"]
        assert Decimal(ratio["ratio"]) == (proceeds[currency] / expected[currency]).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )
    unknown = await client.get(
        "/v1/apps/00000000-0000-0000-0000-000000000000/search-ads/summary",
        params={"from": start.isoformat(), "to": end.isoformat()},
        headers=tenant.headers(),
    )
    assert unknown.status_code == 404
