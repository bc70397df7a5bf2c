"""Streaming bulk ingest of Apple's TSV reports into PostgreSQL.

The decompressed text goes straight into ``COPY`` — one line per row of a single-column staging
table, with no Python work per row — and PostgreSQL splits, converts and inserts it in one
``INSERT … SELECT``. Memory stays flat (one network chunk at a time). Columns are found by
header name, never position; header names the layout does not know are kept per row in the
``extra`` JSONB column.

A caller that can derive its extra columns in Python (:class:`Streamed`, the sales report) skips
the staging table: each line is cleaned while it arrives and COPYed straight into the target,
typed by PostgreSQL's input functions — one pass over the rows instead of two — and what the
caller needs summed (a rollup) is counted on the way (:class:`Tally`).

Everything happens inside the caller's transaction: the old partition is deleted and the new
one inserted together, so a crash or an error anywhere (a truncated gzip, a bad cell, a footer
that does not add up) leaves the previous data exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import asyncpg_connection
from app.kit import territories
from app.sync.contract import PermanentUnitError

Kind = Literal["text", "numeric", "date_mdy", "date_iso", "date_any", "bool_yes", "territory"]

_BOM = b"\xef\xbb\xbf"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class IngestError(PermanentUnitError):
    """The report cannot be loaded as it is; the message says why, for a person. Permanent:
    Apple never regenerates a file, so fetching the same one again cannot help."""

    code = "report_unreadable"


@dataclass(frozen=True)
class Field:
    """One target column, filled from the first header name present among ``headers``."""

    target: str
    headers: tuple[str, ...]
    kind: Kind = "text"
    required: bool = False


@dataclass(frozen=True)
class Layout:
    name: str
    fields: tuple[Field, ...]
    #: Header names that are known but deliberately not stored (kept out of ``extra``).
    ignored: frozenset[str] = frozenset()
    #: Look for the header among this many first lines (title lines above it are skipped): the
    #: first line holding every required field's name. 1: the header is the first line.
    header_within: int = 1


def _is_header(layout: Layout, cells: list[str]) -> bool:
    present = set(cells)
    required = [f for f in layout.fields if f.required]
    return bool(required) and all(any(h in present for h in f.headers) for f in required)


@dataclass
class LoadResult:
    rows: int
    header: list[str]
    unknown_columns: list[str]
    footer: dict[str, str] = field(default_factory=dict)
    #: Every line from the first ``Total_`` line on (with ``footer``): the ``Total_`` lines and
    #: whatever Apple put after them (e.g. the per-country table of a ZZ finance file).
    trailer: list[str] = field(default_factory=list)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _cell(position: int) -> str:
    # Apple writes some empty cells as a single space; both mean "no value".
    return f"NULLIF(btrim(c[{position}]), '')"


def _convert(position: int, kind: Kind) -> str:
    cell = _cell(position)
    if kind == "numeric":
        return f"CAST(replace({cell}, ',', '') AS numeric)"
    if kind == "date_mdy":
        return f"to_date({cell}, 'MM/DD/YYYY')"
    if kind == "date_iso":
        return f"CAST({cell} AS date)"
    if kind == "date_any":  # YYYY-MM-DD or MM/DD/YYYY, whichever the cell is
        return (
            f"CASE WHEN {cell} ~ '^\\d{{4}}-' THEN CAST({cell} AS date) "
            f"ELSE to_date({cell}, 'MM/DD/YYYY') END"
        )
    if kind == "bool_yes":
        return f"(lower({cell}) = 'yes')"
    if kind == "territory":  # a code, or a name turned into its code (app.kit.territories)
        return territories.sql(cell, _literal)
    return cell


_NULL_TYPES: dict[Kind, str] = {
    "text": "text",
    "numeric": "numeric",
    "date_mdy": "date",
    "date_iso": "date",
    "date_any": "date",
    "bool_yes": "boolean",
    "territory": "text",
}


def resolve_columns(layout: Layout, header: list[str]) -> tuple[list[str], list[str]]:
    """SQL expressions for each layout field (in layout order), and the unknown header names."""
    positions = {name: index + 1 for index, name in reversed(list(enumerate(header)))}
    expressions = []
    for item in layout.fields:
        position = next((positions[h] for h in item.headers if h in positions), None)
        if position is None:
            if item.required:
                raise IngestError(
                    f"the {layout.name} report has no '{item.headers[0]}' column "
                    f"(its columns: {', '.join(header)})"
                )
            # Typed: an untyped NULL in the subquery is text, which numeric/date columns refuse.
            expressions.append(f"CAST(NULL AS {_NULL_TYPES[item.kind]})")
        else:
            expressions.append(_convert(position, item.kind))
    known = {h for item in layout.fields for h in item.headers} | layout.ignored
    unknown = [name for name in header if name and name not in known]
    return expressions, unknown


def _extra(header: list[str], unknown: list[str]) -> str:
    if not unknown:
        return "'{}'::jsonb"
    positions = {name: index + 1 for index, name in enumerate(header)}
    pairs = ", ".join(f"{_literal(name)}, {_cell(positions[name])}" for name in unknown[:50])
    return f"jsonb_strip_nulls(jsonb_build_object({pairs}))"


class _HeaderSplitter:
    """Takes the header line off the byte stream; passes the rest through untouched.

    The header is the first line, or — for a layout with ``header_within`` > 1 — the first of
    that many lines holding every required column's name (title lines above it are skipped).
    """

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.header: list[str] | None = None
        self.skipped: list[str] = []  # lines above the header (title lines), decoded
        self._first_body = b""

    async def _next_line(self, buffered: bytes) -> tuple[bytes, bytes, bool]:
        """(line, rest, more): the next line of ``buffered`` + the stream."""
        while (newline := buffered.find(b"\n")) < 0:
            chunk = await anext(self._iterator, None)
            if chunk is None:
                return buffered, b"", False
            buffered += chunk
        return buffered[:newline], buffered[newline + 1 :], True

    async def read_header(self, layout: Layout) -> None:
        self._iterator = aiter(self._chunks)
        buffered = b""
        for number in range(1, max(layout.header_within, 1) + 1):
            line, buffered, more = await self._next_line(buffered)
            if number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            try:
                decoded = line.decode("utf-8").rstrip("\r")
            except UnicodeDecodeError:
                raise IngestError("the report header is not UTF-8 text") from None
            cells = [name.strip() for name in decoded.split("\t")] if decoded.strip() else []
            empty_file = number == 1 and not cells and not more
            if layout.header_within <= 1 or _is_header(layout, cells) or empty_file:
                self.header, self._first_body = cells, buffered
                return
            self.skipped.append(decoded)
            if not more:
                break
        raise IngestError(
            f"the {layout.name} report has no header line (with "
            f"{', '.join(f.headers[0] for f in layout.fields if f.required)}) within its first "
            f"{layout.header_within} lines (first line: {self.skipped[0][:80]!r})"
        )

    async def body(self) -> AsyncIterator[bytes]:
        if self._first_body:
            yield self._first_body
        async for chunk in self._iterator:
            if chunk:
                yield chunk


async def delete_partition(session: AsyncSession, table: str, replace: Mapping[str, Any]) -> None:
    """Delete one partition of ``table`` (column → value), e.g. an account's report date."""
    for name in (table, *replace):
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")
    where = " AND ".join(f"{column} = :r_{column}" for column in replace)
    await session.execute(
        text(f"DELETE FROM {table} WHERE {where}"),  # noqa: S608  (identifiers checked above)
        {f"r_{column}": value for column, value in replace.items()},
    )


