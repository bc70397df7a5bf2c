"""U+0000 in input: refused at the edge, because PostgreSQL text cannot hold it.

A NUL that reached a query made the driver fail ("invalid byte sequence for encoding UTF8:
0x00") and the request answer 500. No Orchard input is meaningful with a NUL in it, so the
request layer refuses it with a 422 before any handler or database sees it: in the query
string or path (``%00``) and in JSON bodies (the ``\\u0000`` escape; a raw NUL byte is not
valid JSON and already fails parsing).
"""

from __future__ import annotations

import re

from starlette.types import Scope

from app.errors import ValidationFailed

# An unescaped backslash (preceded by an even run of backslashes) followed by u0000; `\\u0000`
# is the literal text "\u0000", which is fine.
_JSON_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def in_url(scope: Scope) -> bool:
    query = scope.get("query_string", b"")
    return bool(query and (b"%00" in query or b"\x00" in query)) or "\x00" in scope["path"]


def is_json_media_type(content_type: bytes) -> bool:
    """Whether a ``Content-Type`` value names JSON (``application/json``, ``…+json``)."""
    media_type = bytes(content_type).split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or media_type.endswith(b"+json")


def in_json(body: bytes) -> bool:
    return b"u0000" in body and _JSON_NUL_ESCAPE.search(body) is not None


def refused(where: str) -> ValidationFailed:
    return ValidationFailed.single(
        where, "must not contain the NUL character (U+0000)", "nul_character"
    )
