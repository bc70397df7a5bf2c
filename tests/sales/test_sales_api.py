"""GET /v1/sales, /v1/sales/rows and /v1/apps/{id}/sales/summary over reports loaded through
the real sales_daily unit (Apple simulated at the HTTP boundary), against hand-computed totals."""

from __future__ import annotations

import datetime as dt
import gzip
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.apple_files import SAMPLES
from tests.fixtures.engine import run_unit
from tests.sales.helpers import (
    FakeApple,
    expected_measures,
    fake_apple_app,
    measures_of,
    unit_kind,
)
from tests.sales.world import (
    APRIL1,
    DAY1,
    DAY1_TOTALS,
    DAY2,
    DAY8,
    OTHER_ACCOUNT,
    UNKNOWN,
    A,
    B,
    World,
)


def _only(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["items"]) == 1, body["items"]
    item: dict[str, Any] = body["items"][0]
    return item


async def test_day_totals_equal_the_hand_computed_ones(world: World) -> None:
    body = await world.sales(
        **{"from": "2024-03-04", "to": "2024-03-04", "account_id": world.account}
    )
    item = _only(body)
    assert measures_of(item) == DAY1_TOTALS
    assert measures_of(item) == expected_measures(DAY1)  # the reference aggregator agrees
    assert (item["period_start"], item["period_end"], item["partial"]) == (
        "2024-03-04",
        "2024-03-04",
        False,
    )
    assert item["group"] == {}
    # Both accounts together: the other account's CHF line is added, in its own currency.
    both = measures_of(_only(await world.sales(**{"from": "2024-03-04", "to": "2024-03-04"})))
    assert both == expected_measures(DAY1 + OTHER_ACCOUNT)
    assert {"amount": Decimal("100.00"), "currency": "CHF"} in both["proceeds"]


async def test_the_real_sample_file(
    settings: Settings, tenant: Tenant, sandbox: SandboxState
) -> None:
    sample = SAMPLES / "sales_summary_daily_v1_0__kachit.tsv"
    header, *lines = sample.read_text().splitlines()
    cells = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]
    apple = FakeApple()
    apple.reports["2020-10-05"] = gzip.compress(sample.read_bytes())
    async with fake_apple_app(settings, apple) as app:
        account, _ = await link_new_key(app, tenant, sandbox, "acme")
        await run_unit(app, account, "sales_daily", "2020-10-05")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://o"
        ) as http:
            response = await http.get(
                "/v1/sales",
                params={"from": "2020-10-05", "to": "2020-10-05"},
                headers=tenant.headers(),
            )
    assert response.status_code == 200, response.text
    item = _only(response.json())
    expected = expected_measures(cells)
    assert measures_of(item) == expected
    # The file has no negative-unit line; its partial refund has 0 units (Customer Price
    # −85.43, proceeds 59.80) and must neither count as a refund nor as a sale.
    assert item["refunds"] == 0
    assert item["subscription_units"] == 142
    assert {m["currency"] for m in item["proceeds"]} <= {
        c["Currency of Proceeds"].strip() or None for c in cells
    }
    assert response.json()["incomplete_dates"] == []


async def test_granularity_buckets(world: World) -> None:
    span = {"from": "2024-03-04", "to": "2024-04-01", "account_id": world.account}
    day = await world.sales(**span, granularity="day")
    assert [i["period_start"] for i in day["items"]] == [
        "2024-03-04",
        "2024-03-05",
        "2024-03-11",
        "2024-04-01",
    ]

    week = await world.sales(**span, granularity="week")
    bounds = [(i["period_start"], i["period_end"], i["partial"]) for i in week["items"]]
    # Weeks run Monday–Sunday like Apple's weekly reports; the last one reaches past `to`.
    assert bounds == [
        ("2024-03-04", "2024-03-10", False),
        ("2024-03-11", "2024-03-17", False),
        ("2024-04-01", "2024-04-07", True),
    ]
    assert measures_of(week["items"][0]) == expected_measures(DAY1 + DAY2)
    assert measures_of(week["items"][1]) == expected_measures(DAY8)

    month = await world.sales(**span, granularity="month")
    assert [(i["period_start"], i["period_end"], i["partial"]) for i in month["items"]] == [
        ("2024-03-01", "2024-03-31", True),
        ("2024-04-01", "2024-04-30", True),
    ]
    assert measures_of(month["items"][0]) == expected_measures(DAY1 + DAY2 + DAY8)

    year = _only(await world.sales(**span, granularity="year"))
    assert (year["period_start"], year["period_end"]) == ("2024-01-01", "2024-12-31")
    assert measures_of(year) == expected_measures(DAY1 + DAY2 + DAY8 + APRIL1)

    # A range starting mid-week: the week bucket keeps its calendar bounds, counts only in-range days.
    tail = await world.sales(**{**span, "from": "2024-03-05"}, granularity="week")
    assert tail["items"][0]["partial"] is True
    assert measures_of(tail["items"][0]) == expected_measures(DAY2)


