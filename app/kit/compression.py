"""gzip for responses worth compressing, when the client accepts it.

Starlette's ``GZipMiddleware`` does the same, but parses the request's headers and normalises its
list of excluded media types on every request (about 40 µs each, most of what ``/health``
cost on top of a bare endpoint); this layer reads the one header it needs from the raw list and
decides from the response's own headers when they settle it (a declared ``Content-Length``
under the minimum, an excluded media type), else from the first body message, so a small
answer passes through untouched and unheld.
"""

from __future__ import annotations

import zlib

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Media types that are compressed already (images, archives) or must stream unbuffered.
_EXCLUDED = frozenset(DEFAULT_EXCLUDED_CONTENT_TYPES)
#: Bodies this large are compressed in a worker thread so the event loop keeps serving.
THREAD_MINIMUM_BYTES = 128 * 1024


def accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


def _keep_as_is(start: Message, minimum_size: int) -> bool:
    """Already encoded, a partial answer, a media type not worth compressing, or a body
    declared smaller than ``minimum_size`` (decided at the start: nothing is held)."""
    if start["status"] == 206:
        return True
    for name, value in start.get("headers", ()):
        name = name.lower()
        if name == b"content-length":
            if value.isdigit() and int(value) < minimum_size:
                return True
        elif name == b"content-encoding":
            return True
        elif name == b"content-type":
            media_type = value.decode("latin-1").partition(";")[0].strip().lower()
            if media_type in _EXCLUDED or media_type.partition("/")[0] + "/*" in _EXCLUDED:
                return True
            if media_type.startswith("application/grpc"):
                return True
    return False


class GzipMiddleware:
    def __init__(self, app: ASGIApp, *, minimum_size: int, compresslevel: int) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        passing = False
        compressor: zlib._Compress | None = None

        async def send_compressed(message: Message) -> None:
            nonlocal held, passing, compressor
            kind = message["type"]
            if kind == "http.response.start":
                if _keep_as_is(message, self.minimum_size):
                    passing = True
                    await send(message)
                else:
                    held = message
                return
            if passing or kind != "http.response.body":
                if held is not None:  # e.g. a pathsend: its start goes out unchanged
                    await send(held)
                    held = None
                await send(message)
                return
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if held is not None:
                start, held = held, None
                if not more_body and len(body) < self.minimum_size:
                    passing = True
                    await send(start)
                    await send(message)
                    return
                compressor = zlib.compressobj(
                    self.compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS
                )
                body = await self._compress(compressor, body, more_body)
                headers = MutableHeaders(scope=start)
                headers.add_vary_header("Accept-Encoding")
                headers["Content-Encoding"] = "gzip"
                if more_body:
                    del headers["Content-Length"]
                else:
                    headers["Content-Length"] = str(len(body))
                await send(start)
                await send({**message, "body": body})
                return
            assert compressor is not None
            await send({**message, "body": await self._compress(compressor, body, more_body)})

        await self.app(scope, receive, send_compressed)

    @staticmethod
    async def _compress(compressor: zlib._Compress, body: bytes, more_body: bool) -> bytes:
        def run() -> bytes:
            compressed = compressor.compress(body)
            return compressed + compressor.flush(zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH)

        if len(body) >= THREAD_MINIMUM_BYTES:
            return await anyio.to_thread.run_sync(run)
        return run()
