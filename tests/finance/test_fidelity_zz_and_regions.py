"""FACTS §8 against the sandbox's fidelity variants: the ZZ single file's endings, and payment
regions that share a currency (issue 13, items 1 and 2)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.fidelity import ZzFooter
from app.sandbox.finance import finance_rows_for
from app.sandbox.finance_layouts import finance_detail_rows, zz_report_text
from app.sandbox.payment_regions import region_of
from app.sandbox.periods import fiscal_period
from app.sandbox.state import SandboxState, utc_now
from tests.fixtures.accounts import Tenant, link, link_new_key
from tests.fixtures.engine import run_unit
from tests.subscriptions.apple import FakeApple, app_with

NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)
MAY_2025 = "2025-08"  # fiscal 2025, period 8: 05/04/2025–05/31/2025

#: ISO 4217 currencies without minor units, among those Apple pays in (ISO 4217 list one).
ISO_ZERO_DECIMALS = frozenset({"CLP", "ISK", "JPY", "KRW", "VND", "UGX", "XAF", "XOF"})


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now
    return state


async def _linked(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState) -> uuid.UUID:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("FINANCE",)))
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def _job(db: asyncpg.Connection) -> asyncpg.Record:
    return await db.fetchrow(
        "SELECT state, last_error_code, last_error_message FROM sync_jobs "
        "WHERE dataset = 'finance_monthly' AND unit_key = $1",
        MAY_2025,
    )


async def _notes(db: asyncpg.Connection) -> dict[str, Any]:
    raw = await db.fetchval(
        "SELECT notes FROM sync_dataset_states WHERE dataset = 'finance_monthly'"
    )
    notes: dict[str, Any] = json.loads(raw)
    return notes


@pytest.mark.parametrize(
    ("ending", "checked", "missing"),
    [
        ("combined", ["Total_Rows", "Total_Amount"], None),
        ("per_country", ["Total_Rows", "country_totals"], ["Total_Amount"]),
        ("rows_only", ["Total_Rows"], ["Total_Amount"]),
        ("cut_at_rows", [], ["Total_Rows", "Total_Amount"]),
    ],
)
async def test_every_zz_ending_loads_the_month(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    ending: str,
    checked: list[str],
    missing: list[str] | None,
) -> None:
    sandbox.fidelity.set_team("acme", zz_footer=ending)
    account_id = await _linked(client, tenant, sandbox)
    await run_unit(app, account_id, "finance_monthly", MAY_2025)

    job = await _job(db)
    assert job["state"] == "succeeded", job["last_error_message"]
    truth = finance_rows_for(sandbox.team("acme"), fiscal_period(2025, 8), "ZZ")
    stored = await db.fetch(
        "SELECT country_of_sale, partner_share_currency, extended_partner_share "
        "FROM finance_report_rows WHERE region_code = 'ZZ'"
    )
    assert len(stored) == len(truth) > 60  # footer and summary lines are never rows
    assert sum(r["extended_partner_share"] for r in stored) == sum(
        Decimal(r["Extended Partner Share"]) for r in truth
    )
    note = (await _notes(db))["FINANCIAL ZZ"]
    assert note["totals_checked"] == checked
    assert note.get("totals_missing") == missing
    if ending == "per_country":
        assert note["country_totals"]["read"] is True
        assert note["country_totals"]["countries"] == len(
            {(r["Country Of Sale"], r["Partner Share Currency"]) for r in truth}
        )

    # Re-syncing the same month changes nothing.
    before = await db.fetch("SELECT * FROM finance_report_rows ORDER BY id")
    await run_unit(app, account_id, "finance_monthly", MAY_2025)
    after = await db.fetch("SELECT * FROM finance_report_rows ORDER BY id")
    assert [dict(r) | {"id": 0} for r in after] == [dict(r) | {"id": 0} for r in before]


async def test_a_per_country_table_that_disagrees_fails_the_month(
    settings: Settings, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    """The per-country table is checked, not just skipped: a country whose rows do not add up
    to its line fails the unit, and the stored month stands."""
    apple = FakeApple()
    async with app_with(settings, apple) as fake_app:
        account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
        await _tampered_run(fake_app, apple, account_id, sandbox)
    job = await _job(db)
    assert (job["state"], job["last_error_code"]) == ("failed", "FINANCE_TOTALS_MISMATCH")
    assert "per-country table says" in job["last_error_message"]
    truth = finance_rows_for(sandbox.team("acme"), fiscal_period(2025, 8), "ZZ")
    stored = await db.fetchval("SELECT count(*) FROM finance_report_rows WHERE region_code='ZZ'")
    assert stored == len(truth)


async def _tampered_run(
    fake_app: FastAPI, apple: FakeApple, account_id: uuid.UUID, sandbox: SandboxState
) -> None:
    truth = finance_rows_for(sandbox.team("acme"), fiscal_period(2025, 8), "ZZ")
    text = zz_report_text(truth, ZzFooter.PER_COUNTRY)
    summary_at = text.index("\nCountry Of Sale\t") + 1
    head, table = text[:summary_at], text[summary_at:].splitlines()
    cells = table[1].split("\t")
    cells[3] = str(Decimal(cells[3]) + 1)
    tampered = head + "\n".join([table[0], "\t".join(cells), *table[2:]]) + "\n"
    apple.set_text("FINANCIAL/ZZ", text)
    await run_unit(fake_app, account_id, "finance_monthly", MAY_2025)
    apple.set_text("FINANCIAL/ZZ", tampered)
    await run_unit(fake_app, account_id, "finance_monthly", MAY_2025)


@pytest.mark.parametrize("finance_regions", ["EU"])
async def test_a_region_file_keeps_its_strict_footer(
    settings: Settings, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    apple = FakeApple()
    async with app_with(settings, apple) as fake_app:
        account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
        truth = finance_rows_for(sandbox.team("acme"), fiscal_period(2025, 8), "ZZ")
        apple.set_text("FINANCIAL/ZZ", zz_report_text(truth, ZzFooter.ROWS_ONLY))
        eu = finance_rows_for(sandbox.team("acme"), fiscal_period(2025, 8), "EU")
        apple.set_text("FINANCIAL/EU", zz_report_text(eu, ZzFooter.ROWS_ONLY))
        await run_unit(fake_app, account_id, "finance_monthly", MAY_2025)
    job = await _job(db)
    assert (job["state"], job["last_error_code"]) == ("failed", "FINANCE_TOTALS_MISMATCH")
    assert "FINANCIAL EU" in job["last_error_message"]
    assert "no Total_Rows/Total_Amount footer" in job["last_error_message"]


async def test_usd_regions_are_separate_payments(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    """Four regions pay in USD; each is its own payment (FACTS §8), never one USD line."""
    sandbox.fidelity.set_team("acme", payment_regions=True, zz_footer="per_country")
    account_id = await _linked(client, tenant, sandbox)
    await run_unit(app, account_id, "finance_monthly", MAY_2025)

    truth = finance_rows_for(sandbox.team("acme"), fiscal_period(2025, 8), "ZZ", usd_regions=True)
    expected: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"net_units": 0, "earned": Decimal(0), "rows": 0}
    )
    for row in truth:
        entry = expected[(region_of(row["Country Of Sale"]), row["Partner Share Currency"])]
        entry["net_units"] += int(row["Quantity"])
        entry["earned"] += Decimal(row["Extended Partner Share"])
        entry["rows"] += 1
    usd_regions = {region for region, currency in expected if currency == "USD"}
    assert usd_regions == {"US", "LL", "AP", "WW"}

    response = await client.get(
        "/v1/payments",
        params={"from_period": "2025-05", "to_period": "2025-05", "limit": 3},
        headers=tenant.headers(),
    )
    items: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        response = await client.get(
            "/v1/payments",
            params={"from_period": "2025-05", "to_period": "2025-05", "cursor": cursor},
            headers=tenant.headers(),
        )
    got = {(item["payment_region"], item["currency"]): item for item in items}
    assert set(got) == set(expected)
    for key, want in expected.items():
        item = got[key]
        assert item["region"] == "ZZ"
        assert (item["net_units"], item["rows"]) == (want["net_units"], want["rows"])
        # Written with the currency's ISO 4217 minor units (JPY none), whatever the file has.
        places = Decimal(1).scaleb(-(0 if key[1] in ISO_ZERO_DECIMALS else 2))
        earned = format(want["earned"].quantize(places), "f")
        assert item["earned"] == {"amount": earned, "currency": key[1]}
    assert got[("LL", "USD")]["payment_region_name"] == "Latin America and the Caribbean"
    assert got[("US", "USD")]["payment_region_name"] == "Americas"

    rows = await client.get(
        "/v1/payments/2025-05/rows",
        params={"currency": "USD", "limit": 200},
        headers=tenant.headers(),
    )
    assert {(r["country_of_sale"], r["payment_region"]) for r in rows.json()["items"]} >= {
        ("US", "US"),
        ("CR", "LL"),
        ("LK", "AP"),
        ("GE", "WW"),
    }


@pytest.mark.parametrize("shape", ["header_first", "title_lines", "no_sales"])
async def test_finance_detail_in_every_shape(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    shape: str,
) -> None:
    """FINANCE_DETAIL (Z1): the header is found by its column names whether title lines sit
    above it or not (FACTS §5.6, §8; issue 13, item 6); "no sales" stores nothing."""
    sandbox.fidelity.set_team("acme", finance_detail=shape)
    account_id = await _linked(client, tenant, sandbox)
    await run_unit(app, account_id, "finance_monthly", MAY_2025)
    assert (await _job(db))["state"] == "succeeded"
    notes = await _notes(db)
    assert notes["finance_detail_error"] is None
    truth = (
        []
        if shape == "no_sales"
        else finance_detail_rows(sandbox.team("acme"), fiscal_period(2025, 8))
    )
    stored = await db.fetch(
        "SELECT vendor_identifier, quantity, extended_partner_share, partner_share_currency, "
        "country_of_sale, sale_or_return, fiscal_period, extra FROM finance_report_rows "
        "WHERE region_code = 'Z1' ORDER BY id"
    )
    assert len(stored) == len(truth)
    for got, want in zip(stored, truth, strict=True):
        assert (got["vendor_identifier"], got["quantity"]) == (want["SKU"], int(want["Quantity"]))
        assert got["extended_partner_share"] == Decimal(want["Extended Partner Share"])
        assert (got["country_of_sale"], got["sale_or_return"]) == (
            want["Country of Sale"],
            want["Sale or Return"],
        )
        assert got["fiscal_period"] == "2025-05"  # the ZZ file's period
        assert json.loads(got["extra"])["Transaction Date"] == want["Transaction Date"]
    if truth:
        assert notes["FINANCE_DETAIL Z1"]["state"] == "published"
