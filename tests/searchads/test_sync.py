"""Syncing Apple Ads through the real engine: campaign snapshots joined to Orchard's apps,
daily reports equal to the sandbox's own totals, restated days replaced, rate limits and a
revoked credential handled without a retry storm."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import asyncpg
import httpx
from fastapi import FastAPI

from app.sandbox.searchads import AppleAdsState
from app.sandbox.state import SandboxState
from app.searchads.jobs import account_today
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import drain
from tests.searchads.helpers import link_ok

CAMPAIGN_DAILY = """
    SELECT d.report_date, sum(d.spend) AS spend, sum(d.total_installs) AS installs,
           sum(d.tap_installs) AS tap_installs, sum(d.impressions) AS impressions,
           sum(d.taps) AS taps, min(d.currency) AS currency
    FROM searchads_daily d JOIN searchads_accounts a ON a.id = d.account_id
    WHERE d.level = 'campaign' AND d.campaign_id = $1 AND a.ad_account_id = $2
    GROUP BY d.report_date
"""


async def test_reports_equal_the_sandbox_truth(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    await link_account(client, tenant, sandbox.default_demo_key())
    await drain(app)
    await link_ok(client, tenant, ads.add_credential())
    await drain(app, plan=True)

    checked = 0
    for account in ads.accounts():
        if account.product != "APPSTORE":
            assert (
                await db.fetchval(
                    "SELECT count(*) FROM searchads_campaigns c JOIN searchads_accounts a "
                    "ON a.id = c.account_id WHERE a.ad_account_id = $1",
                    account.ad_account_id,
                )
                == 0
            )
            continue
        today = ads.now().astimezone(account.zone).date()
        start = today - dt.timedelta(days=19)
        for campaign in ads.truth.campaigns(account):
            stored = {
                r["report_date"]: r
                for r in await db.fetch(CAMPAIGN_DAILY, campaign.id, account.ad_account_id)
            }
            if campaign.app is None:
                continue
            for day, metrics in ads.truth.daily(campaign.id, start, today).items():
                values = ads.truth.values(metrics, account)
                row = stored.get(day)
                if metrics.impressions == 0:
                    assert row is None or row["impressions"] == 0
                    continue
                assert row is not None, (campaign.id, day)
                assert row["spend"] == values["localSpend"]
                assert row["installs"] == values["totalInstalls"]
                assert row["tap_installs"] == values["tapInstalls"]
                assert row["taps"] == values["taps"]
                assert row["currency"] == account.currency
                checked += 1
            # Nothing beyond what v1 DAILY serves (90 days back, no future day) was asked.
            assert all(today - dt.timedelta(days=89) <= day <= today for day in stored)
    assert checked > 20

    # Campaigns join Orchard's apps by adamId; an unknown app keeps its adam_id, no app_id.
    joined = await db.fetch(
        "SELECT c.adam_id, c.app_id, a.apple_id FROM searchads_campaigns c "
        "LEFT JOIN apps a ON a.id = c.app_id WHERE c.adam_id IS NOT NULL"
    )
    linked = [r for r in joined if r["app_id"] is not None]
    assert linked and all(str(r["adam_id"]) == r["apple_id"] for r in linked)
    assert any(r["app_id"] is None for r in joined)
    # Every day of the window is marked fetched at every level.
    levels = await db.fetch("SELECT DISTINCT level FROM searchads_days ORDER BY level")
    assert [r["level"] for r in levels] == ["ad_group", "campaign", "keyword", "search_term"]


async def test_levels_add_up_and_keywords_carry_their_text(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    eur = ads.account("EUR")
    await link_ok(client, tenant, ads.add_credential(), sync_ad_accounts=[eur.ad_account_id])
    await drain(app, plan=True)
    totals = await db.fetch(
        "SELECT level, sum(spend) AS spend, sum(taps) AS taps FROM searchads_daily "
        "GROUP BY level ORDER BY level"
    )
    by_level = {r["level"]: r for r in totals}
    assert by_level["campaign"]["spend"] > 0
    # Ad groups hold every tap of their campaigns; keywords only the keyword-matched ones.
    assert by_level["ad_group"]["spend"] == by_level["campaign"]["spend"]
    assert by_level["ad_group"]["taps"] == by_level["campaign"]["taps"]
    assert by_level["keyword"]["taps"] <= by_level["campaign"]["taps"]
    texts = await db.fetch(
        "SELECT DISTINCT keyword_text FROM searchads_daily WHERE level = 'keyword'"
    )
    assert texts and all(r["keyword_text"] for r in texts)
    assert {r["currency"] for r in await db.fetch("SELECT currency FROM searchads_daily")} == {
        "EUR"
    }
    # Search terms: real terms (and Apple's low-volume row as ""), never more than the taps.
    terms = await db.fetch(
        "SELECT search_term, sum(taps) AS taps FROM searchads_daily "
        "WHERE level = 'search_term' GROUP BY search_term"
    )
    assert any(r["search_term"] for r in terms)
    assert sum(r["taps"] for r in terms) <= by_level["campaign"]["taps"]
    response = await client.get(
        "/v1/search-ads/performance",
        params={
            "from": "2026-01-01",
            "to": ads.now().date().isoformat(),
            "granularity": "total",
            "group_by": "search_term",
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    named = {i["search_term"] for i in response.json()["items"]}
    assert named == {r["search_term"] for r in terms}


async def test_restated_days_are_replaced_and_old_days_not_refetched(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
    ads_clock: object,
) -> None:
    us = ads.account("US")
    await link_ok(client, tenant, ads.add_credential(), sync_ad_accounts=[us.ad_account_id])
    await drain(app, plan=True)
    before = await db.fetchval("SELECT count(*) FROM searchads_daily")
    assert before > 0
    # A second pass later: recent windows run again (cadence elapsed), old ones never.
    await db.execute(
        "UPDATE sync_jobs SET finished_at = finished_at - interval '7 hours' "
        "WHERE dataset LIKE 'search_ads%'"
    )
    ads.clear_requests()
    await drain(app, plan=True)
    report_calls = [r for r in ads.requests if "/reports/" in r.path]
    assert report_calls, "recent days must be re-fetched"
    # Three levels; the recent windows only (one or two windows of 10 days), never all four.
    assert len(report_calls) <= 3 * 2
    after = await db.fetchval("SELECT count(*) FROM searchads_daily")
    assert after == before  # replaced, never duplicated
    duplicates = await db.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM searchads_days GROUP BY account_id, level, "
        "report_date HAVING count(*) > 1) d"
    )
    assert duplicates == 0
    _ = account_today, Decimal


async def test_revoked_credential_stops_its_units_without_a_retry_storm(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    credential = ads.add_credential()
    body = await link_ok(client, tenant, credential)
    credential.revoked = True
    # Tokens already issued stop working too.
    ads.tokens.clear()
    ads.clear_requests()
    await drain(app, plan=True)
    state = await client.get(f"/v1/search-ads/accounts/{body['id']}", headers=tenant.headers())
    assert state.json()["credential_status"] == "revoked_or_invalid"
    assert "Apple Ads" in state.json()["status_reason"]
    # One token request per unit at most, and no unit retried: the first refusal stops it.
    token_calls = [r for r in ads.requests if r.api == "oauth"]
    assert 1 <= len(token_calls) <= 3
    failed = await db.fetch(
        "SELECT state, attempts, last_error_code AS error_code FROM sync_jobs WHERE dataset LIKE 'search_ads%'"
    )
    assert all(r["state"] in ("failed", "succeeded") for r in failed)
    assert any(r["error_code"] == "credentials_rejected" for r in failed)
    # Further rounds plan nothing for it.
    ads.clear_requests()
    await drain(app, plan=True)
    assert ads.requests == []
    # Sync status shows the workspace's ad accounts as sources, paused on the credential.
    status = await client.get("/v1/sync-status/public", headers=tenant.headers())
    entries = {e["dataset"]: e for e in status.json()["items"]}
    sources = entries["search_ads_campaigns"]["sources"]
    assert sources and {s["state"] for s in sources} == {"paused_credentials"}


async def test_429_defers_the_unit_until_retry_after(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    eur = ads.account("EUR")
    credential = ads.add_credential()
    await link_ok(client, tenant, credential, sync_ad_accounts=[eur.ad_account_id])
    credential.rate.set_remaining(0)
    ads.clear_requests()
    await drain(app, plan=True)
    throttled = [r for r in ads.requests if r.status == 429]
    assert len(throttled) == 1, "one 429, then the credential waits: no storm"
    budget = await db.fetchrow("SELECT blocked_until, consecutive_429 FROM searchads_budgets")
    assert budget["consecutive_429"] == 1
    assert budget["blocked_until"] > dt.datetime.now(dt.UTC)
    waiting = await db.fetchval(
        "SELECT count(*) FROM sync_jobs WHERE dataset = 'search_ads_campaigns' "
        "AND state = 'waiting' AND attempts = 0"
    )
    assert waiting == 1
