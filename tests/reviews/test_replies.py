"""Replies: PUT/DELETE /v1/reviews/{id}/response round-trip to App Store Connect (the sandbox),
Idempotency-Key, validation, and Apple's refusals (sandbox roles; respx for precise faults)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import respx
from fastapi import FastAPI

from app.auth.tokens import Scope
from app.config import Settings
from app.main import create_app
from app.reviews import apple
from app.sandbox.app import create_sandbox_app
from app.sandbox.catalog import SandboxApp
from app.sandbox.review_ledger import ReviewLedger, ReviewResponse
from app.sandbox.reviews import find_review
from app.sandbox.state import SandboxKey, SandboxState
from tests.fixtures.accounts import Tenant, link_account, make_token
from tests.fixtures.engine import INSTANT_RETRY
from tests.fixtures.sandbox import SANDBOX_URL
from tests.reviews.helpers import FakeClock, sync_apps, sync_reviews, writes
from tests.sandbox.helpers import validator


async def review_row(db: asyncpg.Connection, review_id: str) -> dict[str, Any]:
    row = await db.fetchrow("SELECT * FROM customer_reviews WHERE id = $1", uuid.UUID(review_id))
    assert row is not None
    return dict(row)


async def unanswered(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    page = await client.get(
        "/v1/reviews", params={"has_response": "false", "limit": 1}, headers=tenant.headers()
    )
    item: dict[str, Any] = page.json()["items"][0]
    return item


def apple_reply(
    sandbox: SandboxState, key: SandboxKey, review_apple_id: str
) -> ReviewResponse | None:
    found = find_review(sandbox, key.team, review_apple_id, sandbox.now())
    assert found is not None
    return found[1].response_at(sandbox.now())


def test_the_request_orchard_sends_matches_apples_schema() -> None:
    body = apple.reply_request("00000027-0ed6-3a03-8d50-aa3300000000", "Thanks!")
    validator("#/components/schemas/CustomerReviewResponseV1CreateRequest").validate(body)


async def test_reply_create_update_delete_round_trip(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    admin_key: SandboxKey,
    clock: FakeClock,
    db: asyncpg.Connection,
    database_url: str,
) -> None:
    review = await unanswered(client, tenant)
    path = f"/v1/reviews/{review['id']}/response"
    writer = tenant.headers(await make_token(database_url, tenant, [Scope.WRITE]))

    created = await client.put(path, json={"body": "  Thanks for the feedback!  "}, headers=writer)
    assert created.status_code == 200, created.text
    reply = created.json()
    assert reply["body"] == "Thanks for the feedback!"
    assert reply["state"] == "PENDING_PUBLISH" and reply["review_id"] == review["id"]
    at_apple = apple_reply(sandbox, admin_key, review["apple_id"])
    assert at_apple is not None and at_apple.id == reply["apple_id"]
    assert at_apple.body == "Thanks for the feedback!"
    [post] = writes(sandbox)
    assert (post.method, post.path, post.status) == ("POST", "/v1/customerReviewResponses", 201)
    shown = (await client.get(f"/v1/reviews/{review['id']}", headers=writer)).json()
    assert shown["response"] == {k: v for k, v in reply.items() if k != "review_id"}

    updated = (await client.put(path, json={"body": "We fixed it in 2.1."}, headers=writer)).json()
    assert updated["apple_id"] == reply["apple_id"]  # one reply per review: overwritten
    assert updated["body"] == "We fixed it in 2.1."
    assert apple_reply(sandbox, admin_key, review["apple_id"]).body == "We fixed it in 2.1."  # type: ignore[union-attr]

    clock.advance(hours=13)  # Apple publishes it
    await sync_reviews(app, synced, review["app_apple_id"], clock.now)
    shown = (await client.get(f"/v1/reviews/{review['id']}", headers=writer)).json()
    assert shown["response"]["state"] == "PUBLISHED"
    assert shown["response"]["body"] == "We fixed it in 2.1."

    deleted = await client.delete(path, headers=writer)
    assert deleted.status_code == 204
    assert apple_reply(sandbox, admin_key, review["apple_id"]) is None
    assert (await client.get(f"/v1/reviews/{review['id']}", headers=writer)).json()[
        "response"
    ] is None
    row = await review_row(db, review["id"])
    assert row["response_apple_id"] is None and row["response_body"] is None
    again = await client.delete(path, headers=writer)
    assert again.status_code == 404


async def test_delete_finds_a_reply_written_elsewhere(
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    admin_key: SandboxKey,
    changes: ReviewLedger,
    clock: FakeClock,
) -> None:
    review = await unanswered(client, tenant)
    changes.responses[review["apple_id"]] = ReviewResponse(
        "elsewhere-1", "From the web UI", clock.now
    )
    response = await client.delete(f"/v1/reviews/{review['id']}/response", headers=tenant.headers())
    assert response.status_code == 204
    assert apple_reply(sandbox, admin_key, review["apple_id"]) is None
    assert [(w.method, w.path) for w in writes(sandbox)] == [
        ("DELETE", "/v1/customerReviewResponses/elsewhere-1")
    ]


async def test_invalid_bodies_never_reach_apple(
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    database_url: str,
) -> None:
    review = await unanswered(client, tenant)
    path = f"/v1/reviews/{review['id']}/response"
    for body in (
        {"body": "   \n\t "},
        {"body": "x" * 5971},
        {"body": ""},
        {},
        {"body": "ok", "x": 1},
    ):
        response = await client.put(path, json=body, headers=tenant.headers())
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"].startswith("body")
    longest = await client.put(path, json={"body": "y" * 5970}, headers=tenant.headers())
    assert longest.status_code == 200
    reader = await make_token(database_url, tenant, [Scope.READ])
    forbidden = await client.put(path, json={"body": "hi"}, headers=tenant.headers(reader))
    assert forbidden.status_code == 403
    assert len(writes(sandbox)) == 1  # only the valid one


async def test_idempotency_key_makes_a_retried_put_safe(
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    review = await unanswered(client, tenant)
    path = f"/v1/reviews/{review['id']}/response"
    headers = {**tenant.headers(), "Idempotency-Key": "reply-7f3a"}
    first = await client.put(path, json={"body": "Thanks!"}, headers=headers)
    retry = await client.put(path, json={"body": "Thanks!"}, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert len(writes(sandbox)) == 1  # the retry did not write again

    reused = await client.put(path, json={"body": "Something else"}, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["type"] == "/problems/idempotency_key_reused"
    assert len(writes(sandbox)) == 1
    assert (await review_row(db, review["id"]))["response_body"] == "Thanks!"

    other = await client.put(
        path, json={"body": "Something else"}, headers={**headers, "Idempotency-Key": "reply-2"}
    )
    assert other.status_code == 200 and len(writes(sandbox)) == 2


async def test_apple_refuses_a_key_without_the_role(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    sandbox_apps: tuple[SandboxApp, ...],
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    developer = sandbox.add_key(roles=("DEVELOPER",))  # may read reviews, not reply
    account = await link_account(client, tenant, developer, vendor=False)
    await sync_apps(app, account, clock.now)
    await sync_reviews(app, account, sandbox_apps[0].id, clock.now)
    review = await unanswered(client, tenant)
    before = await review_row(db, review["id"])

    response = await client.put(
        f"/v1/reviews/{review['id']}/response",
        json={"body": "Thanks!"},
        headers={**tenant.headers(), "Idempotency-Key": "k1"},
    )
    assert response.status_code == 403
    problem = response.json()
    assert problem["type"] == "/problems/apple_forbidden"
    assert problem["reason"] == "missing_role" and problem["apple_code"] == "FORBIDDEN_ERROR"
    assert "Admin, App Manager or Customer Support" in problem["detail"]
    assert await review_row(db, review["id"]) == before
    assert await db.fetchval("SELECT count(*) FROM review_reply_requests") == 0
    assert [w.status for w in writes(sandbox)] == [403]


# --- precise faults with respx ------------------------------------------------------------


def apple_error(status: int, code: str, detail: str) -> httpx.Response:
    body = {
        "errors": [
            {"id": "e1", "status": str(status), "code": code, "title": "x", "detail": detail}
        ]
    }
    return httpx.Response(status, json=body)


@pytest.fixture
def apple_router(sandbox: SandboxState) -> respx.MockRouter:
    """respx in front of App Store Connect: reads go on to the sandbox, writes are scripted."""
    sandbox_transport = httpx.ASGITransport(app=create_sandbox_app(sandbox))

    async def to_sandbox(request: httpx.Request) -> httpx.Response:
        answer = await sandbox_transport.handle_async_request(request)
        content = await answer.aread()
        return httpx.Response(answer.status_code, headers=answer.headers, content=content)

    router = respx.MockRouter(base_url=SANDBOX_URL, assert_all_called=False)
    router.get().mock(side_effect=to_sandbox)
    return router


@pytest.fixture
async def faulty_app(settings: Settings, apple_router: respx.MockRouter) -> AsyncIterator[FastAPI]:
    application = create_app(
        settings,
        asc_transport=httpx.MockTransport(apple_router.async_handler),
        asc_retry=INSTANT_RETRY,
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def faulty_client(faulty_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=faulty_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as http:
        yield http


@pytest.fixture
async def replied_review(
    faulty_app: FastAPI,
    faulty_client: httpx.AsyncClient,
    tenant: Tenant,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    clock: FakeClock,
) -> dict[str, Any]:
    """A synced review that has a reply (so a failed PUT or DELETE has something to spoil)."""
    account = await link_account(faulty_client, tenant, admin_key, vendor=False)
    await sync_apps(faulty_app, account, clock.now)
    await sync_reviews(faulty_app, account, sandbox_apps[2].id, clock.now)
    page = await faulty_client.get(
        "/v1/reviews", params={"has_response": "true", "limit": 1}, headers=tenant.headers()
    )
    item: dict[str, Any] = page.json()["items"][0]
    return item


@pytest.mark.parametrize(
    ("apple_answer", "status", "problem_type"),
    [
        (
            apple_error(409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "Reply not allowed now."),
            409,
            "apple_conflict",
        ),
        (apple_error(422, "ENTITY_UNPROCESSABLE", "Body rejected."), 422, "apple_rejected"),
        (
            apple_error(403, "FORBIDDEN_ERROR", "The API key in use does not allow this request"),
            403,
            "apple_forbidden",
        ),
        (apple_error(500, "UNEXPECTED_ERROR", "An unexpected error occurred."), 502, "apple_error"),
        (apple_error(429, "RATE_LIMIT_EXCEEDED", "Too many requests."), 503, "apple_rate_limited"),
    ],
)
async def test_apple_refusal_changes_nothing_locally(
    faulty_client: httpx.AsyncClient,
    apple_router: respx.MockRouter,
    tenant: Tenant,
    replied_review: dict[str, Any],
    db: asyncpg.Connection,
    apple_answer: httpx.Response,
    status: int,
    problem_type: str,
) -> None:
    post = apple_router.post("/v1/customerReviewResponses").mock(return_value=apple_answer)
    delete = apple_router.delete(path__startswith="/v1/customerReviewResponses/").mock(
        return_value=apple_answer
    )
    review_id = replied_review["id"]
    before = await review_row(db, review_id)
    path = f"/v1/reviews/{review_id}/response"

    put = await faulty_client.put(
        path,
        json={"body": "New text"},
        headers={**tenant.headers(), "Idempotency-Key": "same-key"},
    )
    assert put.status_code == status, put.text
    problem = put.json()
    assert put.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == f"/problems/{problem_type}"
    assert problem["apple_status"] == apple_answer.status_code
    assert problem["detail"]
    removed = await faulty_client.delete(path, headers=tenant.headers())
    assert removed.status_code == status
    assert await review_row(db, review_id) == before  # nothing changed locally
    assert await db.fetchval("SELECT count(*) FROM review_reply_requests") == 0
    if status in (502, 503):
        # A reply overwrites, so retrying a 5xx is safe and the client did (429 too).
        assert post.call_count == 3 and delete.call_count == 3
    else:
        assert post.call_count == 1 and delete.call_count == 1
    if status == 503:
        assert put.headers["Retry-After"]

    # The key was not spent on the failure: the same key works once Apple accepts.
    post.mock(
        return_value=httpx.Response(
            201,
            json={
                "data": {
                    "type": "customerReviewResponses",
                    "id": "r-1",
                    "attributes": {
                        "responseBody": "New text",
                        "lastModifiedDate": "2025-06-10T11:00:00-07:00",
                        "state": "PENDING_PUBLISH",
                    },
                },
                "links": {"self": f"{SANDBOX_URL}/v1/customerReviewResponses/r-1"},
            },
        )
    )
    ok = await faulty_client.put(
        path,
        json={"body": "New text"},
        headers={**tenant.headers(), "Idempotency-Key": "same-key"},
    )
    assert ok.status_code == 200 and ok.json()["apple_id"] == "r-1"
    assert (await review_row(db, review_id))["response_body"] == "New text"