async def load_report(
    session: AsyncSession,
    chunks: AsyncIterable[bytes],
    layout: Layout,
    *,
    table: str,
    constants: Mapping[str, Any],
    replace: Mapping[str, Any],
    derived: Mapping[str, str] | None = None,
    footer: bool = False,
    extra_column: str | None = "extra",
    joins: str = "",
    streamed: Streamed | None = None,
) -> LoadResult:
    """Replace one partition of ``table`` with the report streamed from ``chunks``.

    With ``streamed`` (and no SQL ``derived`` or ``joins``), the rows are split and cleaned in
    Python while they arrive and COPYed straight into ``table``, typed by PostgreSQL's own
    input functions: one pass, no staging table (see :class:`Streamed`).

    ``constants`` are bound values for every row (account, report date, …); ``replace`` names
    the partition to delete first (column → value); ``derived`` adds columns computed in SQL
    from the layout's target columns (e.g. a unit kind from the product type), optionally
    over ``joins`` (``LEFT JOIN … ON …`` against ``typed``, the parsed rows). With
    ``footer``, rows stop at the first line starting ``Total_`` and the footer lines are
    returned in ``LoadResult.footer`` for the caller to check.
    """
    derived = derived or {}
    _check_identifiers(table, *constants, *replace, *derived, *(f.target for f in layout.fields))
    if streamed is not None and streamed.tally is not None:
        streamed.tally.restart()  # a download tried again counts from the start
    splitter = _HeaderSplitter(chunks)
    await splitter.read_header(layout)
    header = splitter.header or []
    if not header:
        await delete_partition(session, table, replace)
        return LoadResult(rows=0, header=[], unknown_columns=[])
    if streamed is not None:
        if derived or joins:
            raise ValueError("a streamed load derives its columns in Python, not SQL")
        return await _copy_streamed(
            session, splitter, layout, header, table, constants, replace, footer, extra_column,
            streamed,
        )  # fmt: skip
    expressions, unknown = resolve_columns(layout, header)
    staging = await _stage(session, splitter, layout)
    footer_values, trailer, stop = (
        await _footer(session, staging) if footer else ({}, [], _NO_FOOTER)
    )
    await delete_partition(session, table, replace)
    select = _typed_rows(layout, expressions, header, unknown, staging, stop, extra_column)
    columns = [*constants, *(f.target for f in layout.fields), *derived]
    values = [f":c_{c}" for c in constants]
    values += [f"typed.{f.target}" for f in layout.fields] + list(derived.values())
    if extra_column is not None:
        columns.append(extra_column)
        values.append(f"typed.{extra_column}")
    insert_sql = f"""
        INSERT INTO {table} ({", ".join(columns)})
        SELECT {", ".join(values)} FROM ({select}) AS typed {joins}
    """  # noqa: S608  (identifiers are checked above; values are bound)
    rows = await _insert(session, layout, insert_sql, constants)
    return LoadResult(
        rows=rows, header=header, unknown_columns=unknown, footer=footer_values, trailer=trailer
    )


