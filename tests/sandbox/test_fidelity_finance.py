"""Finance variants: ZZ file endings, USD payment regions, FINANCE_DETAIL shapes (FACTS §8)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.finance import FINANCE_HEADER
from app.sandbox.finance_layouts import DETAIL_HEADER, DETAIL_TITLE, SUMMARY_HEADER
from app.sandbox.markets import COUNTRIES
from app.sandbox.payment_regions import (
    FINANCE_REGION_CURRENCY,
    REGION_MEMBERS,
    USD_STOREFRONTS,
)
from tests.sandbox.fidelity_support import AnyHeaders, ReportClient, report_text, table
from tests.sandbox.helpers import assert_error, assert_matches_spec

FOOTER_NAMES = ["Total_Rows", "Total_Amount", "Total_Units"]
USD_REGIONS = ("US", "LL", "AP", "WW")


@pytest.fixture
def reports(
    client: httpx.AsyncClient, admin_key: SandboxKey, headers_for: AnyHeaders
) -> ReportClient:
    return ReportClient(client, admin_key, headers_for)


def _split(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Rows and everything after them (from the first ``Total_`` line on)."""
    lines = text.split("\n")
    assert lines[0].split("\t") == list(FINANCE_HEADER)
    end = next(i for i, line in enumerate(lines) if line.startswith("Total_"))
    return table(lines[:end]), lines[end:]


def _amounts(rows: list[dict[str, str]], *keys: str) -> dict[tuple[str, ...], Decimal]:
    totals: defaultdict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[tuple(row[k] for k in keys)] += Decimal(row["Extended Partner Share"])
    return dict(totals)


async def test_zz_default_keeps_the_combined_footer(reports: ReportClient) -> None:
    rows, tail = _split(report_text(await reports.finance("ZZ")))
    assert tail[0] == f"Total_Rows\t{len(rows)}"
    assert [line.split("\t")[0] for line in tail[:-1]] == FOOTER_NAMES and tail[-1] == ""


async def test_zz_per_country_summary_table(
    reports: ReportClient, client: httpx.AsyncClient, admin_key: SandboxKey
) -> None:
    combined, _ = _split(report_text(await reports.finance("ZZ")))
    patched = await client.patch(
        f"/sandbox/fidelity/teams/{admin_key.team.name}", json={"zz_footer": "per_country"}
    )  # reachable over the admin surface
    assert patched.status_code == 200 and patched.json()["zz_footer"] == "per_country"
    text = report_text(await reports.finance("ZZ"))
    rows, tail = _split(text)
    assert rows == combined
    assert tail[0] == f"Total_Rows\t{len(rows)}"
    sold = sum(int(r["Quantity"]) for r in rows if r["Sales or Return"] == "S")
    assert tail[1] == f"Total_Units\t{sold}"
    assert tail[2] == "" and tail[-1] == ""
    assert "Total_Amount" not in text
    summary = table(tail[3:-1])
    assert tail[3].split("\t") == list(SUMMARY_HEADER) and tail[3].startswith("Country")
    keys = [(s["Country Of Sale"], s["Partner Share Currency"]) for s in summary]
    assert (
        keys == sorted(keys) == sorted(_amounts(rows, "Country Of Sale", "Partner Share Currency"))
    )
    by_country = _amounts(rows, "Country Of Sale", "Partner Share Currency")
    for line in summary:
        key = (line["Country Of Sale"], line["Partner Share Currency"])
        assert Decimal(line["Extended Partner Share"]) == by_country[key]
        if key[1] in ("JPY", "KRW"):
            assert "." not in line["Extended Partner Share"]
    assert sum(int(s["Quantity"]) for s in summary) == sum(int(r["Quantity"]) for r in rows)


async def test_zz_rows_only_and_cut_files(reports: ReportClient, state: SandboxState) -> None:
    team = reports.key.team.name
    combined, _ = _split(report_text(await reports.finance("ZZ")))
    state.fidelity.set_team(team, zz_footer="rows_only")
    rows, tail = _split(report_text(await reports.finance("ZZ")))
    assert rows == combined and tail == [f"Total_Rows\t{len(rows)}", ""]
    state.fidelity.set_team(team, zz_footer="cut_at_rows")
    text = report_text(await reports.finance("ZZ"))
    rows, tail = _split(text)
    assert rows == combined and tail == ["Total_Rows"]
    assert text.endswith("\nTotal_Rows")  # no count, no final newline


@pytest.mark.parametrize("footer", ["per_country", "rows_only", "cut_at_rows"])
async def test_region_files_keep_the_strict_footer(
    reports: ReportClient, state: SandboxState, footer: str
) -> None:
    state.fidelity.set(zz_footer=footer)  # sandbox-wide this time
    for region in ("EU", "JP"):
        rows, tail = _split(report_text(await reports.finance(region)))
        assert [line.split("\t")[0] for line in tail[:-1]] == FOOTER_NAMES
        assert tail[0] == f"Total_Rows\t{len(rows)}"


