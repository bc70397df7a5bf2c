"""Conversion on /v1/payments: each fiscal month's `earned` converts at its End Date's rate
(the latest fix on or before it), labelled an estimate; one total per month in the reporting
currency, with what had no rate listed."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.finance.schemas import PaymentsReport
from app.fx.currencies import ECB_CURRENCIES, EURO_FIXED
from app.fx.rates import significant
from app.sandbox.fx import FxState
from app.sandbox.state import SandboxState, utc_now
from tests.fixtures.accounts import Tenant, link, link_account
from tests.fixtures.engine import run_unit
from tests.fixtures.pages import pages
from tests.fx.helpers import NOW, run_public_unit

MAY_2025 = "2025-08"  # fiscal key of Apple's "May 2025": 05/04/2025–05/31/2025 (a Saturday)


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now
    return state


async def test_payments_convert_at_the_period_end(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, fx: FxState
) -> None:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("FINANCE",)))
    assert response.status_code == 201, response.text
    await run_unit(app, uuid.UUID(response.json()["id"]), "finance_monthly", MAY_2025)
    await run_public_unit(app, "fx_ecb", "history")

    params = {"from_period": "2025-05", "to_period": "2025-05", "currency": "EUR"}
    response = await client.get("/v1/payments", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    report = response.json()
    PaymentsReport.model_validate(report)
    assert report["currency"] == "EUR"
    friday = dt.date(2025, 5, 30)  # the End Date is a Saturday: Friday's fix
    expected = Decimal(0)
    missing: dict[str, Decimal] = {}
    for item in report["items"]:
        code, amount = item["currency"], Decimal(item["earned"]["amount"])
        converted = item["earned"]["converted"]
        if code == "EUR":
            rate = Decimal(1)
        elif code in EURO_FIXED:
            rate = significant(Decimal(1) / EURO_FIXED[code])
        elif code in ECB_CURRENCIES:
            per_eur = fx.rate(friday, code)
            assert per_eur is not None
            rate = significant(Decimal(1) / per_eur)
            assert converted["rate_date"] == friday.isoformat()
            assert converted["source"] == "ecb" and converted["estimated"] is True
        else:
            assert converted is None, code
            missing[code] = amount
            continue
        assert Decimal(converted["rate"]) == rate
        expected += amount * rate
    [total] = report["totals_converted"]
    assert total["period"] == "2025-05"
    earned = total["earned"]
    assert earned["amount"] == str(expected.quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    assert {u["currency"]: Decimal(u["amount"]) for u in earned["unconverted"]} == missing
    assert earned["partial"] is bool(missing)

    # Without a currency the document is as before: no conversion keys at all.
    plain = await client.get(
        "/v1/payments",
        params={"from_period": "2025-05", "to_period": "2025-05"},
        headers=tenant.headers(),
    )
    body = plain.json()
    assert "totals_converted" not in body
    assert all(set(item["earned"]) == {"amount", "currency"} for item in body["items"])


APRIL_2025 = "2025-07"  # fiscal key of Apple's "April 2025": 04/06/2025–05/03/2025


async def _two_months(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    account_id = await link_account(client, tenant, sandbox.add_key("acme", roles=("FINANCE",)))
    for key in (APRIL_2025, MAY_2025):
        await run_unit(app, account_id, "finance_monthly", key)
    await run_public_unit(app, "fx_ecb", "history")


async def test_converted_pages_are_the_plain_pages_with_the_whole_ranges_totals(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, fx: FxState
) -> None:
    """Converted, a page is cut from the whole range's groups (read once, for the totals):
    the same items in the same order, with the same cursors, as the pages read on their own
    without a currency; every page carries the totals of the whole range."""
    await _two_months(app, client, tenant, sandbox)
    months = {"from_period": "2025-04", "to_period": "2025-05"}
    plain = await pages(client, tenant, "/v1/payments", {**months, "limit": "7"})
    converted = await pages(
        client, tenant, "/v1/payments", {**months, "limit": "7", "currency": "EUR"}
    )
    assert len(plain) >= 3  # several pages, so the cut is exercised

    def unconverted(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "earned": {k: item["earned"][k] for k in ("amount", "currency")}}

    assert [[unconverted(i) for i in p["items"]] for p in converted] == [p["items"] for p in plain]
    assert [p["next_cursor"] for p in converted] == [p["next_cursor"] for p in plain]
    [whole] = await pages(
        client, tenant, "/v1/payments", {**months, "limit": "1000", "currency": "EUR"}
    )
    assert {p["items"][0]["period"] for p in converted} == {"2025-04", "2025-05"}
    assert [t["period"] for t in whole["totals_converted"]] == ["2025-04", "2025-05"]
    assert all(p["totals_converted"] == whole["totals_converted"] for p in converted)
    assert [i for p in converted for i in p["items"]] == whole["items"]


async def test_a_period_end_far_from_its_named_month_still_converts_at_that_end(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, fx: FxState
) -> None:
    """The rates read along with the scope cover the weeks around each named month's end; a
    file whose End Date lies outside them has its rates read on their own, not left
    unconverted."""
    await _two_months(app, client, tenant, sandbox)
    far = dt.date(2025, 3, 14)  # a Friday, seven weeks before "May 2025" begins
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "UPDATE finance_report_rows SET period_end = :end WHERE fiscal_period = '2025-05'"
            ),
            {"end": far},
        )
    params = {"from_period": "2025-05", "to_period": "2025-05", "currency": "EUR"}
    response = await client.get("/v1/payments", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    usd = [i for i in items if i["currency"] == "USD"]
    assert usd, items
    for item in usd:
        converted = item["earned"]["converted"]
        assert converted is not None, item
        assert converted["rate_date"] == far.isoformat()
        per_eur = fx.rate(far, "USD")
        assert per_eur is not None
        assert Decimal(converted["rate"]) == significant(Decimal(1) / per_eur)
