"""Sandbox review responses (create/overwrite, read, delete), edits and removals, checked
against Apple's OpenAPI schemas."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import team_apps
from app.sandbox.review_ledger import ledger
from app.sandbox.reviews import Review, app_reviews, visible_reviews
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import (
    assert_error,
    assert_matches_spec,
    response_schema_ref,
    validator,
)

AnyHeaders = Callable[..., dict[str, str]]
RESPONSES = "/v1/customerReviewResponses"


def create_body(review_id: str, text: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": text},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": review_id}}},
        }
    }


def unanswered(state: SandboxState, key: SandboxKey, now: datetime) -> Review:
    app = team_apps(key.team)[0]
    return next(r for r in visible_reviews(state, key.team, app, now) if r.response is None)


async def test_create_read_publish_overwrite_delete(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    headers_for: AnyHeaders,
    clock: FakeClock,
) -> None:
    review = unanswered(state, admin_key, clock.now)
    created = await client.post(
        RESPONSES, json=create_body(review.id, "Thanks!"), headers=admin_headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    validator(response_schema_ref(RESPONSES, 201, method="post")).validate(body)
    reply = body["data"]
    assert reply["attributes"]["state"] == "PENDING_PUBLISH"
    assert reply["attributes"]["responseBody"] == "Thanks!"
    assert reply["relationships"]["review"]["data"]["id"] == review.id

    path = f"/v1/customerReviews/{review.id}/response"
    read = await client.get(path, params={"include": "review"}, headers=admin_headers)
    assert_matches_spec(read.json(), "/v1/customerReviews/{id}/response")
    assert read.json()["data"]["id"] == reply["id"]
    assert read.json()["included"][0]["id"] == review.id

    app = team_apps(admin_key.team)[0]
    listing = f"/v1/apps/{app.id}/customerReviews"
    published = {"exists[publishedResponse]": "true", "limit": "200"}
    ids = {
        r["id"]
        for r in (await client.get(listing, params=published, headers=admin_headers)).json()["data"]
    }
    assert review.id not in ids  # not public while pending
    clock.advance(hours=12)
    headers = headers_for(admin_key)
    assert (await client.get(path, headers=headers)).json()["data"]["attributes"][
        "state"
    ] == "PUBLISHED"
    ids = {
        r["id"]
        for r in (await client.get(listing, params=published, headers=headers)).json()["data"]
    }
    assert review.id in ids

    again = await client.post(
        RESPONSES, json=create_body(review.id, "Fixed in 2.0"), headers=headers
    )
    assert again.status_code == 201
    assert again.json()["data"]["id"] == reply["id"]  # overwritten, still one per review
    assert again.json()["data"]["attributes"]["state"] == "PENDING_PUBLISH"
    assert (await client.get(path, headers=headers)).json()["data"]["attributes"][
        "responseBody"
    ] == "Fixed in 2.0"

    deleted = await client.delete(f"{RESPONSES}/{reply['id']}", headers=headers)
    assert deleted.status_code == 204
    assert_error(await client.get(path, headers=headers), 404, "NOT_FOUND")
    assert_error(
        await client.delete(f"{RESPONSES}/{reply['id']}", headers=headers), 404, "NOT_FOUND"
    )
    listed = (
        await client.get(listing, params={"include": "response", "limit": "200"}, headers=headers)
    ).json()
    assert_matches_spec(listed, "/v1/apps/{id}/customerReviews")
    mine = next(r for r in listed["data"] if r["id"] == review.id)
    assert "data" not in mine["relationships"]["response"]


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (("ADMIN",), True),
        (("APP_MANAGER",), True),
        (("CUSTOMER_SUPPORT",), True),
        (("DEVELOPER",), False),
        (("FINANCE",), False),
        (("MARKETING",), False),
    ],
)
async def test_writing_needs_a_reply_role(
    client: httpx.AsyncClient,
    state: SandboxState,
    headers_for: AnyHeaders,
    clock: FakeClock,
    roles: tuple[str, ...],
    allowed: bool,
) -> None:
    key = state.add_key(roles=roles)
    review = unanswered(state, key, clock.now)
    created = await client.post(
        RESPONSES, json=create_body(review.id, "Hi"), headers=headers_for(key)
    )
    readable = await client.get(
        f"/v1/customerReviews/{review.id}/response", headers=headers_for(key)
    )
    if allowed:
        assert created.status_code == 201 and readable.status_code == 200
        reply_id = created.json()["data"]["id"]
        deleted = await client.delete(f"{RESPONSES}/{reply_id}", headers=headers_for(key))
        assert deleted.status_code == 204
    else:
        assert_error(created, 403, "FORBIDDEN_ERROR")
        assert_error(readable, 404, "NOT_FOUND")  # reading is allowed; there is just nothing
        assert ledger(state).responses == {}


async def test_invalid_creates_are_refused_like_apple(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    clock: FakeClock,
) -> None:
    review = unanswered(state, admin_key, clock.now)
    pointer = "/data/attributes/responseBody"
    cases: list[tuple[Any, int, str, str | None]] = [
        ("{not json", 422, "ENTITY_UNPROCESSABLE", None),
        (
            {"data": {"type": "customerReviewResponses"}},
            409,
            "ENTITY_ERROR.REQUIRED",
            "/data/attributes",
        ),
        (create_body(review.id, "   "), 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", pointer),
        (
            create_body(review.id, "x" * 5971),
            409,
            "ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG",
            pointer,
        ),
        (create_body("no-such-review", "Hi"), 409, "ENTITY_ERROR.RELATIONSHIP.INVALID", None),
    ]
    for body, status, code, expected_pointer in cases:
        if isinstance(body, str):
            response = await client.post(RESPONSES, content=body, headers=admin_headers)
        else:
            response = await client.post(RESPONSES, json=body, headers=admin_headers)
        error = assert_error(response, status, code)
        if expected_pointer is not None:
            assert error["source"] == {"pointer": expected_pointer}
    longest = await client.post(
        RESPONSES, json=create_body(review.id, "y" * 5970), headers=admin_headers
    )
    assert longest.status_code == 201


async def test_customers_edit_and_delete_reviews_over_time(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    headers_for: AnyHeaders,
    clock: FakeClock,
) -> None:
    team = admin_key.team
    app = team_apps(team)[0]
    pending_edit = next(
        r for r in app_reviews(team, app, clock.now, volume=4) if r.edit and r.edit.at > clock.now
    )
    assert pending_edit.edit is not None
    ledger(state).volume = 4

    def served(now: datetime) -> dict[str, Review]:
        return {r.id: r for r in visible_reviews(state, team, app, now)}

    before = served(clock.now)[pending_edit.id]
    assert (before.rating, before.title) == (pending_edit.rating, pending_edit.title)
    clock.now = pending_edit.edit.at
    after = served(clock.now)[pending_edit.id]
    assert (after.rating, after.title, after.body) == (
        pending_edit.edit.rating,
        pending_edit.edit.title,
        pending_edit.edit.body,
    )
    assert after.created == before.created  # an edit keeps the id and createdDate

    ledger(state).remove(pending_edit.id)
    response = await client.get(
        f"/v1/apps/{app.id}/customerReviews",
        params={"limit": "200"},
        headers=headers_for(admin_key),
    )
    assert_matches_spec(response.json(), "/v1/apps/{id}/customerReviews")
    assert pending_edit.id not in {r["id"] for r in response.json()["data"]}
