"""Conversion on /v1/subscriptions/summary: estimated MRR per currency converts at the report
date's rate (a Sunday: Friday's fix), totals and groups gain a converted total."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_EVEN, Decimal

import httpx
import pytest
from fastapi import FastAPI

from app.fx.currencies import ECB_CURRENCIES, EURO_FIXED
from app.fx.rates import significant
from app.sandbox.fx import FxState
from app.sandbox.state import SandboxState, utc_now
from app.subscriptions.schemas import SubscriptionSummary
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit
from tests.fx.helpers import NOW, run_public_unit

SUNDAY = "2025-06-08"


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now
    return state


async def test_mrr_converts_at_the_report_dates_rate(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, fx: FxState
) -> None:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    await run_unit(app, uuid.UUID(response.json()["id"]), "subscriptions_daily", SUNDAY)
    await run_public_unit(app, "fx_ecb", "history")
    response = await client.get(
        "/v1/subscriptions/summary",
        params={"date": SUNDAY, "currency": "GBP", "group_by": "country"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    SubscriptionSummary.model_validate(summary)
    assert summary["currency"] == "GBP"
    friday = dt.date(2025, 6, 6)
    gbp = fx.rate(friday, "GBP")
    assert gbp is not None
    totals = summary["totals"]
    assert totals["estimated_mrr"], "the sandbox has paying subscriptions"
    expected, missing = Decimal(0), {}
    for money in totals["estimated_mrr"]:
        code, amount = money["currency"], Decimal(money["amount"])
        if code == "GBP":
            rate = Decimal(1)
        elif code == "EUR":
            rate = gbp
        elif code in ECB_CURRENCIES or code in EURO_FIXED:
            per_eur = EURO_FIXED.get(code) or fx.rate(friday, code)
            assert per_eur is not None
            rate = significant(gbp / per_eur)
            assert money["converted"]["rate_date"] == friday.isoformat()
        else:
            missing[code] = amount
            assert money["converted"] is None
            continue
        assert Decimal(money["converted"]["rate"]) == rate
        expected += amount * rate
    total = totals["estimated_mrr_total_converted"]
    assert total["amount"] == str(expected.quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    assert {u["currency"]: Decimal(u["amount"]) for u in total["unconverted"]} == missing
    assert all(g["estimated_mrr_total_converted"]["currency"] == "GBP" for g in summary["groups"])

    plain = await client.get(
        "/v1/subscriptions/summary", params={"date": SUNDAY}, headers=tenant.headers()
    )
    body = plain.json()
    assert "currency" not in body and "estimated_mrr_total_converted" not in body["totals"]
    assert all(set(m) == {"amount", "currency"} for m in body["totals"]["estimated_mrr"])
