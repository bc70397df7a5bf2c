"""The real regional finance samples through the engine: rows, footers, fiscal periods."""

import datetime as dt
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.apple_files import SAMPLES
from tests.fixtures.engine import run_unit
from tests.subscriptions.apple import FakeApple, api, app_with, apple_error

REGIONS = {
    region: (SAMPLES / f"finance_financial_region_{region}__fedoco.txt").read_text()
    for region in ("EU", "JP", "CH")
}
SEPTEMBER_2014 = "2014-12"  # Apple's fiscal 2014, period 12: 08/31/2014–09/27/2014


@pytest.fixture
def apple() -> FakeApple:
    return FakeApple()


@pytest.fixture
async def fake_app(settings: Settings, apple: FakeApple) -> AsyncIterator[FastAPI]:
    async with app_with(settings, apple) as application:
        yield application


async def _rows(db: asyncpg.Connection, region: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT * FROM finance_report_rows WHERE region_code = $1 ORDER BY id", region
    )


@pytest.mark.parametrize("finance_regions", ["EU,JP,CH"])
async def test_regional_samples_parse_with_their_totals(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    for region, text in REGIONS.items():
        apple.set_text(f"FINANCIAL/{region}", text)
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "finance_monthly", SEPTEMBER_2014)

    asked = [
        (r.url.params["filter[reportType]"], r.url.params["filter[regionCode]"])
        for r in apple.requests
    ]
    assert asked == [
        ("FINANCIAL", "ZZ"),
        ("FINANCIAL", "EU"),
        ("FINANCIAL", "JP"),
        ("FINANCIAL", "CH"),
        ("FINANCE_DETAIL", "Z1"),
    ]
    assert {r.url.params["filter[reportDate]"] for r in apple.requests} == {SEPTEMBER_2014}

    eu, jp, ch = [await _rows(db, region) for region in ("EU", "JP", "CH")]
    assert (len(eu), len(jp), len(ch)) == (6, 2, 4)  # Total_Rows of each file; footers not rows
    for row in [*eu, *jp, *ch]:
        assert (row["period_start"], row["period_end"]) == (
            dt.date(2014, 8, 31),
            dt.date(2014, 9, 27),
        )
        assert row["fiscal_period"] == "2014-09"
        assert row["fiscal_request"] == SEPTEMBER_2014
        assert row["report_type"] == "FINANCIAL"
        assert json.loads(row["extra"]) == {"Artist/Show/Developer/Author": "Developer"}
    # The EU return row: negative quantity and extended share, positive per-unit share.
    ret = eu[0]
    assert (ret["quantity"], ret["partner_share"], ret["extended_partner_share"]) == (
        -1,
        Decimal("12.17"),
        Decimal("-12.17"),
    )
    assert (ret["sale_or_return"], ret["customer_price"], ret["country_of_sale"]) == (
        "R",
        Decimal("-19.99"),
        "DE",
    )
    assert (ret["vendor_identifier"], ret["apple_identifier"], ret["product_type"]) == (
        "Example App 5",
        "258801387",
        "F1",
    )
    assert eu[1]["promo_code"] == "CR" and eu[1]["extended_partner_share"] == Decimal("0.00")
    assert sum(r["extended_partner_share"] for r in eu) == Decimal("206.89")
    assert sum(r["extended_partner_share"] for r in jp) == Decimal("179")  # footer: "179"
    assert sum(r["extended_partner_share"] for r in ch) == Decimal("33.15")
    assert {r["partner_share_currency"] for r in jp} == {"JPY"}

    availability = await db.fetchrow(
        "SELECT report_date, state, row_count FROM dataset_availability "
        "WHERE dataset = 'finance_monthly'"
    )
    assert dict(availability) == {
        "report_date": dt.date(2014, 9, 1),
        "state": "published",
        "row_count": 12,
    }
    notes = json.loads(
        await db.fetchval("SELECT notes FROM sync_dataset_states WHERE dataset = 'finance_monthly'")
    )
    assert notes["FINANCIAL EU"]["footer"] == {
        "Total_Rows": "6",
        "Total_Amount": "206.89",
        "Total_Units": "20",
    }

    # The Payments page of the same month (the fedoco UI export) says: Switzerland 29 units,
    # 33.15 CHF earned; Euro-Zone 19 units, 206.89 EUR; Japan 2 units, 179 JPY.
    async with api(fake_app) as client:
        figures = {}
        for region in ("EU", "JP", "CH"):
            response = await client.get(
                "/v1/payments",
                params={"from_period": "2014-09", "to_period": "2014-09", "region": region},
                headers=tenant.headers(),
            )
            assert response.status_code == 200, response.text
            [item] = response.json()["items"]
            figures[region] = item
    assert figures["EU"] | {"account_id": None} == {
        "account_id": None,
        "period": "2014-09",
        "period_start": "2014-08-31",
        "period_end": "2014-09-27",
        "region": "EU",
        "payment_region": "EU",
        "payment_region_name": "Euro-Zone",
        "currency": "EUR",
        "units_sold": 20,  # Total_Units: sale rows only
        "returns": 1,
        "net_units": 19,  # the Payments page's "Units Sold"
        "earned": {"amount": "206.89", "currency": "EUR"},
        "rows": 6,
    }
    assert (figures["JP"]["net_units"], figures["JP"]["earned"]) == (
        2,
        {"amount": "179", "currency": "JPY"},
    )
    assert (figures["CH"]["net_units"], figures["CH"]["earned"]) == (
        29,
        {"amount": "33.15", "currency": "CHF"},
    )


