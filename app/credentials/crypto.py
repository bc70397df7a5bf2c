"""Encryption at rest for App Store Connect private keys.

MultiFernet (AES-128-CBC + HMAC-SHA256, authenticated) under ``ORCHARD_SECRET_KEYS``: the first
key encrypts, every key decrypts, so keys rotate by prepending a new one and running
``orchard keys rotate``. With no keys configured (development), a key is generated once into
``<data_dir>/secret.key`` with mode 0600; production refuses to start without configured keys.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.config import Environment, Settings

log = logging.getLogger("orchard.accounts")

KEY_FILE_NAME = "secret.key"


class SecretKeysError(Exception):
    """The encryption keys are missing or malformed; the message says which and what to do."""


class CredentialCipher:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeysError("no encryption keys")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken:
            raise SecretKeysError(
                "a stored credential cannot be decrypted with ORCHARD_SECRET_KEYS: "
                "the key that encrypted it is missing from the list"
            ) from None

    def rotate(self, ciphertext: bytes) -> bytes:
        """Re-encrypt under the first key (a no-op in effect if it already is)."""
        try:
            return self._fernet.rotate(ciphertext)
        except InvalidToken:
            raise SecretKeysError("a stored credential cannot be decrypted for rotation") from None


def _parse_keys(raw: str) -> list[bytes]:
    keys = [part.strip().encode() for part in raw.split(",") if part.strip()]
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeysError(
                f"ORCHARD_SECRET_KEYS: key #{index + 1} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with `orchard keys generate`)"
            ) from None
    return keys


def load_cipher(settings: Settings) -> CredentialCipher:
    if settings.secret_keys is not None and settings.secret_keys.get_secret_value().strip():
        return CredentialCipher(_parse_keys(settings.secret_keys.get_secret_value()))
    if settings.env is Environment.PRODUCTION:
        raise SecretKeysError(
            "ORCHARD_SECRET_KEYS must be set when ORCHARD_ENV=production "
            "(generate one with `orchard keys generate`)"
        )
    return CredentialCipher([_development_key(settings.data_dir / KEY_FILE_NAME)])


def _development_key(path: Path) -> bytes:
    if path.exists():
        return _parse_keys(path.read_text())[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # Written whole under a name of its own, then linked into place, which fails if a key is
    # there already: processes starting at once (replicas sharing a data directory) never
    # both write (and disagree on) the key, and none reads a file another is still writing.
    fd, written = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp's file is 0600
            handle.write(key.decode())
        os.link(written, path)
    except FileExistsError:
        return _parse_keys(path.read_text())[0]
    finally:
        os.unlink(written)
    log.warning(
        "ORCHARD_SECRET_KEYS is not set: generated a credential encryption key in %s; "
        "set ORCHARD_SECRET_KEYS in production",
        path,
    )
    return key
