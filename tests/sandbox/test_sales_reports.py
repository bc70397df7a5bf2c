from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.sales import generate_sales_rows, is_no_sales_day
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, assert_matches_spec, parse_tsv

# FACTS §5.1, in this order.
HEADER_TEXT = (
    "Provider, Provider Country, SKU, Developer, Title, Version, Product Type Identifier, "
    "Units, Developer Proceeds, Begin Date, End Date, Customer Currency, Country Code, "
    "Currency of Proceeds, Apple Identifier, Customer Price, Promo Code, Parent Identifier, "
    "Subscription, Period, Category, CMB, Device, Supported Platforms, Proceeds Reason, "
    "Preserved Pricing, Client, Order Type"
)
HEADER = HEADER_TEXT.split(", ")
NOT_AVAILABLE = (
    "Report is not available yet. Daily reports for the Americas are available by 5 am "
    "Pacific Time; Japan, Australia, and New Zealand by 5 am Japan Standard Time; and 5 am "
    "Central European Time for all other territories."
)
AnyHeaders = Callable[..., dict[str, str]]


class Reports:
    """Calls ``/v1/salesReports`` for the admin key unless told otherwise."""

    def __init__(self, client: httpx.AsyncClient, key: SandboxKey, headers_for: AnyHeaders):
        self.client, self.key, self.headers_for = client, key, headers_for

    async def sales(
        self,
        frequency: str = "DAILY",
        report_date: str | None = None,
        *,
        key: SandboxKey | None = None,
        headers: dict[str, str] | None = None,
        drop: tuple[str, ...] = (),
        **filters: str,
    ) -> httpx.Response:
        used = key or self.key
        params = {
            "filter[vendorNumber]": used.vendor_number,
            "filter[reportType]": "SALES",
            "filter[reportSubType]": "SUMMARY",
            "filter[frequency]": frequency,
            "filter[version]": "1_0",
        }
        if report_date is not None:
            params["filter[reportDate]"] = report_date
        params.update({f"filter[{k}]": v for k, v in filters.items()})
        params = {k: v for k, v in params.items() if k[7:-1] not in drop}
        return await self.client.get(
            "/v1/salesReports",
            params=params,
            headers={"Accept": "application/a-gzip", **self.headers_for(used), **(headers or {})},
        )


@pytest.fixture
def reports(client: httpx.AsyncClient, admin_key: SandboxKey, headers_for: AnyHeaders) -> Reports:
    return Reports(client, admin_key, headers_for)


def _sales_day(team_state: SandboxState, start: date) -> date:
    day = start
    while is_no_sales_day(team_state.default_team(), day):
        day -= timedelta(days=1)
    return day


def _totals(rows: list[dict[str, str]]) -> tuple[int, dict[str, Decimal]]:
    units = sum(int(r["Units"]) for r in rows)
    proceeds: defaultdict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        proceeds[r["Customer Currency"]] += int(r["Units"]) * Decimal(r["Developer Proceeds"])
    return units, dict(proceeds)


async def test_daily_report_file(
    reports: Reports, admin_key: SandboxKey, state: SandboxState
) -> None:
    day = _sales_day(state, date(2025, 6, 9))
    response = await reports.sales("DAILY", day.isoformat())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/a-gzip"
    assert response.headers["content-encoding"] == "agzip"
    assert response.headers["x-reports-download-version"] == "1_0"
    filename = f"S_D_{admin_key.vendor_number}_{day:%Y%m%d}.txt.gz"
    assert response.headers["content-disposition"] == f"attachment;filename={filename}"
    assert response.content[:2] == b"\x1f\x8b"
    header, rows, footer = parse_tsv(response.content)
    assert header == HEADER and not footer
    assert 20 <= len(rows) <= 200
    assert {r["Begin Date"] for r in rows} == {r["End Date"] for r in rows} == {f"{day:%m/%d/%Y}"}
    assert rows == generate_sales_rows(admin_key.team, "DAILY", day)
    assert {r["Provider"] for r in rows} == {"APPLE"}
    assert {r["Promo Code"] for r in rows} == {" "}  # single-space cells like Apple's files
    assert len({r["Customer Currency"] for r in rows}) >= 3


