"""`GET /v1/pre-orders` (issue 13, item 12): the Pre-Order lines the sandbox served, scoped
to the workspace, filtered by account, app and storefront; bad parameters are 422."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from pydantic import TypeAdapter

from app.kit.pagination import Page
from app.reports import calendar
from app.sales.pre_order_schemas import PreOrderRead
from app.sandbox.periods import Frequency
from app.sandbox.pre_orders import pre_order_rows
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit
from tests.sales.helpers import add_app

PAGE = TypeAdapter(Page[PreOrderRead])


async def _all(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/pre-orders", params=page, headers=tenant.headers())
        assert response.status_code == 200, response.text
        body = response.json()
        PAGE.validate_python(body)
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def _mdy(cell: str) -> str:
    return str(dt.datetime.strptime(cell, "%m/%d/%Y").date())


async def test_pre_order_lines_are_listed_per_workspace(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id, key = await link_new_key(app, tenant, sandbox)
    other_account, other_key = await link_new_key(app, tenant, sandbox, "initech")
    for team in (key.team.name, other_key.team.name):
        sandbox.fidelity.set_team(team, pre_orders=True)
    newest = calendar.latest_daily(dt.datetime.now(dt.UTC))
    day = next(
        newest - dt.timedelta(days=n)
        for n in range(1, 200)
        if len(pre_order_rows(key.team, Frequency.DAILY, newest - dt.timedelta(days=n))) >= 2
    )
    await run_unit(app, account_id, "pre_orders_daily", day.isoformat())
    await run_unit(app, other_account, "pre_orders_daily", day.isoformat())
    truth = pre_order_rows(key.team, Frequency.DAILY, day)
    other_truth = pre_order_rows(other_key.team, Frequency.DAILY, day)

    span = {"from": str(day), "to": str(day)}
    mine = await _all(client, tenant, account_id=str(account_id), **span)
    assert [
        (
            i["apple_identifier"],
            i["country"],
            i["title"],
            Decimal(i["ordered"]),
            Decimal(i["cumulative_canceled"]),
            i["pre_order_end"],
            i["report_date"],
        )
        for i in mine
    ] == [
        (
            w["Apple Identifier"],
            w["Country Code"],
            w["Title"],
            Decimal(w["Ordered"]),
            Decimal(w["Cumulative Canceled"]),
            _mdy(w["Pre-Order End Date"]),
            str(day),
        )
        for w in truth
    ]
    everything = await _all(client, tenant, **span)
    assert len(everything) == len(truth) + len(other_truth)

    # Filtered by storefront (lower case accepted) and by a catalog app's Apple ID.
    country = truth[0]["Country Code"]
    by_country = await _all(client, tenant, country=country.lower(), **span)
    expected = [w for w in [*truth, *other_truth] if w["Country Code"] == country]
    assert len(by_country) == len(expected) and {i["country"] for i in by_country} == {country}
    title = truth[0]["Apple Identifier"]
    app_id = await add_app(db, tenant, account_id, title, "upcoming.title")
    of_app = await _all(client, tenant, app_id=str(app_id), **span)
    assert len(of_app) == sum(w["Apple Identifier"] == title for w in truth)
    assert {i["account_id"] for i in of_app} == {str(account_id)}

    # Another workspace: nothing, even when naming this workspace's account or app.
    assert await _all(client, other_tenant) == []
    assert await _all(client, other_tenant, account_id=str(account_id)) == []
    assert await _all(client, other_tenant, app_id=str(app_id)) == []

    bad = [
        ({"from": str(day), "to": str(day - dt.timedelta(days=1))}, "from"),
        ({"country": "USA"}, "country"),
        ({"app_id": "x"}, "app_id"),
        ({"limit": "201"}, "limit"),
        ({"cursor": "bm9wZQ"}, "cursor"),
    ]
    for params, field in bad:
        response = await client.get("/v1/pre-orders", params=params, headers=tenant.headers())
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert f"query.{field}" in response.text, (params, response.text)
