"""The subscription metric catalogue and the metric route's input checks."""

from typing import Any

import httpx

from tests.fixtures.accounts import Tenant

REQUIRED = {
    # The list (actives by state, flows, churn, money, ratios, cohorts).
    "active", "paying_active", "free_trial_active", "introductory_offer_active",
    "promotional_offer_active", "offer_code_active", "billing_retry", "grace_period",
    "new_subscriptions", "trial_starts", "trial_conversion", "renewals", "renewal_by_period",
    "cancellations", "voluntary_cancellations", "involuntary_cancellations", "churn_rate",
    "billing_recovery_rate", "reactivations", "upgrades", "downgrades", "crossgrades",
    "refunds", "refunded_amount", "refund_rate", "mrr", "arr", "arpu", "arppu", "revenue",
    "retention", "paid_periods_before_cancel", "offer_code_redemptions", "marketing_opt_ins",
}  # fmt: skip


async def _catalog(client: httpx.AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    response = await client.get("/v1/subscriptions/metrics/catalog", headers=tenant.headers())
    assert response.status_code == 200, response.text
    metrics: list[dict[str, Any]] = response.json()["metrics"]
    return metrics


async def test_catalog_defines_every_metric(client: httpx.AsyncClient, tenant: Tenant) -> None:
    metrics = await _catalog(client, tenant)
    names = [m["name"] for m in metrics]
    assert len(names) == len(set(names)) >= 30
    assert set(names) >= REQUIRED
    for metric in metrics:
        assert metric["definition"] and metric["sources"] and metric["unit"], metric["name"]
        assert all(s.startswith(("SUBSCRIPTION", "SUBSCRIBER")) for s in metric["sources"])
        if metric["family"] == "ratio" or metric["unit"] in ("ratio", "money_per_subscriber"):
            # A rate is never added up, over time or over groups.
            assert not metric["additive_over_time"] and not metric["additive_over_groups"]
        if metric["family"] == "snapshot":
            assert not metric["additive_over_time"], metric["name"]
        if metric["unit"] == "money":
            # Never mixed; converted only into a reporting currency asked for (issue 17).
            caveats = metric["caveats"]
            assert any("never mixed" in c and "`currency=`" in c for c in caveats), metric["name"]
        expected_route = (
            "/v1/subscriptions/cohorts"
            if metric["family"] == "cohort"
            else "/v1/subscriptions/metrics"
        )
        assert metric["route"] == expected_route
    by_name = {m["name"]: m for m in metrics}
    assert any("180 days" in c for c in by_name["paying_subscribers"]["caveats"])
    assert any("two days" in c for c in by_name["renewals"]["caveats"])
    assert "Consecutive Paid Periods" in by_name["paid_periods_before_cancel"]["columns"]
    anonymous = await client.get("/v1/subscriptions/metrics/catalog")
    assert anonymous.status_code == 401


async def test_metric_input_is_checked(client: httpx.AsyncClient, tenant: Tenant) -> None:
    async def problem(**params: str) -> dict[str, Any]:
        response = await client.get(
            "/v1/subscriptions/metrics", params=params, headers=tenant.headers()
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = response.json()
        return body

    span = {"from": "2025-06-01", "to": "2025-06-07"}
    unknown = await problem(metric="vibes", **span)
    assert unknown["errors"][0]["field"] == "query.metric"
    cohort = await problem(metric="retention", **span)
    assert "/v1/subscriptions/cohorts" in cohort["errors"][0]["message"]
    blank = await problem(metric=" , ", **span)
    assert blank["errors"][0]["type"] == "missing"
    reason = await problem(metric="mrr", group_by="cancellation_reason", **span)
    assert reason["errors"][0]["field"] == "query.group_by"
    backwards = await problem(metric="mrr", **{"from": "2025-06-08", "to": "2025-06-01"})
    assert backwards["errors"][0]["field"] == "query.from"
    too_long = await problem(metric="mrr", **{"from": "2024-01-01", "to": "2025-06-01"})
    assert too_long["errors"][0]["field"] == "query.to"
    cursor = await problem(metric="mrr", cursor="garbage", **span)
    assert cursor["errors"][0]["field"] == "query.cursor"
    granularity = await problem(metric="mrr", granularity="year", **span)
    assert granularity["errors"][0]["field"] == "query.granularity"
