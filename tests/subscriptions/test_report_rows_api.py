"""`GET /v1/subscriptions/offer-code-redemptions` and `/win-back-eligibility` (issue 13, item
12): each lists the lines the sandbox served for the workspace's accounts, and only those."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from app.kit.pagination import Page
from app.sandbox.state import SandboxState, utc_now
from app.sandbox.subscriptions import offer_code_rows, win_back_rows
from app.subscriptions.report_rows_schemas import (
    OfferCodeRedemptionRead,
    WinBackEligibilityRead,
)
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit
from tests.sales.helpers import add_app

NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 6, 6)  # a day with offer-code redemptions
OFFERS = "/v1/subscriptions/offer-code-redemptions"
WIN_BACK = "/v1/subscriptions/win-back-eligibility"


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now
    return state


async def _all(
    client: httpx.AsyncClient, tenant: Tenant, path: str, **params: Any
) -> list[dict[str, Any]]:
    """Every item, page by page (two lines a page, so paging is exercised)."""
    model = OfferCodeRedemptionRead if path == OFFERS else WinBackEligibilityRead
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=page, headers=tenant.headers())
        assert response.status_code == 200, response.text
        body = response.json()
        TypeAdapter(Page[model]).validate_python(body)  # type: ignore[valid-type]
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_the_stored_lines_are_listed_per_workspace(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    for dataset in ("offer_code_redemptions_daily", "win_back_eligibility_daily"):
        await run_unit(app, account_id, dataset, DAY.isoformat())
    team = sandbox.team("acme")
    span = {"from": str(DAY), "to": str(DAY)}

    codes = offer_code_rows(sandbox, team, DAY)
    assert codes, "the sandbox redeemed offer codes that day"
    listed = await _all(client, tenant, OFFERS, **span)
    assert [
        (
            i["subscription_apple_id"],
            i["territory"],
            i["offer_code"],
            Decimal(i["redemptions"]),
            i["event_date"],
        )
        for i in listed
    ] == [
        (
            c["Subscription Apple ID"],
            c["Territory"],
            c["Offer Code"] or None,
            Decimal(c["Redemptions"]),
            str(DAY),
        )
        for c in codes
    ]
    assert {i["account_id"] for i in listed} == {str(account_id)}

    churned = win_back_rows(sandbox, team, DAY)
    assert churned, "the sandbox has churned subscriptions"
    eligible = await _all(client, tenant, WIN_BACK, **span)
    assert [
        (i["subscription_apple_id"], i["territory"], Decimal(i["churned_count"])) for i in eligible
    ] == [
        (c["Subscription Apple ID"], c["Territory"], Decimal(c["Churned Subscription Count"]))
        for c in churned
    ]

    # One app's lines: by its Apple ID in its account.
    apple_id = codes[0]["App Apple ID"]
    app_id = await add_app(db, tenant, account_id, apple_id, "acme.app")
    mine = await _all(client, tenant, OFFERS, app_id=str(app_id), **span)
    assert mine and len(mine) == sum(c["App Apple ID"] == apple_id for c in codes)
    assert {i["app_apple_id"] for i in mine} == {apple_id}

    # Dates outside the stored report date: nothing.
    assert await _all(client, tenant, WIN_BACK, **{"from": str(DAY + dt.timedelta(days=1))}) == []

    # Another workspace sees none of it, and the account and app are not found there.
    assert await _all(client, other_tenant, OFFERS) == []
    assert await _all(client, other_tenant, WIN_BACK) == []
    for path in (OFFERS, WIN_BACK):
        for name, value in (("account_id", account_id), ("app_id", app_id)):
            response = await client.get(
                path, params={name: str(value)}, headers=other_tenant.headers()
            )
            assert response.status_code == 404, response.text


BAD = [
    ({"from": "2025-06-07", "to": "2025-06-06"}, "from"),
    ({"from": "06/06/2025"}, "from"),
    ({"to": "2025-02-30"}, "to"),
    ({"account_id": "not-a-uuid"}, "account_id"),
    ({"limit": "0"}, "limit"),
    ({"cursor": "bm9wZQ"}, "cursor"),
    ({"colour": "red"}, "colour"),
]


async def test_bad_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # One test, many requests: each case needs no data of its own.
    for path in (OFFERS, WIN_BACK):
        for params, field in BAD:
            response = await client.get(path, params=params, headers=tenant.headers())
            assert response.status_code == 422, (path, params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert f"query.{field}" in response.text, (path, params, response.text)
