"""The sandbox's ``/v1/webhooks`` API (WEBHOOKS §1–§2): shapes against Apple's spec, roles,
validation and the unconfirmed limits served as options."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.webhooks.hub import WebhookHub
from tests.sandbox.helpers import (
    assert_error,
    assert_matches_spec,
    response_schema_ref,
    validator,
)
from tests.sandbox.webhooks.conftest import SECRET, CreateWebhook, create_body

AnyHeaders = Callable[..., dict[str, str]]


async def test_create_get_list_update_delete_match_the_spec(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    app0: SandboxApp,
) -> None:
    created = await client.post("/v1/webhooks", json=create_body(app0.id), headers=admin_headers)
    assert created.status_code == 201, created.text
    validator(response_schema_ref("/v1/webhooks", 201, method="post")).validate(created.json())
    webhook = created.json()["data"]
    assert webhook["attributes"]["name"] == "Orchard"
    assert "secret" not in webhook["attributes"]  # write-only (WEBHOOKS §2)
    assert webhook["relationships"]["app"]["data"] == {"type": "apps", "id": app0.id}
    path = f"/v1/webhooks/{webhook['id']}"

    got = await client.get(path, params={"include": "app"}, headers=admin_headers)
    assert_matches_spec(got.json(), "/v1/webhooks/{id}")
    assert got.json()["included"][0]["id"] == app0.id

    sparse = await client.get(
        path, params={"fields[webhooks]": "url,enabled"}, headers=admin_headers
    )
    assert set(sparse.json()["data"]["attributes"]) == {"url", "enabled"}

    listing = await client.get(f"/v1/apps/{app0.id}/webhooks", headers=admin_headers)
    assert_matches_spec(listing.json(), "/v1/apps/{id}/webhooks")
    assert [w["id"] for w in listing.json()["data"]] == [webhook["id"]]
    linkages = await client.get(f"/v1/apps/{app0.id}/relationships/webhooks", headers=admin_headers)
    assert_matches_spec(linkages.json(), "/v1/apps/{id}/relationships/webhooks")
    assert linkages.json()["data"] == [{"type": "webhooks", "id": webhook["id"]}]

    update = {
        "data": {
            "type": "webhooks",
            "id": webhook["id"],
            "attributes": {"enabled": False, "secret": "rotated", "url": None, "name": "Orchard 2"},
        }
    }
    patched = await client.patch(path, json=update, headers=admin_headers)
    assert patched.status_code == 200, patched.text
    validator(response_schema_ref("/v1/webhooks/{id}", 200, method="patch")).validate(
        patched.json()
    )
    attributes = patched.json()["data"]["attributes"]
    assert attributes["enabled"] is False and attributes["name"] == "Orchard 2"
    assert attributes["url"] == "https://orchard.test/hooks/asc"  # null leaves it unchanged
    assert hub.webhooks[webhook["id"]].secret == "rotated"

    deleted = await client.delete(path, headers=admin_headers)
    assert deleted.status_code == 204
    assert_error(await client.get(path, headers=admin_headers), 404, "NOT_FOUND")
    empty = await client.get(f"/v1/apps/{app0.id}/webhooks", headers=admin_headers)
    assert empty.json()["data"] == []


async def test_list_pages_and_other_teams_webhooks_do_not_exist(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_headers: dict[str, str],
    headers_for: AnyHeaders,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    ids = [(await create_webhook(app0.id, name=f"hook {n}"))["id"] for n in range(3)]
    first = await client.get(
        f"/v1/apps/{app0.id}/webhooks", params={"limit": "2"}, headers=admin_headers
    )
    assert_matches_spec(first.json(), "/v1/apps/{id}/webhooks")
    assert first.json()["meta"]["paging"]["total"] == 3
    second = await client.get(first.json()["links"]["next"], headers=admin_headers)
    assert [w["id"] for w in first.json()["data"] + second.json()["data"]] == ids

    stranger = headers_for(state.add_key("Other Team", roles=("ADMIN",)))
    assert_error(await client.get(f"/v1/webhooks/{ids[0]}", headers=stranger), 404, "NOT_FOUND")
    not_theirs = await client.get(f"/v1/apps/{app0.id}/webhooks", headers=stranger)
    assert_error(not_theirs, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (("ADMIN",), True),
        (("APP_MANAGER",), True),
        (("DEVELOPER",), False),
        (("FINANCE", "SALES"), False),
        (("CUSTOMER_SUPPORT",), False),
    ],
)
async def test_roles_default_to_admin_and_app_manager(
    client: httpx.AsyncClient,
    state: SandboxState,
    headers_for: AnyHeaders,
    hub: WebhookHub,
    roles: tuple[str, ...],
    allowed: bool,
) -> None:
    key = state.add_key(roles=roles)
    app = team_apps(key.team)[0]
    response = await client.post("/v1/webhooks", json=create_body(app.id), headers=headers_for(key))
    if allowed:
        assert response.status_code == 201, response.text
    else:
        assert_error(response, 403, "FORBIDDEN_ERROR")
        listing = await client.get(f"/v1/apps/{app.id}/webhooks", headers=headers_for(key))
        assert_error(listing, 403, "FORBIDDEN_ERROR")


async def test_admin_only_role_variant(
    client: httpx.AsyncClient, state: SandboxState, headers_for: AnyHeaders, hub: WebhookHub
) -> None:
    hub.options.roles = frozenset({"ADMIN"})  # the API role is unconfirmed (WEBHOOKS §0.2)
    manager = state.add_key(roles=("APP_MANAGER",))
    app = team_apps(manager.team)[0]
    refused = await client.post(
        "/v1/webhooks", json=create_body(app.id), headers=headers_for(manager)
    )
    assert_error(refused, 403, "FORBIDDEN_ERROR")


@pytest.mark.parametrize(
    ("attributes", "code", "pointer"),
    [
        ({"eventTypes": ["NOT_AN_EVENT"]}, "ENTITY_ERROR.ATTRIBUTE.INVALID", "eventTypes"),
        ({"eventTypes": []}, "ENTITY_ERROR.ATTRIBUTE.INVALID", "eventTypes"),
        ({"url": "not a url"}, "ENTITY_ERROR.ATTRIBUTE.INVALID", "url"),
        ({"enabled": "yes"}, "ENTITY_ERROR.ATTRIBUTE.TYPE", "enabled"),
        ({"name": ""}, "ENTITY_ERROR.ATTRIBUTE.INVALID", "name"),
        ({"secret": None}, "ENTITY_ERROR.ATTRIBUTE.TYPE", "secret"),
    ],
)
async def test_invalid_attributes_are_409_with_a_pointer(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    app0: SandboxApp,
    attributes: dict[str, object],
    code: str,
    pointer: str,
) -> None:
    response = await client.post(
        "/v1/webhooks", json=create_body(app0.id, **attributes), headers=admin_headers
    )
    error = assert_error(response, 409, code)
    assert error["source"] == {"pointer": f"/data/attributes/{pointer}"}


async def test_missing_members_unknown_app_and_unreadable_body(
    client: httpx.AsyncClient, admin_headers: dict[str, str], hub: WebhookHub, app0: SandboxApp
) -> None:
    body = create_body(app0.id)
    del body["data"]["attributes"]["secret"]
    missing = await client.post("/v1/webhooks", json=body, headers=admin_headers)
    error = assert_error(missing, 409, "ENTITY_ERROR.ATTRIBUTE.REQUIRED")
    assert error["source"] == {"pointer": "/data/attributes/secret"}

    unknown = await client.post("/v1/webhooks", json=create_body("123"), headers=admin_headers)
    assert_error(unknown, 409, "ENTITY_ERROR.RELATIONSHIP.INVALID")

    garbage = await client.post("/v1/webhooks", content=b"{nope", headers=admin_headers)
    assert_error(garbage, 422, "ENTITY_UNPROCESSABLE")


async def test_patch_cannot_move_a_webhook_to_another_app(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    webhook = await create_webhook(app0.id)
    path = f"/v1/webhooks/{webhook['id']}"
    moved = {
        "data": {
            "type": "webhooks",
            "id": webhook["id"],
            "relationships": {"app": {"data": {"type": "apps", "id": "1"}}},
        }
    }
    assert_error(
        await client.patch(path, json=moved, headers=admin_headers),
        409,
        "ENTITY_ERROR.RELATIONSHIP.INVALID",
    )
    wrong_id = {"data": {"type": "webhooks", "id": "other", "attributes": {"enabled": False}}}
    assert_error(
        await client.patch(path, json=wrong_id, headers=admin_headers),
        409,
        "ENTITY_ERROR.ID.INVALID",
    )


@pytest.mark.parametrize("status", [409, 422])
async def test_an_eleventh_webhook_is_refused_with_either_status(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
    status: int,
) -> None:
    hub.options.over_limit_status = status  # unconfirmed (WEBHOOKS §2)
    for n in range(10):
        await create_webhook(app0.id, name=f"hook {n}")
    eleventh = await client.post("/v1/webhooks", json=create_body(app0.id), headers=admin_headers)
    error = assert_error(
        eleventh, status, "ENTITY_ERROR" if status == 409 else "ENTITY_UNPROCESSABLE"
    )
    assert "at most 10" in error["detail"]


async def test_https_only_and_length_limit_variants(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    hub: WebhookHub,
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    await create_webhook(app0.id, url="http://orchard.test/hooks/plain")  # lenient by default
    hub.options.require_https = True
    plain = create_body(app0.id, url="http://orchard.test/hooks/plain")
    assert_error(
        await client.post("/v1/webhooks", json=plain, headers=admin_headers),
        409,
        "ENTITY_ERROR.ATTRIBUTE.INVALID",
    )
    hub.options.max_secret_length = len(SECRET) - 1
    assert_error(
        await client.post("/v1/webhooks", json=create_body(app0.id), headers=admin_headers),
        409,
        "ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG",
    )


async def test_unknown_query_parameters_are_refused(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    create_webhook: CreateWebhook,
    app0: SandboxApp,
) -> None:
    webhook = await create_webhook(app0.id)
    response = await client.get(
        f"/v1/webhooks/{webhook['id']}", params={"include": "deliveries"}, headers=admin_headers
    )
    assert_error(response, 400, "PARAMETER_ERROR.INVALID")


async def test_admin_options_route_reads_and_sets_knobs(
    client: httpx.AsyncClient, hub: WebhookHub, admin_key: SandboxKey
) -> None:
    patched = await client.patch(
        "/sandbox/webhooks/options",
        json={"retry_schedule": "none", "signature": "wrong_secret", "roles": ["ADMIN"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["retry_schedule"] == []
    assert hub.options.signature == "wrong_secret"
    assert hub.options.roles == frozenset({"ADMIN"})
    bad = await client.patch("/sandbox/webhooks/options", json={"signature": "sometimes"})
    assert bad.status_code == 400
    custom = await client.patch("/sandbox/webhooks/options", json={"retry_schedule": [60, 600]})
    assert custom.json()["retry_schedule"] == [60.0, 600.0]
