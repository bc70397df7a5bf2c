"""PUT/GET /v1/fx/rates: JSON and CSV uploads, validation naming every bad field, no partial
writes, admin only, and manual rates visible to their workspace only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from app.auth.tokens import Scope
from tests.fixtures.accounts import Tenant, make_tenant, make_token

TOMORROW = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()


async def _rates(client: httpx.AsyncClient, tenant: Tenant, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/fx/rates", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_json_and_csv_uploads_are_read_back(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    upload = {"rates": [{"date": "2025-06-02", "base": "eur", "quote": "KZT", "rate": "580.12"}]}
    response = await client.put("/v1/fx/rates", json=upload, headers=tenant.headers())
    assert response.status_code == 200, response.text
    csv_body = "date,base,quote,rate,note\n2025-06-03,USD,AED,3.6725,peg\n"
    response = await client.put(
        "/v1/fx/rates",
        content=csv_body,
        headers={**tenant.headers(), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    body = await _rates(client, tenant, **{"from": "2025-06-01", "to": "2025-06-05"})
    assert [(r["date"], r["base"], r["quote"], r["rate"], r["source"]) for r in body["items"]] == [
        ("2025-06-02", "EUR", "KZT", "580.12", "manual"),
        ("2025-06-03", "USD", "AED", "3.6725", "manual"),
    ]
    # Nothing from the ECB is stored in this world: USD, JPY … have no rate; KZT and AED do (USD appears as the base of a manual pair).
    assert "JPY" in body["currencies_without_rate"]
    assert "KZT" not in body["currencies_without_rate"]
    assert "BGN" not in body["currencies_without_rate"]  # fixed euro rate
    only = await _rates(client, tenant, quote="AED", **{"from": "2025-06-01", "to": "2025-06-05"})
    assert [r["quote"] for r in only["items"]] == ["AED"]


async def test_a_bad_upload_names_every_field_and_writes_nothing(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    upload = {
        "rates": [
            {"date": "2025-06-02", "base": "EUR", "quote": "KZT", "rate": "580"},  # fine
            {"date": "2025-06-02", "base": "EUR", "quote": "XXZ", "rate": "1"},
            {"date": "2025-06-02", "base": "EUR", "quote": "NGN", "rate": "-3"},
            {"date": TOMORROW, "base": "EUR", "quote": "PKR", "rate": "300"},
            {"date": "2025-06-02", "base": "EUR", "quote": "EUR", "rate": "1"},
        ]
    }
    response = await client.put("/v1/fx/rates", json=upload, headers=tenant.headers())
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == [
        "body.rates[1].quote",
        "body.rates[2].rate",
        "body.rates[3].date",
        "body.rates[4].quote",
    ]
    body = await _rates(client, tenant, **{"from": "2025-06-01", "to": "2025-06-05"})
    assert body["items"] == []  # not even the valid first rate

    bad_csv = "date,base,quote,rate\n2025-06-02,EUR,KZT,abc\n"
    response = await client.put(
        "/v1/fx/rates", content=bad_csv, headers={**tenant.headers(), "Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.rates[0].rate"


async def test_only_admins_upload_and_only_the_workspace_sees_its_rates(
    client: httpx.AsyncClient, tenant: Tenant, database_url: str
) -> None:
    reader = await make_token(database_url, tenant, [Scope.READ])
    upload = {"rates": [{"date": "2025-06-02", "base": "EUR", "quote": "KZT", "rate": "580"}]}
    response = await client.put("/v1/fx/rates", json=upload, headers=tenant.headers(reader))
    assert response.status_code == 403
    response = await client.put("/v1/fx/rates", json=upload, headers=tenant.headers())
    assert response.status_code == 200
    other = await make_tenant(database_url, "other")
    body = await _rates(client, other, **{"from": "2025-06-01", "to": "2025-06-05"})
    assert body["items"] == []
    assert "KZT" in body["currencies_without_rate"]