#: The row-number bound of a file without a footer: every line is a row.
_NO_FOOTER = "9223372036854775807"


def _check_identifiers(*names: str) -> None:
    for name in names:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")


async def _stage(session: AsyncSession, splitter: _HeaderSplitter, layout: Layout) -> str:
    """COPY the body into a temporary table, one line per row; returns its name."""
    staging = f"orchard_staging_{uuid.uuid4().hex[:12]}"
    await session.execute(
        text(
            f"CREATE TEMP TABLE {staging} "
            "(n bigint GENERATED ALWAYS AS IDENTITY, line text) ON COMMIT DROP"
        )
    )
    driver = await asyncpg_connection(session)
    try:
        # One line per row: \x02 never appears in Apple's text, \x01 disables quoting.
        await driver.copy_to_table(
            staging,
            source=splitter.body(),
            columns=["line"],
            format="csv",
            delimiter="\x02",
            quote="\x01",
        )
    except (
        asyncpg.DataError,
        asyncpg.BadCopyFileFormatError,
        asyncpg.CharacterNotInRepertoireError,
    ) as exc:
        raise IngestError(f"the {layout.name} report could not be read: {exc}") from None
    return staging


async def _footer(session: AsyncSession, staging: str) -> tuple[dict[str, str], list[str], str]:
    """The ``Total_`` lines (name → value), every line from the first of them on, and the SQL
    bound of the row numbers before them."""
    rows = await session.execute(
        text(
            f"SELECT line FROM {staging} WHERE n >= (SELECT min(n) FROM {staging} "  # noqa: S608
            r"WHERE line LIKE 'Total\_%') ORDER BY n"
        )
    )
    values: dict[str, str] = {}
    trailer: list[str] = []
    for (line,) in rows:
        trailer.append((line or "").rstrip("\r"))
        parts = trailer[-1].split("\t")
        if parts and parts[0].startswith("Total_") and len(parts) > 1:
            values.setdefault(parts[0].strip(), parts[1].strip())
    stop = f"COALESCE((SELECT min(n) FROM {staging} WHERE line LIKE 'Total\\_%'), {_NO_FOOTER})"  # noqa: S608
    return values, trailer, stop


