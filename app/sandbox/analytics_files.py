"""Report instance files: rows → gzip TSV segments, their size and MD5, streamed on demand.

An instance's rows are generated Date by Date (never all at once) and cut into segments of
``rows_per_segment`` rows; each segment is its own gzip file (ANALYTICS §5: gzip, TAB, one
header row, empty cells for nulls, unquoted unless the ``quoting`` knob says otherwise).
``sizeInBytes`` and ``checksum`` (lowercase MD5 hex of the gzip bytes, ANALYTICS §0.7) come
from one streaming pass whose result is cached per instance content; a download replays the
same deterministic compression from the segment's first Date, so a million-row instance never
sits in memory.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from app.sandbox.analytics_catalog import TERRITORY_NAMES
from app.sandbox.analytics_data import Row, date_rows, layout, period_rows, served_rows
from app.sandbox.analytics_instances import Instance, Part
from app.sandbox.analytics_ledger import AnalyticsLedger
from app.sandbox.seeding import stable_uuid

#: Lines handed to the compressor at a time (identical in both passes: same bytes out).
_BATCH_LINES = 2000
_PLAN_CACHE_SIZE = 4096
_TAB = "\t"  # ANALYTICS §5: tab-separated, no quoting


@dataclass(frozen=True)
class FileFormat:
    """The options that change a file's bytes (see :class:`.AnalyticsOptions`)."""

    rows_per_segment: int
    header_every_segment: bool
    bom: bool
    territory_names: bool
    quote_minimal: bool
    suppress_standard: bool
    noise: bool
    volume: float

    @classmethod
    def of(cls, ledger: AnalyticsLedger, app_id: str) -> FileFormat:
        o = ledger.options
        return cls(
            rows_per_segment=max(1, o.rows_per_segment),
            header_every_segment=o.segment_headers == "every",
            bom=o.bom,
            territory_names=o.territory_format == "name",
            quote_minimal=o.quoting == "minimal",
            suppress_standard=o.suppress_standard_rows,
            noise=o.detailed_noise,
            volume=ledger.volume_of(app_id),
        )


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    index: int
    size: int  # compressed bytes
    md5: str
    rows: int  # data rows (header excluded)
    start_part: int  # the instance part holding the segment's first row
    skip: int  # rows of that part that belong to earlier segments


def segment_id(instance: Instance, index: int) -> str:
    return stable_uuid(instance.id, "segment", index)


# --- rows --------------------------------------------------------------------------------


def part_rows(instance: Instance, part: Part, fmt: FileFormat) -> list[Row]:
    """True rows of one part (before privacy rules)."""
    report, family = instance.report, instance.report.family
    assert family is not None
    team, app, window = instance.request.team, instance.app, report.completeness_days
    if part.granularity == "DAILY":
        return date_rows(
            team,
            family,
            app,
            part.start,
            detailed=report.detailed,
            vintage=part.vintage,
            window=window,
            factor=part.factor,
            volume=fmt.volume,
        )
    return period_rows(
        team, family, app, part.days(), detailed=report.detailed, window=window, volume=fmt.volume
    )


def _territory_column(instance: Instance) -> int | None:
    family = instance.report.family
    assert family is not None
    lay = layout(family)
    dims = [
        d for i, d in enumerate(lay.dims) if instance.report.detailed or i not in lay.detailed_only
    ]
    return dims.index("Territory") if "Territory" in dims else None


def instance_lines(
    instance: Instance, fmt: FileFormat, start_part: int = 0
) -> Iterator[tuple[int, int, str]]:
    """``(part index, row offset in part, line)`` for every data row from ``start_part``."""
    family = instance.report.family
    assert family is not None
    territory = _territory_column(instance) if fmt.territory_names else None
    lead_app = f"\t{instance.app.name}\t{instance.app.id}\t"
    for index in range(start_part, len(instance.parts)):
        part = instance.parts[index]
        salt = f"{part.granularity}|{part.start}"
        rows = served_rows(
            family,
            part_rows(instance, part, fmt),
            detailed=instance.report.detailed,
            salt=salt,
            suppress_standard=fmt.suppress_standard,
            noise=fmt.noise,
        )
        lead = part.start.isoformat() + lead_app
        for offset, (dims, metrics) in enumerate(rows):
            cells = dims
            if territory is not None:
                named = TERRITORY_NAMES.get(dims[territory], dims[territory])
                cells = (*dims[:territory], named, *dims[territory + 1 :])
            if fmt.quote_minimal:
                cells = tuple(_quoted(cell) for cell in cells)
            yield index, offset, f"{lead}{_TAB.join(cells)}{_TAB}{_TAB.join(map(str, metrics))}\n"


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if '"' in cell else cell


def header_line(instance: Instance) -> str:
    return _TAB.join(instance.report.header) + "\n"


def _gzip(lines: Iterator[str]) -> Iterator[bytes]:
    """Deterministic gzip (zlib's gzip wrapper writes mtime 0) of ``lines``, in chunks."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= _BATCH_LINES:
            out = compressor.compress("".join(batch).encode("utf-8"))
            batch.clear()
            if out:
                yield out
    if batch:
        out = compressor.compress("".join(batch).encode("utf-8"))
        if out:
            yield out
    yield compressor.flush()


def _file_lines(
    instance: Instance, fmt: FileFormat, index: int, rows: Iterator[str]
) -> Iterator[str]:
    prefix = "\ufeff" if fmt.bom else ""
    if index == 0 or fmt.header_every_segment:
        yield prefix + header_line(instance)
    elif prefix:
        yield prefix
    yield from rows


# --- plans and bytes ---------------------------------------------------------------------

_PLANS: dict[tuple[object, ...], tuple[SegmentPlan, ...]] = {}


def _plan_key(instance: Instance, fmt: FileFormat) -> tuple[object, ...]:
    return (instance.id, instance.request.team, instance.report, instance.parts, fmt)


def segment_plans(instance: Instance, fmt: FileFormat) -> tuple[SegmentPlan, ...]:
    """The instance's segments (one streaming pass, then cached)."""
    key = _plan_key(instance, fmt)
    cached = _PLANS.get(key)
    if cached is None:
        cached = tuple(_plan(instance, fmt))
        if len(_PLANS) >= _PLAN_CACHE_SIZE:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = cached
    return cached


def _plan(instance: Instance, fmt: FileFormat) -> Iterator[SegmentPlan]:
    rows = instance_lines(instance, fmt)
    pending = next(rows, None)
    index = 0
    while index == 0 or pending is not None:
        start = (pending[0], pending[1]) if pending is not None else (len(instance.parts), 0)
        taken = 0

        def segment_rows() -> Iterator[str]:
            nonlocal pending, taken
            while pending is not None and taken < fmt.rows_per_segment:
                yield pending[2]
                taken += 1
                pending = next(rows, None)

        digest, size = hashlib.md5(usedforsecurity=False), 0
        for chunk in _gzip(_file_lines(instance, fmt, index, segment_rows())):
            digest.update(chunk)
            size += len(chunk)
        yield SegmentPlan(index, size, digest.hexdigest(), taken, start[0], start[1])
        index += 1


def segment_chunks(instance: Instance, fmt: FileFormat, plan: SegmentPlan) -> Iterator[bytes]:
    """The gzip bytes of one segment, generated from its first Date on."""

    def rows() -> Iterator[str]:
        taken = 0
        for part, offset, line in instance_lines(instance, fmt, plan.start_part):
            if part == plan.start_part and offset < plan.skip:
                continue
            if taken == plan.rows:
                return
            taken += 1
            yield line

    return _gzip(_file_lines(instance, fmt, plan.index, rows()))