def test_region_table_agrees_with_the_storefronts() -> None:
    for country in (*COUNTRIES, *USD_STOREFRONTS):
        assert country.region in FINANCE_REGION_CURRENCY
        assert FINANCE_REGION_CURRENCY[country.region] == country.currency
        if country.region in USD_REGIONS:
            assert country.alpha2 in REGION_MEMBERS[country.region]
    members = [REGION_MEMBERS[region] for region in USD_REGIONS]
    assert sum(map(len, members)) == len(set().union(*members))  # no storefront in two regions
    assert {c.region for c in USD_STOREFRONTS} == {"LL", "AP", "WW"}


async def test_usd_payment_regions_stay_apart(reports: ReportClient, state: SandboxState) -> None:
    assert_error(await reports.finance("AP"), 400, "PARAMETER_ERROR.INVALID")  # default: unknown
    assert_matches_spec((await reports.finance("AP")).json(), "/v1/financeReports", 400)
    default_zz, _ = _split(report_text(await reports.finance("ZZ")))
    extra = {c.alpha2 for c in USD_STOREFRONTS}
    assert not extra & {r["Country Of Sale"] for r in default_zz}

    state.fidelity.set_team(reports.key.team.name, payment_regions=True)
    zz, _ = _split(report_text(await reports.finance("ZZ")))
    usd_rows: list[dict[str, str]] = []
    countries: dict[str, set[str]] = {}
    for region in USD_REGIONS:
        rows, tail = _split(report_text(await reports.finance(region)))
        assert rows and {r["Partner Share Currency"] for r in rows} == {"USD"}
        countries[region] = {r["Country Of Sale"] for r in rows}
        assert countries[region] <= REGION_MEMBERS[region]
        assert [line.split("\t")[0] for line in tail[:-1]] == FOOTER_NAMES
        usd_rows += rows
    assert countries["AP"] and countries["LL"] > {"AR"} and countries["WW"] > {"UA", "KE"}
    zz_usd = [r for r in zz if r["Partner Share Currency"] == "USD"]
    assert sorted(map(str, zz_usd)) == sorted(map(str, usd_rows))
    assert {r["Country Of Sale"] for r in zz} > {r["Country Of Sale"] for r in default_zz}
    # Every region code of Apple's table is accepted; one nobody bought in has no sales.
    chile = await reports.finance("CL")
    assert assert_error(chile, 404, "NOT_FOUND")["detail"].startswith("There were no sales")


async def test_finance_detail_is_no_sales_by_default(reports: ReportClient) -> None:
    response = await reports.finance("Z1", report_type="FINANCE_DETAIL")
    assert assert_error(response, 404, "NOT_FOUND")["detail"].startswith("There were no sales")


async def test_finance_detail_shapes(reports: ReportClient, state: SandboxState) -> None:
    team = reports.key.team
    zz, _ = _split(report_text(await reports.finance("ZZ")))
    state.fidelity.set_team(team.name, finance_detail="header_first")
    response = await reports.finance("Z1", report_type="FINANCE_DETAIL")
    assert response.headers["content-disposition"].endswith(f"{team.vendor_number}_0525_Z1.txt.gz")
    lines = report_text(response).split("\n")
    assert lines[0].split("\t") == list(DETAIL_HEADER) and lines[-1] == ""
    detail = table(lines[:-1])
    assert len(detail) > len(zz)  # one row per transaction day
    assert _amounts(detail, "Partner Share Currency") == _amounts(zz, "Partner Share Currency")
    assert sum(int(r["Quantity"]) for r in detail) == sum(int(r["Quantity"]) for r in zz)
    for row in detail:
        assert "05/04/2025" <= row["Transaction Date"] <= "05/31/2025"
        assert row["Settlement Date"] == row["Transaction Date"]
        assert Decimal(row["Extended Partner Share"]) == int(row["Quantity"]) * Decimal(
            row["Partner Share"]
        )
        assert (row["Sale or Return"] == "R") == (int(row["Quantity"]) < 0)
        assert row["Region"] in FINANCE_REGION_CURRENCY

    state.fidelity.set_team(team.name, finance_detail="title_lines")
    titled = report_text(await reports.finance("Z1", report_type="FINANCE_DETAIL")).split("\n")
    assert titled[:6] == [
        DETAIL_TITLE,
        f"Vendor Name\t{team.name}",
        f"Vendor Number\t{team.vendor_number}",
        "Start Date\t05/04/2025",
        "End Date\t05/31/2025",
        "",
    ]
    assert titled[6:] == lines