def _lines_of_app(lines: list[dict[str, str]], apple_id: str, sku: str) -> list[dict[str, str]]:
    return [
        line
        for line in lines
        if line["Apple Identifier"] == apple_id or line["Parent Identifier"] == sku
    ]


async def test_group_by_app_country_and_kind(world: World) -> None:
    span = {"from": "2024-03-04", "to": "2024-03-04", "account_id": world.account}
    by_app = await world.sales(**span, group_by="app")
    known = sorted([str(world.app_a), str(world.app_b)])
    # The product the catalog does not know is kept, as the last group.
    assert [i["group"] for i in by_app["items"]] == [*({"app": a} for a in known), {"app": None}]
    groups = {i["group"]["app"]: measures_of(i) for i in by_app["items"]}
    assert groups[str(world.app_a)] == expected_measures(_lines_of_app(DAY1, A, "app.a"))
    assert groups[str(world.app_b)] == expected_measures(_lines_of_app(DAY1, B, "app.b"))
    assert groups[None] == expected_measures(_lines_of_app(DAY1, UNKNOWN, "other.app"))

    # Repeated and comma-separated, any order: groups come back in canonical order.
    two = await world.sales(**span, group_by=["unit_kind,country"])
    again = await world.sales(**span, group_by=["country", "unit_kind"])
    assert two == again
    assert two["group_by"] == ["country", "unit_kind"]
    keys = [(i["group"]["country"], i["group"]["unit_kind"]) for i in two["items"]]
    assert keys == sorted(keys)
    for item in two["items"]:
        country, kind = item["group"]["country"], item["group"]["unit_kind"]
        subset = [x for x in DAY1 if x["Country Code"] == country and unit_kind(x) == kind]
        assert measures_of(item) == expected_measures(subset), (country, kind)
    assert ("JP", "iap") in keys and ("CA", "other") in keys

    platforms = await world.sales(**span, group_by="platform,device,product,account")
    assert {i["group"]["platform"] for i in platforms["items"]} == {"IOS", "MAC_OS"}
    mac = [i for i in platforms["items"] if i["group"]["platform"] == "MAC_OS"]
    assert {i["group"]["device"] for i in mac} == {"Desktop"}
    assert {i["group"]["product"] for i in mac} == {B}
    assert sum(i["net_units"] for i in platforms["items"]) == DAY1_TOTALS["net_units"]


async def test_filters(world: World) -> None:
    span = {"from": "2024-03-04", "to": "2024-03-11"}
    all_lines = DAY1 + DAY2 + DAY8
    app_a = _only(await world.sales(**span, app_id=world.app_a, granularity="month"))
    assert measures_of(app_a) == expected_measures(_lines_of_app(all_lines, A, "app.a"))

    japan = _only(await world.sales(**span, country="jp", granularity="month"))  # any case
    assert measures_of(japan) == expected_measures(
        [x for x in all_lines if x["Country Code"] == "JP"]
    )

    kinds = _only(await world.sales(**span, unit_kind=["iap", "restore"], granularity="month"))
    subset = [x for x in all_lines if x["Product Type Identifier"] in {"IA1", "IA3"}]
    assert measures_of(kinds) == expected_measures(subset)
    assert (kinds["iap_units"], kinds["restores"], kinds["refunds"]) == (4, 2, 1)

    desktop = _only(await world.sales(**span, device="Desktop", sku="app.b", granularity="month"))
    assert measures_of(desktop) == expected_measures(
        [x for x in all_lines if x["Device"] == "Desktop"]
    )

    # Platforms in Apple's casing, as on versions and builds (issue 15, item 3).
    mac = _only(await world.sales(**span, platform="MAC_OS", granularity="month"))
    assert measures_of(mac) == expected_measures(
        [x for x in all_lines if x["Device"] == "Desktop" or x["Product Type Identifier"] == "F1"]
    )
    ios_and_mac = _only(await world.sales(**span, platform=["IOS", "MAC_OS"], granularity="month"))
    assert measures_of(ios_and_mac) == expected_measures(all_lines + OTHER_ACCOUNT)
    for wrong in ("ios", "BOGUS"):
        refused = await world.get("/v1/sales", **span, platform=wrong)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "query.platform.0"
    rows = await world.get("/v1/sales/rows", platform="MAC_OS", limit=200)
    assert rows.status_code == 200, rows.text
    assert rows.json()["items"]
    assert {r["platform"] for r in rows.json()["items"]} == {"MAC_OS"}

    other = _only(await world.sales(**span, account_id=world.other_account, granularity="month"))
    assert measures_of(other) == expected_measures(OTHER_ACCOUNT)
    both = _only(
        await world.sales(
            **span, account_id=[world.account, world.other_account], granularity="month"
        )
    )
    assert both["net_units"] == expected_measures(all_lines + OTHER_ACCOUNT)["net_units"]

    nothing = await world.sales(**span, app_id=uuid.uuid4())
    assert nothing["items"] == [] and nothing["incomplete_dates"] == []


