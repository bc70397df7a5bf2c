"""Documents with parts already written as JSON.

A dashboard's 90 days by storefront is 5,400 items (about 2 MB of JSON); building a dict per
item, a dict and a list per money entry, and serialising them all cost the API process most
of an unconverted answer's time. PostgreSQL writes those items' JSON instead
(``repository.aggregate_written``), and the document around them is serialised as usual:
``encode`` puts the written part in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pydantic_core


class Encoded(bytes):
    """A JSON value already encoded, in a document that ``encode`` writes."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ArrayItems:
    """A JSON array's items already encoded, in parts each joined by commas, without its
    brackets (as PostgreSQL joins them, a part per bucket: bracketing 5 MB there cost a copy of
    it), in a document that ``encode`` writes. Held, not joined: each copy of a converted
    page's 5 MB costs milliseconds."""

    parts: list[bytes]


def encode(document: dict[str, Any]) -> bytes:
    """``pydantic_core.to_json(document)``, where a top-level value may be ``Encoded`` or
    ``ArrayItems`` (written as it is, or between brackets). Each such key's placeholder ``[]``
    is found by its ``"key":[]`` text, which the values before it never hold (in a sales
    report: the currency code, the granularity and the dimensions). The body is joined once:
    a converted page's items are 5 MB, and each copy of them costs milliseconds."""
    written = {k: v for k, v in document.items() if isinstance(v, Encoded | ArrayItems)}
    if not written:
        return pydantic_core.to_json(document)
    body = pydantic_core.to_json({**document, **dict.fromkeys(written, ())})
    places = sorted(((_placeholder(body, key), value) for key, value in written.items()),
                    key=lambda place: place[0])  # fmt: skip
    parts: list[bytes] = []
    done = 0
    for at, value in places:
        if isinstance(value, ArrayItems):
            parts.append(body[done : at + 1])
            for n, part in enumerate(value.parts):
                parts += [b",", part] if n else [part]
            done = at + 1
        else:
            parts += [body[done:at], value]
            done = at + 2
    parts.append(body[done:])
    return b"".join(parts)


def _placeholder(body: bytes, key: str) -> int:
    """Where ``key``'s placeholder ``[]`` starts in ``body``."""
    marker = b'"' + key.encode() + b'":[]'
    return body.index(marker) + len(marker) - 2
