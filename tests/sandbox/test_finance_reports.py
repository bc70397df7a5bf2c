from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.finance import generate_finance_rows
from app.sandbox.markets import COUNTRY_BY_ALPHA2
from app.sandbox.periods import fiscal_calendar_month, fiscal_period
from app.sandbox.sales import generate_sales_rows
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, parse_tsv

# FACTS §5.6, real spellings.
HEADER_TEXT = (
    "Start Date, End Date, UPC, ISRC/ISBN, Vendor Identifier, Quantity, Partner Share, "
    "Extended Partner Share, Partner Share Currency, Sales or Return, Apple Identifier, "
    "Artist/Show/Developer/Author, Title, Label/Studio/Network/Developer/Publisher, Grid, "
    "Product Type Identifier, ISAN/Other Identifier, Country Of Sale, Pre-order Flag, "
    "Promo Code, Customer Price, Customer Currency"
)
HEADER = HEADER_TEXT.split(", ")
AnyHeaders = Callable[..., dict[str, str]]


class Finance:
    def __init__(self, client: httpx.AsyncClient, key: SandboxKey, headers_for: AnyHeaders):
        self.client, self.key, self.headers_for = client, key, headers_for

    async def get(
        self,
        region: str = "ZZ",
        report_date: str = "2025-08",
        report_type: str = "FINANCIAL",
        key: SandboxKey | None = None,
    ) -> httpx.Response:
        used = key or self.key
        params = {
            "filter[vendorNumber]": used.vendor_number,
            "filter[reportType]": report_type,
            "filter[regionCode]": region,
            "filter[reportDate]": report_date,
        }
        headers = self.headers_for(used)
        return await self.client.get("/v1/financeReports", params=params, headers=headers)


@pytest.fixture
def finance(client: httpx.AsyncClient, admin_key: SandboxKey, headers_for: AnyHeaders) -> Finance:
    return Finance(client, admin_key, headers_for)


def _footer(footer: list[str]) -> dict[str, str]:
    return dict(line.split("\t") for line in footer)


def test_fiscal_calendar() -> None:
    # Apple's fiscal September 2014 (fedoco sample) is period 12 of fiscal 2014.
    september = fiscal_period(2014, 12)
    assert (september.start, september.end) == (date(2014, 8, 31), date(2014, 9, 27))
    assert fiscal_calendar_month(2014, 12) == (2014, 9)
    assert fiscal_period(2022, 1).start == date(2021, 9, 26)  # "2022-01 starts late Sept 2021"
    july = fiscal_period(2025, 10)  # "2025-10 ≈ July 2025", a 5-week period
    assert (july.start, july.end) == (date(2025, 6, 29), date(2025, 8, 2))
    for year in (2023, 2024, 2025):  # periods tile the fiscal year, Sunday to Saturday
        periods = [fiscal_period(year, n) for n in range(1, 13)]
        assert all(p.start.weekday() == 6 and p.end.weekday() == 5 for p in periods)
        assert all(
            a.end.toordinal() + 1 == b.start.toordinal() for a, b in itertools.pairwise(periods)
        )
    assert (fiscal_period(2023, 1).end - fiscal_period(2023, 1).start).days + 1 == 42  # 53 weeks


