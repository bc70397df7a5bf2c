"""End to end with the built-in App Store Connect sandbox: link a key, let the engine sync,
and /v1/sales must equal the sandbox generator's own rows summed in plain Python."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.sales import generate_sales_rows
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import drain
from tests.sales.helpers import expected_measures, measures_of


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A short initial backfill keeps the drain quick; the routine plan adds the last week.
    return settings.model_copy(update={"initial_backfill_days": 3})


async def test_sandbox_sales_flow_in_and_add_up(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    key = sandbox.add_key("acme")
    response = await link(client, tenant, key)
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    await drain(app)

    published = [
        row["report_date"]
        for row in await db.fetch(
            "SELECT report_date FROM dataset_availability WHERE account_id = $1 "
            "AND dataset = 'sales_daily' AND state = 'published' ORDER BY report_date",
            account_id,
        )
    ]
    assert len(published) >= 5, "the routine plan fetches the last week of dailies"
    start, end = published[0], published[-1]
    team = sandbox.team("acme")
    lines: dict[dt.date, list[dict[str, str]]] = {
        day: generate_sales_rows(team, "DAILY", day)
        for day in (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    }
    span = {"from": str(start), "to": str(end)}

    async def sales(**params: Any) -> dict[str, Any]:
        answer = await client.get("/v1/sales", params={**span, **params}, headers=tenant.headers())
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    daily = {i["period_start"]: i for i in (await sales())["items"]}
    for day, day_lines in lines.items():
        if day_lines:
            assert measures_of(daily[str(day)]) == expected_measures(day_lines), day
        else:  # a sandbox no-sales day: Apple's 404, a real zero, not an incomplete date
            assert str(day) not in daily
    assert (await sales())["incomplete_dates"] == []
    assert any(m["refunds"] for m in daily.values()), "the sandbox's refunds were exercised"

    # The catalog synced too, so lines are linked to their app (directly or as the parent).
    apps = {r["apple_id"]: str(r["id"]) for r in await db.fetch("SELECT id, apple_id FROM apps")}
    skus = {r["sku"]: str(r["id"]) for r in await db.fetch("SELECT id, sku FROM apps")}

    def app_of(line: dict[str, str]) -> str | None:
        return apps.get(line["Apple Identifier"]) or skus.get(line["Parent Identifier"].strip())

    by_app = (await sales(group_by="app"))["items"]
    assert {i["group"]["app"] for i in by_app} - {None}, "no line was linked to an app"
    for item in by_app:
        subset = [
            line
            for line in lines[dt.date.fromisoformat(item["period_start"])]
            if app_of(line) == item["group"]["app"]
        ]
        assert measures_of(item) == expected_measures(subset), item["group"]
