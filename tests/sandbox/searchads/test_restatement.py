"""Restatement (FACTS §3 "Freshness & history"): the last N days move as time passes (late
attribution, refunds), older days stay put; today fills in with a reporting lag."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from app.sandbox.searchads import AdsAccount, AppleAdsState
from tests.sandbox.conftest import FakeClock
from tests.sandbox.searchads.helpers import amount, fetch_token, v1_headers


async def _daily(
    client: httpx.AsyncClient,
    token: str,
    account: AdsAccount,
    campaign: int,
    start: date,
    end: date,
) -> dict[str, dict[str, Any]]:
    body = {
        "timeRange": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "timeZone": "ORTZ",
            "granularity": "DAILY",
        },
        "filters": [{"field": "campaignId", "operator": "EQUALS", "value": campaign}],
    }
    response = await client.post(
        "/v1/reports/apps/campaigns/query", headers=v1_headers(token, account), json=body
    )
    assert response.status_code == 200, response.text
    [row] = response.json()["result"]["rows"]
    return {bucket["date"]: bucket for bucket in row["granularMetrics"]}


async def test_recent_days_move_and_old_days_stay(
    ads_client: httpx.AsyncClient,
    ads_state: AppleAdsState,
    ads_clock: FakeClock,
    token: str,
    usd: AdsAccount,
) -> None:
    campaign = ads_state.truth.campaigns(usd)[0].id
    start, end = date(2026, 10, 1), date(2026, 11, 29)
    before = await _daily(ads_client, token, usd, campaign, start, end)
    again = await _daily(ads_client, token, usd, campaign, start, end)
    assert again == before  # moments apart: the same numbers
    spend_before = ads_state.truth.spend(campaign, date(2026, 11, 28))
    ads_clock.advance(days=2)
    token = await fetch_token(
        ads_client, ads_state.credentials[next(iter(ads_state.credentials))], ads_clock.now
    )
    after = await _daily(ads_client, token, usd, campaign, start, end)
    old = [d for d in before if d < "2026-10-30"]  # > 30 days old before the clock moved
    assert all(after[d] == before[d] for d in old)
    recent = [d for d in before if d >= "2026-11-02"]
    assert any(after[d]["tapInstalls"] > before[d]["tapInstalls"] for d in recent)
    assert all(after[d]["tapInstalls"] >= before[d]["tapInstalls"] for d in recent)
    assert all(amount(after[d]["localSpend"]) <= amount(before[d]["localSpend"]) for d in recent)
    assert sum(amount(after[d]["localSpend"]) for d in recent) < sum(
        amount(before[d]["localSpend"]) for d in recent
    )
    # The truth follows the clock, and equals the report at every moment.
    spend_after = ads_state.truth.spend(campaign, date(2026, 11, 28))
    assert spend_after < spend_before
    assert amount(after["2026-11-28"]["localSpend"]) == spend_after


def test_days_become_final_after_the_window() -> None:
    clock = [datetime(2026, 12, 1, 15, tzinfo=UTC)]
    state = AppleAdsState(
        seed=7, clock=lambda: clock[0], restatement_days=7, anchor=date(2026, 12, 1)
    )
    account = state.account("USD")
    campaign = state.truth.campaigns(account)[0].id
    day = date(2026, 11, 28)
    seen = []
    for _ in range(10):
        seen.append(state.truth.metrics(campaign, day))
        clock[0] += timedelta(days=1)
    assert len(set(seen[:4])) > 1  # day 3..6 days old: still moving
    assert len(set(seen[6:])) == 1  # 8+ days old: final


def test_today_fills_in_with_a_lag(ads_state: AppleAdsState, ads_clock: FakeClock) -> None:
    """FACTS §3: data can lag up to 3 h. Now is 07:00 in Los Angeles."""
    account = ads_state.account("USD")
    campaign = ads_state.truth.campaigns(account)[0].id
    today = date(2026, 12, 1)
    morning = ads_state.truth.metrics(campaign, today)
    ads_clock.advance(hours=2)
    later = ads_state.truth.metrics(campaign, today)
    assert 0 < morning.impressions < later.impressions
    ads_state.set_restatement(lag=timedelta(hours=12))
    assert ads_state.truth.metrics(campaign, today).impressions == 0
    tomorrow = ads_state.truth.metrics(campaign, today + timedelta(days=1))
    assert tomorrow.is_zero
