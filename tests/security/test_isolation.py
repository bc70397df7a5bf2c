"""Tenant isolation, generated from the app's route table: B can neither see nor touch A's data.

For every authenticated operation:

* a route naming one of A's objects in its path answers B with 404 problem+json (never 403,
  which would confirm the object exists), changes nothing in the database and sends nothing to
  Apple; the same read as A answers 200, so the ids really are A's;
* a route naming a value (a fiscal month) answers B with 404 or with B's own rows only;
* a list answers B without any of A's ids or A-only values, also when B filters by A's ids.

A new route is covered automatically; one whose parameters the table in ``operations.py``
cannot fill fails here with a message saying what to extend.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from tests.security.operations import (
    BODIES,
    QUERY_EXTRAS,
    Operation,
    Parameter,
    UnmappedParameter,
    check_mapped,
    names_object,
    operations,
    value_for,
)
from tests.security.world import World, changed_tables, database_state

AUTHENTICATED = [operation for operation in operations() if operation.authenticated]


def test_every_operation_is_covered() -> None:
    """Only the unauthenticated ops endpoints (no workspace, no tenant data) are left out."""
    public = {str(op) for op in operations() if not op.authenticated}
    # Apple's webhook deliveries carry no bearer token: an unguessable per-account URL and
    # the webhook's HMAC signature stand for it (tests/apple_webhooks: wrong URL → 404, bad
    # signature → 401, and the answer never holds tenant data).
    receiver = "POST /apple-webhooks/{receiver_token}/apps/{app_apple_id}"
    assert public <= {"GET /health", "GET /health/ready", "GET /metrics", receiver}, (
        f"new unauthenticated operations {public}: decide whether they can leak tenant data"
    )
    assert len(AUTHENTICATED) >= 30
    stale = set(QUERY_EXTRAS) | set(BODIES)
    stale -= {op.operation_id for op in operations()}
    assert not stale, f"tests/security/operations.py names operations that no longer exist: {stale}"


def test_an_unknown_parameter_fails_with_what_to_extend() -> None:
    """A route whose parameter the table cannot fill is a failure, never a silent skip."""
    route = Operation(
        method="GET",
        path="/v1/widgets/{widget_id}",
        operation_id="get_widget",
        parameters=(Parameter("widget_id", "path", True, {"type": "string", "format": "uuid"}),),
        has_body=False,
        body_required=False,
        authenticated=True,
        statuses=frozenset({"200", "404"}),
    )
    with pytest.raises(UnmappedParameter, match=r"`widget_id`.*Extend OBJECT_PARAMETERS"):
        check_mapped(route)
    gadget = Parameter("gadget_id", "query", False, {"anyOf": [{"format": "uuid"}]})
    filtered = replace(route, path="/v1/widgets", parameters=(gadget,))
    with pytest.raises(UnmappedParameter, match="`gadget_id`"):
        check_mapped(filtered)
    posted = replace(route, method="POST", parameters=(), has_body=True, body_required=True)
    with pytest.raises(AssertionError, match="add a valid one to BODIES"):
        check_mapped(posted)


async def _call(
    world: World,
    operation: Operation,
    url: str,
    headers: dict[str, str],
    params: dict[str, str],
) -> httpx.Response:
    body: Any = BODIES.get(operation.operation_id) if operation.has_body else None
    return await world.client.request(
        operation.method, url, params=params, json=body, headers=headers
    )


async def _base_params(world: World, operation: Operation) -> dict[str, str]:
    params = {
        p.name: await value_for(world.db, world.victim.workspace_id, operation, p)
        for p in operation.query_params
        if p.required
    }
    params.update(QUERY_EXTRAS.get(operation.operation_id, {}))
    return params


def _assert_not_found(response: httpx.Response, operation: Operation) -> None:
    assert response.status_code == 404, (
        f"{operation} as another workspace answered {response.status_code}, not 404: "
        f"{response.text[:500]}"
    )
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def _assert_no_leak(world: World, response: httpx.Response, operation: Operation) -> None:
    request = response.request
    sent = set(request.url.path.split("/")) | set(request.url.params.values())
    leaked = world.leaked(response.text, sent)
    assert not leaked, f"{operation} showed workspace B some of A's data: {leaked[:10]}"


async def _object_route(world: World, operation: Operation) -> None:
    values = {
        p.name: await value_for(world.db, world.victim.workspace_id, operation, p)
        for p in operation.path_params
    }
    url = operation.path.format(**values)
    params = await _base_params(world, operation)
    if operation.is_read:
        own = await _call(world, operation, url, world.victim.headers(), params)
        assert own.status_code == 200, (
            f"{operation} as the owner answered {own.status_code}: the test's ids are not "
            f"real objects of A ({values}): {own.text[:300]}"
        )
    # Cheap enough (two statements of ~0.05 s) to check reads too.
    before = await database_state(world.db)
    apple_calls = len(world.sandbox.requests)

    response = await _call(world, operation, url, world.intruder.headers(), params)

    if any(names_object(p) for p in operation.path_params):
        _assert_not_found(response, operation)
    else:
        assert response.status_code in (200, 404), response.text[:500]
    _assert_no_leak(world, response, operation)
    changed = await changed_tables(world.db, before)
    assert not changed, f"{operation} as another workspace changed tables {changed}"
    assert len(world.sandbox.requests) == apple_calls, (
        f"{operation} as another workspace made Orchard call Apple with A's key"
    )


async def _list_route(world: World, operation: Operation) -> None:
    params = await _base_params(world, operation)
    own = await _call(world, operation, operation.path, world.victim.headers(), params)
    assert own.status_code == 200, f"{operation} as the owner: {own.text[:300]}"

    response = await _call(world, operation, operation.path, world.intruder.headers(), params)
    assert response.status_code == 200, response.text[:500]
    _assert_no_leak(world, response, operation)

    # Filtering by A's ids: 404 (not yours) or an answer holding nothing of A's.
    for parameter in operation.query_params:
        if not names_object(parameter):
            continue
        value = await value_for(world.db, world.victim.workspace_id, operation, parameter)
        filtered = {**params, parameter.name: value}
        own = await _call(world, operation, operation.path, world.victim.headers(), filtered)
        assert own.status_code == 200, f"{operation}?{parameter.name}= as the owner: {own.text}"
        response = await _call(world, operation, operation.path, world.intruder.headers(), filtered)
        assert response.status_code in (200, 404), (
            f"{operation}?{parameter.name}=<A's id> as B answered {response.status_code}"
        )
        if response.status_code == 404:
            _assert_not_found(response, operation)
        _assert_no_leak(world, response, operation)


async def _collection_write(world: World, operation: Operation) -> None:
    """A create names no existing object; it must still answer nothing of A's."""
    response = await _call(world, operation, operation.path, world.intruder.headers(), {})
    assert response.status_code < 500, response.text[:500]
    _assert_no_leak(world, response, operation)


@pytest.mark.parametrize("operation", AUTHENTICATED, ids=str)
async def test_another_workspace_gets_nothing(world: World, operation: Operation) -> None:
    check_mapped(operation)
    if operation.path_params:
        await _object_route(world, operation)
    elif operation.is_read:
        await _list_route(world, operation)
    else:
        await _collection_write(world, operation)


async def test_the_world_has_data_on_both_sides(world: World) -> None:
    """The checks above mean something only if both workspaces hold rows everywhere."""
    tables = ["apps", "app_versions", "builds", "beta_groups", "customer_reviews", "sales_rows"]
    tables += ["finance_report_rows", "subscription_snapshot_rows", "team_members"]
    for table in tables:
        for tenant in (world.victim, world.intruder):
            count = await world.db.fetchval(
                f"SELECT count(*) FROM {table} WHERE workspace_id = $1", tenant.workspace_id
            )
            assert count > 0, f"{tenant.name} has no {table}"
    assert len(world.victim_markers) > 100
