"""ES256 token minting and .p8 key loading."""

from __future__ import annotations

import hashlib
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.asc.jwt import (
    AscCredentials,
    InvalidPrivateKey,
    TokenMinter,
    load_private_key,
    public_key_fingerprint,
)
from tests.asc.conftest import ISSUER_ID, KEY_ID, FakeClock, pem_of


def _body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def _decode(
    token: str, key: ec.EllipticCurvePrivateKey, *, clock: FakeClock | None = None
) -> dict[str, object]:
    """Verify signature and audience; time claims are checked against the fake clock."""
    leeway = 0.0 if clock is None else abs(clock.now - time.time())
    return jwt.decode(
        token,
        key.public_key(),
        algorithms=["ES256"],
        audience="appstoreconnect-v1",
        leeway=leeway,
    )


def test_team_token_header_and_claims(credentials: AscCredentials, clock: FakeClock) -> None:
    token = TokenMinter(credentials, clock=clock).token()

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}
    claims = _decode(token, credentials.private_key)
    assert claims["iss"] == ISSUER_ID
    assert "sub" not in claims
    assert claims["aud"] == "appstoreconnect-v1"
    assert claims["iat"] == int(clock.now)
    exp, iat = claims["exp"], claims["iat"]
    assert isinstance(exp, int) and isinstance(iat, int)
    assert 0 < exp - iat <= 20 * 60


def test_individual_token_uses_sub_user_and_no_iss(
    private_key: ec.EllipticCurvePrivateKey, clock: FakeClock
) -> None:
    creds = AscCredentials(
        key_id=KEY_ID, issuer_id=None, private_key=private_key, key_type="individual"
    )
    claims = _decode(TokenMinter(creds, clock=clock).token(), private_key)
    assert claims["sub"] == "user"
    assert "iss" not in claims


def test_token_is_cached_then_reminted_near_expiry(
    credentials: AscCredentials, clock: FakeClock
) -> None:
    minter = TokenMinter(credentials, clock=clock)
    first = minter.token()
    clock.advance(12 * 60)  # 3 minutes of life left: still reused
    assert minter.token() == first
    clock.advance(90)  # 90 s left: below the 2-minute margin
    second = minter.token()
    assert second != first
    assert minter.mint_count == 2
    assert _decode(second, credentials.private_key, clock=clock)["iat"] == int(clock.now)


def test_force_mints_a_new_token(credentials: AscCredentials, clock: FakeClock) -> None:
    minter = TokenMinter(credentials, clock=clock)
    first = minter.token()
    clock.advance(1)
    assert minter.token(force=True) != first
    assert minter.mint_count == 2


def test_lifetime_over_twenty_minutes_is_refused(credentials: AscCredentials) -> None:
    with pytest.raises(ValueError, match="20 minutes"):
        TokenMinter(credentials, lifetime=21 * 60)


def test_team_key_requires_issuer(private_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(ValueError, match="issuer_id"):
        AscCredentials(key_id=KEY_ID, issuer_id=None, private_key=private_key)


@pytest.mark.parametrize("key_id", ["", "SHORT", "2X9R4HXF34X", "2X9R4HXF3-"])
def test_key_id_must_be_ten_characters(
    private_key: ec.EllipticCurvePrivateKey, key_id: str
) -> None:
    with pytest.raises(ValueError, match="key_id"):
        AscCredentials(key_id=key_id, issuer_id=ISSUER_ID, private_key=private_key)


def test_credentials_repr_hides_key(credentials: AscCredentials, private_pem: str) -> None:
    text = repr(credentials)
    assert KEY_ID in text
    assert "private_key" not in text
    assert _body(private_pem)[:20] not in text


@pytest.mark.parametrize(
    "variant",
    ["pem", "crlf", "literal_newlines", "body_only", "body_one_line", "spaces_for_newlines"],
)
def test_load_private_key_accepts_pasted_forms(
    private_key: ec.EllipticCurvePrivateKey, private_pem: str, variant: str
) -> None:
    text = {
        "pem": private_pem,
        "crlf": private_pem.replace("\n", "\r\n"),
        "literal_newlines": private_pem.replace("\n", "\\n"),
        "body_only": "\n".join(
            line for line in private_pem.splitlines() if not line.startswith("-----")
        ),
        "body_one_line": _body(private_pem),
        "spaces_for_newlines": private_pem.replace("\n", " "),
    }[variant]
    loaded = load_private_key(text)
    assert public_key_fingerprint(loaded) == public_key_fingerprint(private_key)


def test_load_private_key_accepts_sec1_pem(private_key: ec.EllipticCurvePrivateKey) -> None:
    sec1 = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert public_key_fingerprint(load_private_key(sec1)) == public_key_fingerprint(private_key)


def _assert_no_key_material(message: str, pem: str) -> None:
    body = _body(pem)
    for start in range(0, len(body) - 12, 6):
        assert body[start : start + 12] not in message


def test_rsa_key_is_rejected_without_echoing_it() -> None:
    pem = pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(InvalidPrivateKey, match="EC P-256") as info:
        load_private_key(pem)
    _assert_no_key_material(str(info.value), pem)
    assert info.value.__cause__ is None


def test_p384_key_is_rejected_without_echoing_it() -> None:
    pem = pem_of(ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(InvalidPrivateKey, match="secp384r1") as info:
        load_private_key(pem)
    _assert_no_key_material(str(info.value), pem)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "not a key at all",
        "-----BEGIN PRIVATE KEY-----\nTUlHSEFnRUFNQk1HQnlxR1NNNDlBZ0VHQ0NxR1NNNDlBd0VIQkcwd2F3SUJBUVFn\n"
        "-----END PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg",
        "MIGHAgEAMBMGByqG$$$$SM49AgEGCCqGSM49AwEHBG0wawIBAQQg",
    ],
)
def test_garbage_is_rejected_without_echoing_it(garbage: str) -> None:
    with pytest.raises(InvalidPrivateKey) as info:
        load_private_key(garbage)
    message = str(info.value)
    assert "MIGHAgEA" not in message
    assert "TUlHSEFn" not in message
    assert info.value.__cause__ is None


def test_invalid_private_key_is_a_value_error() -> None:
    assert issubclass(InvalidPrivateKey, ValueError)


def test_encrypted_key_is_rejected(private_key: ec.EllipticCurvePrivateKey) -> None:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(InvalidPrivateKey, match="encrypted"):
        load_private_key(pem)


def test_fingerprint_is_sha256_of_spki(private_key: ec.EllipticCurvePrivateKey) -> None:
    der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert public_key_fingerprint(private_key) == hashlib.sha256(der).hexdigest()
    other = ec.generate_private_key(ec.SECP256R1())
    assert public_key_fingerprint(other) != public_key_fingerprint(private_key)


def test_from_pem_builds_credentials(private_pem: str) -> None:
    creds = AscCredentials.from_pem(
        key_id=f" {KEY_ID} ", issuer_id=ISSUER_ID, private_key_pem=private_pem
    )
    assert creds.key_id == KEY_ID
    assert creds.fingerprint == public_key_fingerprint(creds.private_key)
