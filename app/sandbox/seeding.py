"""Deterministic randomness: every generated value is a pure function of a seed and some keys.

Nothing in the sandbox uses global randomness. A value that must be stable (an app id, the
rows of a daily report, a review text) is drawn from a ``random.Random`` seeded with a hash
of the team seed and the keys that identify the value, so it can be recomputed on demand
instead of stored.
"""

from __future__ import annotations

import hashlib
import random
import uuid


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that is identical across processes and Python versions."""
    text = "\x1f".join(str(part) for part in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def rng(*parts: object) -> random.Random:
    """A private random generator for the value identified by ``parts``."""
    return random.Random(stable_hash(*parts))


def stable_uuid(*parts: object) -> str:
    """A version-4-shaped UUID string derived from ``parts``."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def numeric_id(digits: int, first_digit: int, *parts: object) -> str:
    """A ``digits``-long decimal id starting with ``first_digit`` (Apple ids look like this)."""
    span = 10 ** (digits - 1)
    return str(first_digit * span + stable_hash(*parts) % span)


def poisson(generator: random.Random, mean: float) -> int:
    """A cheap Poisson-ish draw (exact for small means, normal approximation above 30)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(generator.gauss(mean, mean**0.5)))
    limit = pow(2.718281828459045, -mean)
    count, product = 0, generator.random()
    while product > limit:
        count += 1
        product *= generator.random()
    return count
