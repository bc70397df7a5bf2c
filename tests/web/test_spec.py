"""The spec says what the server enforces: enums from the server's own sets, the problem
document's members, response headers, names a generator turns into clean types."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI

from app.cli import render_openapi
from app.kit.problem_pages import catalogue
from app.sales.schemas import Dimension
from tests.fixtures.accounts import Tenant, link_account, make_token


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_openapi())
    return document


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, item in spec["paths"].items() for m, op in item.items()]


def test_names_tags_security_servers_license(spec: dict[str, Any]) -> None:
    names = list(spec["components"]["schemas"])
    assert all(name.isalnum() for name in names), [n for n in names if not n.isalnum()]
    assert "AppPage" in names and "SalesGranularity" in names
    declared = [tag["name"] for tag in spec["tags"]]
    assert len(declared) == len(set(declared))
    for path, method, op in operations(spec):
        assert len(op["tags"]) == 1 and op["tags"][0] in declared, (method, path)
        assert "security" in op, (method, path)
        if not path.startswith("/v1/"):
            assert op["security"] == [], path
        paged = "Page" in json.dumps(op["responses"].get("200", {}))
        if method == "get" and paged:
            assert op["operationId"].startswith("list_"), op["operationId"]
    tag_of = {(m, p): op["tags"][0] for p, m, op in operations(spec)}
    assert tag_of[("get", "/v1/review-queue")] == "review queue"
    assert tag_of[("get", "/v1/events")] == "events"
    assert tag_of[("get", "/v1/accounts/{account_id}/team")] == "team"
    assert spec["servers"] and spec["info"]["license"]["name"]


def _group_by(spec: dict[str, Any], path: str) -> list[str]:
    parameter = next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "group_by")
    array = next(o for o in parameter["schema"]["anyOf"] if o.get("type") == "array")
    values: list[str] = array["items"]["enum"]
    return values


async def test_group_by_enum_is_what_the_server_accepts(
    spec: dict[str, Any], client: httpx.AsyncClient, tenant: Tenant
) -> None:
    declared = _group_by(spec, "/v1/sales")
    assert declared == [d.value for d in Dimension]
    day = dt.date(2026, 11, 1).isoformat()
    for value in declared:
        answer = await client.get(
            "/v1/sales",
            params={"from": day, "to": day, "group_by": value},
            headers=tenant.headers(),
        )
        assert answer.status_code == 200, (value, answer.text)
    refused = await client.get(
        "/v1/sales", params={"from": day, "to": day, "group_by": "planet"}, headers=tenant.headers()
    )
    assert refused.status_code == 422
    for path in ("/v1/subscriptions/summary", "/v1/subscriptions/events"):
        assert _group_by(spec, path)


async def test_dataset_enums_are_the_registry(
    spec: dict[str, Any], app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: Any
) -> None:
    names = app.state.registry.names()
    schemas = spec["components"]["schemas"]
    assert schemas["SyncRequest"]["properties"]["datasets"]["items"]["enum"] == names
    assert schemas["SyncStatusEntry"]["properties"]["dataset"]["enum"] == names
    assert schemas["Availability"]["properties"]["dataset"]["enum"] == names
    assert schemas["ReviewQueueEntry"]["properties"]["state"]["enum"] == [
        "WAITING_FOR_REVIEW",
        "IN_REVIEW",
    ]
    account = await link_account(client, tenant, sandbox.add_key("acme"), verify=False)
    unknown = await client.post(
        f"/v1/accounts/{account}/sync", json={"datasets": ["planets"]}, headers=tenant.headers()
    )
    assert unknown.status_code == 422
    statuses = await client.get(f"/v1/accounts/{account}/sync-status", headers=tenant.headers())
    assert {entry["dataset"] for entry in statuses.json()["items"]} == set(names)


def schema_validator(spec: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    """A validator of the spec's component schema ``name`` (its references resolved)."""
    root = {"$defs": spec["components"]["schemas"], "$ref": f"#/$defs/{name}"}
    text = json.dumps(root).replace("#/components/schemas/", "#/$defs/")
    return jsonschema.Draft202012Validator(json.loads(text))


async def test_problems_carry_only_declared_members_and_resolve(
    spec: dict[str, Any],
    client: httpx.AsyncClient,
    tenant: Tenant,
    database_url: str,
) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    declared = set(problem["properties"])
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["required"])
    validator = schema_validator(spec, "Problem")
    no_scope = await make_token(database_url, tenant, [])
    answers = [
        await client.get("/v1/apps"),  # 401
        await client.get("/v1/apps", headers=tenant.headers(no_scope)),  # 403 required_scope
        await client.get("/v1/apps?limit=0", headers=tenant.headers()),  # 422 errors
        await client.get(f"/v1/apps/{uuid.uuid4()}", headers=tenant.headers()),  # 404
        await client.post(
            "/v1/accounts", content=b"x" * (2 * 1024 * 1024), headers=tenant.headers()
        ),  # 413 max_body_bytes
    ]
    assert [a.status_code for a in answers] == [401, 403, 422, 404, 413]
    for answer in answers:
        body = answer.json()
        validator.validate(body)
        assert set(body) <= declared, set(body) - declared
        assert answer.headers["x-request-id"]
        page = await client.get(body["type"])
        assert page.status_code == 200 and str(body["status"]) in page.text
    assert "required_scope" in answers[1].json() and "max_body_bytes" in answers[4].json()
    assert (await client.get("/problems/planet_exploded")).status_code == 404
    for slug in catalogue():
        assert (await client.get(f"/problems/{slug}")).status_code == 200, slug


async def test_always_sent_properties_are_required(
    spec: dict[str, Any], client: httpx.AsyncClient
) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["Liveness"]["required"] == ["status"]
    assert "reason" in schemas["CapabilityRead"]["required"]
    assert "basis" in schemas["RatingsSummary"]["required"]
    schema_validator(spec, "Liveness").validate((await client.get("/health")).json())


def test_response_headers_are_declared(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"], (method, path, status)
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], (method, path, status)
        if method == "get" and "200" in op["responses"]:
            assert "ETag" in op["responses"]["200"]["headers"]
            assert "304" in op["responses"], path