async def test_incomplete_dates(world: World) -> None:
    body = await world.sales(
        **{"from": "2024-03-04", "to": "2024-03-11", "account_id": world.account}
    )
    states = [(d["report_date"], d["state"]) for d in body["incomplete_dates"]]
    # 03-06 and 03-10 were Apple's "no sales" (real zeros); 03-04, 05 and 11 are published.
    assert states == [
        ("2024-03-07", "not_fetched"),
        ("2024-03-08", "not_yet_published"),
        ("2024-03-09", "failed"),
    ]
    assert {d["account_id"] for d in body["incomplete_dates"]} == {str(world.account)}

    everyone = await world.sales(**{"from": "2024-03-04", "to": "2024-03-05"})
    assert [
        (d["report_date"], d["account_id"], d["state"]) for d in everyone["incomplete_dates"]
    ] == [("2024-03-05", str(world.other_account), "not_fetched")]

    # Days Apple cannot have published yet are "not_yet_published", not gaps in the sync.
    today = dt.date.today()
    recent = await world.sales(
        **{
            "from": str(today - dt.timedelta(days=3)),
            "to": str(today + dt.timedelta(days=1)),
            "account_id": world.account,
        }
    )
    by_day = {d["report_date"]: d["state"] for d in recent["incomplete_dates"]}
    assert by_day[str(today + dt.timedelta(days=1))] == "not_yet_published"
    assert by_day[str(today - dt.timedelta(days=3))] == "not_fetched"


VALIDATION_CASES = [
    ({"group_by": "country,planet"}, "query.group_by"),
    ({"from": "2024-03-05"}, "query.from"),  # after `to`
    ({"from": "2023-03-04"}, "query.to"),  # 367 days > the configured 366
    ({"from": None}, "query.from"),  # required
    ({"granularity": "hour"}, "query.granularity"),
    ({"unit_kind": "download"}, "query.unit_kind.0"),
    ({"country": "USA"}, "query.country.0"),
    ({"cursor": "bm9wZQ"}, "query.cursor"),
    ({"limit": "0"}, "query.limit"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"sales_max_range_days": 366})


async def test_validation_errors_name_the_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    for change, field in VALIDATION_CASES:
        params = {"from": "2024-03-04", "to": "2024-03-04", **change}
        params = {name: value for name, value in params.items() if value is not None}
        response = await client.get("/v1/sales", params=params, headers=tenant.headers())
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field], change


async def test_range_limit_is_configurable_and_inclusive(world: World) -> None:
    # ORCHARD_SALES_MAX_RANGE_DAYS is 366 in this module; both ends count.
    leap_year = {"from": "2024-01-01", "to": "2024-12-31"}
    assert (await world.get("/v1/sales", **leap_year)).status_code == 200
    response = await world.get(
        f"/v1/apps/{world.app_a}/sales/summary", **{**leap_year, "to": "2025-01-01"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.to"


async def test_pages_of_groups(world: World) -> None:
    span = {
        "from": "2024-03-04",
        "to": "2024-03-11",
        "account_id": world.account,
        "group_by": "app",
    }
    whole = await world.sales(**span)
    assert whole["next_cursor"] is None
    items, cursor = [], None
    while True:
        page = await world.sales(**span, limit=1, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 1
        assert page["incomplete_dates"] == whole["incomplete_dates"]
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert items == whole["items"]
    assert len(items) == 6  # 03-04: A, B, unknown; 03-05: A; 03-11: A, B
    assert [i["group"]["app"] is None for i in items] == [False, False, True, False, False, False]
