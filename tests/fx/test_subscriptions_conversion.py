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
from app.subscriptions.schemas import MoneySeries, SubscriptionSummary
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


def _rate_into(fx: FxState, target: str, code: str, day: dt.date) -> Decimal | None:
    """Hand computation of the rate ``code`` → ``target`` of ``day``'s fix (None: no rate)."""

    def per_eur(c: str) -> Decimal | None:
        if c == "EUR":
            return Decimal(1)
        if c in EURO_FIXED:
            return EURO_FIXED[c]
        return fx.rate(day, c) if c in ECB_CURRENCIES else None

    if code == target:
        return Decimal(1)
    source, goal = per_eur(code), per_eur(target)
    if source is None or goal is None:
        return None
    return goal if code == "EUR" else significant(goal / source)


async def test_mrr_series_converts_each_day_at_its_own_rate(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, fx: FxState
) -> None:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    # Friday, Saturday, Sunday, Monday: the weekend days convert at Friday's fix.
    days = [dt.date(2025, 6, 6) + dt.timedelta(days=n) for n in range(4)]
    fix_of = {d: d if d.weekday() < 5 else dt.date(2025, 6, 6) for d in days}
    assert fix_of[days[3]] == dt.date(2025, 6, 9)
    for day in days[:3]:  # Monday's report is not stored: a null point, not zero
        await run_unit(app, account_id, "subscriptions_daily", day.isoformat())
    await run_public_unit(app, "fx_ecb", "history")
    params = {"metric": "estimated_mrr", "from": str(days[0]), "to": str(days[-1])}

    plain = await client.get(
        "/v1/subscriptions/summary/series", params=params, headers=tenant.headers()
    )
    assert plain.status_code == 200, plain.text
    assert "currency" not in plain.json()
    assert all("amounts_total_converted" not in p for p in plain.json()["points"])
    assert all(
        set(m) == {"amount", "currency"} for p in plain.json()["points"] for m in p["amounts"] or []
    )

    response = await client.get(
        "/v1/subscriptions/summary/series",
        params={**params, "currency": "GBP"},
        headers=tenant.headers(),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    MoneySeries.model_validate({**body, "from_date": body["from"], "to_date": body["to"]})
    assert body["currency"] == "GBP"
    missing_seen = False
    for point, day in zip(body["points"], days, strict=True):
        if day == days[3]:
            assert point["amounts"] is None and point["amounts_total_converted"] is None
            continue
        assert point["amounts"], f"the sandbox has paying subscriptions on {day}"
        expected, missing = Decimal(0), {}
        for money in point["amounts"]:
            code, amount = money["currency"], Decimal(money["amount"])
            rate = _rate_into(fx, "GBP", code, fix_of[day])
            if rate is None:
                missing[code] = amount
                assert money["converted"] is None
                continue
            assert Decimal(money["converted"]["rate"]) == rate
            if code not in ("GBP", *EURO_FIXED):
                assert money["converted"]["rate_date"] == fix_of[day].isoformat()
            assert money["converted"]["amount"] == str(
                (amount * rate).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
            )
            expected += amount * rate
        total = point["amounts_total_converted"]
        assert total["currency"] == "GBP"
        assert total["amount"] == str(expected.quantize(Decimal("0.01"), ROUND_HALF_EVEN))
        assert {u["currency"]: Decimal(u["amount"]) for u in total["unconverted"]} == missing
        assert all(u["reason"] == "no_rate" for u in total["unconverted"])
        assert total["partial"] is bool(missing)
        missing_seen = missing_seen or bool(missing)
    assert missing_seen, "the sandbox sells in a currency the ECB does not publish"
    # Saturday's and Sunday's amounts differ from Friday's only by their subscriptions: the
    # rate is Friday's on all three days.
    rates = {
        m["converted"]["rate"]
        for p in body["points"][:3]
        for m in p["amounts"]
        if m["currency"] == "EUR" and m["converted"]
    }
    assert rates == {str(fx.rate(days[0], "GBP"))}


async def test_mrr_series_takes_the_workspace_default_and_the_parameter_overrides(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState, fx: FxState
) -> None:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    await run_unit(app, uuid.UUID(response.json()["id"]), "subscriptions_daily", SUNDAY)
    await run_public_unit(app, "fx_ecb", "history")
    admin = tenant.headers(tenant.admin_token)
    response = await client.patch(
        "/v1/fx/settings", json={"reporting_currency": "JPY"}, headers=admin
    )
    assert response.status_code == 200, response.text
    params = {"metric": "estimated_mrr", "from": SUNDAY, "to": SUNDAY}
    friday = dt.date(2025, 6, 6)
    for extra, target, places in (({}, "JPY", Decimal(1)), ({"currency": "usd"}, "USD", None)):
        response = await client.get(
            "/v1/subscriptions/summary/series", params={**params, **extra}, headers=tenant.headers()
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["currency"] == target
        [point] = body["points"]
        eur = next(m for m in point["amounts"] if m["currency"] == "EUR")
        rate = fx.rate(friday, target)
        assert rate is not None
        assert eur["converted"]["rate"] == str(rate)
        step = places or Decimal("0.01")
        assert eur["converted"]["amount"] == str(
            (Decimal(eur["amount"]) * rate).quantize(step, ROUND_HALF_EVEN)
        )
        assert point["amounts_total_converted"]["currency"] == target
    # A count metric has no money: the reporting currency changes nothing.
    response = await client.get(
        "/v1/subscriptions/summary/series",
        params={**params, "metric": "active"},
        headers=tenant.headers(),
    )
    assert "currency" not in response.json()
    assert "amounts_total_converted" not in response.json()["points"][0]
