"""Bearer-token verification the way App Store Connect does it (FACTS §1).

A token is accepted when all hold, otherwise the answer is 401 ``NOT_AUTHORIZED``:

- ``Authorization: Bearer <jwt>``; header ``alg`` is ``ES256`` and ``kid`` names a known key;
- the ES256 signature verifies with that key's public key;
- ``aud`` is ``appstoreconnect-v1``;
- ``exp`` is present, not in the past and at most 20 minutes ahead (5 s skew allowed),
  measured on the sandbox's token clock (pyjwt's own time checks are disabled because they
  use real time);
- team keys carry ``iss`` = the key's issuer id; individual keys carry ``sub = "user"`` and
  no ``iss``;
- the key is not revoked.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from app.sandbox.errors import ApiError, not_authorized
from app.sandbox.state import AUDIENCE, SandboxKey, SandboxState

MAX_LIFETIME_SECONDS = 20 * 60
SKEW_SECONDS = 5


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    claimed_key_id: str | None
    key: SandboxKey | None = None
    error: ApiError | None = None


def _fail(kid: str | None) -> AuthOutcome:
    return AuthOutcome(claimed_key_id=kid, error=not_authorized())


def authenticate(authorization: str | None, state: SandboxState) -> AuthOutcome:
    if not authorization or not authorization.startswith("Bearer "):
        return _fail(None)
    token = authorization[len("Bearer ") :].strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return _fail(None)
    kid = header.get("kid")
    if not isinstance(kid, str):
        return _fail(None)
    key = state.keys.get(kid)
    if header.get("alg") != "ES256" or key is None:
        return _fail(kid)
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=["ES256"],
            audience=AUDIENCE,
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["exp", "aud"],
            },
        )
    except jwt.PyJWTError:
        return _fail(kid)
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return _fail(kid)
    now = state.token_now().timestamp()
    if exp <= now - SKEW_SECONDS or exp > now + MAX_LIFETIME_SECONDS + SKEW_SECONDS:
        return _fail(kid)
    if key.is_team_key:
        if claims.get("iss") != key.issuer_id:
            return _fail(kid)
    elif claims.get("sub") != "user" or "iss" in claims:
        return _fail(kid)
    if key.revoked:
        return _fail(kid)
    return AuthOutcome(claimed_key_id=kid, key=key)
