"""Conversion on /v1/payments: each fiscal month's `earned` converts at its End Date's rate
(the latest fix on or before it), labelled an estimate; one total per month in the reporting
currency, with what had no rate listed."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import httpx
import pytest
from fastapi import FastAPI

from app.finance.schemas import PaymentsReport
from app.fx.currencies import ECB_CURRENCIES, EURO_FIXED
from app.fx.rates import significant
from app.sandbox.fx import FxState
from app.sandbox.state import SandboxState, utc_now
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit
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
