"""The Campaign Management API v5 as an option: linked and synced before its sunset (same
totals as the sandbox), refused from the sunset on, and a linked v5 credential retired then
without sending Apple a request."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import asyncpg
import httpx
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.searchads import AppleAdsState
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import drain
from tests.searchads.conftest import running
from tests.searchads.helpers import link, link_ok

V5_TOTALS = """
    SELECT d.campaign_id, sum(d.spend) AS spend, sum(d.total_installs) AS installs
    FROM searchads_daily d JOIN searchads_accounts a ON a.id = d.account_id
    WHERE d.level = 'campaign' AND a.ad_account_id = $1 AND d.report_date BETWEEN $2 AND $3
    GROUP BY d.campaign_id
"""


async def test_v5_links_and_syncs_before_its_sunset_then_retires(
    app: FastAPI,
    settings: Settings,
    sandbox: SandboxState,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    eur = ads.account("EUR")
    body = await link_ok(
        client, tenant, ads.add_credential(), api_version="v5", sync_ad_accounts=[eur.org_id]
    )
    assert body["api_version"] == "v5"
    # v5 lists orgs (not v1 ad accounts): Maps accounts are not there.
    assert {a["ad_account_id"] for a in body["ad_accounts"]} == {
        a.org_id for a in ads.accounts() if a.in_v5
    }
    await drain(app, plan=True)
    assert all(r.api in ("v5", "oauth") for r in ads.requests)
    today = ads.now().astimezone(eur.zone).date()
    start, end = today - dt.timedelta(days=10), today - dt.timedelta(days=1)
    stored = {r["campaign_id"]: r for r in await db.fetch(V5_TOTALS, eur.org_id, start, end)}
    checked = 0
    for campaign in ads.truth.campaigns(eur):
        if campaign.app is None:
            continue
        values = ads.truth.values(ads.truth.metrics(campaign.id, start, end), eur)
        if values["impressions"]:
            assert stored[campaign.id]["spend"] == values["localSpend"]
            assert stored[campaign.id]["installs"] == values["totalInstalls"]
            checked += 1
    assert checked >= 2
    levels = await db.fetch("SELECT DISTINCT level FROM searchads_daily ORDER BY 1")
    assert [r["level"] for r in levels] == ["ad_group", "campaign", "keyword", "search_term"]

    # The sunset comes: no further request, the credential says what to do.
    await db.execute(
        "UPDATE sync_jobs SET finished_at = finished_at - interval '7 hours' "
        "WHERE dataset LIKE 'search_ads%'"
    )
    ads.clear_requests()
    after = settings.model_copy(update={"searchads_v5_sunset": dt.date.today()})
    async with running(after, sandbox, ads) as later:
        await drain(later, plan=True)
    assert ads.requests == []
    state = await client.get(f"/v1/search-ads/accounts/{body['id']}", headers=tenant.headers())
    assert state.json()["credential_status"] == "api_retired"
    assert "api_version v1" in state.json()["status_reason"]
    # History stays readable.
    assert await db.fetchval("SELECT sum(spend) FROM searchads_daily") > Decimal(0)


async def test_v5_is_refused_after_its_sunset(
    settings: Settings,
    sandbox: SandboxState,
    tenant: Tenant,
    ads: AppleAdsState,
    db: asyncpg.Connection,
) -> None:
    after = settings.model_copy(update={"searchads_v5_sunset": dt.date.today()})
    async with (
        running(after, sandbox, ads) as later,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=later), base_url="http://orchard.test"
        ) as client,
    ):
        response = await link(client, tenant, ads.add_credential(), api_version="v5")
    assert response.status_code == 422
    assert response.json()["type"].endswith("api_version_refused")
    assert "api_version" in response.json()["field"]
    assert await db.fetchval("SELECT count(*) FROM searchads_credentials") == 0
    assert ads.requests == []
