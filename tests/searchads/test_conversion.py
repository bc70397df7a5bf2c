"""Search Ads money in one reporting currency (issue 17 on issue 20's routes): spend converts
at each report date's rate (an aggregate day by day, then summed), equal to a hand
computation on fixed manual rates; a currency without a rate stays `unconverted`; cpt/cpa
come from the exact converted spend and the summed counts; the keyset cursor walks exactly
the unpaged set; the app summary converts spend and proceeds day by day."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.fx.rates import significant
from app.sandbox.searchads import AppleAdsState
from app.sandbox.state import SandboxState
from app.searchads.schemas import AppSearchAdsSummary, SearchAdsPerformanceReport
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain
from tests.searchads.helpers import link_ok

CENT = Decimal("0.01")
EUR_USD_EARLY = Decimal("1.1")  # manual EUR→USD of the window's first day
EUR_USD_LATE = Decimal("1.2")  # … and of its eighth day


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No ECB rates in this world: only the manual rates a test puts, so the hand computation
    # below knows every rate there is (and JPY has none).
    return settings.model_copy(update={"fx_ecb_enabled": False})


def _window(ads: AppleAdsState) -> tuple[dt.date, dt.date]:
    today = ads.now().date()
    return today - dt.timedelta(days=15), today - dt.timedelta(days=2)


async def _world(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> tuple[dt.date, dt.date]:
    await link_ok(client, tenant, ads.add_credential())
    await drain(app, plan=True)
    start, end = _window(ads)
    rates = [
        {"date": start.isoformat(), "base": "EUR", "quote": "USD", "rate": str(EUR_USD_EARLY)},
        {
            "date": (start + dt.timedelta(days=7)).isoformat(),
            "base": "EUR",
            "quote": "USD",
            "rate": str(EUR_USD_LATE),
        },
    ]
    response = await client.put("/v1/fx/rates", json={"rates": rates}, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return start, end


def _eur_usd(day: dt.date, start: dt.date) -> Decimal:
    return EUR_USD_EARLY if day < start + dt.timedelta(days=7) else EUR_USD_LATE


async def _get(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await client.get(
        "/v1/search-ads/performance", params=params, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    SearchAdsPerformanceReport.model_validate(body)
    return body


def _ratio(numerator: int, denominator: int) -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) / denominator).quantize(Decimal("0.0001"), ROUND_HALF_UP))


async def test_spend_converts_day_by_day_equal_to_a_hand_computation(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    start, end = await _world(app, client, tenant, ads)
    window = {"from": start.isoformat(), "to": end.isoformat(), "group_by": "org"}
    daily = (await _get(client, tenant, **window, limit=5000))["items"]
    assert {r["currency"] for r in daily} == {"EUR", "JPY", "USD"}

    # Day rows: each at its own report date's rate (the latest manual fix on or before it).
    converted_days = (await _get(client, tenant, **window, limit=5000, currency="usd"))["items"]
    assert [(r["period_start"], r["ad_account_id"]) for r in converted_days] == [
        (r["period_start"], r["ad_account_id"]) for r in daily
    ]
    for row in converted_days:
        day = dt.date.fromisoformat(row["period_start"])
        spend, converted = Decimal(row["spend"]["amount"]), row["spend"]["converted"]
        if row["currency"] == "EUR" and spend:
            rate = _eur_usd(day, start)
            assert converted["rate"] == str(rate)
            fix = start if rate == EUR_USD_EARLY else start + dt.timedelta(days=7)
            assert converted["rate_date"] == fix.isoformat()
            assert converted["source"] == "manual"
            assert converted["amount"] == str((spend * rate).quantize(CENT, ROUND_HALF_EVEN))
        elif row["currency"] == "USD" and spend:
            assert converted["source"] == "identity"
            assert Decimal(converted["amount"]) == spend.quantize(CENT, ROUND_HALF_EVEN)

    # One total over the range: per account Σ_day spend × that day's rate, rounded once.
    expected: dict[int, Decimal] = {}
    sums: dict[int, dict[str, int]] = {}
    for row in daily:
        account = row["ad_account_id"]
        rate = {"EUR": _eur_usd(dt.date.fromisoformat(row["period_start"]), start), "USD": 1}
        expected[account] = expected.get(account, Decimal(0)) + Decimal(
            row["spend"]["amount"]
        ) * rate.get(row["currency"], Decimal(0))
        counts = sums.setdefault(account, {"impressions": 0, "taps": 0, "installs": 0})
        for name in counts:
            counts[name] += row[name]
    body = await _get(client, tenant, **window, granularity="total", currency="USD")
    assert body["currency"] == "USD"
    assert body["items"]
    for row in body["items"]:
        account, counts = row["ad_account_id"], sums[row["ad_account_id"]]
        # Ratios from the summed counts, never averaged per day; conversion changes no count.
        assert row["impressions"] == counts["impressions"]
        assert row["taps"] == counts["taps"] and row["installs"] == counts["installs"]
        assert row["ttr"] == _ratio(counts["taps"], counts["impressions"])
        assert row["conversion_rate"] == _ratio(counts["installs"], counts["taps"])
        spend = Decimal(row["spend"]["amount"])
        # Money's one rule: the currency's minor units (JPY none), rounded half-even, once.
        places = Decimal(1).scaleb(-(0 if row["currency"] == "JPY" else 2))
        cpt = (spend / counts["taps"]).quantize(places, ROUND_HALF_EVEN)
        assert row["cpt"]["amount"] == str(cpt)
        total = row["spend_total_converted"]
        assert total["currency"] == "USD"
        if row["currency"] == "JPY":
            # The ECB is off and no manual JPY rate: nothing dropped, nothing counted as zero.
            assert row["spend"]["converted"] is None
            assert total["partial"] is True and total["amount"] == "0.00"
            [gap] = total["unconverted"]
            assert gap["currency"] == "JPY" and gap["reason"] == "no_rate"
            assert Decimal(gap["amount"]) == spend
            assert row["cpt"]["converted"] is None and row["cpa"]["converted"] is None
            continue
        assert total["partial"] is False and total["unconverted"] == []
        exact = expected[account]
        assert total["amount"] == str(exact.quantize(CENT, ROUND_HALF_EVEN))
        assert row["spend"]["converted"]["amount"] == total["amount"]
        assert row["cpt"]["converted"]["amount"] == str(
            (exact / counts["taps"]).quantize(CENT, ROUND_HALF_EVEN)
        )
        assert row["cpa"]["converted"]["amount"] == str(
            (exact / counts["installs"]).quantize(CENT, ROUND_HALF_EVEN)
        )
        if row["currency"] == "EUR":
            # Two fixes used: no single rate, both listed with their dates.
            converted = row["spend"]["converted"]
            assert converted["rate"] is None and converted["source"] == "manual"
            assert [(r["rate"], r["rate_date"]) for r in converted["rates"]] == [
                ("1.1", start.isoformat()),
                ("1.2", (start + dt.timedelta(days=7)).isoformat()),
            ]

    # The workspace's reporting currency applies when the request names none; without either
    # the document carries no conversion at all.
    plain = await _get(client, tenant, **window, granularity="total")
    assert plain["currency"] is None
    assert all(r.get("spend_total_converted") is None for r in plain["items"])
    assert all(
        "converted" not in r["spend"] or r["spend"]["converted"] is None for r in plain["items"]
    )
    response = await client.patch(
        "/v1/fx/settings", json={"reporting_currency": "USD"}, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    default = await _get(client, tenant, **window, granularity="total")
    assert default == body
    unknown = await client.get(
        "/v1/search-ads/performance",
        params={**window, "currency": "XQQ"},
        headers=tenant.headers(),
    )
    assert unknown.status_code == 422 and "currency" in unknown.text


async def _walk(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = await _get(client, tenant, **query)
        items += page["items"]
        pages += 1
        assert page["next_cursor"] != cursor, [
            (r["adam_id"], r["app_id"], r["currency"]) for r in items
        ]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 20, items
    assert pages > 2, "the walk crossed several page boundaries"
    return items


async def test_cursor_walk_is_exactly_the_unpaged_set(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, ads: AppleAdsState
) -> None:
    start, end = await _world(app, client, tenant, ads)
    for granularity, group_by in (("day", "app,country"), ("week", "campaign"), ("total", "app")):
        params = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "granularity": granularity,
            "group_by": group_by,
            "currency": "USD",
        }
        whole = (await _get(client, tenant, **params, limit=5000))["items"]
        assert len(whole) > 3, group_by
        limit = max(1, len(whole) // 5)  # five or six pages, the last one short or not
        if "app" in group_by:
            # Campaigns of apps Orchard does not know: null `app_id` keys sort first, once.
            assert any(r["app_id"] is None for r in whole)
        walked = await _walk(client, tenant, **params, limit=limit)
        assert walked == whole, group_by  # same rows, same order: none repeated or skipped

    first = await _get(client, tenant, **params, limit=limit)  # the last shape: total by app
    other = {**params, "group_by": "org", "limit": limit}
    for cursor in ("garbled!", first["next_cursor"][:-3], first["next_cursor"]):
        query = other if cursor == first["next_cursor"] else {**params, "limit": limit}
        bad = await client.get(
            "/v1/search-ads/performance",
            params={**query, "cursor": cursor},
            headers=tenant.headers(),
        )
        assert bad.status_code == 422, (cursor, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert "cursor" in bad.text


async def test_app_summary_converts_spend_and_proceeds_day_by_day(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    await link_account(client, tenant, sandbox.default_demo_key())
    await drain(app)
    start, end = await _world(app, client, tenant, ads)
    app_row = await db.fetchrow(
        "SELECT a.id FROM apps a JOIN searchads_campaigns c ON c.app_id = a.id "
        "ORDER BY a.name LIMIT 1"
    )
    app_id = str(app_row["id"])
    window = {"from": start.isoformat(), "to": end.isoformat()}
    ad_days = (await _get(client, tenant, **window, app_id=app_id, group_by="app", limit=5000))[
        "items"
    ]
    sales = await client.get(
        f"/v1/apps/{app_id}/sales/summary", params=window, headers=tenant.headers()
    )
    assert sales.status_code == 200, sales.text
    proceeds_days = [
        (dt.date.fromisoformat(day["report_date"]), m["currency"], Decimal(m["amount"]))
        for day in sales.json()["series"]
        for m in day["proceeds"]
        if m["currency"]
    ]
    assert proceeds_days, "the app sold in the same days"

    async def summary() -> dict[str, Any]:
        response = await client.get(
            f"/v1/apps/{app_id}/search-ads/summary",
            params={**window, "currency": "USD"},
            headers=tenant.headers(),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        AppSearchAdsSummary.model_validate(body)
        return body

    def hand(
        triples: list[tuple[dt.date, str, Decimal]], rates: dict[str, Decimal]
    ) -> tuple[Decimal, dict[str, Decimal]]:
        total, missing = Decimal(0), {}
        for day, code, amount in triples:
            rate = {"USD": Decimal(1), "EUR": _eur_usd(day, start)}.get(code)
            if code in rates:  # 1 EUR = rates[code] X: X → USD via EUR
                rate = significant(_eur_usd(day, start) / rates[code])
            if rate is None:
                missing[code] = missing.get(code, Decimal(0)) + amount
            else:
                total += amount * rate
        return total, {c: a for c, a in missing.items() if a}

    spend_days = [
        (dt.date.fromisoformat(r["period_start"]), r["currency"], Decimal(r["spend"]["amount"]))
        for r in ad_days
    ]
    body = await summary()
    assert body["currency"] == "USD"
    spent, spend_missing = hand(spend_days, {})
    earned, proceeds_missing = hand(proceeds_days, {})
    for name, (total, missing) in (
        ("spend_total_converted", (spent, spend_missing)),
        ("proceeds_total_converted", (earned, proceeds_missing)),
    ):
        document = body[name]
        assert document["amount"] == str(total.quantize(CENT, ROUND_HALF_EVEN)), name
        assert {u["currency"]: Decimal(u["amount"]) for u in document["unconverted"]} == missing
        assert document["partial"] is bool(missing)
    if spend_missing or proceeds_missing:
        assert body["proceeds_per_ad_spend_converted"] is None

    # Rates for every other currency (round figures, both fixes): now everything converts.
    others = sorted({c for _, c, _ in spend_days + proceeds_days} - {"EUR", "USD"})
    chosen = {code: Decimal(10 + i) for i, code in enumerate(others)}
    upload = [
        {"date": day.isoformat(), "base": "EUR", "quote": code, "rate": str(rate)}
        for code, rate in chosen.items()
        for day in (start, start + dt.timedelta(days=7))
    ]
    response = await client.put("/v1/fx/rates", json={"rates": upload}, headers=tenant.headers())
    assert response.status_code == 200, response.text
    body = await summary()
    spent, spend_missing = hand(spend_days, chosen)
    earned, proceeds_missing = hand(proceeds_days, chosen)
    assert not spend_missing and not proceeds_missing
    assert body["spend_total_converted"]["amount"] == str(spent.quantize(CENT, ROUND_HALF_EVEN))
    assert body["proceeds_total_converted"]["amount"] == str(earned.quantize(CENT, ROUND_HALF_EVEN))
    assert body["proceeds_total_converted"]["partial"] is False
    assert body["proceeds_per_ad_spend_converted"] == str(
        (earned / spent).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    )
    for money in body["spend"] + body["proceeds"]:
        if Decimal(money["amount"]):  # a currency whose days net to zero has nothing to convert
            assert money["converted"]["currency"] == "USD", money
            assert money["converted"]["complete"] is True
