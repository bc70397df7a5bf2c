"""Streaming decoding of Apple's report files: gzip → UTF-8 → tab-separated rows by header.

Sales and finance reports arrive as gzip-compressed, tab-separated text (a header line, then
rows; finance files end with ``Total_Rows`` / ``Total_Amount`` / ``Total_Units`` footers).
Columns drift between report versions, so rows are dicts keyed by the header's names, never
positions. Files can be large, so everything here is incremental: nothing holds more than
one network chunk (plus one partial line) at a time.

Row rules, chosen to keep Apple's raw text intact for the caller to normalise:

* lines split on ``\\n``; a trailing ``\\r`` is stripped (CRLF files); a leading BOM is dropped;
* lines that are empty or whitespace-only are skipped;
* cells keep their raw text (Apple writes some empty cells as a single space);
* a row shorter than the header gets ``""`` for the missing columns;
* cells beyond the header are kept under ``"_extra_1"``, ``"_extra_2"``, … unless they are
  empty (a trailing tab is common and carries nothing) — data is never silently dropped;
* header names are stripped of surrounding whitespace; an empty name becomes ``_column_<n>``
  and a repeated one ``<name>_<n>`` so no column overwrites another;
* with ``stop_at_total=True`` (finance), rows stop at the first line starting ``Total_``; that
  line and following ``Total_*`` lines fill ``totals``; other lines after the footer are
  counted in ``ignored_lines`` (a repeated block would show up there rather than be mixed in).
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path

from app.asc.errors import AscReportCorrupt

__all__ = [
    "GZIP_MAGIC",
    "AsyncTsvRows",
    "BodyDecoder",
    "GzipDecoder",
    "TsvRowParser",
    "TsvRows",
    "aiter_decoded",
    "aiter_tsv_rows",
    "iter_decoded",
    "iter_tsv_rows",
    "read_tsv_file",
]

GZIP_MAGIC = b"\x1f\x8b"
_OUTPUT_LIMIT = 1 << 20  # bound decompressed output per step (a gzip bomb cannot balloon memory)
_FILE_CHUNK = 1 << 20

Row = dict[str, str]


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


def iter_decoded(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Sync: raw (maybe gzipped) chunks → decoded chunks."""
    decoder = BodyDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.finish()