async def test_financial_all_regions(finance: Finance, admin_key: SandboxKey) -> None:
    response = await finance.get("ZZ", "2025-08")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/a-gzip"
    expected_name = f"{admin_key.vendor_number}_0525_ZZ.txt.gz"
    assert response.headers["content-disposition"] == f"attachment;filename={expected_name}"
    header, rows, footer = parse_tsv(response.content)
    assert header == HEADER
    assert rows and {(r["Start Date"], r["End Date"]) for r in rows} == {
        ("05/04/2025", "05/31/2025")
    }
    totals = _footer(footer)
    assert list(totals) == ["Total_Rows", "Total_Amount", "Total_Units"]
    assert int(totals["Total_Rows"]) == len(rows)
    assert Decimal(totals["Total_Amount"]) == sum(
        Decimal(r["Extended Partner Share"]) for r in rows
    )
    assert int(totals["Total_Units"]) == sum(
        int(r["Quantity"]) for r in rows if r["Sales or Return"] == "S"
    )
    for row in rows:
        quantity, share = int(row["Quantity"]), Decimal(row["Partner Share"])
        assert share > 0
        assert Decimal(row["Extended Partner Share"]) == quantity * share
        assert (
            (quantity < 0)
            == (row["Sales or Return"] == "R")
            == (Decimal(row["Customer Price"]) < 0)
        )
    assert any(r["Sales or Return"] == "R" for r in rows)
    assert len({r["Partner Share Currency"] for r in rows}) > 3


async def test_region_files_split_the_all_regions_file(finance: Finance) -> None:
    _, all_rows, _ = parse_tsv((await finance.get("ZZ", "2025-08")).content)
    by_region: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in all_rows:
        by_region[COUNTRY_BY_ALPHA2[row["Country Of Sale"]].region].append(row)
    for region in ("US", "EU", "JP"):
        response = await finance.get(region, "2025-08")
        _, rows, footer = parse_tsv(response.content)
        assert sorted(map(str, rows)) == sorted(map(str, by_region[region]))
        if region == "JP":
            assert {r["Partner Share Currency"] for r in rows} == {"JPY"}
            assert "." not in _footer(footer)["Total_Amount"]
        if region == "EU":
            assert {r["Partner Share Currency"] for r in rows} == {"EUR"}


def test_finance_matches_sales(state: SandboxState) -> None:
    team = state.default_team()
    rows = generate_finance_rows(team, 2025, 8, "US")
    period = fiscal_period(2025, 8)
    sold = 0
    for day in period.days():
        for r in generate_sales_rows(team, "DAILY", day):
            revenue = Decimal(r["Customer Price"]) > 0 and r["Product Type Identifier"] not in {
                "3",
                "7",
                "IA3",
            }
            if r["Country Code"] == "US" and revenue:
                sold += int(r["Units"])
    assert sold == sum(int(r["Quantity"]) for r in rows if r["Sales or Return"] == "S")


async def test_finance_errors_and_availability(
    finance: Finance, state: SandboxState, clock: FakeClock
) -> None:
    detail = await finance.get("US", "2025-08", "FINANCE_DETAIL")
    assert assert_error(detail, 400, "PARAMETER_ERROR.INVALID")["source"] == {
        "parameter": "filter[regionCode]"
    }
    z1 = await finance.get("Z1", "2025-08", "FINANCE_DETAIL")
    assert (
        assert_error(z1, 404, "NOT_FOUND")["detail"]
        == "There were no sales for the date specified."
    )
    assert_error(await finance.get("XX", "2025-08"), 400, "PARAMETER_ERROR.INVALID")
    assert_error(await finance.get("ZZ", "2025-13"), 400, "PARAMETER_ERROR.INVALID")
    assert_error(await finance.get("ZZ", "May 2025"), 400, "PARAMETER_ERROR.INVALID")
    not_yet = await finance.get("ZZ", "2025-09")  # ends 28 June 2025
    assert assert_error(not_yet, 404, "NOT_FOUND")["detail"].startswith(
        "Report is not available yet"
    )
    clock.now = datetime(2025, 7, 5, 16, 0, tzinfo=UTC)  # 09:00 PDT, 7 days after period end
    assert (await finance.get("ZZ", "2025-09")).status_code == 200
    sales_only = state.add_key(roles=("SALES",))
    assert_error(await finance.get(key=sales_only), 403, "FORBIDDEN_ERROR")
    finance_key = state.add_key(roles=("FINANCE",))
    assert (await finance.get(key=finance_key)).status_code == 200
