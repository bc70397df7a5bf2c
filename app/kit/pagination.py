"""Opaque keyset cursors and the one list envelope every collection uses.

A list route takes :data:`Paging` (``limit`` and ``cursor``); its service asks the database for
:attr:`PageRequest.fetch` rows after :meth:`PageRequest.after` (the typed keyset position the
cursor encodes) and splits them with :meth:`PageRequest.split` into the page and the cursor
after its last row.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field, TypeAdapter

from app.errors import ValidationFailed

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
#: Parses one position of a cursor (``app.kit.cursors``); raises ValueError/TypeError.
Kind = Callable[[Any], Any]


class Page(BaseModel, Generic[T]):
    """A page of a collection. Pass `next_cursor` as `cursor` to get the next page."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page."
    )


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def validate_items(model: type[M], sources: Sequence[Any]) -> list[M]:
    """``sources`` (ORM rows, or anything with the model's fields as attributes) as ``model``
    items, validated by pydantic's core in one call for the whole list rather than one
    Python-level ``model_validate`` per item."""
    items: list[M] = _list_adapter(model).validate_python(sources, from_attributes=True)
    return items


def page_of(model: type[M], items: list[M], next_cursor: str | None) -> Page[M]:
    """The envelope around items that are already valid: built without validating them again
    (the response is then serialised by pydantic's core in one step)."""
    return Page[model].model_construct(items=items, next_cursor=next_cursor)  # type: ignore[valid-type]


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor() -> ValidationFailed:
    return ValidationFailed.single("query.cursor", "not a cursor this list produced", "cursor")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """Decode a cursor made by ``encode_cursor``; anything else is the caller's mistake."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity or not all(map(_scalar, values)):
        raise bad_cursor()
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


@dataclass(frozen=True)
class PageRequest:
    """``limit`` and ``cursor`` of a list request."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @property
    def fetch(self) -> int:
        """Rows to ask for: one more than the page tells whether another page follows."""
        return self.limit + 1

    def after(self, *kinds: Kind) -> tuple[Any, ...] | None:
        """The typed keyset position the cursor points after (None on the first page); a
        cursor this list did not produce is a 422 naming ``query.cursor``."""
        if self.cursor is None:
            return None
        values = decode_cursor(self.cursor, len(kinds))
        try:
            return tuple(kind(value) for kind, value in zip(kinds, values, strict=True))
        except (TypeError, ValueError):
            raise bad_cursor() from None

    def split(self, rows: list[R], key: Callable[[R], list[Any]]) -> tuple[list[R], str | None]:
        """Split ``fetch`` rows into the page and the cursor after its last row."""
        if len(rows) > self.limit:
            return rows[: self.limit], encode_cursor(key(rows[self.limit - 1]))
        return rows, None

    def page(self, rows: list[R], key: Callable[[R], list[Any]], read: Callable[[R], T]) -> Page[T]:
        """The page of ``fetch`` rows, each turned into its response item by ``read``."""
        chosen, next_cursor = self.split(rows, key)
        return Page(items=[read(row) for row in chosen], next_cursor=next_cursor)

    def page_of(
        self,
        rows: list[R],
        key: Callable[[R], list[Any]],
        model: type[M],
        source: Callable[[R], Any] | None = None,
    ) -> Page[M]:
        """The page of ``fetch`` rows as ``model`` items, read from each row's attributes (or
        from ``source(row)``) in one validation call for the whole page."""
        chosen, next_cursor = self.split(rows, key)
        sources = chosen if source is None else [source(row) for row in chosen]
        return page_of(model, validate_items(model, sources), next_cursor)


LimitParam = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}."),
]
CursorParam = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` from the previous page."),
]


async def page_request(
    limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


#: The paging of a list route (``limit``, ``cursor``).
Paging = Annotated[PageRequest, Depends(page_request)]
