"""Consumer token secrets: generation, hashing and scopes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from enum import StrEnum

TOKEN_PREFIX = "orch_"  # noqa: S105  (a public marker, not a secret)
# 32 random bytes, URL-safe base64 without padding: 43 characters of secret.
TOKEN_BYTES = 32


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


# A scope grants itself and everything below it: admin ⊃ write ⊃ read.
_RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


def grants(held: Iterable[str], needed: Scope) -> bool:
    return any(scope in _RANK and _RANK[Scope(scope)] >= _RANK[needed] for scope in held)


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is safe: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[: len(TOKEN_PREFIX) + 6]


def looks_like_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX) and 20 < len(secret) < 200