async def test_the_fiscal_period_comes_from_the_file(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    apple.set_text("FINANCIAL/ZZ", REGIONS["EU"])
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    # Whatever month was asked for, the rows belong to the period the file states.
    await run_unit(fake_app, account_id, "finance_monthly", "2015-01")
    rows = await _rows(db, "ZZ")
    assert {(r["fiscal_request"], r["fiscal_period"]) for r in rows} == {("2015-01", "2014-09")}
    async with api(fake_app) as client:
        response = await client.get(
            "/v1/payments",
            params={"from_period": "2014-09", "to_period": "2014-10"},
            headers=tenant.headers(),
        )
    [item] = response.json()["items"]
    assert (item["period"], item["region"], item["earned"]["amount"]) == ("2014-09", "ZZ", "206.89")


async def test_totals_that_disagree_fail_loudly_and_keep_the_stored_month(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    good = REGIONS["EU"]
    apple.set_text("FINANCIAL/ZZ", good)
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "finance_monthly", SEPTEMBER_2014)
    stored = [dict(row) for row in await _rows(db, "ZZ")]
    assert len(stored) == 6

    async def refetch(text: str) -> asyncpg.Record:
        apple.set_text("FINANCIAL/ZZ", text)
        await run_unit(fake_app, account_id, "finance_monthly", SEPTEMBER_2014)
        return await db.fetchrow(
            "SELECT j.state, j.last_error_code, j.last_error_message, a.state AS availability "
            "FROM sync_jobs j JOIN dataset_availability a USING (account_id, dataset) "
            "WHERE j.dataset = 'finance_monthly' AND j.unit_key = $1",
            SEPTEMBER_2014,
        )

    amount = await refetch(good.replace("Total_Amount\t206.89", "Total_Amount\t218.89"))
    assert (amount["state"], amount["last_error_code"]) == ("failed", "FINANCE_TOTALS_MISMATCH")
    assert "adds up to 206.89" in amount["last_error_message"]
    assert "Total_Amount says 218.89" in amount["last_error_message"]
    assert amount["availability"] == "published"  # the stored month still stands
    assert [dict(row) for row in await _rows(db, "ZZ")] == stored

    lines = good.splitlines()
    short = "\n".join(lines[:3] + lines[4:]) + "\n"  # a row lost, the footer still says 6
    count = await refetch(short)
    assert count["last_error_code"] == "FINANCE_TOTALS_MISMATCH"
    assert "has 5 rows but its Total_Rows says 6" in count["last_error_message"]
    assert [dict(row) for row in await _rows(db, "ZZ")] == stored

    # The ZZ single file may end without Total_Amount (FACTS §8): loaded with what it has.
    no_footer = "\n".join(lines[:-3]) + "\n"
    cut = await refetch(no_footer)
    assert (cut["state"], cut["availability"]) == ("succeeded", "published")
    assert len(await _rows(db, "ZZ")) == 6
    amount = await refetch(good.replace("Total_Amount\t206.89", "Total_Amount\t218.89"))

    status = await _sync_status(fake_app, tenant)
    assert status["last_error"]["code"] == "FINANCE_TOTALS_MISMATCH"


async def _sync_status(app: FastAPI, tenant: Tenant) -> dict[str, object]:
    async with api(app) as client:
        response = await client.get("/v1/sync-status", headers=tenant.headers())
    assert response.status_code == 200, response.text
    body = response.json()
    entries = body["items"] if isinstance(body, dict) else body
    [entry] = [e for e in entries if e["dataset"] == "finance_monthly"]
    return dict(entry)


async def test_finance_detail_is_best_effort(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    apple.set_text("FINANCIAL/ZZ", REGIONS["CH"])
    # FINANCE_DETAIL's layout is unconfirmed: title lines above the header make it unreadable.
    apple.set_text(
        "FINANCE_DETAIL/Z1", "Finance Detail Report\nVendor\t80012345\n\nApple Identifier\tTitle\n"
    )
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "finance_monthly", SEPTEMBER_2014)
    assert len(await _rows(db, "ZZ")) == 4
    assert await _rows(db, "Z1") == []
    notes = json.loads(
        await db.fetchval("SELECT notes FROM sync_dataset_states WHERE dataset = 'finance_monthly'")
    )
    assert "FINANCE_DETAIL" in notes["finance_detail_error"]["message"]
    job = await db.fetchval(
        "SELECT state FROM sync_jobs WHERE dataset = 'finance_monthly' AND unit_key = $1",
        SEPTEMBER_2014,
    )
    assert job == "succeeded"

    header = (
        "Transaction Date\tSettlement Date\tApple Identifier\tSKU\tTitle\tCountry of Sale\t"
        "Quantity\tPartner Share\tExtended Partner Share\tPartner Share Currency\t"
        "Customer Price\tCustomer Currency\tSale or Return\tPromo Code\tOrder Type\tRegion"
    )
    row = (
        "09/02/2014\t10/02/2014\t283459501\tExample App 1\tExample App 1\tCH\t2\t1.30\t2.60\tCHF\t"
        "2.00\tCHF\tS\t\t\tSwitzerland"
    )
    apple.set_text("FINANCE_DETAIL/Z1", f"{header}\n{row}\n")
    await run_unit(fake_app, account_id, "finance_monthly", SEPTEMBER_2014)
    [detail] = await _rows(db, "Z1")
    assert detail["report_type"] == "FINANCE_DETAIL"
    assert detail["fiscal_period"] == "2014-09"  # no dates of its own: the ZZ file's period
    assert (detail["vendor_identifier"], detail["quantity"], detail["extended_partner_share"]) == (
        "Example App 1",
        2,
        Decimal("2.60"),
    )
    assert (detail["sale_or_return"], detail["country_of_sale"]) == ("S", "CH")
    assert json.loads(detail["extra"]) == {
        "Transaction Date": "09/02/2014",
        "Settlement Date": "10/02/2014",
        "Region": "Switzerland",
    }

    # A key refused FINANCE_DETAIL alone keeps syncing FINANCIAL; the capability stays.
    apple.reports["FINANCE_DETAIL/Z1"] = apple_error(
        403, "FORBIDDEN_ERROR", "The API key in use does not allow this request"
    )
    await db.execute(
        "UPDATE asc_accounts SET capabilities = $1 WHERE id = $2",
        json.dumps({"finance": {"available": True, "reason": None}}),
        account_id,
    )
    await run_unit(fake_app, account_id, "finance_monthly", SEPTEMBER_2014)
    job = await db.fetchval(
        "SELECT state FROM sync_jobs WHERE dataset = 'finance_monthly' AND unit_key = $1",
        SEPTEMBER_2014,
    )
    assert job == "succeeded"
    capabilities = await db.fetchval(
        "SELECT capabilities FROM asc_accounts WHERE id = $1", account_id
    )
    assert json.loads(capabilities)["finance"]["available"] is True
    assert len(await _rows(db, "Z1")) == 1  # the detail loaded before is kept
