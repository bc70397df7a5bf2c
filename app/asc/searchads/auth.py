"""Apple Ads credentials and tokens (Apple Ads FACTS §1, §9 "Auth — unchanged").

The client secret is an ES256 JWT (header ``kid`` = key id; claims ``sub`` = client id, ``iss``
= team id, ``aud`` = ``https://appleid.apple.com``, ``iat``, ``exp`` ≤ 180 days later). It is
exchanged at the token URL (``grant_type=client_credentials``, ``scope=searchadsorg``) for a
one-hour Bearer access token. Both are cached per credential for the life of the process and
renewed shortly before they expire (never one per request); a secret "seen rejected" with a
~9 h lifetime (unconfirmed) is why secrets here live one day.

Nothing here logs or reprs a secret, a token or key material.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ec

from app.asc.jwt import load_private_key, public_key_fingerprint

__all__ = [
    "AUDIENCE",
    "AdsCredentials",
    "AdsTokenCache",
    "TokenRejected",
    "TokenUnavailable",
]

AUDIENCE = "https://appleid.apple.com"
SCOPE = "searchadsorg"
SECRET_LIFETIME = 24 * 3600  # ≥ 1 day (FACTS §1), far below the 180-day maximum
SECRET_MARGIN = 3600  # re-mint the secret an hour before it expires
TOKEN_MARGIN = 120  # renew the access token two minutes before it expires

Clock = Callable[[], float]


class TokenRejected(Exception):
    """The token endpoint refused the credentials (``invalid_client`` …): revoked or wrong."""

    def __init__(self, code: str, status: int) -> None:
        super().__init__(f"the Apple Ads token endpoint answered {status} {code}")
        self.code = code
        self.status = status


class TokenUnavailable(Exception):
    """The token endpoint could not be reached or answered 5xx / garbage: try again later."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class AdsCredentials:
    """One Apple Ads API user's uploaded key: ``clientId``, ``teamId``, ``keyId`` and the
    EC P-256 private key (never in a repr)."""

    client_id: str
    team_id: str
    key_id: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False, compare=False)

    @classmethod
    def from_pem(cls, *, client_id: str, team_id: str, key_id: str, pem: str) -> AdsCredentials:
        return cls(client_id.strip(), team_id.strip(), key_id.strip(), load_private_key(pem))

    @property
    def fingerprint(self) -> str:
        return public_key_fingerprint(self.private_key)

    def client_secret(self, now: float, lifetime: int = SECRET_LIFETIME) -> str:
        issued = int(now)
        claims = {
            "sub": self.client_id,
            "aud": AUDIENCE,
            "iss": self.team_id,
            "iat": issued,
            "exp": issued + lifetime,
        }
        return pyjwt.encode(
            claims, self.private_key, algorithm="ES256", headers={"kid": self.key_id}
        )


class AdsTokenCache:
    """The client secret and access token of one credential, cached until shortly before
    they expire. ``token(force=True)`` fetches a new access token (once, after a 401)."""

    def __init__(
        self,
        credentials: AdsCredentials,
        token_url: str,
        *,
        clock: Clock = time.time,
    ) -> None:
        self._credentials = credentials
        self._token_url = token_url
        self._clock = clock
        self._secret: str | None = None
        self._secret_expires = 0.0
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = asyncio.Lock()
        self.secrets_minted = 0
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return f"AdsTokenCache(client_id={self._credentials.client_id!r})"

    def _secret_now(self) -> str:
        now = self._clock()
        if self._secret is None or now >= self._secret_expires - SECRET_MARGIN:
            self._secret = self._credentials.client_secret(now)
            self._secret_expires = now + SECRET_LIFETIME
            self.secrets_minted += 1
        return self._secret

    async def token(self, http: httpx.AsyncClient, *, force: bool = False) -> str:
        async with self._lock:
            now = self._clock()
            if not force and self._token is not None and now < self._token_expires - TOKEN_MARGIN:
                return self._token
            self._token = None
            token, lifetime = await self._fetch(http)
            self._token, self._token_expires = token, self._clock() + lifetime
            self.tokens_fetched += 1
            return token

    async def _fetch(self, http: httpx.AsyncClient) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._credentials.client_id,
            "client_secret": self._secret_now(),
            "scope": SCOPE,
        }
        try:
            response = await http.post(
                self._token_url,
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except httpx.HTTPError as exc:
            raise TokenUnavailable(
                None, f"token endpoint unreachable: {type(exc).__name__}"
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TokenUnavailable(response.status_code, "token endpoint unavailable")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            code = body.get("error") if isinstance(body, dict) else None
            if response.status_code in (400, 401) and code in (
                "invalid_client",
                "unauthorized_client",
                "invalid_grant",
            ):
                self._secret = None  # a new secret next time (e.g. after a key rotation)
                raise TokenRejected(str(code), response.status_code)
            raise TokenUnavailable(response.status_code, f"token endpoint answered {code!r}")
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise TokenUnavailable(response.status_code, "token endpoint answered no token")
        expires_in = body.get("expires_in", 3600)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        return body["access_token"], max(lifetime, TOKEN_MARGIN + 1.0)