async def aiter_decoded(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Async: raw (maybe gzipped) chunks → decoded chunks."""
    decoder = BodyDecoder()
    async for chunk in chunks:
        for piece in decoder.feed(chunk):
            yield piece
    for piece in decoder.finish():
        yield piece


class TsvRowParser:
    """Push parser: ``feed(bytes)`` → completed rows; ``close()`` → the final rows.

    Per-row work is one ``split`` and one ``dict(zip(...))``; everything else happens per
    chunk, which keeps a million-row file well above 100k rows/s.
    """

    def __init__(self, *, stop_at_total: bool = False, encoding_errors: str = "strict") -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors=encoding_errors)
        self._pending = ""
        self._started = False
        self._stop_at_total = stop_at_total
        self.header: list[str] | None = None
        self._width = 0
        self.stopped = False
        self.totals: dict[str, str] = {}
        self.row_count = 0
        self.ignored_lines = 0
        self.closed = False

    @property
    def footer_row_count(self) -> int | None:
        """``Total_Rows`` as an int, to compare with ``row_count``."""
        value = self.totals.get("Total_Rows", "").strip()
        return int(value) if value.isdigit() else None

    def _decode(self, data: bytes, final: bool = False) -> str:
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise AscReportCorrupt(f"report is not valid UTF-8 (byte offset {exc.start})") from None
        if not self._started and text:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        return text

    def feed(self, data: bytes) -> list[Row]:
        if self.closed:
            raise RuntimeError("parser is closed")
        text = self._decode(data)
        if "\n" not in text:
            self._pending += text
            return []
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        return self._parse(lines)

    def close(self) -> list[Row]:
        if self.closed:
            return []
        text = self._pending + self._decode(b"", final=True)
        self._pending = ""
        self.closed = True
        return self._parse([text]) if text else []

    def _set_header(self, line: str) -> None:
        names: list[str] = []
        seen: set[str] = set()
        for position, raw in enumerate(line.split("\t"), start=1):
            name = raw.strip() or f"_column_{position}"
            if name in seen:
                suffix = 2
                while f"{name}_{suffix}" in seen:
                    suffix += 1
                name = f"{name}_{suffix}"
            seen.add(name)
            names.append(name)
        self.header = names
        self._width = len(names)

    def _footer(self, line: str) -> None:
        if line.startswith("Total_"):
            name, _, rest = line.partition("\t")
            self.totals[name.strip()] = rest.split("\t", 1)[0].strip()
        else:
            self.ignored_lines += 1

    def _irregular(self, cells: list[str]) -> Row:
        header = self.header or []
        width = self._width
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
            return dict(zip(header, cells, strict=True))
        row = dict(zip(header, cells[:width], strict=True))
        for number, cell in enumerate(cells[width:], start=1):
            if cell:
                row[f"_extra_{number}"] = cell
        return row

    def _parse(self, lines: list[str]) -> list[Row]:
        rows: list[Row] = []
        append = rows.append
        header = self.header
        width = self._width
        stop_at_total = self._stop_at_total
        for line in lines:
            if line.endswith("\r"):
                line = line[:-1]
            if not line or line.isspace():
                continue
            if header is None:
                self._set_header(line)
                header = self.header
                width = self._width
                continue
            if self.stopped:
                self._footer(line)
                continue
            if stop_at_total and line.startswith("Total_"):
                self.stopped = True
                self._footer(line)
                continue
            cells = line.split("\t")
            if len(cells) == width:
                append(dict(zip(header, cells)))  # noqa: B905 - lengths checked above
            else:
                append(self._irregular(cells))
        self.row_count += len(rows)
        return rows


class TsvRows:
    """Sync iterable of rows; ``header``, ``totals``, ``row_count`` are filled as it runs."""

    def __init__(self, chunks: Iterable[bytes], *, stop_at_total: bool = False) -> None:
        self._chunks = chunks
        self.parser = TsvRowParser(stop_at_total=stop_at_total)

    @property
    def header(self) -> list[str] | None:
        return self.parser.header

    @property
    def totals(self) -> dict[str, str]:
        return self.parser.totals

    @property
    def row_count(self) -> int:
        return self.parser.row_count

    def batches(self) -> Iterator[list[Row]]:
        """Rows in the groups one input chunk produced; cheaper for bulk inserts."""
        parser = self.parser
        for chunk in self._chunks:
            rows = parser.feed(chunk)
            if rows:
                yield rows
        rows = parser.close()
        if rows:
            yield rows

    def __iter__(self) -> Iterator[Row]:
        for batch in self.batches():
            yield from batch


class AsyncTsvRows:
    """Async iterable of rows over an async source of *decoded* byte chunks."""

    def __init__(self, chunks: AsyncIterable[bytes], *, stop_at_total: bool = False) -> None:
        self._chunks = chunks
        self.parser = TsvRowParser(stop_at_total=stop_at_total)

    @property
    def header(self) -> list[str] | None:
        return self.parser.header

    @property
    def totals(self) -> dict[str, str]:
        return self.parser.totals

    @property
    def row_count(self) -> int:
        return self.parser.row_count

    async def batches(self) -> AsyncIterator[list[Row]]:
        """Rows in the groups one network chunk produced; cheaper for bulk inserts."""
        parser = self.parser
        async for chunk in self._chunks:
            rows = parser.feed(chunk)
            if rows:
                yield rows
        rows = parser.close()
        if rows:
            yield rows

    async def _rows(self) -> AsyncIterator[Row]:
        async for batch in self.batches():
            for row in batch:
                yield row

    def __aiter__(self) -> AsyncIterator[Row]:
        return self._rows()


def iter_tsv_rows(chunks: Iterable[bytes], *, stop_at_total: bool = False) -> TsvRows:
    """Rows from already-decoded byte chunks (see ``iter_decoded`` for gzip input)."""
    return TsvRows(chunks, stop_at_total=stop_at_total)


def aiter_tsv_rows(chunks: AsyncIterable[bytes], *, stop_at_total: bool = False) -> AsyncTsvRows:
    """Rows from an async source of already-decoded byte chunks."""
    return AsyncTsvRows(chunks, stop_at_total=stop_at_total)


def _file_chunks(path: Path, chunk_size: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk


def read_tsv_file(
    path: str | Path, *, stop_at_total: bool = False, chunk_size: int = _FILE_CHUNK
) -> TsvRows:
    """Rows of a report file on disk, plain or gzipped (detected by its magic bytes)."""
    return TsvRows(iter_decoded(_file_chunks(Path(path), chunk_size)), stop_at_total=stop_at_total)
