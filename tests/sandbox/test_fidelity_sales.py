"""Sales-report variants: late files, version errors, expiry answers, yearly history,
PRE_ORDER reports and USD storefronts (FACTS §4.5, §5.7, §8)."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.payment_regions import USD_STOREFRONTS, sales_rows
from app.sandbox.periods import at_release
from app.sandbox.pre_orders import PRE_ORDER_HEADER, campaigns_between, pre_order_rows
from app.sandbox.sales import SALES_HEADER, generate_sales_rows, is_no_sales_day
from tests.fixtures.apple_files import sample_path
from tests.sandbox.conftest import FakeClock
from tests.sandbox.fidelity_support import AnyHeaders, ReportClient, report_text, table
from tests.sandbox.helpers import assert_error, assert_matches_spec

NO_SALES = "There were no sales for the date specified."


@pytest.fixture
def reports(
    client: httpx.AsyncClient, admin_key: SandboxKey, headers_for: AnyHeaders
) -> ReportClient:
    return ReportClient(client, admin_key, headers_for)


def _sales_days(key: SandboxKey, last: date, count: int) -> list[date]:
    days = (last - timedelta(days=n) for n in range(60))
    return [day for day in days if not is_no_sales_day(key.team, day)][:count]


async def test_late_file_answers_no_sales_first(
    reports: ReportClient, state: SandboxState, clock: FakeClock
) -> None:
    late, on_time = _sales_days(reports.key, date(2025, 6, 8), 2)
    state.fidelity.set_team(reports.key.team.name, late_publication_hours=24, late_days=[late])
    clock.now = at_release(late + timedelta(days=1)).astimezone(UTC) + timedelta(hours=1)
    first = await reports.sales("DAILY", late.isoformat())
    assert assert_error(first, 404, "NOT_FOUND")["detail"] == NO_SALES
    assert (await reports.sales("DAILY", on_time.isoformat())).status_code == 200
    clock.advance(hours=24)  # the next day, by the sandbox clock
    later = table(report_text(await reports.sales("DAILY", late.isoformat())).split("\n")[:-1])
    assert later == generate_sales_rows(reports.key.team, "DAILY", late)


async def test_late_publication_without_listed_days_delays_every_period(
    reports: ReportClient, state: SandboxState, clock: FakeClock
) -> None:
    [day] = _sales_days(reports.key, date(2025, 6, 9), 1)
    state.fidelity.set(late_publication_hours=6)
    clock.now = at_release(day + timedelta(days=1)).astimezone(UTC)
    assert_error(await reports.sales("DAILY", day.isoformat()), 404, "NOT_FOUND")
    clock.advance(hours=6)
    assert (await reports.sales("DAILY", day.isoformat())).status_code == 200


async def test_version_errors_in_both_shapes(reports: ReportClient, state: SandboxState) -> None:
    [day] = _sales_days(reports.key, date(2025, 6, 9), 1)
    state.report_versions[("SALES", "SUMMARY")] = "1_1"
    with_source = assert_error(
        await reports.sales("DAILY", day.isoformat()), 400, "PARAMETER_ERROR.INVALID"
    )
    assert with_source["source"] == {"parameter": "filter[version]"}

    state.fidelity.set_team(reports.key.team.name, version_error="detail_only")
    stale = await reports.sales("DAILY", day.isoformat())
    error = assert_error(stale, 400, "PARAMETER_ERROR.INVALID")
    assert_matches_spec(stale.json(), "/v1/salesReports", 400)
    assert "source" not in error
    assert error["detail"] == (
        "The version parameter you have specified is invalid. "
        "The latest version for this report is 1_1."
    )
    missing = await reports.sales(
        "DAILY", day.isoformat(), report_type="SUBSCRIPTION", version=None
    )
    error = assert_error(missing, 400, "PARAMETER_ERROR.INVALID")
    assert "source" not in error
    assert error["detail"] == (
        "Please include the version parameter. The latest version for this report is 1_3."
    )
    ok = await reports.sales("DAILY", day.isoformat(), version="1_1")
    assert ok.headers["x-reports-download-version"] == "1_1"


@pytest.mark.parametrize(
    ("expiry", "status", "code", "detail"),
    [
        ("gone_410", 410, "GONE", "Report is no longer available"),
        ("not_found_404", 404, "NOT_FOUND", NO_SALES),
        ("bad_request_400", 400, "PARAMETER_ERROR.INVALID", "Daily reports are only available"),
    ],
)
async def test_expiry_answers(
    reports: ReportClient, state: SandboxState, expiry: str, status: int, code: str, detail: str
) -> None:
    state.fidelity.set_team(reports.key.team.name, expiry=expiry)
    expired = await reports.sales("DAILY", "2024-05-01")  # 405 days before the clock
    assert assert_error(expired, status, code)["detail"].startswith(detail)
    if status == 400:
        assert expired.json()["errors"][0]["source"] == {"parameter": "filter[reportDate]"}
        assert_matches_spec(expired.json(), "/v1/salesReports", 400)
        yearly = assert_error(await reports.sales("YEARLY", "2014"), 400, code)
        assert yearly["detail"] == "Yearly reports are only available for past 10 years."
    [recent] = _sales_days(reports.key, date(2024, 6, 20), 1)  # inside the 365 days
    assert (await reports.sales("DAILY", recent.isoformat())).status_code == 200


async def test_yearly_reports_for_past_years(
    client: httpx.AsyncClient, state: SandboxState, headers_for: AnyHeaders
) -> None:
    # Yearly files are kept ten years (FACTS §5.7), far beyond the dailies' 365 days.
    key = state.add_key(state.add_team("Solo Studio", apps=1))  # launched in January 2016
    reports = ReportClient(client, key, headers_for)
    for year in (2016, 2020, 2024):
        response = await reports.sales("YEARLY", str(year))
        name = f"S_Y_{key.vendor_number}_{year}.txt.gz"
        assert response.headers["content-disposition"] == f"attachment;filename={name}"
        rows = table(report_text(response).split("\n")[:-1])
        assert rows == generate_sales_rows(key.team, "YEARLY", date(year, 1, 1))
        assert {(r["Begin Date"], r["End Date"]) for r in rows} == {
            (f"01/01/{year}", f"12/31/{year}")
        }
    daily = await reports.sales("DAILY", "2022-07-01")  # the dailies of those years are gone
    assert_error(daily, 410, "GONE")
    assert_error(await reports.sales("YEARLY", "2014"), 410, "GONE")  # past ten years


async def test_pre_order_reports(
    reports: ReportClient, state: SandboxState, clock: FakeClock
) -> None:
    team = reports.key.team
    found = campaigns_between(team, date(2024, 7, 1), date(2025, 6, 1))[-1]
    day = found.start + timedelta(days=1)
    off = await reports.sales("DAILY", day.isoformat(), report_type="PRE_ORDER")
    assert assert_error(off, 404, "NOT_FOUND")["detail"] == NO_SALES  # default unchanged

    state.fidelity.set_team(team.name, pre_orders=True)
    response = await reports.sales("DAILY", day.isoformat(), report_type="PRE_ORDER")
    name = f"P_S_D_{reports.key.vendor_number}_{day:%Y%m%d}.txt.gz"
    assert response.headers["content-disposition"] == f"attachment;filename={name}"
    assert response.headers["x-reports-download-version"] == "1_0"
    lines = report_text(response).split("\n")
    sample_header = sample_path("pre_order_summary__matisiekpl_synthetic.tsv").read_text()
    assert lines[0] == sample_header.split("\n")[0] == "\t".join(PRE_ORDER_HEADER)
    rows = table(lines[:-1])
    assert rows == pre_order_rows(team, "DAILY", day)
    for row in rows:
        assert row["Apple Identifier"] == found.apple_id and row["Title"] == found.title
        assert row["Start Date"] == row["End Date"] == f"{day:%m/%d/%Y}"
        assert row["Pre-Order Start Date"] == f"{found.start:%m/%d/%Y}"
        assert int(row["Cumulative Ordered"]) >= int(row["Ordered"]) >= 0
        assert int(row["Cumulative Canceled"]) <= int(row["Cumulative Ordered"])

    week_end = day + timedelta(days=6 - day.weekday())  # weekly = the sum of its dailies
    weekly = await reports.sales("WEEKLY", week_end.isoformat(), report_type="PRE_ORDER")
    assert weekly.headers["content-disposition"].endswith(f"_{week_end:%Y%m%d}.txt.gz")
    week = [week_end - timedelta(days=n) for n in range(7)]
    for row in table(report_text(weekly).split("\n")[:-1]):
        same = [
            r
            for d in week
            for r in pre_order_rows(team, "DAILY", d)
            if r["Country Code"] == row["Country Code"]
        ]
        assert int(row["Ordered"]) == sum(int(r["Ordered"]) for r in same)
        assert row["Cumulative Ordered"] == max((r["Cumulative Ordered"] for r in same), key=int)
    stale = await reports.sales("DAILY", day.isoformat(), report_type="PRE_ORDER", version="1_1")
    assert_error(stale, 400, "PARAMETER_ERROR.INVALID")


async def test_sales_with_usd_storefronts(reports: ReportClient, state: SandboxState) -> None:
    [day] = _sales_days(reports.key, date(2025, 6, 8), 1)
    team = reports.key.team
    state.fidelity.set_team(team.name, payment_regions=True)
    lines = report_text(await reports.sales("DAILY", day.isoformat())).split("\n")
    assert lines[0].split("\t") == list(SALES_HEADER)
    rows = table(lines[:-1])
    assert rows == sales_rows(team, "DAILY", day, usd_regions=True)
    extra = {c.alpha2 for c in USD_STOREFRONTS}
    mine = [r for r in rows if r["Country Code"] in extra]
    assert mine and {r["Customer Currency"] for r in mine} == {"USD"}
    assert [r for r in rows if r["Country Code"] not in extra] == generate_sales_rows(
        team, "DAILY", day
    )
