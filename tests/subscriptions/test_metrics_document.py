"""``/v1/subscriptions/metrics`` answers with the service's plain document, serialised once
(``analytics.metric_report``), not through its response model: its bytes must be exactly what
the documented model (`MetricReport`) writes for the same content — key order, decimal
strings, dates — and hold exactly the fields that model's ``exclude_unset`` dump held before
(no conversion keys without a reporting currency, every field with one). Checked on movements
by day, week and month, groups by country and app, a converted request and a second page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from app.fx.schemas import ConvertibleMoney
from app.subscriptions.analytics_schemas import MetricBucket, MetricReport, SourceTrace
from tests.fixtures.accounts import Tenant
from tests.subscriptions.test_metrics_conversion import synced  # noqa: F401  (fixture)

MOVEMENTS = "subscriber_mrr,mrr_new,mrr_reactivation,mrr_expansion,mrr_contraction,mrr_churned"
JANUARY = {"from": "2025-01-06", "to": "2025-01-31"}
REQUESTS: list[dict[str, Any]] = [
    {"metric": MOVEMENTS, "granularity": "day", **JANUARY},
    {"metric": MOVEMENTS, "granularity": "week", **JANUARY},
    {"metric": MOVEMENTS + ",mrr,arr", "granularity": "month", **JANUARY},
    {"metric": "mrr,active,paying_active,net_proceeds,arppu,arpu,transactions",
     "granularity": "day", "group_by": "country", **JANUARY},
    {"metric": MOVEMENTS + ",proceeds,refund_rate", "granularity": "week",
     "group_by": "app,country", **JANUARY},
    {"metric": "mrr,net_proceeds,arppu,arpu,mrr_new,gross_sales,refunded_amount",
     "granularity": "week", "group_by": "country", "currency": "USD", **JANUARY},
    {"metric": "proceeds,mrr,subscriber_mrr", "granularity": "day", "currency": "USD",
     **JANUARY},
    {"metric": "mrr,proceeds", "granularity": "day", "limit": 2, "from": "2025-01-10",
     "to": "2025-01-31"},
]  # fmt: skip
REPORT = TypeAdapter(MetricReport)
TOP = {info.serialization_alias or name for name, info in MetricReport.model_fields.items()}
BUCKET = set(MetricBucket.model_fields)
ALIASES = {
    info.serialization_alias: name
    for name, info in MetricReport.model_fields.items()
    if info.serialization_alias
}


def _money_lists(body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [
        value
        for item in body["items"]
        for value in item["values"].values()
        if isinstance(value, list)
    ]


@pytest.mark.parametrize("params", REQUESTS)
async def test_the_body_is_the_response_models_own_dump(
    synced: tuple[FastAPI, httpx.AsyncClient],  # noqa: F811
    tenant: Tenant,
    params: dict[str, Any],
) -> None:
    _, client = synced
    response = await client.get(
        "/v1/subscriptions/metrics", params=params, headers=tenant.headers()
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["items"], "a request with no items proves nothing"
    # The bytes: what FastAPI wrote from the validated model (exclude_unset, by alias).
    named = {ALIASES.get(key, key): value for key, value in body.items()}
    validated = REPORT.validate_python(named)
    assert response.content == REPORT.dump_json(validated, by_alias=True, exclude_unset=True)
    # The fields: exactly the model's, less the conversion keys when nothing is converted.
    converting = "currency" in params
    assert set(body) == (TOP if converting else TOP - {"currency"})
    for item in body["items"]:
        expected = BUCKET if converting else BUCKET - {"values_total_converted"}
        assert set(item) == expected
        for trace in item["trace"]:
            assert trace == SourceTrace.model_validate(trace).model_dump(mode="json")
    lists = _money_lists(body)
    assert any(lists), "a request without money proves less than it should"
    for money in lists:
        for entry in money:
            if converting:
                assert "converted" in entry
            else:
                assert set(entry) == {"amount", "currency"}
            assert (
                ConvertibleMoney.model_validate(entry).model_dump(mode="json", exclude_unset=True)
                == entry
            )
    if "limit" in params:
        assert body["next_cursor"] is not None
