"""GET /v1/sales/rows, GET /v1/apps/{id}/sales/summary, and workspace isolation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.auth.tokens import Scope
from app.sales.schemas import AppSalesSummary, SalesRowRead
from tests.fixtures.accounts import Tenant, make_token
from tests.fixtures.engine import run_unit
from tests.sales.helpers import expected_measures, measures_of, row, tsv
from tests.sales.world import APRIL1, DAY1, DAY2, DAY8, A, World

WEEK = [
    row(
        type="1",
        units="99",
        proceeds="0.70",
        price="0.99",
        currency="USD",
        country="US",
        apple_id=A,
    )
]


async def _all_rows(world: World, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await world.get("/v1/sales/rows", **query)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def test_rows_are_the_normalised_lines(world: World) -> None:
    day = await _all_rows(world, **{"from": "2024-03-04", "to": "2024-03-04", "limit": 4})
    for item in day:
        SalesRowRead.model_validate(item)
    mine = [r for r in day if r["account_id"] == str(world.account)]
    assert len(mine) == len(DAY1) and len(day) == len(DAY1) + 1
    assert [r["id"] for r in day] == sorted(r["id"] for r in day)  # (report_date, id) order

    refund = next(r for r in mine if r["units"] == -2)
    assert refund["unit_kind"] == "first_time_download"
    assert refund["app_id"] == str(world.app_a)
    assert refund["developer_proceeds"] == {"amount": "0.70", "currency": "USD"}
    assert refund["customer_price"] == {"amount": "-0.99", "currency": "USD"}
    # Line amounts: the refund's proceeds are negative; customer sales use |price|, so they
    # are negative too (a refund never becomes a sale).
    assert refund["proceeds"] == {"amount": "-1.40", "currency": "USD"}
    assert refund["customer_sales"] == {"amount": "-1.98", "currency": "USD"}
    assert refund["report_date"] == "2024-03-04" and refund["frequency"] == "DAILY"
    assert refund["begin_date"] == "2024-03-04"

    blank = next(r for r in mine if r["country"] == "MX")
    # A non-zero amount Apple wrote without a currency is kept, under ISO 4217's XXX.
    assert blank["proceeds"] == {"amount": "1.00", "currency": "XXX"}
    assert blank["customer_sales"] == {"amount": "18.00", "currency": "MXN"}
    partial = next(r for r in mine if r["units"] == 0)
    assert partial["customer_price"]["amount"] == "-4.00"
    assert Decimal(partial["proceeds"]["amount"]) == 0
    unknown = next(r for r in mine if r["product_type"] == "IAC")
    assert (unknown["unit_kind"], unknown["app_id"]) == ("other", str(world.app_a))
    mac = next(r for r in mine if r["product_type"] == "F1")
    assert (mac["platform"], mac["device"], mac["app_id"]) == (
        "MAC_OS",
        "Desktop",
        str(world.app_b),
    )

    # The API's money lists are exactly the sums of the rows' line amounts.
    totals = measures_of(
        (await world.get("/v1/sales", **{"from": "2024-03-04", "to": "2024-03-04"})).json()[
            "items"
        ][0]
    )
    by_currency: dict[str | None, Decimal] = {}
    # A zero Apple wrote without a currency is no money (null), never `currency: null`.
    nulls = [r for r in day if r["proceeds"] is None]
    assert nulls and all(r["developer_proceeds"] is None for r in nulls)
    for r in day:
        if r["proceeds"] is None:
            continue
        currency = r["proceeds"]["currency"]
        by_currency[currency] = by_currency.get(currency, Decimal(0)) + Decimal(
            r["proceeds"]["amount"]
        )
    assert {m["currency"]: m["amount"] for m in totals["proceeds"]} == {
        c: a for c, a in by_currency.items() if a
    }


async def test_row_filters_and_frequency(world: World) -> None:
    span = {"from": "2024-03-04", "to": "2024-04-01"}
    everything = await _all_rows(world, **span, limit=3)
    assert len(everything) == len(DAY1) + 1 + len(DAY2) + len(DAY8) + len(APRIL1)
    days = [r["report_date"] for r in everything]
    assert days == sorted(days)

    japan = await _all_rows(world, **span, country="JP")
    assert [r["units"] for r in japan] == [4, -1]
    app_b = await _all_rows(world, **span, app_id=world.app_b)
    assert {r["sku"] for r in app_b} == {"app.b"} and len(app_b) == 4
    kinds = await _all_rows(world, **span, unit_kind=["restore", "other"], account_id=world.account)
    assert sorted(r["product_type"] for r in kinds) == ["IA3", "IAC"]
    assert await _all_rows(world, **span, device="Apple TV") == []

    # A weekly report is listed under its frequency and never counted by /v1/sales (which
    # reads the daily data only), so nothing is counted twice.
    before = await world.sales(**{"from": "2024-03-04", "to": "2024-03-10", "granularity": "week"})
    world.apple.reports["2024-03-10"] = tsv(WEEK, "2024-03-04")
    await run_unit(world.app, world.account, "sales_weekly", "2024-03-10")
    weekly = await _all_rows(world, frequency="WEEKLY")
    assert [(r["units"], r["report_date"], r["frequency"]) for r in weekly] == [
        (99, "2024-03-10", "WEEKLY")
    ]
    assert (
        await world.sales(**{"from": "2024-03-04", "to": "2024-03-10", "granularity": "week"})
        == before
    )

    bad = await world.get("/v1/sales/rows", cursor="not-a-cursor")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"
    reversed_range = await world.get("/v1/sales/rows", **{"from": "2024-03-05", "to": "2024-03-04"})
    assert reversed_range.status_code == 422
    assert reversed_range.json()["errors"][0]["field"] == "query.from"


async def test_app_summary_card(world: World) -> None:
    response = await world.get(
        f"/v1/apps/{world.app_a}/sales/summary", **{"from": "2024-03-04", "to": "2024-03-11"}
    )
    assert response.status_code == 200, response.text
    card = response.json()
    AppSalesSummary.model_validate(card)  # the documented shape, exactly
    assert (card["app_id"], card["from"], card["to"]) == (
        str(world.app_a),
        "2024-03-04",
        "2024-03-11",
    )
    of_a = [
        x
        for x in DAY1 + DAY2 + DAY8
        if A in (x["Apple Identifier"],) or x["Parent Identifier"] == "app.a"
    ]
    assert measures_of(card["totals"]) == expected_measures(of_a)
    series = {entry["report_date"]: entry for entry in card["series"]}
    assert list(series) == [f"2024-03-{d:02d}" for d in range(4, 12)]
    assert {d: e["state"] for d, e in series.items()} == {
        "2024-03-04": "published",
        "2024-03-05": "published",
        "2024-03-06": "no_data",
        "2024-03-07": "not_fetched",
        "2024-03-08": "not_yet_published",
        "2024-03-09": "failed",
        "2024-03-10": "no_data",
        "2024-03-11": "published",
    }
    assert measures_of(series["2024-03-05"]) == expected_measures(DAY2)
    assert measures_of(series["2024-03-06"]) == expected_measures([])  # a real zero
    assert [d["report_date"] for d in card["incomplete_dates"]] == [
        "2024-03-07",
        "2024-03-08",
        "2024-03-09",
    ]

    missing = await world.get(
        "/v1/apps/00000000-0000-0000-0000-000000000000/sales/summary",
        **{"from": "2024-03-04", "to": "2024-03-04"},
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_another_workspace_sees_nothing(world: World, other_tenant: Tenant) -> None:
    token = other_tenant.admin_token
    span = {"from": "2024-03-04", "to": "2024-03-11"}
    summary = await world.get(f"/v1/apps/{world.app_a}/sales/summary", token=token, **span)
    assert summary.status_code == 404  # not 403: the app does not exist for them

    sales = await world.get("/v1/sales", token=token, **span)
    assert sales.status_code == 200
    assert sales.json()["items"] == [] and sales.json()["incomplete_dates"] == []
    # Naming the other workspace's account or app as a filter finds nothing either.
    for params in ({"account_id": world.account}, {"app_id": world.app_a}):
        body = (await world.get("/v1/sales", token=token, **span, **params)).json()
        assert body["items"] == [] and body["incomplete_dates"] == []
        rows = (await world.get("/v1/sales/rows", token=token, **params)).json()
        assert rows == {"items": [], "next_cursor": None}
    assert (await world.get("/v1/sales/rows", token=token)).json()["items"] == []

    unauthenticated = await world.http.get("/v1/sales", params=span)
    assert unauthenticated.status_code == 401


async def test_a_read_token_is_enough(world: World, database_url: str) -> None:
    reader = await make_token(database_url, world.tenant, [Scope.READ])
    span = {"from": "2024-03-04", "to": "2024-03-04"}
    for path in ("/v1/sales", "/v1/sales/rows", f"/v1/apps/{world.app_a}/sales/summary"):
        assert (await world.get(path, token=reader, **span)).status_code == 200, path
