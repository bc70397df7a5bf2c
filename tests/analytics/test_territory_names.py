"""Territories written as names (ANALYTICS §7: seeds use alpha-2, some fixtures names; the
format is unconfirmed): Orchard stores and serves alpha-2 either way, so the `territory`
filter and grouping mean the same thing whatever Apple wrote."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.kit.territories import alpha2
from app.sandbox.analytics_catalog import TERRITORY_NAMES, Family
from app.sandbox.analytics_ledger import analytics
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.state import SandboxState
from tests.analytics.helpers import existing_request, link_and_sync, one_app_team
from tests.fixtures.accounts import Tenant


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"initial_backfill_days": 1, "analytics_snapshot": False})


async def _get(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> Any:
    response = await client.get("/v1/analytics", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()


def test_names_codes_and_strangers() -> None:
    assert alpha2("United States") == "US" and alpha2(" us ") == "US"
    assert alpha2("China mainland") == "CN" and alpha2("Republic of Korea") == "KR"
    assert alpha2("Côte d'Ivoire") == "CI" and alpha2("Turkey") == "TR"
    assert alpha2("Atlantis") == "Atlantis"  # unknown: kept as written, never guessed


async def test_territory_names_load_as_codes_equal_to_the_truth(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    analytics(sandbox).options.territory_format = "name"
    key, sandbox_app = one_app_team(sandbox)
    existing_request(sandbox, sandbox_app, days_ago=8)
    await link_and_sync(app, client, tenant, key, db)
    stored = {
        r["territory"] for r in await db.fetch("SELECT DISTINCT territory FROM analytics_rows")
    }
    stored.discard(None)
    assert stored and stored <= set(TERRITORY_NAMES), stored  # codes, not names

    truth = AnalyticsTruth(sandbox, sandbox.team("acme"))
    today = sandbox.now().date()
    span = {"from": str(today - dt.timedelta(days=14)), "to": str(today)}
    listed = (await _get(client, tenant, **span))["incomplete_dates"]
    not_final = {d["report_date"] for d in listed if d["report"] == "installs"}
    day = next(  # the latest day Apple has made final (no restatement to come)
        today - dt.timedelta(days=n)
        for n in range(15)
        if str(today - dt.timedelta(days=n)) not in not_final
    )
    body = await _get(client, tenant, group_by="territory", **{"from": str(day), "to": str(day)})
    shown = {
        item["group"]["territory"]: item["installs"]
        for item in body["items"]
        if item["group"]["territory"] is not None
    }
    assert len(shown) >= 3
    families = (Family.INSTALLS,)
    for territory, installs in shown.items():
        expected = truth.day(sandbox_app.id, day, territory, families=families).installs
        assert (installs or 0) == expected, territory
    # The filter by code finds rows Apple wrote as names.
    code = next(iter(shown))
    only = await _get(client, tenant, territory=code, **{"from": str(day), "to": str(day)})
    assert [item["installs"] for item in only["items"]] == [shown[code]]
