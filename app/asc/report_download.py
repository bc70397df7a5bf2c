"""Report downloads: Sales and Trends and finance reports, streamed and decoded.

``AscClient.stream_report`` returns a ``ReportDownload``: an async context manager and async
iterable of the report's decoded bytes. It is sent through the client's request loop, so it
is signed, rate-limit observed and retried like any call, but only until its first byte
reaches the caller (see ``ReportDownload``).

Apple serves reports as gzip-compressed, tab-separated text. Files can be large, so decoding
is incremental: nothing holds more than one network chunk at a time, and each decompression
step's output is bounded. Also here: the two endpoints' paths and exact filter parameters.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from app.asc.errors import AscReportCorrupt, AscTransportError

if TYPE_CHECKING:
    from app.asc.client import AscClient

__all__ = [
    "FINANCE_REPORTS_PATH",
    "GZIP_MAGIC",
    "SALES_REPORTS_PATH",
    "BodyDecoder",
    "GzipDecoder",
    "ReportDownload",
    "finance_report_params",
    "sales_report_params",
]

SALES_REPORTS_PATH = "/v1/salesReports"
FINANCE_REPORTS_PATH = "/v1/financeReports"
GZIP_ACCEPT = "application/a-gzip"
REPORT_VERSION_HEADER = "x-reports-download-version"
REPORT_FILENAME_HEADER = "x-reports-filename"
GZIP_MAGIC = b"\x1f\x8b"
_OUTPUT_LIMIT = 1 << 20  # bound decompressed output per step (a gzip bomb cannot balloon memory)


def sales_report_params(
    vendor_number: str,
    report_type: str,
    report_subtype: str,
    frequency: str,
    report_date: str | dt.date | None = None,
    version: str | None = None,
) -> dict[str, str]:
    """Exactly Apple's ``/v1/salesReports`` filters.

    A ``date`` is formatted as Apple wants for the frequency: ``YYYY-MM-DD`` (daily, weekly
    — the week-ending Sunday), ``YYYY-MM`` (monthly), ``YYYY`` (yearly).
    """
    params = {
        "filter[vendorNumber]": vendor_number,
        "filter[reportType]": report_type,
        "filter[reportSubType]": report_subtype,
        "filter[frequency]": frequency,
    }
    if report_date is not None:
        if isinstance(report_date, dt.date):
            fmt = {"MONTHLY": "%Y-%m", "YEARLY": "%Y"}.get(frequency.upper(), "%Y-%m-%d")
            report_date = report_date.strftime(fmt)
        params["filter[reportDate]"] = report_date
    if version is not None:
        params["filter[version]"] = version
    return params


def finance_report_params(
    vendor_number: str, report_type: str, region_code: str, report_date: str
) -> dict[str, str]:
    """Exactly Apple's ``/v1/financeReports`` filters (all four are required).

    ``report_date`` is ``YYYY-MM`` in Apple's *fiscal* calendar, so it is taken as text and
    never derived from a calendar date here.
    """
    return {
        "filter[vendorNumber]": vendor_number,
        "filter[reportType]": report_type,
        "filter[regionCode]": region_code,
        "filter[reportDate]": report_date,
    }


class ReportDownload:
    """One report download: an async context manager and async iterable of decoded bytes.

    Opening sends the request and reads the first chunk under the client's retry policy:
    until a byte has been handed to the caller nothing is lost by starting over. After that
    a failure (``AscTransportError`` mid-body, ``AscReportCorrupt`` for a truncated or
    invalid gzip) is raised, and the caller re-downloads the whole report — report days are
    replaced atomically, so a partial file is never half-stored.
    """

    def __init__(self, client: AscClient, url: str) -> None:
        self._client = client
        self.url = url
        self._response: httpx.Response | None = None
        self._raw: AsyncIterator[bytes] | None = None
        self._first = b""
        self._iterated = False
        self.headers: httpx.Headers | None = None
        self.bytes_received = 0
        self.bytes_decoded = 0
        self.is_gzip: bool | None = None

    @property
    def version(self) -> str | None:
        """``x-reports-download-version``: which layout Apple served (e.g. ``1_3``)."""
        return self.headers.get(REPORT_VERSION_HEADER) if self.headers is not None else None

    @property
    def filename(self) -> str | None:
        return self.headers.get(REPORT_FILENAME_HEADER) if self.headers is not None else None

    @property
    def opened(self) -> bool:
        return self._response is not None

    async def _prime(self, response: httpx.Response) -> None:
        raw = response.aiter_bytes()
        try:
            first = b""
            async for chunk in raw:
                if chunk:
                    first = chunk
                    break
        except httpx.DecodingError:
            await response.aclose()
            raise AscReportCorrupt("report body could not be decoded") from None
        self._response, self._raw, self._first = response, raw, first
        self.headers = response.headers
        self.bytes_received = len(first)

    async def open(self) -> None:
        if self._response is not None:
            return
        await self._client._execute("GET", self.url, accept=GZIP_ACCEPT, handle=self._prime)

    async def aclose(self) -> None:
        response, self._response = self._response, None
        raw, self._raw = self._raw, None
        close_raw = getattr(raw, "aclose", None)
        if close_raw is not None:
            await close_raw()
        if response is not None:
            await response.aclose()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterated:
            raise RuntimeError("a report download can be iterated only once")
        self._iterated = True
        return self._decoded()

    async def _decoded(self) -> AsyncIterator[bytes]:
        await self.open()
        decoder = BodyDecoder()
        raw = self._raw
        assert raw is not None
        try:
            pending = decoder.feed(self._first)
            while True:
                for piece in pending:
                    self.bytes_decoded += len(piece)
                    yield piece
                try:
                    chunk = await anext(raw)
                except StopAsyncIteration:
                    break
                self.bytes_received += len(chunk)
                pending = decoder.feed(chunk)
            for piece in decoder.finish():
                self.bytes_decoded += len(piece)
                yield piece
            self.is_gzip = decoder.is_gzip
        except httpx.TransportError as exc:
            raise AscTransportError(
                f"report download interrupted ({type(exc).__name__}); not retried after "
                "data was delivered"
            ) from exc
        except httpx.DecodingError:
            raise AscReportCorrupt("report body could not be decoded") from None
        finally:
            self.is_gzip = decoder.is_gzip
            await self.aclose()


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
