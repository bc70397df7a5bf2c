"""Shared fixtures for the App Store Connect client tests.

Apple is simulated at the HTTP boundary with respx; keys are generated per test run; time and
sleeping are fakes so retries and token expiry are tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from app.asc.client import AscClient
from app.asc.http_client import create_http_client
from app.asc.jwt import AscCredentials
from app.asc.retry import RetryPolicy

BASE_URL = "https://api.appstoreconnect.apple.com"
KEY_ID = "2X9R4HXF34"
ISSUER_ID = "57246542-96fe-1a63-e053-0824d011072a"


class FakeClock:
    """Epoch-seconds clock that only moves when told to."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """Stands in for ``asyncio.sleep``: records the requested delays, returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def pem_of(key: PrivateKeyTypes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def private_pem(private_key: ec.EllipticCurvePrivateKey) -> str:
    return pem_of(private_key)


@pytest.fixture
def credentials(private_key: ec.EllipticCurvePrivateKey) -> AscCredentials:
    return AscCredentials(key_id=KEY_ID, issuer_id=ISSUER_ID, private_key=private_key)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeper() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def apple() -> Iterator[respx.MockRouter]:
    """respx router standing in for api.appstoreconnect.apple.com."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with create_http_client() as client:
        yield client


@pytest.fixture
def make_client(
    http: httpx.AsyncClient,
    credentials: AscCredentials,
    clock: FakeClock,
    sleeper: RecordingSleep,
) -> Callable[..., AscClient]:
    """Build an ``AscClient`` with deterministic backoff (jitter factor 1.0)."""

    def factory(**overrides: Any) -> AscClient:
        retry = overrides.pop("retry", None) or RetryPolicy(sleep=sleeper, rand=lambda: 1.0)
        kwargs: dict[str, Any] = {
            "http": http,
            "credentials": credentials,
            "base_url": BASE_URL,
            "retry": retry,
            "clock": clock,
        }
        kwargs.update(overrides)
        return AscClient(**kwargs)

    return factory


@pytest.fixture
def client(make_client: Callable[..., AscClient]) -> AscClient:
    return make_client()


def apple_error(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """Apple's JSON:API error body."""
    item: dict[str, Any] = {
        "id": "8e3eec32-0000-4000-8000-000000000000",
        "status": str(status),
        "code": code,
        "title": extra.pop("title", "An error occurred"),
        "detail": detail,
    }
    item.update(extra)
    return {"errors": [item]}


def rate_limit_headers(remaining: int, limit: int = 3600) -> dict[str, str]:
    return {"X-Rate-Limit": f"user-hour-lim:{limit};user-hour-rem:{remaining};"}
