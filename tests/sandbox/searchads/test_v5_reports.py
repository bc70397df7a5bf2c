"""Campaign Management API v5 reports (FACTS §3): body rules, range limits, totals = truth."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from app.sandbox.searchads import AdsAccount, AdsOptions, AppleAdsState, Campaign
from app.sandbox.searchads.errors import NO_KEYWORDS_MESSAGE, ROW_TOTALS_MESSAGE
from app.sandbox.searchads.metrics import total
from tests.sandbox.searchads.helpers import amount, v5_error, v5_headers

START, END = date(2026, 11, 1), date(2026, 11, 7)


def _body(
    *,
    start: date = START,
    end: date = END,
    granularity: str | None = "DAILY",
    tz: str = "UTC",
    **extra: Any,
) -> dict[str, Any]:
    """FACTS §5 example shape."""
    body: dict[str, Any] = {
        "startTime": start.isoformat(),
        "endTime": end.isoformat(),
        "timeZone": tz,
        "returnRowTotals": granularity is None,
        "returnGrandTotals": False,
        "returnRecordsWithNoMetrics": False,
        "selector": {
            "orderBy": [{"field": "countryOrRegion", "sortOrder": "ASCENDING"}],
            "pagination": {"offset": 0, "limit": 1000},
        },
    }
    if granularity:
        body["granularity"] = granularity
    body.update(extra)
    return body


def _rows(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]["reportingDataResponse"]["row"]
    return rows


def _keyword_campaign(state: AppleAdsState, account: AdsAccount) -> Campaign:
    return next(c for c in state.truth.campaigns(account) if c.has_keywords and not c.deleted)


async def test_campaign_report_daily_by_country_equals_truth(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    response = await ads_client.post(
        "/api/v5/reports/campaigns",
        headers=v5_headers(token, usd),
        json=_body(groupBy=["countryOrRegion"]),
    )
    rows = _rows(response)
    body = response.json()
    assert body["error"] is None and body["pagination"]["totalResults"] == len(rows)
    countries = [r["metadata"]["countryOrRegion"] for r in rows]
    assert countries == sorted(countries)  # selector orderBy countryOrRegion
    truth = ads_state.truth
    for row in rows:
        meta = row["metadata"]
        assert row["other"] is False and "total" not in row
        assert meta["app"]["adamId"] == truth.campaign(meta["campaignId"]).app.adam_id  # type: ignore[union-attr]
        daily = truth.daily(
            meta["campaignId"], START, END, tz="UTC", country=meta["countryOrRegion"]
        )
        assert [g["date"] for g in row["granularity"]] == [d.isoformat() for d in daily]
        for item, expected in zip(row["granularity"], daily.values(), strict=True):
            assert amount(item["localSpend"]) == truth.money(expected.spend, usd)
            assert item["tapInstalls"] == expected.tap_installs
            assert item["tapNewDownloads"] + item["tapRedownloads"] == item["tapInstalls"]
            assert item["viewRedownloads"] == expected.view_re
            assert "avgCPT" in item and "cpt" not in item  # v5 names (FACTS §9 table)


async def test_row_totals_and_grand_totals(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, eur: AdsAccount
) -> None:
    body = _body(granularity=None, tz="ORTZ", returnGrandTotals=True)
    response = await ads_client.post(
        "/api/v5/reports/campaigns", headers=v5_headers(token, eur), json=body
    )
    rows = _rows(response)
    truth = ads_state.truth
    for row in rows:
        expected = truth.metrics(row["metadata"]["campaignId"], START, END)
        assert amount(row["total"]["localSpend"]) == truth.money(expected.spend, eur)
    grand = response.json()["data"]["reportingDataResponse"]["grandTotals"]
    expected = total(truth.metrics(c.id, START, END) for c in truth.campaigns(eur))
    assert grand["other"] is False
    assert amount(grand["total"]["localSpend"]) == truth.money(expected.spend, eur)
    assert grand["total"]["totalInstalls"] == expected.total_installs


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"returnRowTotals": False}, ROW_TOTALS_MESSAGE),
        ({"returnRowTotals": True, "granularity": "DAILY"}, None),
        ({"returnGrandTotals": True, "granularity": "DAILY", "returnRowTotals": False}, None),
        ({"selector": None}, None),
        ({"timeZone": "PST"}, None),
        ({"groupBy": ["ageRange"]}, None),
        ({"groupBy": ["storefront"]}, None),
        ({"endTime": "2026-10-30"}, None),
        ({"endTime": "2026-12-05"}, None),  # in the future
        ({"selector": {"pagination": {"offset": 0, "limit": 5000}}}, None),
    ],
)
async def test_request_rules(
    ads_client: httpx.AsyncClient,
    token: str,
    usd: AdsAccount,
    extra: dict[str, Any],
    message: str | None,
) -> None:
    body = _body(granularity=None)
    body.update(extra)
    body = {k: v for k, v in body.items() if v is not None}
    response = await ads_client.post(
        "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=body
    )
    error = v5_error(response, 400, "INVALID_INPUT")
    if message:
        assert error["message"] == message  # FACTS §3 [I-AB48573]


@pytest.mark.parametrize(
    ("granularity", "start", "end", "status"),
    [
        ("HOURLY", date(2026, 11, 20), date(2026, 11, 27), 200),
        ("HOURLY", date(2026, 11, 20), date(2026, 11, 28), 400),  # range > 7 days
        ("HOURLY", date(2026, 10, 30), date(2026, 11, 2), 400),  # start > 30 days ago
        ("DAILY", date(2026, 9, 2), date(2026, 11, 30), 200),
        ("DAILY", date(2026, 9, 1), date(2026, 11, 30), 400),  # start > 90 days ago / > 90 d
        ("WEEKLY", date(2026, 11, 1), date(2026, 11, 15), 400),  # range must be > 14 days
        ("WEEKLY", date(2026, 11, 1), date(2026, 11, 16), 200),
        ("WEEKLY", date(2025, 1, 1), date(2026, 1, 2), 400),  # > 365 days
        ("WEEKLY", date(2024, 11, 1), date(2024, 12, 1), 400),  # start > 24 months ago
        ("MONTHLY", date(2026, 6, 1), date(2026, 9, 1), 400),  # not more than 3 months
        ("MONTHLY", date(2026, 6, 1), date(2026, 9, 2), 200),
        ("MONTHLY", date(2024, 11, 1), date(2026, 11, 1), 400),
    ],
)
async def test_range_limits_per_granularity(
    ads_client: httpx.AsyncClient,
    token: str,
    usd: AdsAccount,
    granularity: str,
    start: date,
    end: date,
    status: int,
) -> None:
    body = _body(start=start, end=end, granularity=granularity)
    response = await ads_client.post(
        "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=body
    )
    assert response.status_code == status, response.text


async def test_weekly_and_monthly_buckets(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    campaign = _keyword_campaign(ads_state, usd)
    start, end = date(2026, 6, 10), date(2026, 9, 20)
    body = _body(
        start=start,
        end=end,
        granularity="MONTHLY",
        tz="ORTZ",
        selector={
            "conditions": [{"field": "campaignId", "operator": "IN", "values": [campaign.id]}]
        },
    )
    [row] = _rows(
        await ads_client.post(
            "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=body
        )
    )
    assert [g["date"] for g in row["granularity"]] == [
        "2026-06-01",
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
    ]
    spend = sum(amount(g["localSpend"]) for g in row["granularity"])
    truth = ads_state.truth
    assert spend == truth.money(truth.metrics(campaign.id, start, end).spend, usd)
    weekly = {**body, "granularity": "WEEKLY", "endTime": "2026-07-10"}
    [row] = _rows(
        await ads_client.post(
            "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=weekly
        )
    )
    assert all(date.fromisoformat(g["date"]).weekday() == 0 for g in row["granularity"])


async def test_ad_group_keyword_and_search_term_reports(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    campaign = _keyword_campaign(ads_state, usd)
    headers, truth = v5_headers(token, usd), ads_state.truth
    base = f"/api/v5/reports/campaigns/{campaign.id}"
    body = _body(granularity=None, tz="ORTZ")
    groups = _rows(await ads_client.post(base + "/adgroups", headers=headers, json=body))
    assert {r["metadata"]["adGroupId"] for r in groups} == set(
        ads_state.world.ad_group_ids[campaign.id]
    )
    keywords = _rows(await ads_client.post(base + "/keywords", headers=headers, json=body))
    for row in keywords:
        keyword_id = row["metadata"]["keywordId"]
        assert (
            row["total"]["taps"]
            == truth.metrics(campaign.id, START, END, keyword_id=keyword_id).taps
        )
        assert "bidRecommendation" in row["insights"]
    group = groups[0]["metadata"]["adGroupId"]
    in_group = _rows(
        await ads_client.post(f"{base}/adgroups/{group}/keywords", headers=headers, json=body)
    )
    assert {r["metadata"]["adGroupId"] for r in in_group} == {group}
    terms = _rows(await ads_client.post(base + "/searchterms", headers=headers, json=body))
    assert (
        sum(r["total"]["impressions"] for r in terms)
        == truth.metrics(campaign.id, START, END).impressions
    )
    others = [r for r in terms if r["other"]]
    assert others and all(r["metadata"]["searchTermText"] is None for r in others)
    in_group_terms = await ads_client.post(
        f"{base}/adgroups/{group}/searchterms", headers=headers, json=body
    )
    assert {r["metadata"]["adGroupId"] for r in _rows(in_group_terms)} == {group}
    v5_error(await ads_client.post(f"{base}/adgroups/1/keywords", headers=headers, json=body), 404)


async def test_search_term_and_keyword_restrictions(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    headers = v5_headers(token, usd)
    campaign = _keyword_campaign(ads_state, usd)
    path = f"/api/v5/reports/campaigns/{campaign.id}/searchterms"
    v5_error(await ads_client.post(path, headers=headers, json=_body(tz="UTC")), 400)
    hourly = _body(
        start=date(2026, 11, 27), end=date(2026, 11, 28), granularity="HOURLY", tz="ORTZ"
    )
    v5_error(await ads_client.post(path, headers=headers, json=hourly), 400)
    search_tab = next(c for c in ads_state.truth.campaigns(usd) if not c.has_keywords)
    no_keywords = await ads_client.post(
        f"/api/v5/reports/campaigns/{search_tab.id}/keywords", headers=headers, json=_body()
    )
    assert NO_KEYWORDS_MESSAGE in v5_error(no_keywords, 400)["message"]


async def test_selector_conditions_and_paging_over_rows(
    ads_client: httpx.AsyncClient, token: str, usd: AdsAccount
) -> None:
    headers = v5_headers(token, usd)
    body = _body(groupBy=["countryOrRegion", "deviceClass"])
    everything = _rows(
        await ads_client.post("/api/v5/reports/campaigns", headers=headers, json=body)
    )
    collected: list[dict[str, Any]] = []
    offset = 0
    while True:
        body["selector"]["pagination"] = {"offset": offset, "limit": 4}
        page = await ads_client.post("/api/v5/reports/campaigns", headers=headers, json=body)
        collected += _rows(page)
        offset += 4
        if offset >= page.json()["pagination"]["totalResults"]:
            break
    assert collected == everything
    body["selector"] = {
        "conditions": [{"field": "deviceClass", "operator": "EQUALS", "values": ["IPAD"]}]
    }
    ipad = _rows(await ads_client.post("/api/v5/reports/campaigns", headers=headers, json=body))
    assert ipad and {r["metadata"]["deviceClass"] for r in ipad} == {"IPAD"}


async def test_variants_of_report_shape(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    ads_state.options = AdsOptions(
        v5_report_wrapper="bare",
        v5_view_redownloads_key="viewReDownloads",
        v5_report_budget="amount_key",
        v5_hourly_date="hour_field",
        money_style="trimmed",
        derived_money_places=4,
    )
    body = _body(start=date(2026, 11, 28), end=date(2026, 11, 28), granularity="HOURLY")
    response = await ads_client.post(
        "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=body
    )
    data = response.json()["data"]
    assert "reportingDataResponse" not in data
    row = data["row"][0]
    assert "dailyBudgetAmount" in row["metadata"] and "dailyBudget" not in row["metadata"]
    first = row["granularity"][0]
    assert first["date"] == "2026-11-28" and first["hour"] == 0
    assert "viewReDownloads" in first and "viewRedownloads" not in first
    busy = max(row["granularity"], key=lambda g: g["taps"])
    cpts = [g["avgCPT"]["amount"] for g in row["granularity"] if g["taps"]]
    assert all(len(a.partition(".")[2]) <= 4 for a in cpts)  # derived_money_places=4
    assert any(len(a.partition(".")[2]) > 2 for a in cpts)
    spends = [g["localSpend"]["amount"] for g in row["granularity"]]
    assert not any(a.endswith("0") and "." in a for a in spends)  # trimmed: "9.2", not "9.20"
    assert busy["localSpend"]["currency"] == "USD"
    ads_state.options = AdsOptions(v5_report_budget="number")
    numbered = _rows(
        await ads_client.post(
            "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=body
        )
    )
    assert isinstance(numbered[0]["metadata"]["dailyBudget"], float)
    ads_state.options = AdsOptions()
    spaced = _rows(
        await ads_client.post(
            "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=body
        )
    )
    assert spaced[0]["granularity"][5]["date"] == "2026-11-28 05"


async def test_variant_future_end_allowed(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    ads_state.options = AdsOptions(future_end="allow")
    body = _body(start=date(2026, 11, 28), end=date(2026, 12, 3))
    rows = _rows(
        await ads_client.post(
            "/api/v5/reports/campaigns", headers=v5_headers(token, usd), json=body
        )
    )
    future = [g for g in rows[0]["granularity"] if g["date"] > "2026-12-01"]
    assert future and all(g["impressions"] == 0 for g in future)