def test_rows_cover_product_types_refunds_and_currencies(state: SandboxState) -> None:
    team = state.default_team()
    rows = [
        row
        for offset in range(365)
        for row in generate_sales_rows(team, "DAILY", date(2025, 6, 9) - timedelta(days=offset))
    ]
    types = {r["Product Type Identifier"] for r in rows}
    assert {"1", "1F", "3", "7", "IA1", "IAY", "IA3", "IAC"} <= types
    refunds = [r for r in rows if int(r["Units"]) < 0]
    assert refunds
    for r in refunds:
        assert Decimal(r["Customer Price"]) < 0 < Decimal(r["Developer Proceeds"])
    partial = [r for r in rows if r["Units"] == "0"]
    assert partial and all(
        Decimal(r["Customer Price"]) < 0 < Decimal(r["Developer Proceeds"]) for r in partial
    )
    yen = [r for r in rows if r["Customer Currency"] == "JPY"]
    assert yen and all("." not in r["Customer Price"] + r["Developer Proceeds"] for r in yen)
    euro = [r for r in rows if r["Customer Currency"] == "EUR" and r["Customer Price"] != "0.00"]
    assert euro and all(len(r["Customer Price"].split(".")[1]) == 2 for r in euro)
    subs = [r for r in rows if r["Product Type Identifier"] == "IAY"]
    assert {r["Subscription"] for r in subs} == {"New", "Renewal"}
    assert {"Rate After One Year", " "} == {r["Proceeds Reason"] for r in subs}
    assert all(r["Parent Identifier"] != " " for r in subs)
    paid = [r for r in rows if Decimal(r["Customer Price"]) > 0]
    assert all(Decimal(r["Developer Proceeds"]) < Decimal(r["Customer Price"]) for r in paid)


async def test_weekly_is_the_sum_of_dailies(reports: Reports) -> None:
    sunday = date(2025, 6, 8)
    weekly = await reports.sales("WEEKLY", sunday.isoformat())
    assert weekly.status_code == 200
    assert "S_W_" in weekly.headers["content-disposition"]
    _, week_rows, _ = parse_tsv(weekly.content)
    assert {r["Begin Date"] for r in week_rows} == {"06/02/2025"}
    assert {r["End Date"] for r in week_rows} == {"06/08/2025"}
    daily_rows: list[dict[str, str]] = []
    for offset in range(7):
        day = sunday - timedelta(days=offset)
        response = await reports.sales("DAILY", day.isoformat())
        if response.status_code == 200:
            daily_rows += parse_tsv(response.content)[1]
        else:
            assert_error(response, 404, "NOT_FOUND")
    assert _totals(week_rows) == _totals(daily_rows)
    assert len(week_rows) < len(daily_rows)  # identical keys were merged


def test_monthly_and_yearly_are_sums_of_dailies(state: SandboxState) -> None:
    team = state.default_team()
    may = [generate_sales_rows(team, "DAILY", date(2025, 5, d)) for d in range(1, 32)]
    monthly = generate_sales_rows(team, "MONTHLY", date(2025, 5, 17))
    assert _totals(monthly) == _totals([r for day in may for r in day])
    assert {r["Begin Date"] for r in monthly} == {"05/01/2025"}
    yearly = generate_sales_rows(team, "YEARLY", date(2024, 1, 1))
    months = [generate_sales_rows(team, "MONTHLY", date(2024, m, 1)) for m in range(1, 13)]
    assert _totals(yearly) == _totals([r for month in months for r in month])


async def test_monthly_and_yearly_downloads(reports: Reports, admin_key: SandboxKey) -> None:
    monthly = await reports.sales("MONTHLY", "2025-05")
    assert monthly.status_code == 200
    assert f"S_M_{admin_key.vendor_number}_202505.txt.gz" in monthly.headers["content-disposition"]
    yearly = await reports.sales("YEARLY", "2024")
    assert yearly.status_code == 200
    assert f"S_Y_{admin_key.vendor_number}_2024.txt.gz" in yearly.headers["content-disposition"]


