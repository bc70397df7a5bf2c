"""Parsing Apple's X-Rate-Limit header."""

from __future__ import annotations

import pytest

from app.asc.ratelimit import RateLimitInfo, parse_rate_limit


@pytest.mark.parametrize(
    "value",
    [
        "user-hour-lim:3600;user-hour-rem:3599;",
        "user-hour-lim:3600;user-hour-rem:3599",
        " user-hour-rem : 3599 ; user-hour-lim: 3600 ; ",
        "USER-HOUR-LIM:3600;USER-HOUR-REM:3599;",
        "user-minute-lim:100;user-hour-lim:3600;;user-hour-rem:3599;junk",
    ],
)
def test_parses_variants(value: str) -> None:
    assert parse_rate_limit(value) == RateLimitInfo(limit=3600, remaining=3599)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "user-hour-lim:3600;",
        "user-hour-rem:10;",
        "user-hour-lim:abc;user-hour-rem:1;",
        "user-hour-lim:-1;user-hour-rem:1;",
        "user-hour-lim:3600;user-hour-rem:1.5;",
    ],
)
def test_garbage_is_none(value: str | None) -> None:
    assert parse_rate_limit(value) is None


def test_used() -> None:
    assert RateLimitInfo(limit=3600, remaining=3500).used == 100
