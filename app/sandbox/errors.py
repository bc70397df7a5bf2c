"""JSON:API error documents with App Store Connect's codes, titles and details.

Shape (spec ``ErrorResponse``): ``{"errors": [{"id", "status", "code", "title", "detail",
"source"?}]}`` with ``status`` as a string and ``Content-Type: application/json``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from starlette.responses import JSONResponse

NOT_AUTHORIZED_DETAIL = (
    "Provide a properly configured and signed bearer token, and make sure that it has not "
    "expired. Learn more about Generating Tokens for API Requests "
    "https://developer.apple.com/go/?id=api-generating-tokens"
)
NO_SALES_DETAIL = "There were no sales for the date specified."
NOT_AVAILABLE_DETAIL = (
    "Report is not available yet. Daily reports for the Americas are available by 5 am "
    "Pacific Time; Japan, Australia, and New Zealand by 5 am Japan Standard Time; and 5 am "
    "Central European Time for all other territories."
)
GONE_DETAIL = (
    "Report is no longer available. Daily, weekly and monthly reports are kept for 365 days "
    "and yearly reports for 10 years."
)


class ApiError(Exception):
    """An expected failure, rendered as one JSON:API error object."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        parameter: str | None = None,
        pointer: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.parameter = parameter
        self.pointer = pointer
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {
            "id": str(uuid.uuid4()),
            "status": str(self.status),
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.parameter is not None:
            error["source"] = {"parameter": self.parameter}
        elif self.pointer is not None:
            error["source"] = {"pointer": self.pointer}
        return {"errors": [error]}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def not_authorized() -> ApiError:
    return ApiError(
        401,
        "NOT_AUTHORIZED",
        "Authentication credentials are missing or invalid.",
        NOT_AUTHORIZED_DETAIL,
    )


def forbidden() -> ApiError:
    return ApiError(
        403,
        "FORBIDDEN_ERROR",
        "This request is forbidden for security reasons",
        "The API key in use does not allow this request",
    )


def agreement_missing() -> ApiError:
    return ApiError(
        403,
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
        "A required agreement is missing or has expired.",
        "This request requires an in-effect agreement that has not been signed or has expired.",
    )


def rate_limited(retry_after: int | None) -> ApiError:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return ApiError(
        429,
        "RATE_LIMIT_EXCEEDED",
        "The request rate limit has been reached.",
        "We've received too many requests for this API. "
        "Please wait and try again or slow down your request rate.",
        headers=headers,
    )


def path_not_found() -> ApiError:
    return ApiError(
        404,
        "NOT_FOUND",
        "The specified resource does not exist",
        "The path provided does not match a defined resource type.",
    )


def resource_not_found(resource_type: str, resource_id: str) -> ApiError:
    return ApiError(
        404,
        "NOT_FOUND",
        "The specified resource does not exist",
        f"There is no resource of type '{resource_type}' with id '{resource_id}'",
    )


def method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        "The request method is not valid for the resource path.",
        f"The request method '{method}' is not valid for the resource path.",
    )


def invalid_parameter(parameter: str, detail: str) -> ApiError:
    return ApiError(
        400,
        "PARAMETER_ERROR.INVALID",
        "A parameter has an invalid value",
        detail,
        parameter=parameter,
    )


def invalid_value(parameter: str, value: str) -> ApiError:
    return invalid_parameter(
        parameter, f"'{value}' is not a valid value for the parameter '{parameter}'"
    )


def illegal_parameter(parameter: str) -> ApiError:
    return ApiError(
        400,
        "PARAMETER_ERROR.ILLEGAL",
        "A parameter is not allowed for this request",
        f"The parameter '{parameter}' can not be used with this request",
        parameter=parameter,
    )


def required_parameter(parameter: str) -> ApiError:
    return ApiError(
        400,
        "PARAMETER_ERROR.REQUIRED",
        "A required parameter is missing",
        f"The parameter '{parameter}' is required for this request",
        parameter=parameter,
    )


def invalid_combination(detail: str) -> ApiError:
    return ApiError(
        400,
        "PARAMETER_ERROR.INVALID.INVALID_COMBINATION",
        "A parameter has an invalid value",
        detail,
    )


def no_sales() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The specified resource does not exist", NO_SALES_DETAIL)


def not_available_yet() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The specified resource does not exist", NOT_AVAILABLE_DETAIL)


def no_longer_available() -> ApiError:
    return ApiError(410, "GONE", "The requested resource is no longer available", GONE_DETAIL)


def not_acceptable(requested: str, allowed: str) -> ApiError:
    return ApiError(
        406,
        "NOT_ACCEPTABLE",
        "The requested media type is not acceptable",
        "The provided Accept header is not supported for this request. "
        f"Requested: {requested} Allowed: {allowed}",
    )


def unexpected() -> ApiError:
    return ApiError(
        500,
        "UNEXPECTED_ERROR",
        "An unexpected error occurred.",
        "An unexpected error occurred on the server side. If this issue continues, contact us "
        "at https://developer.apple.com/contact/.",
    )
