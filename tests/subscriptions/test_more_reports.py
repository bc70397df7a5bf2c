"""SUBSCRIPTION_OFFER_CODE_REDEMPTION and WIN_BACK_ELIGIBILITY as report specs (issue 13,
item 12): loaded by header name from the sandbox in its documented layouts and its layout
variants (extended redemption columns, MM/DD/YYYY dates, a dated win-back file)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.state import SandboxState, utc_now
from app.sandbox.subscription_world import configure
from app.sandbox.subscriptions import offer_code_rows, win_back_rows
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit

NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 6, 6)  # a day with offer-code redemptions


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now
    return state


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {
            "offer_code_layout": "extended",
            "offer_code_dates": "mdy",
            "win_back_layout": "dated",
            "win_back_min_count": 1,
        },
    ],
)
async def test_offer_codes_and_win_back_load_by_header_name(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    variant: dict[str, Any],
) -> None:
    if variant:
        configure(sandbox, **variant)
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    team = sandbox.team("acme")
    for dataset in ("offer_code_redemptions_daily", "win_back_eligibility_daily"):
        await run_unit(app, account_id, dataset, DAY.isoformat())
        await run_unit(app, account_id, dataset, DAY.isoformat())  # a re-sync: same rows

    codes = offer_code_rows(sandbox, team, DAY)
    assert codes, "the sandbox redeemed offer codes that day"
    stored = await db.fetch(
        "SELECT * FROM offer_code_redemption_rows WHERE report_date = $1 ORDER BY id", DAY
    )
    assert len(stored) == len(codes)
    for got, want in zip(stored, codes, strict=True):
        assert got["event_date"] == DAY  # ISO or MM/DD/YYYY alike
        assert (got["subscription_apple_id"], got["territory"]) == (
            want["Subscription Apple ID"],
            want["Territory"],
        )
        assert got["offer_code"] == (want["Offer Code"] or None)
        assert got["redemptions"] == Decimal(want["Redemptions"])
        extra = json.loads(got["extra"])
        if variant:  # the extended layout's columns Orchard does not model are kept
            for column in ("Subscription Group ID", "Subscription Offer Type"):
                assert extra[column] == want[column].strip()
        else:
            assert extra == {}

    churned = win_back_rows(sandbox, team, DAY)
    assert churned, "the sandbox has churned subscriptions"
    rows = await db.fetch(
        "SELECT * FROM win_back_eligibility_rows WHERE report_date = $1 ORDER BY id", DAY
    )
    assert len(rows) == len(churned)
    for got, want in zip(rows, churned, strict=True):
        assert got["churned_count"] == Decimal(want["Churned Subscription Count"])
        redeemed = want["Has Previously Redeemed Win-Back Offer"] == "Yes"
        assert got["redeemed_win_back"] is (True if redeemed else None)  # "Yes" or blank
        assert got["paid_tenure_months"] == Decimal(want["Paid Subscription Tenure"])
        assert got["territory"] == want["Territory"]
    states = await db.fetch(
        "SELECT dataset, state FROM dataset_availability WHERE report_date = $1 "
        "AND dataset IN ('offer_code_redemptions_daily', 'win_back_eligibility_daily')",
        DAY,
    )
    assert {r["state"] for r in states} == {"published"}
