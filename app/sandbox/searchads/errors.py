"""Apple Ads error answers in both API generations.

* v5 (FACTS §4): ``{"data": null, "pagination": null, "error": {"errors": [{"messageCode",
  "message", "field"}]}}``.
* v1 (FACTS §9): ``{"error": {"code", "message", "details": [{"code", "message"}]}}``.
* OAuth token endpoint (FACTS §1): ``{"error": "invalid_client"}`` and the other RFC 6749 codes.

Codes that the facts do not pin (e.g. v5's ``INVALID_INPUT``, "made up" in FACTS §5) are the
sandbox's best guess; clients should branch on the HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from starlette.responses import JSONResponse

Api = Literal["v1", "v5"]

MISSING_HEADER_MESSAGE = "A required header was not specified or was invalid."  # FACTS §1
ROW_TOTALS_MESSAGE = "The request needs to ask for rowTotals or granularity to fetch data."
NO_KEYWORDS_MESSAGE = "CAMPAIGN DOES NOT CONTAIN KEYWORD"  # FACTS §4 (Airbyte skips it)


class AdsError(Exception):
    """An expected failure; rendered in the shape of the API it happened in."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        v5_code: str | None = None,
        field: str = "",
        detail_code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.v5_code = v5_code or code
        self.message = message
        self.field = field
        self.detail_code = detail_code
        self.headers = dict(headers or {})

    def body(self, api: Api) -> dict[str, Any]:
        if api == "v5":
            error = {"messageCode": self.v5_code, "message": self.message, "field": self.field}
            return {"data": None, "pagination": None, "error": {"errors": [error]}}
        details = []
        if self.detail_code is not None:
            details.append({"code": self.detail_code, "message": self.message})
        return {"error": {"code": self.code, "message": self.message, "details": details}}

    def response(self, api: Api) -> JSONResponse:
        return JSONResponse(self.body(api), status_code=self.status, headers=self.headers)


def unauthorized() -> AdsError:
    return AdsError(401, "UNAUTHORIZED", "Invalid or expired access token.")


def forbidden(message: str = MISSING_HEADER_MESSAGE) -> AdsError:
    return AdsError(403, "FORBIDDEN", message)


def missing_context_v1(as_bad_request: bool) -> AdsError:
    if as_bad_request:
        return invalid(MISSING_HEADER_MESSAGE, "X-AP-Context", "MISSING_REQUIRED_HEADER")
    return forbidden()


def invalid(message: str, field: str = "", detail_code: str = "INVALID_VALUE") -> AdsError:
    """A malformed request (v1 ``INVALID_ARGUMENT``)."""
    return AdsError(
        400,
        "INVALID_ARGUMENT",
        message,
        v5_code="INVALID_INPUT",
        field=field,
        detail_code=detail_code,
    )


def rule_violation(message: str, field: str = "") -> AdsError:
    """A well-formed request that breaks a documented rule (v1 ``VALIDATION_ERROR``)."""
    return AdsError(
        400,
        "VALIDATION_ERROR",
        message,
        v5_code="INVALID_INPUT",
        field=field,
        detail_code="INVALID_VALUE",
    )


def not_found(what: str) -> AdsError:
    return AdsError(404, "NOT_FOUND", f"{what} not found.", v5_code="NOT_FOUND")


def method_not_allowed() -> AdsError:
    return AdsError(405, "METHOD_NOT_ALLOWED", "The method is not allowed for this resource.")


def rate_limited(retry_after: int | None) -> AdsError:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return AdsError(429, "RATE_LIMIT_EXCEEDED", "Too many requests; retry later.", headers=headers)


def unexpected(status: int = 500) -> AdsError:
    code = "INTERNAL_ERROR" if status == 500 else "SERVICE_UNAVAILABLE"
    return AdsError(status, code, "The service is temporarily unavailable.")


_SUNSET = {
    "moved_301": (301, "RESOURCE_MOVED_PERMANENTLY", "This API version has been retired."),
    "gone_410": (410, "GONE", "Campaign Management API v5 is no longer available."),
    "not_found_404": (404, "NOT_FOUND", "Resource not found."),
    "bad_request_400": (400, "API_VERSION_NOT_SUPPORTED", "API version v5 is not supported."),
}


def v5_sunset(mode: str) -> AdsError:
    """FACTS §0: after 2027-01-26 v5 "calls then error"; the shape is an option."""
    status, code, message = _SUNSET[mode]
    return AdsError(status, code, message)


def oauth_error(code: str, status: int = 400) -> JSONResponse:
    """FACTS §1: ``{"error": "invalid_client"}`` (and RFC 6749's other codes)."""
    return JSONResponse({"error": code}, status_code=status, headers={"Cache-Control": "no-store"})
