"""AscClient request loop: auth headers, retries, error mapping, rate-limit tracking."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
import respx

from app.asc.client import AscClient
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
    AscTransportError,
    AscUnauthorized,
    AscUnprocessable,
    ForbiddenReason,
)
from app.asc.http_client import create_http_client
from app.asc.jwt import AscCredentials
from app.asc.ratelimit import RateLimitInfo
from app.asc.retry import RetryPolicy
from tests.asc.conftest import (
    BASE_URL,
    ISSUER_ID,
    KEY_ID,
    FakeClock,
    RecordingSleep,
    apple_error,
    rate_limit_headers,
)

APPS = {"data": [{"type": "apps", "id": "1", "attributes": {"name": "A"}}], "links": {"self": "s"}}


def _ok(**kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=APPS, **kwargs)


def _error(status: int, code: str = "ERR", detail: str = "detail", **kwargs: Any) -> httpx.Response:
    headers = kwargs.pop("headers", {})
    return httpx.Response(status, json=apple_error(status, code, detail, **kwargs), headers=headers)


def _tokens(route: respx.Route) -> list[str]:
    return [call.request.headers["Authorization"].removeprefix("Bearer ") for call in route.calls]


async def test_request_is_signed_and_parsed(
    apple: respx.MockRouter, client: AscClient, credentials: AscCredentials
) -> None:
    route = apple.get("/v1/apps/1").mock(return_value=_ok())

    document = await client.get_document("/v1/apps/1", {"fields[apps]": ["name", "bundleId"]})

    assert document.resources()[0].attributes["name"] == "A"
    request = route.calls.last.request
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("orchard/")
    assert request.url.params["fields[apps]"] == "name,bundleId"
    token = request.headers["Authorization"].removeprefix("Bearer ")
    assert jwt.get_unverified_header(token)["kid"] == KEY_ID
    claims = jwt.decode(
        token,
        credentials.private_key.public_key(),
        algorithms=["ES256"],
        audience="appstoreconnect-v1",
    )
    assert claims["iss"] == ISSUER_ID
    assert client.request_count == 1
    assert client.status_counts == {200: 1}


async def test_token_reused_then_reminted_after_expiry(
    apple: respx.MockRouter, client: AscClient, clock: FakeClock
) -> None:
    route = apple.get("/v1/apps").mock(return_value=_ok())
    await client.get_document("/v1/apps")
    await client.get_document("/v1/apps")
    clock.advance(14 * 60)
    await client.get_document("/v1/apps")

    tokens = _tokens(route)
    assert tokens[0] == tokens[1]
    assert tokens[2] != tokens[0]
    assert client.minter.mint_count == 2


async def test_429_honours_retry_after(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    route = apple.get("/v1/apps").mock(
        side_effect=[
            _error(429, "RATE_LIMIT_EXCEEDED", headers={"Retry-After": "7"}),
            _ok(),
        ]
    )
    await client.get_document("/v1/apps")
    assert route.call_count == 2
    assert sleeper.calls == [7.0]  # Retry-After beats the 0.5 s backoff


async def test_429_without_retry_after_backs_off_exponentially(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    route = apple.get("/v1/apps").mock(
        side_effect=[_error(429, "RATE_LIMIT_EXCEEDED")] * 3 + [_ok()]
    )
    await client.get_document("/v1/apps")
    assert route.call_count == 4
    assert sleeper.calls == [0.5, 1.0, 2.0]
    assert client.status_counts == {429: 3, 200: 1}


async def test_retry_after_beyond_cap_is_raised_at_once(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    route = apple.get("/v1/apps").mock(
        return_value=_error(429, "RATE_LIMIT_EXCEEDED", headers={"Retry-After": "3600"})
    )
    with pytest.raises(AscRateLimited) as info:
        await client.get_document("/v1/apps")
    assert info.value.retry_after == 3600.0
    assert route.call_count == 1
    assert sleeper.calls == []


async def test_jitter_stays_within_cap(
    apple: respx.MockRouter, make_client: Callable[..., AscClient], sleeper: RecordingSleep
) -> None:
    client = make_client(retry=RetryPolicy(sleep=sleeper, rand=lambda: 0.25, max_delay=1.0))
    apple.get("/v1/apps").mock(side_effect=[_error(503)] * 4 + [_ok()])
    await client.get_document("/v1/apps")
    assert sleeper.calls == [0.125, 0.25, 0.25, 0.25]


async def test_5xx_then_success(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    route = apple.get("/v1/apps").mock(
        side_effect=[_error(500), httpx.Response(502, text="Bad Gateway"), _error(503), _ok()]
    )
    document = await client.get_document("/v1/apps")
    assert document.resources()[0].id == "1"
    assert route.call_count == 4
    assert client.request_count == 4
    assert sleeper.calls == [0.5, 1.0, 2.0]
    assert client.status_counts == {500: 1, 502: 1, 503: 1, 200: 1}


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
)
async def test_transport_error_then_success(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep, failure: Exception
) -> None:
    route = apple.get("/v1/apps").mock(side_effect=[failure, failure, _ok()])
    await client.get_document("/v1/apps")
    assert route.call_count == 3
    assert sleeper.calls == [0.5, 1.0]
    assert client.transport_error_count == 2


async def test_retries_exhausted_raises_typed_error(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    route = apple.get("/v1/apps").mock(return_value=_error(503, "SERVICE_UNAVAILABLE"))
    with pytest.raises(AscServerError) as info:
        await client.get_document("/v1/apps")
    assert route.call_count == 5
    assert len(sleeper.calls) == 4
    assert info.value.attempts == 5
    assert info.value.status == 503
    assert info.value.path == "/v1/apps"


async def test_transport_retries_exhausted(
    apple: respx.MockRouter, make_client: Callable[..., AscClient], sleeper: RecordingSleep
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=3, sleep=sleeper, rand=lambda: 1.0))
    route = apple.get("/v1/apps").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(AscTransportError) as info:
        await client.get_document("/v1/apps")
    assert route.call_count == 3
    assert info.value.retryable
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


async def test_401_then_success_after_remint(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    route = apple.get("/v1/apps").mock(side_effect=[_error(401, "NOT_AUTHORIZED"), _ok(), _ok()])
    await client.get_document("/v1/apps")
    tokens = _tokens(route)
    assert len(tokens) == 2
    assert tokens[0] != tokens[1]
    assert sleeper.calls == []
    # the fresh token is cached for later calls
    await client.get_document("/v1/apps")
    assert _tokens(route)[2] == tokens[1]


async def test_401_twice_raises_unauthorized(apple: respx.MockRouter, client: AscClient) -> None:
    route = apple.get("/v1/apps").mock(return_value=_error(401, "NOT_AUTHORIZED"))
    with pytest.raises(AscUnauthorized) as info:
        await client.get_document("/v1/apps")
    assert route.call_count == 2
    assert info.value.code == "NOT_AUTHORIZED"
    assert not info.value.retryable


async def test_403_missing_role_vs_agreement(apple: respx.MockRouter, client: AscClient) -> None:
    route = apple.get("/v1/salesReports").mock(
        side_effect=[
            _error(403, "FORBIDDEN_ERROR", "The API key in use does not allow this request"),
            _error(
                403,
                "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
                "A required agreement is missing or has expired.",
            ),
        ]
    )
    with pytest.raises(AscForbidden) as role:
        await client.get_document("/v1/salesReports")
    assert role.value.reason is ForbiddenReason.MISSING_ROLE
    assert not isinstance(role.value, AscAgreementRequired)
    with pytest.raises(AscAgreementRequired) as agreement:
        await client.get_document("/v1/salesReports")
    assert agreement.value.reason is ForbiddenReason.AGREEMENT_REQUIRED
    assert route.call_count == 2  # no retries for 403


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, AscInvalidParameter), (404, AscNotFound), (410, AscGone), (405, AscError)],
)
async def test_other_4xx_raised_without_retry(
    apple: respx.MockRouter,
    client: AscClient,
    sleeper: RecordingSleep,
    status: int,
    cls: type[AscError],
) -> None:
    route = apple.get("/v1/apps/9").mock(return_value=_error(status))
    with pytest.raises(cls):
        await client.get_document("/v1/apps/9")
    assert route.call_count == 1
    assert sleeper.calls == []


async def test_rate_limit_header_tracked_on_success_and_error(
    apple: respx.MockRouter, make_client: Callable[..., AscClient]
) -> None:
    seen: list[tuple[str, RateLimitInfo]] = []

    async def record(key_id: str, info: RateLimitInfo) -> None:
        seen.append((key_id, info))

    client = make_client(on_rate_limit=record)
    apple.get("/v1/apps").mock(return_value=_ok(headers=rate_limit_headers(3599)))
    apple.get("/v1/apps/404").mock(return_value=_error(404, headers=rate_limit_headers(3598)))
    apple.get("/v1/apps/none").mock(return_value=_ok())

    await client.get_document("/v1/apps")
    assert client.rate_limit == RateLimitInfo(limit=3600, remaining=3599)
    with pytest.raises(AscNotFound):
        await client.get_document("/v1/apps/404")
    assert client.rate_limit == RateLimitInfo(limit=3600, remaining=3598)
    await client.get_document("/v1/apps/none")  # no header: last known budget kept
    assert client.rate_limit == RateLimitInfo(limit=3600, remaining=3598)
    assert seen == [
        (KEY_ID, RateLimitInfo(3600, 3599)),
        (KEY_ID, RateLimitInfo(3600, 3598)),
    ]


async def test_rate_limit_on_retried_429_is_reported_each_time(
    apple: respx.MockRouter, make_client: Callable[..., AscClient]
) -> None:
    seen: list[int] = []

    async def record(key_id: str, info: RateLimitInfo) -> None:
        seen.append(info.remaining)

    client = make_client(on_rate_limit=record)
    apple.get("/v1/apps").mock(
        side_effect=[
            _error(429, "RATE_LIMIT_EXCEEDED", headers=rate_limit_headers(0)),
            _ok(headers=rate_limit_headers(3599)),
        ]
    )
    await client.get_document("/v1/apps")
    assert seen == [0, 3599]


async def test_failing_rate_limit_callback_does_not_fail_the_call(
    apple: respx.MockRouter, make_client: Callable[..., AscClient]
) -> None:
    async def broken(key_id: str, info: RateLimitInfo) -> None:
        raise RuntimeError("database down")

    client = make_client(on_rate_limit=broken)
    apple.get("/v1/apps").mock(return_value=_ok(headers=rate_limit_headers(10)))
    await client.get_document("/v1/apps")
    assert client.rate_limit == RateLimitInfo(3600, 10)


async def test_refuses_to_send_token_to_other_origin(
    apple: respx.MockRouter, client: AscClient
) -> None:
    with pytest.raises(AscError, match="another origin"):
        await client.get_document("https://evil.example.com/v1/apps")
    assert client.request_count == 0


async def test_absolute_url_on_same_origin_is_used_verbatim(
    apple: respx.MockRouter, client: AscClient
) -> None:
    route = apple.get("/v1/apps").mock(return_value=_ok())
    url = f"{BASE_URL}/v1/apps?cursor=AAA&limit=200"
    await client.get_document(url)
    assert str(route.calls.last.request.url) == url


async def test_invalid_json_document_raises(apple: respx.MockRouter, client: AscClient) -> None:
    apple.get("/v1/apps").mock(return_value=httpx.Response(200, json={"data": [{"id": "1"}]}))
    with pytest.raises(AscError, match="JSON:API"):
        await client.get_document("/v1/apps")


# -- writes ------------------------------------------------------------------------------

REPLY = {
    "data": {
        "type": "customerReviewResponses",
        "attributes": {"responseBody": "Thanks!"},
        "relationships": {"review": {"data": {"type": "customerReviews", "id": "r1"}}},
    }
}
CREATED = {"data": {"type": "customerReviewResponses", "id": "resp1", "attributes": {}}}


async def test_post_document_sends_json_and_returns_created(
    apple: respx.MockRouter, client: AscClient
) -> None:
    route = apple.post("/v1/customerReviewResponses").mock(
        return_value=httpx.Response(201, json=CREATED)
    )
    document = await client.post_document("/v1/customerReviewResponses", REPLY)
    assert document.resources()[0].id == "resp1"
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"].startswith("Bearer ")
    assert json.loads(request.content) == REPLY


@pytest.mark.parametrize(("status", "cls"), [(409, AscConflict), (422, AscUnprocessable)])
async def test_post_conflict_and_unprocessable(
    apple: respx.MockRouter, client: AscClient, status: int, cls: type[AscError]
) -> None:
    route = apple.post("/v1/customerReviewResponses").mock(
        return_value=_error(status, "ENTITY_ERROR.ATTRIBUTE.INVALID")
    )
    with pytest.raises(cls):
        await client.post_document("/v1/customerReviewResponses", REPLY)
    assert route.call_count == 1


async def test_post_retries_only_before_effect(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    route = apple.post("/v1/customerReviewResponses").mock(
        side_effect=[
            _error(429, "RATE_LIMIT_EXCEEDED"),
            httpx.ConnectError("refused"),
            _error(401, "NOT_AUTHORIZED"),
            httpx.Response(201, json=CREATED),
        ]
    )
    await client.post_document("/v1/customerReviewResponses", REPLY)
    assert route.call_count == 4

    route.side_effect = [_error(500)]
    with pytest.raises(AscServerError):
        await client.post_document("/v1/customerReviewResponses", REPLY)
    route.side_effect = [httpx.ReadTimeout("timed out")]
    with pytest.raises(AscTransportError) as info:
        await client.post_document("/v1/customerReviewResponses", REPLY)
    assert not info.value.retryable
    assert route.call_count == 6


async def test_idempotent_post_retries_5xx(apple: respx.MockRouter, client: AscClient) -> None:
    route = apple.post("/v1/customerReviewResponses").mock(
        side_effect=[_error(500), httpx.ReadTimeout("t"), httpx.Response(201, json=CREATED)]
    )
    await client.post_document("/v1/customerReviewResponses", REPLY, idempotent=True)
    assert route.call_count == 3


async def test_delete(apple: respx.MockRouter, client: AscClient) -> None:
    route = apple.delete("/v1/customerReviewResponses/resp1").mock(
        side_effect=[_error(503), httpx.Response(204)]
    )
    await client.delete("/v1/customerReviewResponses/resp1")
    assert route.call_count == 2

    route.side_effect = [_error(404, "NOT_FOUND")] * 2
    await client.delete("/v1/customerReviewResponses/resp1", missing_ok=True)
    with pytest.raises(AscNotFound):
        await client.delete("/v1/customerReviewResponses/resp1")


async def test_http_client_factory_settings() -> None:
    async with create_http_client() as http:
        assert http.timeout == httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)
        assert http.headers["User-Agent"].startswith("orchard/")
        assert not http.follow_redirects
