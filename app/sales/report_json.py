"""Documents with parts already written as JSON.

A dashboard's 90 days by storefront is 5,400 items (about 2 MB of JSON); building a dict per
item, a dict and a list per money entry, and serialising them all cost the API process most
of an unconverted answer's time. PostgreSQL writes those items' JSON instead
(``repository.aggregate_written``), and the document around them is serialised as usual:
``encode`` puts the written part in its place.
"""

from __future__ import annotations

from typing import Any

import pydantic_core


class Encoded(bytes):
    """A JSON value already encoded, in a document that ``encode`` writes."""

    __slots__ = ()


def encode(document: dict[str, Any]) -> bytes:
    """``pydantic_core.to_json(document)``, where a top-level value may be ``Encoded``
    (written as it is). Each such key's placeholder ``[]`` is found by its ``"key":[]`` text,
    which the values before it never hold (in a sales report: the currency code, the
    granularity and the dimensions)."""
    encoded = {key: value for key, value in document.items() if isinstance(value, Encoded)}
    if not encoded:
        return pydantic_core.to_json(document)
    body = pydantic_core.to_json({**document, **dict.fromkeys(encoded, ())})
    for key, value in encoded.items():
        marker = b'"' + key.encode() + b'":[]'
        at = body.index(marker) + len(marker) - 2
        body = body[:at] + value + body[at + 2 :]
    return body
