"""Subscription metrics against the simulation's truth: the sandbox's subscription world writes
Apple's three reports from one simulated population; Orchard syncs them through the engine and
its metrics must equal what the population actually did (``SubscriptionTruth``)."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.kit.money import amount_text
from app.sandbox.state import SandboxState, utc_now
from app.sandbox.subscription_world import SubscriptionTruth, configure
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit

NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)  # June 9 is Apple's newest day
FIRST, LAST = dt.date(2025, 6, 2), dt.date(2025, 6, 7)  # a Monday-to-Sunday-ish week
CENT = Decimal("0.01")


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=11, clock=lambda: NOW)
    state.token_clock = utc_now  # Orchard signs its tokens with the real clock
    configure(state, subscribers=1500)
    return state


def _days(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


async def _synced(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> uuid.UUID:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    for day in _days(FIRST - dt.timedelta(days=1), LAST):
        await run_unit(app, account_id, "subscriptions_daily", day)
    # Events of LAST arrive up to two days late (FACTS §8): their files are needed too.
    for day in _days(FIRST, LAST + dt.timedelta(days=2)):
        await run_unit(app, account_id, "subscription_events_daily", day)
        await run_unit(app, account_id, "subscribers_daily", day)
    return account_id


async def _metrics(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> Any:
    response = await client.get(
        "/v1/subscriptions/metrics", params=params, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    return response.json()


def _money(amounts: dict[str, Decimal]) -> list[dict[str, str]]:
    """Money as served: each total rounded once to its currency's minor units (JPY none)."""
    return [{"amount": amount_text(a, c), "currency": c} for c, a in sorted(amounts.items()) if a]


def _same_money(served: list[dict[str, str]], truth: dict[str, Decimal]) -> None:
    assert {m["currency"]: Decimal(m["amount"]) for m in served} == {
        c: a for c, a in truth.items() if a
    }


async def test_metrics_equal_the_simulated_truth(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    await _synced(app, client, tenant, sandbox)
    truth = SubscriptionTruth(sandbox, sandbox.team("acme"))
    flows = truth.flows(FIRST, LAST)
    names = [
        "active", "paying_active", "free_trial_active", "billing_retry", "grace_period", "mrr",
        "new_subscriptions", "trial_starts", "trial_conversions", "offer_conversions",
        "renewals", "billing_recoveries", "voluntary_cancellations",
        "involuntary_cancellations", "reactivations", "upgrades", "downgrades", "crossgrades",
        "transactions", "refunds", "gross_sales", "proceeds", "refunded_amount",
        "refunded_proceeds", "net_proceeds", "churn_rate",
    ]  # fmt: skip
    body = await _metrics(
        client,
        tenant,
        metric=",".join(names),
        granularity="month",
        **{"from": FIRST.isoformat(), "to": LAST.isoformat()},
    )
    assert body["incomplete_dates"] == []
    [bucket] = body["items"]
    assert (bucket["period_start"], bucket["period_end"], bucket["partial"]) == (
        "2025-06-01",
        "2025-06-30",
        True,
    )
    assert bucket["as_of"] == LAST.isoformat()
    values = bucket["values"]

    actives = truth.actives(LAST)
    for metric, state in (
        ("active", "active"),
        ("paying_active", "paying"),
        ("billing_retry", "billing_retry"),
        ("grace_period", "grace_period"),
    ):
        assert values[metric] == actives[state], metric
    assert values["free_trial_active"] == actives["active"] - actives["paying"]
    assert values["mrr"] == _money(truth.mrr(LAST))

    expected_flows = {
        "new_subscriptions": flows.new_subscriptions,
        "trial_starts": flows.trial_starts,
        "trial_conversions": flows.trial_conversions,
        "offer_conversions": flows.conversions,
        "renewals": flows.renewals,
        "billing_recoveries": flows.recoveries,
        "voluntary_cancellations": flows.cancellations_voluntary,
        "involuntary_cancellations": flows.cancellations_involuntary,
        "reactivations": flows.reactivations,
        "upgrades": flows.upgrades,
        "downgrades": flows.downgrades,
        "crossgrades": flows.crossgrades,
        "transactions": flows.transactions,
        "refunds": flows.refunds,
    }
    assert {k: values[k] for k in expected_flows} == expected_flows
    assert flows.trial_starts > 0 and flows.renewals > 0 and flows.cancellations_involuntary > 0
    _same_money(values["gross_sales"], flows.sales)
    _same_money(values["proceeds"], flows.proceeds)
    _same_money(values["refunded_amount"], flows.refunded)
    _same_money(values["refunded_proceeds"], flows.refunded_proceeds)
    net = {
        c: flows.proceeds[c] - flows.refunded_proceeds.get(c, Decimal(0)) for c in flows.proceeds
    }
    _same_money(values["net_proceeds"], net)

    # Churn: the week's cancellations over the paying base at the end of the day before.
    opening = truth.actives(FIRST - dt.timedelta(days=1))["paying"]
    cancellations = flows.cancellations_voluntary + flows.cancellations_involuntary
    assert Decimal(values["churn_rate"]) == (Decimal(cancellations) / opening).quantize(
        Decimal("0.000001")
    )

    # Traceability: which files the bucket's values came from.
    traces = {t["dataset"]: t for t in bucket["trace"]}
    assert traces["subscriptions_daily"]["last_report_date"] == LAST.isoformat()
    assert traces["subscription_events_daily"]["first_event_date"] == FIRST.isoformat()
    assert traces["subscription_events_daily"]["last_event_date"] == LAST.isoformat()
    assert traces["subscription_events_daily"]["last_report_date"] == "2025-06-09"

    # The same range by week: flows add up over time, stocks do not (the last week's as_of is
    # the month's), and edge weeks are partial.
    weekly = await _metrics(
        client,
        tenant,
        metric="renewals,transactions,active,mrr",
        granularity="week",
        **{"from": FIRST.isoformat(), "to": LAST.isoformat()},
    )
    weeks = weekly["items"]
    assert [w["period_start"] for w in weeks] == ["2025-06-02"]  # Monday 2 … Sunday 8
    assert weeks[0]["partial"] is True and weeks[0]["period_end"] == "2025-06-08"
    assert weeks[0]["values"]["renewals"] == flows.renewals
    assert weeks[0]["values"]["active"] == actives["active"]
    daily = await _metrics(
        client,
        tenant,
        metric="renewals,active",
        granularity="day",
        **{"from": FIRST.isoformat(), "to": LAST.isoformat()},
    )
    assert sum(d["values"]["renewals"] for d in daily["items"]) == flows.renewals
    for day in daily["items"]:
        assert day["as_of"] == day["period_start"]
        assert (
            day["values"]["active"] == truth.actives(dt.date.fromisoformat(day["as_of"]))["active"]
        )
