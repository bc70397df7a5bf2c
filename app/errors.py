"""Orchard's error tree, rendered as RFC 9457 ``application/problem+json``.

Services raise ``AppError`` subclasses (they never import FastAPI); ``app.main`` installs the
handlers that turn them, framework errors and anything unexpected into problem documents. A
problem never carries a stack trace, a secret or the request body.

    AppError (500 internal_error)
    ├── BadRequest (400 bad_request)
    │   └── MalformedJson (400 malformed_json)
    ├── Unauthorized (401 unauthorized)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── Conflict (409 conflict)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── ValidationFailed (422 validation_error, with ``errors``)
    ├── RateLimited (429 rate_limited, with ``Retry-After``)
    └── ServiceUnavailable (503 service_unavailable)
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_CONTENT_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One problem with one input field."""

    field: str = Field(description="Where the problem is, e.g. `body.name` or `query.limit`.")
    message: str = Field(description="What is wrong, for a person.")
    type: str = Field(description="A stable machine-readable code, e.g. `missing`.")


class Problem(BaseModel):
    """An RFC 9457 problem document. Extra members depend on `type`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A stable URI reference naming the kind of problem.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What happened in this occurrence, for a person.")
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[FieldError] | None = Field(
        default=None, description="Field errors, present on validation problems."
    )


def problem_type(slug: str) -> str:
    return f"/problems/{slug}"


class AppError(Exception):
    status: int = 500
    slug: ClassVar[str] = "internal_error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        extensions: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions or {}
        self.headers = headers or {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": problem_type(self.slug),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class BadRequest(AppError):
    status = 400
    slug = "bad_request"
    title = "Bad request"


class MalformedJson(BadRequest):
    slug = "malformed_json"
    title = "Malformed JSON body"


class Unauthorized(AppError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="orchard"'})


class Forbidden(AppError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(AppError):
    status = 404
    slug = "not_found"
    title = "Not found"


class MethodNotAllowed(AppError):
    status = 405
    slug = "method_not_allowed"
    title = "Method not allowed"


class Conflict(AppError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(AppError):
    status = 413
    slug = "payload_too_large"
    title = "Request body too large"


class ValidationFailed(AppError):
    status = 422
    slug = "validation_error"
    title = "Invalid input"

    def __init__(self, detail: str, errors: list[FieldError]) -> None:
        super().__init__(detail, extensions={"errors": [error.model_dump() for error in errors]})
        self.errors = errors

    @classmethod
    def single(cls, field: str, message: str, type_: str = "invalid") -> ValidationFailed:
        return cls(f"{field}: {message}", [FieldError(field=field, message=message, type=type_)])


class RateLimited(AppError):
    status = 429
    slug = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(
            detail,
            extensions={"retry_after_seconds": retry_after_seconds},
            headers={"Retry-After": str(retry_after_seconds)},
        )


class ServiceUnavailable(AppError):
    status = 503
    slug = "service_unavailable"
    title = "Service unavailable"
