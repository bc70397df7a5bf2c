"""Platform API v1 reports (FACTS §9 "Reports"): totals equal the simulator's truth."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from app.sandbox.searchads import AdsAccount, AdsOptions, AppleAdsState, Campaign
from app.sandbox.searchads.metrics import total
from tests.sandbox.searchads.helpers import amount, v1_all, v1_error, v1_headers

START, END = date(2026, 11, 10), date(2026, 11, 16)


def _body(
    campaigns: list[int],
    *,
    start: date = START,
    end: date = END,
    tz: str = "UTC",
    granularity: str | None = "DAILY",
    **extra: Any,
) -> dict[str, Any]:
    time_range: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timeZone": tz,
    }
    if granularity:
        time_range["granularity"] = granularity
    return {
        "timeRange": time_range,
        "filters": [
            {"field": "campaignId", "operator": "IN", "value": [str(c) for c in campaigns]}
        ],
        **extra,
    }


def _live(state: AppleAdsState, account: AdsAccount) -> list[Campaign]:
    return [c for c in state.truth.campaigns(account) if c.app is not None]


@pytest.mark.parametrize("tz", ["UTC", "ORTZ"])
async def test_campaign_report_by_day_and_country_equals_truth(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    token: str,
    eur: AdsAccount,
    tz: str,
) -> None:
    campaigns = _live(ads_state, eur)
    body = _body(
        [c.id for c in campaigns],
        tz=tz,
        groupBy=["countryOrRegion"],
        options={"includeRows": ["GRAND_TOTAL"]},
    )
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, eur), json=body
    )
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    truth = ads_state.truth
    seen = set()
    for row in result["rows"]:
        meta = row["metadata"]
        campaign_id, country = meta["id"], meta["countryOrRegion"]
        seen.add(campaign_id)
        daily = truth.daily(campaign_id, START, END, tz=tz, country=country)
        for bucket in row["granularMetrics"]:
            expected = daily[date.fromisoformat(bucket["date"])]
            assert amount(bucket["localSpend"]) == truth.money(expected.spend, eur)
            assert bucket["impressions"] == expected.impressions
            assert bucket["tapInstalls"] == expected.tap_installs
            assert bucket["totalInstalls"] == expected.total_installs
        expected_total = truth.metrics(campaign_id, START, END, tz=tz, country=country)
        assert amount(row["totalMetrics"]["localSpend"]) == truth.money(expected_total.spend, eur)
        assert row["totalMetrics"]["taps"] == expected_total.taps
    grand = total(truth.metrics(c.id, START, END, tz=tz) for c in campaigns)
    assert amount(result["summary"]["grandTotal"]["localSpend"]) == truth.money(grand.spend, eur)
    delivering = {c.id for c in campaigns if not truth.metrics(c.id, START, END, tz=tz).is_zero}
    assert seen == delivering and len(seen) >= 3


async def test_org_day_is_made_of_utc_hours(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, jpy: AdsAccount
) -> None:
    """A Tokyo (UTC+9) day is 15:00 UTC the day before to 15:00 UTC."""
    campaign = _live(ads_state, jpy)[0].id
    day = date(2026, 11, 28)
    body = _body([campaign], start=day - timedelta(days=1), end=day, granularity="HOURLY")
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, jpy), json=body
    )
    [row] = response.json()["result"]["rows"]
    hours = row["granularMetrics"]
    assert len(hours) == 48
    tokyo_day = hours[15:39]
    assert tokyo_day[0]["date"] == "2026-11-27 15" and tokyo_day[-1]["date"] == "2026-11-28 14"
    truth = ads_state.truth
    assert sum(h["impressions"] for h in tokyo_day) == truth.metrics(campaign, day).impressions
    assert sum(amount(h["localSpend"]) for h in tokyo_day) == truth.spend(campaign, day)
    assert truth.spend(campaign, day) != truth.spend(campaign, day, tz="UTC")


async def test_report_rows_page(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    campaigns = [c.id for c in _live(ads_state, usd)]
    body = _body(campaigns, groupBy=["countryOrRegion", "deviceClass"])
    rows, calls = await v1_all(
        ads_client, "/v1/reports/apps/campaigns/query", v1_headers(token, usd), body, page_size=3
    )
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, usd), json=body
    )
    assert response.json()["pagination"] == {"offset": 0, "pageSize": 100, "totalCount": len(rows)}
    assert calls == len(rows) // 3 + 1 and len(rows) > 6
    keys = {
        (r["metadata"]["id"], r["metadata"]["countryOrRegion"], r["metadata"]["deviceClass"])
        for r in rows
    }
    assert len(keys) == len(rows)


async def test_ad_group_keyword_and_search_term_levels_add_up(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    campaign = _live(ads_state, usd)[0]
    headers = v1_headers(token, usd)
    truth = ads_state.truth

    async def rows(level: str, **extra: Any) -> list[dict[str, Any]]:
        body = _body([campaign.id], tz="ORTZ", granularity=None, **extra)
        found, _ = await v1_all(
            ads_client, f"/v1/reports/apps/{level}/query", headers, body, page_size=5000
        )
        return found

    groups = await rows("adgroups")
    for row in groups:
        expected = truth.metrics(campaign.id, START, END, ad_group_id=row["metadata"]["id"])
        assert row["totalMetrics"]["taps"] == expected.taps
        assert "granularMetrics" not in row
    keywords = await rows("keywords")
    for row in keywords:
        expected = truth.metrics(campaign.id, START, END, keyword_id=row["metadata"]["id"])
        assert amount(row["totalMetrics"]["localSpend"]) == truth.money(expected.spend, usd)
        assert set(row["insights"]["bidRecommendation"]) == {
            "suggestedBidAmount",
            "bidMin",
            "bidMax",
        }
    terms = await rows("searchterms")
    campaign_total = truth.metrics(campaign.id, START, END)
    assert sum(r["totalMetrics"]["impressions"] for r in terms) == campaign_total.impressions
    sources = {r["metadata"]["searchTermSource"] for r in terms}
    assert {"TARGETED", "AUTO"} <= sources
    aggregated = [r for r in terms if r["metadata"]["searchTermText"] is None]
    assert aggregated  # low-volume terms folded (FACTS §3 10-impression threshold)
    assert all(r["totalMetrics"]["impressions"] >= 10 for r in terms if r not in aggregated)
    ads_state.options = AdsOptions(v1_searchterm_low_volume="suppress")
    suppressed = await rows("searchterms")
    assert all(r["metadata"]["searchTermText"] for r in suppressed)
    assert len(suppressed) == len(terms) - len(aggregated)


async def test_hourly_report_and_fields(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    campaign = _live(ads_state, usd)[0].id
    day = date(2026, 11, 28)
    body = _body(
        [campaign], start=day, end=day, granularity="HOURLY", fields=["impressions", "localSpend"]
    )
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, usd), json=body
    )
    [row] = response.json()["result"]["rows"]
    hours = row["granularMetrics"]
    assert [h["date"] for h in hours] == [f"2026-11-28 {h:02d}" for h in range(24)]
    assert set(hours[0]) == {"date", "impressions", "localSpend"}
    assert set(row["totalMetrics"]) == {"impressions", "localSpend"}
    spend = sum(amount(h["localSpend"]) for h in hours)
    assert spend == ads_state.truth.spend(campaign, day, tz="UTC")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"granularity": "DAILY", "start": date(2026, 11, 30), "end": date(2026, 11, 30)}, 400),
        ({"granularity": "DAILY", "start": date(2026, 9, 1), "end": date(2026, 9, 5)}, 400),
        ({"granularity": "HOURLY", "start": date(2026, 11, 20), "end": date(2026, 11, 21)}, 400),
        ({"granularity": "WEEKLY", "start": date(2026, 11, 20), "end": date(2026, 11, 30)}, 400),
        ({"granularity": "WEEKLY", "start": date(2025, 11, 1), "end": date(2025, 12, 30)}, 400),
        ({"granularity": "WEEKLY", "start": date(2026, 10, 1), "end": date(2026, 11, 30)}, 200),
        ({"granularity": "MONTHLY", "start": date(2026, 8, 31), "end": date(2026, 11, 29)}, 200),
        ({"granularity": "MONTHLY", "start": date(2026, 10, 1), "end": date(2026, 11, 29)}, 400),
        ({"granularity": None, "start": date(2026, 11, 30), "end": date(2026, 11, 30)}, 200),
        ({"granularity": None, "start": date(2026, 11, 30), "end": date(2026, 12, 2)}, 400),
        ({"granularity": None, "start": date(2026, 11, 30), "end": date(2026, 11, 29)}, 400),
    ],
)
async def test_time_range_rules(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    token: str,
    usd: AdsAccount,
    change: dict[str, Any],
    status: int,
) -> None:
    body = _body([_live(ads_state, usd)[0].id], **change)
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, usd), json=body
    )
    assert response.status_code == status, response.text
    if status == 400:
        v1_error(response, 400)


async def test_variant_period_rule_age(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    """FACTS §9 "WEEKLY … end ≥ 14 d ago" read literally (end at least 14 days ago)."""
    ads_state.options = AdsOptions(v1_period_rule="age")
    campaign = [_live(ads_state, usd)[0].id]
    path, headers = "/v1/reports/apps/campaigns/query", v1_headers(token, usd)
    recent = _body(campaign, start=date(2026, 10, 1), end=date(2026, 11, 30), granularity="WEEKLY")
    assert (await ads_client.post(path, headers=headers, json=recent)).status_code == 400
    old = _body(campaign, start=date(2026, 11, 1), end=date(2026, 11, 10), granularity="WEEKLY")
    assert (await ads_client.post(path, headers=headers, json=old)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"startTime": "2026-11-01", "endTime": "2026-11-02", "selector": {}},
        {"timeRange": {"start": "2026-11-01", "end": "2026-11-02"}},  # no campaignId filter
        {"timeRange": {"startTime": "2026-11-01"}},
        {
            "timeRange": {"start": "2026-11-01", "end": "2026-11-02"},
            "groupBy": ["gender"],
            "filters": [{"field": "campaignId", "operator": "IN", "value": ["1"]}],
        },
        {
            "timeRange": {"start": "2026-11-01", "end": "2026-11-02"},
            "fields": ["avgCPT"],
            "filters": [{"field": "campaignId", "operator": "IN", "value": ["1"]}],
        },
        {
            "timeRange": {"start": "2026-11-01", "end": "2026-11-02"},
            "pagination": {"offset": 0, "pageSize": 5001},
            "filters": [{"field": "campaignId", "operator": "IN", "value": ["1"]}],
        },
    ],
)
async def test_malformed_report_requests(
    ads_client: httpx.AsyncClient, token: str, usd: AdsAccount, body: dict[str, Any]
) -> None:
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, usd), json=body
    )
    v1_error(response, 400)


async def test_search_term_rules_and_empty_metrics(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    campaigns = [c.id for c in _live(ads_state, usd)]
    headers = v1_headers(token, usd)
    utc = _body(campaigns, tz="UTC")
    v1_error(
        await ads_client.post("/v1/reports/apps/searchterms/query", headers=headers, json=utc), 400
    )
    hourly = _body(
        campaigns, tz="ORTZ", start=date(2026, 11, 28), end=date(2026, 11, 29), granularity="HOURLY"
    )
    v1_error(
        await ads_client.post("/v1/reports/apps/searchterms/query", headers=headers, json=hourly),
        400,
    )
    empty = _body(
        campaigns, granularity=None, end=START, options={"includeRows": ["EMPTY_METRICS"]}
    )
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=headers, json=empty
    )
    ids = {r["metadata"]["id"] for r in response.json()["result"]["rows"]}
    assert ids == set(campaigns)  # the paused campaign appears with zero metrics
    grouped = {**empty, "groupBy": ["countryOrRegion"]}
    v1_error(
        await ads_client.post("/v1/reports/apps/campaigns/query", headers=headers, json=grouped),
        400,
    )


@pytest.mark.parametrize("placement", ["metadata", "bucket", "both"])
async def test_variant_group_values_placement(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    token: str,
    usd: AdsAccount,
    placement: str,
) -> None:
    ads_state.options = AdsOptions(v1_group_values=placement)  # type: ignore[arg-type]
    body = _body([_live(ads_state, usd)[0].id], groupBy=["storefront"])
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, usd), json=body
    )
    row = response.json()["result"]["rows"][0]
    assert ("storefront" in row["metadata"]) == (placement != "bucket")
    assert ("storefront" in row["granularMetrics"][0]) == (placement != "metadata")


async def test_variants_sparse_metrics_and_optional_campaign_filter(
    ads_client: httpx.AsyncClient, ads_state: AppleAdsState, token: str, usd: AdsAccount
) -> None:
    ads_state.options = AdsOptions(v1_zero_metrics="sparse", v1_campaign_filter_required=False)
    paused = next(c for c in _live(ads_state, usd) if c.status == "PAUSED")
    assert paused.last_day is not None
    edge = paused.last_day
    body = _body(
        [paused.id], start=edge - timedelta(days=1), end=edge + timedelta(days=1), tz="ORTZ"
    )
    response = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, usd), json=body
    )
    [row] = response.json()["result"]["rows"]
    *_, quiet = row["granularMetrics"]
    assert quiet == {"date": (edge + timedelta(days=1)).isoformat()}  # zero metrics omitted
    unfiltered = {"timeRange": {"start": "2026-11-10", "end": "2026-11-11", "timeZone": "UTC"}}
    everything = await ads_client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, usd), json=unfiltered
    )
    delivering = [
        c
        for c in _live(ads_state, usd)
        if not ads_state.truth.metrics(c.id, START, START + timedelta(days=1), tz="UTC").is_zero
    ]
    assert len(everything.json()["result"]["rows"]) == len(delivering) == 5
