"""`/v1/sales?granularity=year` from Apple's yearly SALES files (issue 13, item 12).

Against the sandbox, which serves yearly files six days after the year for ten years (FACTS
§4.5, §5.7): a year whose yearly file is stored equals that file's lines summed in plain Python;
the current year (no yearly file yet) comes from the daily reports and lists its missing days;
daily files stored for a year with a yearly file are never added to it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.reports import calendar
from app.sales.schemas import SalesReport
from app.sandbox.sales import generate_sales_rows
from app.sandbox.state import SandboxKey, SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit
from tests.sales.helpers import expected_measures, measures_of


def _days_with_sales(key: SandboxKey, days: list[dt.date]) -> list[dt.date]:
    return [day for day in days if generate_sales_rows(key.team, "DAILY", day)]


class Years:
    """The years of this run: ``yearly`` has its yearly file published, ``current`` not."""

    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self.yearly = calendar.latest_yearly(now)
        self.current = self.yearly.replace(year=self.yearly.year + 1)
        last = min(calendar.latest_daily(now), dt.date(self.current.year, 12, 31))
        self.current_days = [last - dt.timedelta(days=n) for n in range(3)]
        today = calendar.pacific_today(now)
        # Days of the yearly year that Apple still keeps as daily files (all but the first
        # week of January): stored too, to prove they are never added to the yearly file.
        self.overlap = [
            day
            for day in (dt.date(self.yearly.year, 12, 31) - dt.timedelta(days=n) for n in range(5))
            if (today - day).days < 360
        ]


async def _sales(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/sales", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    SalesReport.model_validate(body)
    return body


async def _load(app: FastAPI, account: uuid.UUID, years: Years, *, yearly: bool) -> None:
    if yearly:
        await run_unit(app, account, "sales_yearly", str(years.yearly.year))
    for day in [*years.overlap, *years.current_days]:
        await run_unit(app, account, "sales_daily", day.isoformat())


def _lines(key: SandboxKey, days: list[dt.date]) -> list[dict[str, str]]:
    return [line for day in days for line in generate_sales_rows(key.team, "DAILY", day)]


async def test_a_year_with_a_yearly_file_equals_it_and_the_current_year_falls_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    years = Years()
    account, key = await link_new_key(app, tenant, sandbox)
    await _load(app, account, years, yearly=True)
    assert _days_with_sales(key, years.overlap) or not years.overlap, "overlap days sold"
    yearly_lines = generate_sales_rows(key.team, "YEARLY", years.yearly)
    assert yearly_lines, "the sandbox sold that year"

    span = {"from": str(years.yearly), "to": str(years.current_days[0])}
    body = await _sales(client, tenant, granularity="year", **span)
    items = {item["period_start"]: item for item in body["items"]}
    assert list(items) == [str(years.yearly), str(years.current)]

    whole = items[str(years.yearly)]
    # Exactly the yearly file: the daily files stored for its last days are not added.
    assert measures_of(whole) == expected_measures(yearly_lines)
    assert (whole["source"], whole["partial"]) == ("yearly", False)

    current = items[str(years.current)]
    assert current["source"] == "daily"
    assert measures_of(current) == expected_measures(_lines(key, years.current_days))
    incomplete = {dt.date.fromisoformat(d["report_date"]) for d in body["incomplete_dates"]}
    assert incomplete, "the current year's unfetched days are listed"
    assert all(day.year == years.current.year for day in incomplete)
    assert years.current in incomplete  # never fetched: not a zero
    assert not incomplete & set(years.current_days)

    # With a reporting currency the same buckets come back, converted where rates exist (this
    # world has none, so every non-USD amount is listed as unconverted, never dropped).
    converted = await _sales(client, tenant, granularity="year", currency="USD", **span)
    assert [measures_of(i) for i in converted["items"]] == [
        measures_of(whole),
        measures_of(current),
    ]
    total = converted["items"][0]["proceeds_total_converted"]
    assert total["currency"] == "USD"
    assert {u["currency"] for u in total["unconverted"]} == {
        m["currency"] for m in whole["proceeds"] if m["currency"] != "USD"
    }

    # Per group, the same rule: each country's year equals the file's lines of that country.
    by_country = await _sales(
        client, tenant, granularity="year", group_by="country", limit=5000, **span
    )
    lines_of: dict[str, list[dict[str, str]]] = defaultdict(list)
    for line in yearly_lines:
        lines_of[line["Country Code"]].append(line)
    got = {
        i["group"]["country"]: measures_of(i)
        for i in by_country["items"]
        if i["period_start"] == str(years.yearly)
    }
    assert got == {c: expected_measures(lines) for c, lines in lines_of.items()}

    # Paging walks the same buckets with the shared cursor.
    paged: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await _sales(
            client,
            tenant,
            granularity="year",
            group_by="country",
            limit=7,
            **span,
            **({"cursor": cursor} if cursor else {}),
        )
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == by_country["items"]

    # A year cut by `from` cannot use the yearly file: its stored days only, marked partial.
    cut = await _sales(
        client, tenant, granularity="year", **{**span, "from": str(years.yearly.replace(month=2))}
    )
    first = cut["items"][0] if cut["items"] else None
    if years.overlap:
        assert first is not None and first["period_start"] == str(years.yearly)
        assert (first["source"], first["partial"]) == ("daily", True)
        assert measures_of(first) == expected_measures(_lines(key, years.overlap))
    assert any(
        dt.date.fromisoformat(d["report_date"]).year == years.yearly.year
        for d in cut["incomplete_dates"]
    )

    # Another workspace sees none of it.
    other = await client.get(
        "/v1/sales", params={"granularity": "year", **span}, headers=other_tenant.headers()
    )
    assert other.status_code == 200
    assert other.json()["items"] == []


async def test_a_year_without_its_yearly_file_comes_from_daily_reports_per_account(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    years = Years()
    if not years.overlap:
        pytest.skip("the first days of January: the yearly year's daily files are gone")
    with_file, key = await link_new_key(app, tenant, sandbox, "acme")
    without_file, other_key = await link_new_key(app, tenant, sandbox, "initech")
    await _load(app, with_file, years, yearly=True)
    await _load(app, without_file, years, yearly=False)
    span = {"from": str(years.yearly), "to": str(years.current_days[0]), "granularity": "year"}

    by_account = await _sales(client, tenant, group_by="account", **span)
    year = {
        i["group"]["account"]: i
        for i in by_account["items"]
        if i["period_start"] == str(years.yearly)
    }
    assert year[str(with_file)]["source"] == "yearly"
    assert measures_of(year[str(with_file)]) == expected_measures(
        generate_sales_rows(key.team, "YEARLY", years.yearly)
    )
    assert year[str(without_file)]["source"] == "daily"
    assert measures_of(year[str(without_file)]) == expected_measures(
        _lines(other_key, years.overlap)
    )
    listed = {
        (d["account_id"], dt.date.fromisoformat(d["report_date"]).year)
        for d in by_account["incomplete_dates"]
    }
    assert (str(without_file), years.yearly.year) in listed  # its year is not complete
    assert (str(with_file), years.yearly.year) not in listed

    together = await _sales(client, tenant, **span)
    mixed = next(i for i in together["items"] if i["period_start"] == str(years.yearly))
    assert mixed["source"] == "mixed"
    assert measures_of(mixed) == expected_measures(
        generate_sales_rows(key.team, "YEARLY", years.yearly) + _lines(other_key, years.overlap)
    )


BAD = [
    ({"granularity": "decade", "from": "2020-01-01", "to": "2020-12-31"}, "granularity"),
    ({"granularity": "year", "from": "2012-01-01", "to": "2024-12-31"}, "to"),
    ({"granularity": "year", "from": "2024-01-01", "to": "2023-12-31"}, "from"),
    ({"granularity": "year", "from": "2024-01-01", "to": "2024-12-31", "cursor": "x"}, "cursor"),
    (
        {"granularity": "year", "from": "2024-01-01", "to": "2024-12-31", "group_by": "x"},
        "group_by",
    ),
]


async def test_bad_yearly_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for params, field in BAD:
        response = await client.get("/v1/sales", params=params, headers=tenant.headers())
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert f"query.{field}" in response.text, (params, response.text)
    # Eleven calendar years are one yearly query; other granularities keep the 400-day cap.
    params = {"granularity": "year", "from": "2014-01-01", "to": "2024-12-31"}
    response = await client.get("/v1/sales", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    monthly = await client.get(
        "/v1/sales", params={**params, "granularity": "month"}, headers=tenant.headers()
    )
    assert monthly.status_code == 422
    assert "query.to" in monthly.text
