"""Developer responses to customer reviews: create (or overwrite), read and delete.

``POST /v1/customerReviewResponses`` overwrites the review's existing response (Apple keeps
one per review) and answers 201 with the response in ``PENDING_PUBLISH``; it turns
``PUBLISHED`` :data:`~app.sandbox.reviews.PENDING_PUBLISH` later on the sandbox clock (or
after the team's ``reply_publish_hours``, see :mod:`.fidelity`). ``GET
/v1/customerReviewResponses/{id}`` and ``GET /v1/customerReviews/{id}/response`` show the
state at the time of the request. Writing and deleting need the Admin, App Manager or
Customer Support role.

Refusals follow the operation's documented statuses (no 404 for POST): an unreadable body is
422 ``ENTITY_UNPROCESSABLE``; a missing or wrong member, an empty or too long
``responseBody`` or an unknown review is 409 ``ENTITY_ERROR.*`` with a ``source.pointer``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import team_apps
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import ApiError, resource_not_found
from app.sandbox.jsonapi import Included, ParamSpec, single_document, words
from app.sandbox.permissions import ANY_ROLE, REVIEW_RESPONSES
from app.sandbox.review_ledger import ReviewResponse, ledger
from app.sandbox.reviews import (
    Review,
    find_review,
    reply_delay,
    response_resource,
    review_resource,
    visible_reviews,
)
from app.sandbox.seeding import stable_uuid

#: Apple's documented maximum length of a response body, in characters.
MAX_RESPONSE_LENGTH = 5970


def _unprocessable(detail: str) -> ApiError:
    return ApiError(422, "ENTITY_UNPROCESSABLE", "The request entity is not processable.", detail)


def _entity_error(code: str, detail: str, pointer: str) -> ApiError:
    return ApiError(
        409, f"ENTITY_ERROR.{code}", "The provided entity is invalid", detail, pointer=pointer
    )


def _member(node: Any, name: str, pointer: str) -> Any:
    if not isinstance(node, dict) or name not in node:
        raise _entity_error(
            "ATTRIBUTE.REQUIRED" if "attributes" in pointer else "REQUIRED",
            f"'{name}' is required.",
            f"{pointer}/{name}",
        )
    return node[name]


async def _create_request(ctx: V1Context) -> tuple[str, str]:
    """``(review id, response body)`` from a ``CustomerReviewResponseV1CreateRequest``."""
    try:
        document = json.loads(await ctx.request.body())
    except ValueError:
        raise _unprocessable("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise _unprocessable("The request body must be a JSON object.")
    data = _member(document, "data", "")
    if _member(data, "type", "/data") != "customerReviewResponses":
        raise _entity_error("INVALID", "'type' must be 'customerReviewResponses'.", "/data/type")
    body = _member(_member(data, "attributes", "/data"), "responseBody", "/data/attributes")
    pointer = "/data/relationships/review/data"
    linkage = _member(
        _member(_member(data, "relationships", "/data"), "review", "/data/relationships"),
        "data",
        "/data/relationships/review",
    )
    if _member(linkage, "type", pointer) != "customerReviews":
        raise _entity_error("RELATIONSHIP.INVALID", "'type' must be 'customerReviews'.", pointer)
    review_id = _member(linkage, "id", pointer)
    body_pointer = "/data/attributes/responseBody"
    if not isinstance(body, str) or not isinstance(review_id, str):
        raise _entity_error("ATTRIBUTE.TYPE", "Values must be strings.", body_pointer)
    if not body.strip():
        raise _entity_error(
            "ATTRIBUTE.INVALID", "The response body must not be empty.", body_pointer
        )
    if len(body) > MAX_RESPONSE_LENGTH:
        raise _entity_error(
            "ATTRIBUTE.INVALID.TOO_LONG",
            f"The response body can't be longer than {MAX_RESPONSE_LENGTH} characters.",
            body_pointer,
        )
    return review_id, body


async def create_response(ctx: V1Context) -> Response:
    review_id, body = await _create_request(ctx)
    now = ctx.now
    found = find_review(ctx.state, ctx.team, review_id, now)
    if found is None:
        raise _entity_error(
            "RELATIONSHIP.INVALID",
            f"There is no customer review with id '{review_id}'.",
            "/data/relationships/review/data/id",
        )
    _, review = found
    changes = ledger(ctx.state)
    existing = review.response_at(now)
    if existing is not None:
        response_id = existing.id  # overwritten in place: one response per review
    else:
        changes.writes += 1
        response_id = stable_uuid(ctx.team.seed, "response", review.id, "write", changes.writes)
    response = ReviewResponse(id=response_id, body=body, last_modified=now)
    changes.responses[review.id] = response
    fields = ctx.query.fields("customerReviewResponses")
    resource = response_resource(ctx.base_url, review, response, now, fields, reply_delay(ctx))
    self_url = f"{ctx.base_url}/v1/customerReviewResponses/{response_id}"
    return JSONResponse(single_document(resource, self_url), status_code=201)


async def get_review_response(ctx: V1Context) -> Response:
    review_id = ctx.path_params["id"]
    now = ctx.now
    found = find_review(ctx.state, ctx.team, review_id, now)
    if found is None:
        raise resource_not_found("customerReviews", review_id)
    _, review = found
    response = review.response_at(now)
    if response is None:
        raise ApiError(
            404,
            "NOT_FOUND",
            "The specified resource does not exist",
            f"The customer review '{review_id}' has no response.",
        )
    return _response_document(ctx, review, response)


def _response_document(ctx: V1Context, review: Review, response: ReviewResponse) -> Response:
    q = ctx.query
    fields = q.fields("customerReviewResponses")
    resource = response_resource(ctx.base_url, review, response, ctx.now, fields, reply_delay(ctx))
    included = Included()
    if "review" in q.includes():
        included.add(review_resource(ctx, review, Included()))
    return JSONResponse(single_document(resource, ctx.self_url, included))


def _find_response(ctx: V1Context, response_id: str) -> tuple[Review, ReviewResponse]:
    """The served review whose current response is ``response_id`` (404 otherwise)."""
    now = ctx.now
    for app in team_apps(ctx.team):
        for review in visible_reviews(ctx.state, ctx.team, app, now):
            current = review.response_at(now)
            if current is not None and current.id == response_id:
                return review, current
    raise resource_not_found("customerReviewResponses", response_id)


async def get_response(ctx: V1Context) -> Response:
    review, response = _find_response(ctx, ctx.path_params["id"])
    return _response_document(ctx, review, response)


async def delete_response(ctx: V1Context) -> Response:
    review, _ = _find_response(ctx, ctx.path_params["id"])
    ledger(ctx.state).responses[review.id] = None
    return Response(status_code=204)


RESPONSE_FIELDS = words("responseBody lastModifiedDate state review")
REVIEW_FIELDS = words(
    "rating title body reviewerNickname createdDate territory response reviewTerritory"
)
GET_RESPONSE_PARAMS = ParamSpec(
    names=words("include"),
    fields={"customerReviewResponses": RESPONSE_FIELDS, "customerReviews": REVIEW_FIELDS},
    enums={"include": words("review")},
)

ROUTES = [
    V1Route("POST", "/v1/customerReviewResponses", create_response, REVIEW_RESPONSES, ParamSpec()),
    V1Route(
        "GET",
        "/v1/customerReviews/{id}/response",
        get_review_response,
        ANY_ROLE,
        GET_RESPONSE_PARAMS,
    ),
    V1Route("GET", "/v1/customerReviewResponses/{id}", get_response, ANY_ROLE, GET_RESPONSE_PARAMS),
    V1Route(
        "DELETE",
        "/v1/customerReviewResponses/{id}",
        delete_response,
        REVIEW_RESPONSES,
        ParamSpec(),
    ),
]
