"""Encoded answers of read routes, kept in the API process for the next identical request.

A dashboard asks the same questions again and again (the 90-day breakdown by country: 5,400
items, 2 MB of JSON). Building and encoding such an answer costs the API process's one core
tens of milliseconds; serving it again costs almost nothing. A route that uses this cache
names its answer by a key that holds everything the answer depends on: the workspace, the
route, its normalised query, and a *version* of the data read — computed from the very rows
the answer is built from, in the database, on every request (see e.g.
``app.sales.version_repository``). Data that changes changes the version (in the transaction
that changes it: a new day's ingest, a replaced day, an account unlinked), so an entry is never
served once the data it was built from changed: it is simply never asked for again, and falls
out of the least-recently-used order. Two workspaces never share an entry: the workspace is
part of every key.

An entry keeps the body, its ETag (as ``app.kit.caching`` would compute it: a hash of the
JSON before content coding) and, once a client asked for gzip, the gzipped body, so a repeated
answer is neither rebuilt, nor hashed, nor compressed again.

Bounded by bytes (``ORCHARD_RESPONSE_CACHE_MB``; 0 turns it off); one per application.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from app.kit.caching import etag_for
from app.kit.compression import accepts_gzip, gzip_body

#: As the gzip layer compresses (``app.main``): answers smaller than this are sent as they are.
GZIP_MIN_BYTES = 1024


@dataclass
class Entry:
    body: bytes
    etag: str
    gzipped: bytes | None = None
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.body)


class ResponseCache:
    """A least-recently-used map of key → ``Entry``, at most ``max_bytes`` of bodies."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: Hashable, body: bytes) -> Entry:
        entry = Entry(body, etag_for(body))
        if not self.enabled or entry.size > self.max_bytes // 4:
            return entry  # served once, not kept: one answer never takes most of the cache
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.bytes -= previous.size
        self._entries[key] = entry
        self.bytes += entry.size
        while self.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= evicted.size
        return entry

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0


def cache_of(request: Request, max_mb: int) -> ResponseCache:
    """The application's cache (made on first use, ``max_mb`` megabytes)."""
    state = request.app.state
    cache: ResponseCache | None = getattr(state, "response_cache", None)
    if cache is None:
        cache = state.response_cache = ResponseCache(max_mb * 2**20)
    return cache


async def respond(request: Request, entry: Entry) -> Response:
    """The entry as a JSON response: gzipped (once, then kept) when the client accepts it,
    with its ETag (``app.kit.caching`` still answers a matching ``If-None-Match`` with 304)."""
    headers = {"ETag": entry.etag}
    if entry.size >= GZIP_MIN_BYTES and accepts_gzip(request.scope):
        if entry.gzipped is None:
            entry.gzipped = await gzip_body(entry.body)
        headers["Content-Encoding"] = "gzip"
        headers["Vary"] = "Accept-Encoding"
        return Response(entry.gzipped, media_type="application/json", headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)
