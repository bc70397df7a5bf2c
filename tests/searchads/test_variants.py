"""Apple Ads behaviour the facts leave unconfirmed (FACTS §9 "Parse leniently"): ids as
strings, group-by values in the bucket instead of the metadata, sparse metrics, trimmed money,
page sizes echoed as counted, the bare context header, the v1 orgId. Under each variant the
synced totals still equal the sandbox's own."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.searchads import AppleAdsState
from tests.fixtures.accounts import Tenant
from tests.fixtures.engine import drain
from tests.searchads.helpers import link_ok

VARIANTS: dict[str, dict[str, Any]] = {
    "strings-bucket-sparse": {
        "v1_id_type": "string",
        "v1_group_values": "bucket",
        "v1_zero_metrics": "sparse",
        "v1_page_size_echo": "returned",
        "money_style": "trimmed",
    },
    "both-bare-context": {
        "v1_group_values": "both",
        "context_semicolon": "forbidden",
        "v1_missing_context": "invalid_argument_400",
        "v1_org_id": "account",
        "token_error_status": 401,
    },
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
async def test_totals_hold_under_each_variant(
    variant: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    ads: AppleAdsState,
) -> None:
    ads.options = ads.options.with_changes(VARIANTS[variant])
    jpy = ads.account("JPY")
    body = await link_ok(client, tenant, ads.add_credential(), sync_ad_accounts=[jpy.ad_account_id])
    assert body["credential_status"] == "active"
    await drain(app, plan=True)
    today = ads.now().astimezone(jpy.zone).date()
    start, end = today - dt.timedelta(days=12), today - dt.timedelta(days=1)
    response = await client.get(
        "/v1/search-ads/performance",
        params={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "granularity": "total",
            "group_by": "campaign,country",
        },
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert all(item["country"] for item in items), "the country came from metadata or bucket"
    got: dict[int, Decimal] = {}
    for item in items:
        got[item["campaign_id"]] = got.get(item["campaign_id"], Decimal(0)) + Decimal(
            item["spend"]["amount"]
        )
    expected = {
        c.id: ads.truth.values(ads.truth.metrics(c.id, start, end), jpy)["localSpend"]
        for c in ads.truth.campaigns(jpy)
        if c.app is not None
    }
    assert got == {k: v for k, v in expected.items() if v}
    assert {item["currency"] for item in items} == {"JPY"}
