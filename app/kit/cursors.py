"""Typed keyset cursors: encoded by ``app.kit.pagination``, each position parsed by a kind."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from app.errors import ValidationFailed
from app.kit.pagination import decode_cursor


def moment(value: Any) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("cursor timestamps carry their offset")
    return parsed


def integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def decode(cursor: str | None, *kinds: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The typed keyset values of ``cursor`` (None without one); 422 for a foreign cursor."""
    if cursor is None:
        return None
    values = decode_cursor(cursor, len(kinds))
    try:
        return tuple(kind(value) for kind, value in zip(kinds, values, strict=True))
    except (TypeError, ValueError):
        raise ValidationFailed.single(
            "query.cursor", "not a cursor this list produced", "cursor"
        ) from None


TEXT: Callable[[Any], Any] = str


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))  # uuid.UUID(5) raises AttributeError, not ValueError


UUID: Callable[[Any], Any] = _uuid
