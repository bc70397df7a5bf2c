"""Opaque cursors and the one list envelope every collection uses."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from app.errors import ValidationFailed

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    """A page of a collection. Pass `next_cursor` as `cursor` to get the next page."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page."
    )


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """Decode a cursor made by ``encode_cursor``; anything else is the caller's mistake."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity or not all(map(_scalar, values)):
        raise ValidationFailed.single("query.cursor", "not a cursor this list produced", "cursor")
    return values


def _scalar(value: Any) -> bool:
    """What a sort key holds: text, a flag, null or a 64-bit integer. A forged cursor with
    anything else (objects, floats, integers PostgreSQL cannot bind, text with a NUL) never
    reaches a query."""
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    if isinstance(value, str):
        return "\x00" not in value
    return value is None or isinstance(value, bool)


LimitParam = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}."),
]
CursorParam = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` from the previous page."),
]


def page_of(rows: list[R], limit: int, key: Callable[[R], list[Any]]) -> tuple[list[R], str | None]:
    """Split ``limit + 1`` fetched rows into the page and the cursor after its last row."""
    if len(rows) > limit:
        return rows[:limit], encode_cursor(key(rows[limit - 1]))
    return rows, None