async def test_no_sales_day(reports: Reports, state: SandboxState) -> None:
    team = state.default_team()
    day = next(
        date(2025, 6, 8) - timedelta(days=n)
        for n in range(300)
        if is_no_sales_day(team, date(2025, 6, 8) - timedelta(days=n))
    )
    assert generate_sales_rows(team, "DAILY", day) == []
    response = await reports.sales("DAILY", day.isoformat())
    error = assert_error(response, 404, "NOT_FOUND")
    assert error["detail"] == "There were no sales for the date specified."


async def test_availability_follows_the_clock(
    reports: Reports, clock: FakeClock, state: SandboxState
) -> None:
    day = _sales_day(state, date(2025, 6, 9))
    clock.now = datetime(day.year, day.month, day.day, 14, 59, tzinfo=UTC) + timedelta(days=1)
    early = await reports.sales("DAILY", day.isoformat())  # 07:59 PDT next day
    assert assert_error(early, 404, "NOT_FOUND")["detail"] == NOT_AVAILABLE
    clock.advance(minutes=1)
    assert (await reports.sales("DAILY", day.isoformat())).status_code == 200
    future = await reports.sales("DAILY", "2025-12-24")
    assert assert_error(future, 404, "NOT_FOUND")["detail"] == NOT_AVAILABLE


async def test_weekly_monthly_yearly_availability(reports: Reports, clock: FakeClock) -> None:
    clock.now = datetime(2025, 6, 9, 14, 0, tzinfo=UTC)  # Monday 07:00 PDT
    assert_error(await reports.sales("WEEKLY", "2025-06-08"), 404, "NOT_FOUND")
    clock.now = datetime(2025, 6, 9, 16, 0, tzinfo=UTC)  # Monday 09:00 PDT
    assert (await reports.sales("WEEKLY", "2025-06-08")).status_code == 200
    clock.now = datetime(2025, 6, 4, 18, 0, tzinfo=UTC)
    assert_error(await reports.sales("MONTHLY", "2025-05"), 404, "NOT_FOUND")
    clock.now = datetime(2025, 6, 5, 16, 0, tzinfo=UTC)
    assert (await reports.sales("MONTHLY", "2025-05")).status_code == 200
    clock.now = datetime(2025, 1, 5, 18, 0, tzinfo=UTC)
    assert_error(await reports.sales("YEARLY", "2024"), 404, "NOT_FOUND")


async def test_retention(reports: Reports) -> None:
    for frequency, report_date in (("DAILY", "2024-05-01"), ("WEEKLY", "2024-05-05"),
                                   ("MONTHLY", "2024-05"), ("YEARLY", "2014")):  # fmt: skip
        error = assert_error(await reports.sales(frequency, report_date), 410, "GONE")
        assert error["detail"].startswith("Report is no longer available")
    assert (await reports.sales("DAILY", "2024-06-12")).status_code in (200, 404)


async def test_latest_daily_when_date_omitted(
    reports: Reports, admin_key: SandboxKey, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 6, 10, 14, 0, tzinfo=UTC)  # 07:00 PDT: 9 June not out yet
    response = await reports.sales("DAILY")
    if response.status_code == 200:
        assert "20250608" in response.headers["content-disposition"]
    else:
        assert assert_error(response, 404, "NOT_FOUND")["detail"].startswith("There were no")


