"""Classification of Apple's error responses into the typed error tree."""

from __future__ import annotations

import email.utils
import json

import pytest

from app.asc.errors import (
    AscAgreementRequired,
    AscConflict,
    AscError,
    AscForbidden,
    AscGone,
    AscInvalidParameter,
    AscNotFound,
    AscRateLimited,
    AscServerError,
    AscUnauthorized,
    AscUnprocessable,
    ForbiddenReason,
    NotFoundKind,
    error_from_response,
    parse_retry_after,
)
from tests.asc.conftest import apple_error


def _body(status: int, code: str, detail: str, **extra: object) -> bytes:
    return json.dumps(apple_error(status, code, detail, **extra)).encode()


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (401, AscUnauthorized, False),
        (409, AscConflict, False),
        (410, AscGone, False),
        (422, AscUnprocessable, False),
        (429, AscRateLimited, True),
        (500, AscServerError, True),
        (503, AscServerError, True),
        (405, AscError, False),
    ],
)
def test_status_maps_to_class(status: int, cls: type[AscError], retryable: bool) -> None:
    error = error_from_response(status, _body(status, "SOME_CODE", "Some detail."), {})
    assert type(error) is cls
    assert error.status == status
    assert error.code == "SOME_CODE"
    assert error.detail == "Some detail."
    assert error.retryable is retryable
    assert error.errors[0].code == "SOME_CODE"


def test_forbidden_missing_role() -> None:
    error = error_from_response(
        403, _body(403, "FORBIDDEN_ERROR", "The API key in use does not allow this request"), {}
    )
    assert isinstance(error, AscForbidden)
    assert not isinstance(error, AscAgreementRequired)
    assert error.reason is ForbiddenReason.MISSING_ROLE


def test_forbidden_agreement_required() -> None:
    body = _body(
        403,
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
        "A required agreement is missing or has expired.",
    )
    error = error_from_response(403, body, {})
    assert isinstance(error, AscAgreementRequired)
    assert isinstance(error, AscForbidden)
    assert error.reason is ForbiddenReason.AGREEMENT_REQUIRED
    assert str(error.reason) == "agreement_required"


def test_forbidden_unknown_code_is_other() -> None:
    error = error_from_response(403, _body(403, "FORBIDDEN.SOMETHING_NEW", "?"), {})
    assert isinstance(error, AscForbidden)
    assert error.reason is ForbiddenReason.OTHER


@pytest.mark.parametrize(
    ("detail", "kind"),
    [
        ("There were no sales for the date specified.", NotFoundKind.NO_SALES),
        ("There were no sales  for the date specified", NotFoundKind.NO_SALES),
        (
            "Report is not available yet. Daily reports for the Americas are available by 5 am "
            "Pacific Time.",
            NotFoundKind.NOT_AVAILABLE_YET,
        ),
        ("The specified resource does not exist", NotFoundKind.OTHER),
        ("Report is no longer available.", NotFoundKind.OTHER),
    ],
)
def test_not_found_kinds(detail: str, kind: NotFoundKind) -> None:
    error = error_from_response(404, _body(404, "NOT_FOUND", detail), {})
    assert isinstance(error, AscNotFound)
    assert error.kind is kind


def test_invalid_parameter_carries_parameter_and_latest_version() -> None:
    body = _body(
        400,
        "PARAMETER_ERROR.INVALID",
        "The version parameter you have specified is invalid. "
        "The latest version for this report is 1_1.",
        source={"parameter": "filter[version]"},
    )
    error = error_from_response(400, body, {})
    assert isinstance(error, AscInvalidParameter)
    assert error.parameter == "filter[version]"
    assert error.latest_version == "1_1"
    assert error.errors[0].source_parameter == "filter[version]"


def test_invalid_parameter_without_version_hint() -> None:
    body = _body(400, "PARAMETER_ERROR.INVALID", "bad", source={"pointer": "/data/attributes"})
    error = error_from_response(400, body, {})
    assert isinstance(error, AscInvalidParameter)
    assert error.parameter is None
    assert error.latest_version is None
    assert error.errors[0].source_pointer == "/data/attributes"


@pytest.mark.parametrize(
    "body", [b"", b"<html><body>Bad Gateway</body></html>", b"[1, 2]", b'{"errors": "x"}']
)
def test_non_json_bodies_are_tolerated(body: bytes) -> None:
    error = error_from_response(502, body, {})
    assert isinstance(error, AscServerError)
    assert error.errors == []
    assert error.code is None
    if body.startswith(b"<html>"):
        assert error.detail is not None and "Bad Gateway" in error.detail


def test_retry_after_seconds_and_http_date() -> None:
    error = error_from_response(
        429, _body(429, "RATE_LIMIT_EXCEEDED", "slow down"), {"retry-after": "12"}
    )
    assert isinstance(error, AscRateLimited)
    assert error.retry_after == 12.0
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0.0


def test_rate_limited_without_retry_after() -> None:
    error = error_from_response(429, _body(429, "RATE_LIMIT_EXCEEDED", "slow down"), {})
    assert isinstance(error, AscRateLimited)
    assert error.retry_after is None


def test_token_and_key_material_are_scrubbed() -> None:
    token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----"
    body = _body(401, "NOT_AUTHORIZED", f"bad token {token} Bearer {token} key {pem}")
    error = error_from_response(401, body, {})
    for text in (str(error), repr(error), error.detail or "", error.errors[0].detail or ""):
        assert token not in text
        assert "MIGHAgEA" not in text
        assert "eyJhbGci" not in text


def test_str_names_request_when_known() -> None:
    error = error_from_response(404, _body(404, "NOT_FOUND", "nope"), {})
    error.method, error.path = "GET", "/v1/apps/1"
    assert "GET /v1/apps/1" in str(error)
    assert "404" in str(error)