def _typed_rows(
    layout: Layout,
    expressions: list[str],
    header: list[str],
    unknown: list[str],
    staging: str,
    stop: str,
    extra_column: str | None,
) -> str:
    """SELECT of the staged lines split and converted to the layout's columns, once per line.

    OFFSET 0 keeps the planner from flattening the subqueries: flattened, it re-split the whole
    line for every cell reference (40+ times a row: 15k rows/s, and a 1M-row report ran past
    the 60 s statement timeout); fenced, each line is split and typed once.
    """
    targets = [f.target for f in layout.fields]
    columns = ", ".join(f"{e} AS {t}" for e, t in zip(expressions, targets, strict=True))
    if extra_column is not None:
        columns += f", {_extra(header, unknown)} AS {extra_column}"
    return f"""
        SELECT {columns}
        FROM (
            SELECT string_to_array(rtrim(line, E'\\r'), E'\\t') AS c FROM {staging}
            WHERE line IS NOT NULL AND btrim(line, E' \\t\\r') <> '' AND n < {stop}
            OFFSET 0
        ) AS split
        OFFSET 0
    """  # noqa: S608  (identifiers are checked by the caller)


async def _insert(
    session: AsyncSession, layout: Layout, insert_sql: str, constants: Mapping[str, Any]
) -> int:
    try:
        result = await session.execute(
            text(insert_sql), {f"c_{c}": v for c, v in constants.items()}
        )
    except DBAPIError as exc:
        # SQLSTATE class 22 (data exception): a cell PostgreSQL cannot convert.
        if not str(getattr(exc.orig, "sqlstate", "") or "").startswith("22"):
            raise
        raise IngestError(
            f"the {layout.name} report has a value that cannot be read: {exc.orig}"
        ) from None
    return int(getattr(result, "rowcount", 0) or 0)


# --- the streamed path: cleaned in Python, typed by COPY ---------------------------------------

#: COPY's text format: the NULL marker.
COPY_NULL = b"\\N"
#: The NULL marker of a COPY whose file needs no per-cell conversion (``_Rows.fast``): the
#: empty cell itself (``COPY … NULL ''``), so that Python need not rewrite every empty cell.
#: No text is stored empty: an empty cell means no value everywhere in Orchard.
FAST_NULL = b""


@dataclass(frozen=True)
class Streamed:
    """Columns derived in Python per row while a report streams into its table, instead of
    SQL expressions and joins over a staging table (:func:`load_report`).

    ``derive`` gets the cleaned cells of ``inputs`` (layout targets; ``None`` for an empty
    cell) and returns the values of ``columns``. It must depend on nothing else: its answers
    are cached per distinct input (a report repeats a few thousand combinations a million
    times). ``tally``, when given, is counted on the way (e.g. a rollup, without reading the
    rows back); ``after`` then runs in the unit's transaction once the file is in. The
    table's ``extra`` column (if any) must default to ``{}``: a file without unknown columns
    leaves it to that default.
    """

    columns: tuple[str, ...]
    inputs: tuple[str, ...]
    derive: Callable[[tuple[bytes | None, ...]], tuple[str | None, ...]]
    tally: Tally | None = None
    after: Callable[[AsyncSession], Awaitable[None]] | None = None


@dataclass
class Tally:
    """Rows counted per distinct combination of the ``keys`` columns while they stream: per
    combination, the sum of the ``count`` column's positive values, of its negative ones,
    and how many rows have it zero.

    A key is the cells as COPY text (empty: ``\\N``, or ``FAST_NULL`` from a file COPYed as
    written; backslashes doubled) joined by tabs, one bytes object per combination (a
    million-row day has some 100,000: a tuple of cells each would take several times the
    memory). ``exact`` turns False, and ``groups`` stops being complete, when a count is not
    a whole number: the caller then sums in SQL.
    """

    keys: tuple[str, ...]
    count: str
    groups: dict[bytes, list[int]] = field(default_factory=dict)
    exact: bool = True

    def restart(self) -> None:
        self.groups = {}
        self.exact = True

    def add(self, key: bytes, count: bytes) -> None:
        try:
            value = int(count)
        except ValueError:
            self.exact = False
            return
        found = self.groups.get(key)
        if found is None:
            self.groups[key] = found = [0, 0, 0]
        if value > 0:
            found[0] += value
        elif value < 0:
            found[1] += value
        else:
            found[2] += 1


def copy_text(value: Any, null: bytes = COPY_NULL) -> bytes:
    """``value`` as one cell of COPY's text format (``null``: the COPY's NULL marker)."""
    if value is None:
        return null
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, dt.date):
        return value.isoformat().encode()
    escaped = str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return escaped.replace("\r", "\\r").encode()


