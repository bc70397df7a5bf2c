"""The kinds of a keyset cursor's positions, for :meth:`app.kit.pagination.PageRequest.after`:
each parses one value and raises ValueError/TypeError on anything a list could not have made."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


def moment(value: Any) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("cursor timestamps carry their offset")
    return parsed


def day(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise TypeError("not an ISO date")
    return dt.date.fromisoformat(value)


def integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("not an integer")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a flag")
    return value


def TEXT(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def UUID(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))  # uuid.UUID(5) raises AttributeError, not ValueError
