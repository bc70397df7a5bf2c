"""OpenAPI declarations of the problem responses each route can answer."""

from __future__ import annotations

from typing import Any

from app.errors import PROBLEM_CONTENT_TYPE

_DESCRIPTIONS = {
    400: "Malformed request (for example invalid JSON).",
    401: "Missing, unknown or revoked bearer token.",
    403: "The token lacks the scope this operation needs.",
    404: "No such object in the caller's workspace.",
    409: "The request conflicts with the current state.",
    413: "The request body is larger than the configured limit.",
    422: "Invalid input; `errors` names each field and the reason.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    502: "App Store Connect answered with an error.",
    503: "A dependency (the database, App Store Connect) is unavailable.",
}

# Every authenticated route can answer these (503: the token is checked in the database).
AUTHED = (401, 403, 422, 429, 503)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted(set(statuses))
    }