class _Rows:
    """Turns the report body into COPY text-format lines, a network chunk at a time.

    Per line: split on tabs, each cell stripped of spaces (Apple writes an empty cell as one
    space), empty cells NULL, numbers without thousands separators; dates go as written
    (PostgreSQL reads ``MM/DD/YYYY`` under ``DateStyle`` MDY). Everything else — numbers and
    dates that do not parse, text that is not UTF-8 — COPY refuses, which fails the load.

    When every header column is a layout field of a kind COPY reads as written (text, numbers,
    dates) — Apple's own files — the cleaning is done on the whole chunk at once by a few
    byte-level passes, the cells go to COPY in the file's own column order (an empty one read
    as NULL by the COPY itself: ``FAST_NULL``), and Python only splits each line to look up
    its derived columns: a few microseconds a row. Any other file goes cell by cell
    (``_convert``, ``\\N`` for NULL).
    """

    def __init__(
        self,
        layout: Layout,
        header: list[str],
        constants: Mapping[str, Any],
        streamed: Streamed,
        footer: bool,
        extra: bool,
    ) -> None:
        positions = {name: index for index, name in reversed(list(enumerate(header)))}
        self.width = len(header)
        self.picks: list[int] = []
        for item in layout.fields:
            position = next((positions[h] for h in item.headers if h in positions), None)
            if position is None and item.required:
                raise IngestError(
                    f"the {layout.name} report has no '{item.headers[0]}' column "
                    f"(its columns: {', '.join(header)})"
                )
            self.picks.append(self.width if position is None else position)  # width: empty
        self.kinds = [(i, f.kind) for i, f in enumerate(layout.fields) if f.kind != "text"]
        targets = [f.target for f in layout.fields]
        self.inputs = [targets.index(name) for name in streamed.inputs]
        known = {h for item in layout.fields for h in item.headers} | layout.ignored
        self.unknown = [name for name in header if name and name not in known]
        first = {name: index for index, name in reversed(list(enumerate(header)))}
        # Without unknown columns every row's extra is ``{}``: the column is left to its
        # default then (reading ``{}`` as JSON a million times costs PostgreSQL ~10 % of a COPY).
        extra = extra and bool(self.unknown)
        self.extra = [(name, first[name]) for name in self.unknown[:50]] if extra else None
        self.streamed = streamed
        self.footer = footer
        self.derived: dict[tuple[bytes | None, ...], tuple[bytes, tuple[str | None, ...]]] = {}
        self.stopped = False
        self.footer_values: dict[str, str] = {}
        self.trailer: list[str] = []
        self.layout = layout
        # The file's columns in its own order, when each is one layout field COPY reads as is.
        picked = sorted(p for p in self.picks if p < self.width)
        self.fast = picked == list(range(self.width)) and all(
            f.kind in _AS_WRITTEN for f in layout.fields
        )
        #: The COPY's NULL marker (its ``NULL`` option).
        self.null = FAST_NULL if self.fast else COPY_NULL
        self.prefix = b"".join(copy_text(value, self.null) + b"\t" for value in constants.values())
        by_position = dict(zip(self.picks, layout.fields, strict=True))
        missing = [
            f.target for p, f in zip(self.picks, layout.fields, strict=True) if p == self.width
        ]
        self.columns = (
            [by_position[p].target for p in range(self.width)] + missing if self.fast else targets
        )
        self.missing = b"\t" + b"\t".join([self.null] * len(missing)) if missing else b""
        self.empty_extra = b"\t{}" if extra else b""
        self.numeric = [p for p, f in by_position.items() if p < self.width and f.kind == "numeric"]
        keys = [self.picks[i] for i in self.inputs]
        self.key_of: Callable[[list[bytes]], tuple[bytes, ...]] = lambda cells: tuple(
            [cells[k] for k in keys]
        )
        if len(keys) > 1:
            self.key_of = operator.itemgetter(*keys)
        # A line whose first required cell is empty may be a blank line (checked then).
        required = [self.picks[i] for i, f in enumerate(layout.fields) if f.required]
        self.blank_if_null = required[0] if required else 0
        tally = streamed.tally
        self.tally_of: Callable[[list[bytes]], tuple[bytes, ...]] | None = None
        self.tally_count = 0
        if tally is not None:  # by position in the cells a row loop has (file or layout order)
            where = {
                f.target: (p if self.fast else i)
                for i, (p, f) in enumerate(zip(self.picks, layout.fields, strict=True))
            }
            self.tally_of = operator.itemgetter(*(where[name] for name in tally.keys))
            self.tally_count = where[tally.count]

    async def lines(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        rest = b""
        async for chunk in body:
            block = rest + chunk
            end = block.rfind(b"\n") + 1
            rest = block[end:]
            if end:
                out = self._block(block[:end])
                if out:
                    yield out
        if rest:
            out = self._block(rest + b"\n")
            if out:
                yield out

    def _block(self, block: bytes) -> bytes:
        """COPY lines of ``block``: whole lines, each ending in a newline."""
        if self.stopped:
            self._trail(block)
            return b""
        if self.footer:
            at = 0 if block.startswith(b"Total_") else block.find(b"\nTotal_") + 1
            if at or block.startswith(b"Total_"):
                self.stopped = True
                self._trail(block[at:])
                block = block[:at]
        if self.fast:
            return self._fast(block)
        return self._convert(block.split(b"\n")[:-1])

    def _trail(self, block: bytes) -> None:
        """The ``Total_`` lines and what follows them."""
        for raw in block.split(b"\n")[:-1]:
            line = _text(raw.rstrip(b"\r"), self.layout)
            self.trailer.append(line)
            parts = line.split("\t")
            if parts[0].startswith("Total_") and len(parts) > 1:
                self.footer_values.setdefault(parts[0].strip(), parts[1].strip())

    def _fast(self, block: bytes) -> bytes:
        text = block.replace(b"\r\n", b"\n") if b"\r" in block else block  # one scan, not two
        if b"\\" in text:
            text = text.replace(b"\\", b"\\\\")
        # Spaces around every cell go: an empty cell is then NULL as it is (``FAST_NULL``).
        text = b"\n" + text
        if b"  " in text:  # a run of n spaces takes n passes
            for spaced, bare in _SPACED:
                while spaced in text:
                    text = text.replace(spaced, bare)
        else:  # no run of spaces (Apple writes an empty cell as one): one pass each
            for spaced, bare in _SPACED:
                text = text.replace(spaced, bare)
        out: list[bytes] = []
        width, numeric, blank_if_null = self.width, self.numeric, self.blank_if_null
        prefix, key_of, derived = self.prefix, self.key_of, self.derived
        tally, tally_of = self.streamed.tally, self.tally_of
        groups, exact = (tally.groups, tally.exact) if tally is not None else ({}, True)
        count_at = self.tally_count
        commas = b"," in text  # thousands separators: looked for per line only if any
        for line in text[1:-1].split(b"\n"):
            cells = line.split(b"\t")
            if len(cells) != width or not cells[blank_if_null]:
                if not line.strip(b"\t\r "):
                    continue  # a blank line
                cells = (cells + [FAST_NULL] * width)[:width]
                line = b"\t".join(cells)
            if commas and b"," in line:
                for n in numeric:
                    if b"," in cells[n]:
                        cells[n] = cells[n].replace(b",", b"")
                        line = b"\t".join(cells)
            key = key_of(cells)
            found = derived.get(key)
            if found is None:
                found = self._derive(tuple([v or None for v in key]), key)
            if tally_of is not None:  # Tally.add, inline: a call per row costs a third more
                try:
                    units = int(cells[count_at])
                except ValueError:
                    exact = False
                else:
                    counts = groups.get(tally_key := b"\t".join(tally_of(cells)))
                    if counts is None:
                        groups[tally_key] = counts = [0, 0, 0]
                    if units > 0:
                        counts[0] += units
                    elif units < 0:
                        counts[1] += units
                    else:
                        counts[2] += 1
            out += (prefix, line, found[0])
        if tally is not None:
            tally.exact = exact
        return b"".join(out)

    def _convert(self, lines: list[bytes]) -> bytes:
        out: list[bytes] = []
        picks, kinds, inputs, width = self.picks, self.kinds, self.inputs, self.width
        tally, tally_of = self.streamed.tally, self.tally_of
        for raw in lines:
            line = raw[:-1] if raw.endswith(b"\r") else raw
            if not line.strip(b" \t\r"):
                continue
            if b"\\" in line:
                line = line.replace(b"\\", b"\\\\")
            cells = line.split(b"\t")
            if len(cells) <= width:
                cells.extend([b""] * (width + 1 - len(cells)))
            else:
                cells[width] = b""
            values = [cells[p].strip(b" ") for p in picks]
            for index, kind in kinds:
                if values[index]:
                    values[index] = self._typed(values[index], kind)
            key = tuple([values[i] or None for i in inputs])
            found = self.derived.get(key)
            if found is None:
                found = self._derive(key, key)
            values = [v or COPY_NULL for v in values]
            if tally is not None and tally_of is not None:
                tally.add(b"\t".join(tally_of(values)), values[self.tally_count])
            row = [self.prefix, b"\t".join(values), found[0]]
            if self.extra is not None:
                row.append(self._extra(cells))
            row.append(b"\n")
            out.append(b"".join(row))
        return b"".join(out)

    def _typed(self, value: bytes, kind: Kind) -> bytes:
        if kind == "numeric":
            return value.replace(b",", b"") if b"," in value else value
        if kind == "bool_yes":
            return b"t" if value.lower() == b"yes" else b"f"
        if kind == "territory":
            return copy_text(territories.alpha2(_text(value, self.layout)))
        return value  # dates: read by PostgreSQL's date input (ISO or MDY)

    def _derive(
        self, cells: tuple[bytes | None, ...], key: tuple[bytes | None, ...]
    ) -> tuple[bytes, tuple[str | None, ...]]:
        unescaped = tuple(None if v is None else v.replace(b"\\\\", b"\\") for v in cells)
        values = self.streamed.derive(unescaped)
        encoded = b"".join(b"\t" + copy_text(v, self.null) for v in values)
        if self.fast:  # the whole end of the line: missing fields, derived, extra
            encoded = self.missing + encoded + self.empty_extra + b"\n"
        if len(self.derived) > 100_000:  # a pathological file: keep memory flat
            self.derived.clear()
        self.derived[key] = found = (encoded, values)
        return found

    def _extra(self, cells: list[bytes]) -> bytes:
        assert self.extra is not None
        pairs = {}
        for name, position in self.extra:
            cell = cells[position].strip(b" ")
            if cell:
                pairs[name] = _text(cell.replace(b"\\\\", b"\\"), self.layout)
        return b"\t" + copy_text(json.dumps(pairs, ensure_ascii=False))


#: Kinds COPY reads from the cell as written (numbers once their thousands separators go).
_AS_WRITTEN = frozenset({"text", "numeric", "date_mdy", "date_iso", "date_any"})
#: A space before or after a tab or line break, and what it becomes: plain replaces, several
#: times faster than a regular expression with look-arounds (which tries every position).
_SPACED = ((b" \t", b"\t"), (b"\t ", b"\t"), (b" \n", b"\n"), (b"\n ", b"\n"))


def _text(line: bytes, layout: Layout) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise IngestError(f"the {layout.name} report is not UTF-8 text") from None


async def _copy_streamed(
    session: AsyncSession,
    splitter: _HeaderSplitter,
    layout: Layout,
    header: list[str],
    table: str,
    constants: Mapping[str, Any],
    replace: Mapping[str, Any],
    footer: bool,
    extra_column: str | None,
    streamed: Streamed,
) -> LoadResult:
    _check_identifiers(*streamed.columns)
    rows = _Rows(layout, header, constants, streamed, footer, extra_column is not None)
    columns: Sequence[str] = [
        *constants, *rows.columns, *streamed.columns,
        *([extra_column] if extra_column is not None and rows.extra is not None else []),
    ]  # fmt: skip
    await delete_partition(session, table, replace)
    # MM/DD/YYYY dates are read as such (the setting ends with the transaction).
    await session.execute(text("SET LOCAL DateStyle = 'ISO, MDY'"))
    driver = await asyncpg_connection(session)
    try:
        status = await driver.copy_to_table(
            table,
            source=rows.lines(splitter.body()),
            columns=list(columns),
            format="text",
            null=rows.null.decode(),
        )
    except asyncpg.PostgresError as exc:
        # SQLSTATE class 22 (data exception): a cell PostgreSQL cannot read; 22P04 and
        # friends: a line COPY cannot read.
        if not str(getattr(exc, "sqlstate", "") or "").startswith("22"):
            raise
        raise IngestError(
            f"the {layout.name} report has a value that cannot be read: {exc}"
        ) from None
    return LoadResult(
        rows=int(status.split()[-1]),
        header=header,
        unknown_columns=rows.unknown,
        footer=rows.footer_values,
        trailer=rows.trailer,
    )