async def test_version_drift(reports: Reports, state: SandboxState) -> None:
    day = _sales_day(state, date(2025, 6, 9)).isoformat()
    error = assert_error(
        await reports.sales("DAILY", day, version="1_1"), 400, "PARAMETER_ERROR.INVALID"
    )
    assert error["source"] == {"parameter": "filter[version]"}
    assert error["detail"] == (
        "The version parameter you have specified is invalid. "
        "The latest version for this report is 1_0."
    )
    assert (await reports.sales("DAILY", day, drop=("version",))).status_code == 200
    state.report_versions[("SALES", "SUMMARY")] = "1_1"
    drifted = assert_error(await reports.sales("DAILY", day), 400, "PARAMETER_ERROR.INVALID")
    assert drifted["detail"].endswith("The latest version for this report is 1_1.")
    ok = await reports.sales("DAILY", day, version="1_1")
    assert ok.status_code == 200 and ok.headers["x-reports-download-version"] == "1_1"


async def test_parameter_errors(reports: Reports, admin_key: SandboxKey) -> None:
    combo = await reports.sales("WEEKLY", "2025-06-08", reportType="SUBSCRIPTION", version="1_3")
    assert_error(combo, 400, "PARAMETER_ERROR.INVALID.INVALID_COMBINATION")
    vendor = await reports.sales("DAILY", "2025-06-08", vendorNumber="12345678")
    error = assert_error(vendor, 400, "PARAMETER_ERROR.INVALID")
    assert error["source"] == {"parameter": "filter[vendorNumber]"}
    assert error["detail"] == "Invalid vendor number"
    shape = await reports.sales("MONTHLY", "2025-05-01")
    assert_error(shape, 400, "PARAMETER_ERROR.INVALID.INVALID_COMBINATION")
    garbage = await reports.sales("DAILY", "yesterday")
    assert assert_error(garbage, 400, "PARAMETER_ERROR.INVALID")["source"] == {
        "parameter": "filter[reportDate]"
    }
    impossible = await reports.sales("DAILY", "2025-02-30")
    assert_error(impossible, 400, "PARAMETER_ERROR.INVALID")
    tuesday = await reports.sales("WEEKLY", "2025-06-03")
    assert_error(tuesday, 400, "PARAMETER_ERROR.INVALID")
    missing = await reports.sales("DAILY", "2025-06-08", drop=("frequency",))
    assert_error(missing, 400, "PARAMETER_ERROR.REQUIRED")
    bad_enum = await reports.sales("DAILY", "2025-06-08", reportType="SALESS")
    assert_error(bad_enum, 400, "PARAMETER_ERROR.INVALID")
    assert_matches_spec(bad_enum.json(), "/v1/salesReports", 400)


async def test_other_valid_reports_have_no_data_yet(reports: Reports) -> None:
    # The subscription family (offer-code redemptions and win-back eligibility included) has
    # data (tests/sandbox/subscriptions); first annual reports do not.
    response = await reports.sales(
        "DAILY", "2025-06-08", reportType="FIRST_ANNUAL", reportSubType="DETAILED", version="1_0"
    )
    assert_error(response, 404, "NOT_FOUND")
    unversioned = await reports.sales(
        "DAILY", "2025-06-08", reportType="SUBSCRIPTION", drop=("version",)
    )
    error = assert_error(unversioned, 400, "PARAMETER_ERROR.INVALID")
    assert error["detail"].startswith("Please include the version parameter.")


async def test_accept_header(reports: Reports, state: SandboxState) -> None:
    day = _sales_day(state, date(2025, 6, 9)).isoformat()
    rejected = await reports.sales("DAILY", day, headers={"Accept": "application/json"})
    error = assert_error(rejected, 406, "NOT_ACCEPTABLE")
    assert "Allowed: application/a-gzip" in error["detail"]
    for accept in ("*/*", "application/a-gzip", "application/json, */*;q=0.1"):
        assert (await reports.sales("DAILY", day, headers={"Accept": accept})).status_code == 200


async def test_team_key_with_role_required(reports: Reports, state: SandboxState) -> None:
    individual = state.add_key(roles=("ADMIN",), key_type="individual")
    assert_error(await reports.sales("DAILY", "2025-06-08", key=individual), 403, "FORBIDDEN_ERROR")
    developer = state.add_key(roles=("DEVELOPER",))
    assert_error(await reports.sales("DAILY", "2025-06-08", key=developer), 403, "FORBIDDEN_ERROR")
