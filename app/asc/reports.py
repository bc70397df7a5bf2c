"""Decoding Apple's report bodies: gzip sniffed from the bytes, decompressed incrementally.

Sales and finance reports arrive as gzip-compressed, tab-separated text. Files can be large,
so decoding is incremental: nothing holds more than one network chunk at a time, and each
decompression step's output is bounded.
"""

from __future__ import annotations

import zlib

from app.asc.errors import AscReportCorrupt

__all__ = ["GZIP_MAGIC", "BodyDecoder", "GzipDecoder"]

GZIP_MAGIC = b"\x1f\x8b"
_OUTPUT_LIMIT = 1 << 20  # bound decompressed output per step (a gzip bomb cannot balloon memory)


class GzipDecoder:
    """Incremental gunzip that handles multi-member files and detects truncation.

    ``zlib.decompressobj(wbits=31)`` decodes one gzip member and checks its CRC; after a
    member ends, the rest of the input starts the next member (zero padding is tolerated,
    like the ``gzip`` module). ``finish()`` raises ``AscReportCorrupt`` if the body ended
    inside a member, which is how a dropped connection or a cut file shows up.
    """

    def __init__(self) -> None:
        self._d: zlib._Decompress | None = zlib.decompressobj(wbits=31)
        self._tail = b""
        self.members = 0

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        try:
            self._feed(data, out)
        except zlib.error as exc:
            raise AscReportCorrupt(f"report body is not valid gzip ({exc})") from None
        return out

    def _feed(self, data: bytes, out: list[bytes]) -> None:
        while True:
            if self._d is None:
                data = (self._tail + data).lstrip(b"\x00")
                if len(data) < 2:
                    self._tail = data
                    return
                if data[:2] != GZIP_MAGIC:
                    raise AscReportCorrupt("report body has trailing garbage after gzip data")
                self._tail = b""
                self._d = zlib.decompressobj(wbits=31)
            decompressor = self._d
            chunk = decompressor.decompress(data, _OUTPUT_LIMIT)
            if chunk:
                out.append(chunk)
            if decompressor.eof:
                self.members += 1
                data = decompressor.unused_data
                self._d = None
                if not data:
                    return
                continue
            data = decompressor.unconsumed_tail
            if not data and len(chunk) < _OUTPUT_LIMIT:
                return

    def finish(self) -> list[bytes]:
        out = self.feed(b"")
        if self._d is not None:
            raise AscReportCorrupt("report body is truncated (gzip stream did not end)")
        if self._tail:
            raise AscReportCorrupt("report body has trailing garbage after gzip data")
        return out


class BodyDecoder:
    """Gunzips the body if it starts with the gzip magic ``1f 8b``, else passes it through.

    Apple labels report bodies ``Content-Encoding: agzip``, which httpx does not decode, so
    they normally arrive compressed; a proxy that already decoded them yields plain text.
    Sniffing the bytes is the only reliable test.
    """

    def __init__(self) -> None:
        self.is_gzip: bool | None = None
        self._head = b""
        self._gzip: GzipDecoder | None = None

    def feed(self, data: bytes) -> list[bytes]:
        if self.is_gzip is None:
            self._head += data
            if len(self._head) < 2:
                return []
            data, self._head = self._head, b""
            self.is_gzip = data[:2] == GZIP_MAGIC
            if self.is_gzip:
                self._gzip = GzipDecoder()
        if self._gzip is not None:
            return self._gzip.feed(data)
        return [data] if data else []

    def finish(self) -> list[bytes]:
        if self.is_gzip is None:
            self.is_gzip = False
            head, self._head = self._head, b""
            return [head] if head else []
        return self._gzip.finish() if self._gzip is not None else []
