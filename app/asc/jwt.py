"""App Store Connect API keys and the short-lived ES256 tokens minted from them.

Apple accepts only ES256 JWTs that expire at most 20 minutes after issue; clients whose clock
ran ahead got 401s at 20 minutes, so tokens here live 15 minutes and are re-minted when less
than 2 minutes remain (or on demand after a 401). Minting per request would be wasteful and
Apple has been seen to reject bursts of fresh tokens, so one token is cached per key.

Key material is handled as a loaded ``cryptography`` object, never as text that could slip
into a log line: reprs hide it and parse errors never echo the input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import jwt as pyjwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "AUDIENCE",
    "AscCredentials",
    "InvalidPrivateKey",
    "KeyType",
    "TokenMinter",
    "load_private_key",
    "public_key_fingerprint",
]

logger = logging.getLogger("orchard.asc")

AUDIENCE = "appstoreconnect-v1"
DEFAULT_LIFETIME = 15 * 60
MAX_LIFETIME = 20 * 60
DEFAULT_REFRESH_MARGIN = 2 * 60
_MAX_PEM_CHARS = 16_384

KeyType = Literal["team", "individual"]
Clock = Callable[[], float]

_PEM_BLOCK_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL | re.IGNORECASE
)
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9]{10}$")


class InvalidPrivateKey(ValueError):
    """The supplied ``.p8`` content is not a usable EC P-256 private key.

    The message explains what is wrong in general terms and never contains the input.
    """


def load_private_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """Load an App Store Connect ``.p8`` key as pasted by a person.

    Accepts PKCS#8 PEM (Apple's format), SEC1 ``EC PRIVATE KEY`` PEM, the bare base64 body
    without armour lines, and JSON/env-style text where newlines arrived as literal ``\\n``.
    Raises ``InvalidPrivateKey`` for anything else, including RSA and non-P-256 EC keys.
    """
    if not isinstance(pem, str):
        raise InvalidPrivateKey("private key must be text (the contents of the .p8 file)")
    if len(pem) > _MAX_PEM_CHARS:
        raise InvalidPrivateKey("private key is far too long to be an App Store Connect .p8 key")
    text = pem.replace("\\r", "").replace("\\n", "\n").strip().strip('"').strip("'")
    if not text:
        raise InvalidPrivateKey("private key is empty")

    match = _PEM_BLOCK_RE.search(text)
    if match:
        if "ENCRYPTED" in match.group(1).upper():
            raise InvalidPrivateKey("private key is encrypted; paste the unencrypted .p8 key")
        body = match.group(2)
    elif "-----" in text:
        raise InvalidPrivateKey("private key PEM armour lines are incomplete or mismatched")
    else:
        body = text
    compact = "".join(body.split())
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPrivateKey("private key is not valid PEM/base64") from None
    if not der:
        raise InvalidPrivateKey("private key is empty")
    try:
        key = serialization.load_der_private_key(der, password=None)
    except TypeError:
        raise InvalidPrivateKey(
            "private key is password-protected; paste the unencrypted .p8 key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidPrivateKey("private key could not be parsed as a PKCS#8 key") from None

    if not isinstance(key, ec.EllipticCurvePrivateKey):
        kind = type(key).__name__.removeprefix("_").replace("PrivateKey", "") or "unknown"
        raise InvalidPrivateKey(
            f"expected an EC P-256 key (App Store Connect .p8), got a {kind} key"
        )
    if not isinstance(key.curve, ec.SECP256R1):
        raise InvalidPrivateKey(f"expected an EC P-256 (secp256r1) key, got curve {key.curve.name}")
    return key


def public_key_fingerprint(private_key: ec.EllipticCurvePrivateKey) -> str:
    """SHA-256 hex of the DER SubjectPublicKeyInfo: identifies a key without revealing it."""
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True, slots=True)
class AscCredentials:
    """One App Store Connect API key.

    Team keys sign with ``iss`` = issuer ID; individual keys have no issuer and sign with
    ``sub="user"`` instead (and cannot read sales/finance reports). ``issuer_id`` is ignored
    for individual keys.
    """

    key_id: str
    issuer_id: str | None
    private_key: ec.EllipticCurvePrivateKey = field(repr=False, compare=False)
    key_type: KeyType = "team"

    def __post_init__(self) -> None:
        if not _KEY_ID_RE.match(self.key_id):
            raise ValueError("key_id must be the 10-character key ID shown in App Store Connect")
        if self.key_type not in ("team", "individual"):
            raise ValueError("key_type must be 'team' or 'individual'")
        if self.key_type == "team" and not (self.issuer_id and self.issuer_id.strip()):
            raise ValueError("issuer_id is required for team keys")
        if not isinstance(self.private_key, ec.EllipticCurvePrivateKey) or not isinstance(
            self.private_key.curve, ec.SECP256R1
        ):
            raise InvalidPrivateKey("private_key must be a loaded EC P-256 private key")

    @classmethod
    def from_pem(
        cls,
        *,
        key_id: str,
        issuer_id: str | None,
        private_key_pem: str,
        key_type: KeyType = "team",
    ) -> AscCredentials:
        """Build credentials from the ``.p8`` text (see ``load_private_key``)."""
        return cls(
            key_id=key_id.strip(),
            issuer_id=issuer_id.strip() if issuer_id else None,
            private_key=load_private_key(private_key_pem),
            key_type=key_type,
        )

    @property
    def fingerprint(self) -> str:
        return public_key_fingerprint(self.private_key)


class TokenMinter:
    """Mints and caches the bearer JWT for one credential.

    ``token()`` returns the cached token while it has more than ``refresh_margin`` seconds
    of life left; ``token(force=True)`` mints a fresh one (used once after a 401, in case the
    cached token was rejected for clock or transient reasons). The clock is injectable so
    tests can move time without sleeping.
    """

    def __init__(
        self,
        credentials: AscCredentials,
        *,
        clock: Clock = time.time,
        lifetime: int = DEFAULT_LIFETIME,
        refresh_margin: int = DEFAULT_REFRESH_MARGIN,
    ) -> None:
        if not 0 < lifetime <= MAX_LIFETIME:
            raise ValueError("token lifetime must be between 1 second and 20 minutes")
        if not 0 <= refresh_margin < lifetime:
            raise ValueError("refresh_margin must be shorter than the lifetime")
        self._credentials = credentials
        self._clock = clock
        self._lifetime = lifetime
        self._refresh_margin = refresh_margin
        self._token: str | None = None
        self._expires_at = 0
        self.mint_count = 0

    def __repr__(self) -> str:
        return f"TokenMinter(kid={self._credentials.key_id!r}, expires_at={self._expires_at})"

    @property
    def key_id(self) -> str:
        return self._credentials.key_id

    @property
    def expires_at(self) -> int:
        """Epoch seconds when the cached token expires (0 before the first mint)."""
        return self._expires_at

    def invalidate(self) -> None:
        """Drop the cached token so the next ``token()`` mints a new one."""
        self._token = None
        self._expires_at = 0

    def token(self, *, force: bool = False) -> str:
        now = self._clock()
        if not force and self._token is not None and self._expires_at - now > self._refresh_margin:
            return self._token
        return self._mint(int(now))

    def _mint(self, issued_at: int) -> str:
        creds = self._credentials
        payload: dict[str, object] = {
            "iat": issued_at,
            "exp": issued_at + self._lifetime,
            "aud": AUDIENCE,
        }
        if creds.key_type == "team":
            payload["iss"] = creds.issuer_id
        else:
            payload["sub"] = "user"
        token = pyjwt.encode(
            payload,
            creds.private_key,
            algorithm="ES256",
            headers={"kid": creds.key_id, "typ": "JWT"},
        )
        self._token = token
        self._expires_at = issued_at + self._lifetime
        self.mint_count += 1
        logger.debug("minted App Store Connect token kid=%s exp=%s", creds.key_id, self._expires_at)
        return token
