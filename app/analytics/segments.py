"""One report instance into ``analytics_rows``: every segment downloaded at once, checked
(size and MD5 of the compressed bytes, ANALYTICS §0.7), gunzipped and streamed into COPY by
header name (:mod:`app.reports.ingest`).

Each segment loads in a savepoint and the checks run as its last bytes pass, before the rows
leave the staging table: a bad checksum, a cut body or an expired URL leaves nothing behind.
Such a segment is fetched once more with a fresh URL (``GET /v1/analyticsReportSegments/{id}``;
the listed URL may have expired, ANALYTICS §9); a second failure fails the unit, clearly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.apple import AppleSegment, get_segment
from app.analytics.catalog import ReportDef
from app.asc.client import AscClient
from app.asc.errors import AscReportCorrupt
from app.asc.report_download import GzipDecoder
from app.reports.ingest import IngestError, LoadResult, load_report
from app.sync.contract import PermanentUnitError

TABLE = "analytics_rows"
_S3_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")
#: A data line starts with its ``Date`` (``2025-06-01``); a header line with a name.
_DATA_LINE = re.compile(rb"^(\xef\xbb\xbf)?\d{4}-\d{2}-\d{2}\t")


class SegmentBroken(Exception):
    """This download of a segment cannot be used (expired URL, wrong size or checksum, bad
    gzip); a fresh URL may help."""


class SegmentUnreadable(PermanentUnitError):
    """A segment failed twice, with two URLs: the unit fails with this message."""

    code = "segment_unreadable"


@dataclass(frozen=True)
class InstanceTarget:
    """Where an instance's rows go: bound to every row."""

    workspace_id: object
    app_id: object
    instance_id: object
    report: ReportDef
    #: The instance's: where its rows are partitioned (one leaf, made before the load).
    granularity: str
    processing_date: dt.date


async def _checked_bytes(client: AscClient, segment: AppleSegment) -> AsyncIterator[bytes]:
    """The segment's compressed bytes; raises SegmentBroken at the end if they are not what
    Apple announced (or at once if S3 refuses the URL)."""
    assert segment.url is not None
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    async with client.stream_presigned(segment.url) as response:
        if response.status_code != 200:
            body = await response.aread()
            found = _S3_CODE.search(body)
            code = found.group(1).decode(errors="replace") if found else "no error code"
            raise SegmentBroken(f"the segment URL answered {response.status_code} ({code})")
        async for chunk in response.aiter_raw():
            digest.update(chunk)
            size += len(chunk)
            yield chunk
    if segment.size is not None and size != segment.size:
        raise SegmentBroken(f"the segment has {size} bytes, Apple announced {segment.size}")
    if segment.checksum is not None and digest.hexdigest() != segment.checksum:
        raise SegmentBroken("the segment's MD5 checksum does not match Apple's")


async def _text(
    client: AscClient, segment: AppleSegment, header: list[str] | None
) -> AsyncIterator[bytes]:
    """Gunzipped text of the segment; a later segment without its own header line gets the
    first segment's (ANALYTICS §5: per-segment headers are unconfirmed)."""
    decoder = GzipDecoder()
    first = True
    broken: str | None = None
    async for chunk in _checked_bytes(client, segment):
        if broken is not None:
            continue  # read to the end: a size or checksum mismatch explains it better
        try:
            pieces = decoder.feed(chunk)
        except AscReportCorrupt as error:
            broken = str(error)
            continue
        for piece in pieces:
            if first and piece:
                first = False
                if header is not None and _DATA_LINE.match(piece):
                    yield ("\t".join(header) + "\n").encode()
            yield piece
    try:
        tail = [] if broken is not None else decoder.finish()
    except AscReportCorrupt as error:
        broken = str(error)
    if broken is not None:
        raise SegmentBroken(f"the segment is not valid gzip ({broken})")
    for piece in tail:
        yield piece


async def load_segment(
    session: AsyncSession,
    client: AscClient,
    target: InstanceTarget,
    index: int,
    segment: AppleSegment,
    header: list[str] | None,
) -> LoadResult:
    """Replace segment ``index`` of the instance with its rows (two tries, two URLs)."""
    reason = ""
    for attempt in (1, 2):
        if attempt == 2:
            segment = await get_segment(client, segment.id)
        if segment.url is None:
            raise SegmentUnreadable(f"Apple gave no URL for segment {segment.id}")
        try:
            async with session.begin_nested():
                return await load_report(
                    session,
                    _text(client, segment, header),
                    target.report.layout,
                    table=TABLE,
                    constants={
                        "workspace_id": target.workspace_id,
                        "app_id": target.app_id,
                        "instance_id": target.instance_id,
                        "segment": index,
                        "report": target.report.report.value,
                        "granularity": target.granularity,
                        "processing_date": target.processing_date,
                    },
                    # The partition keys first: the delete reads the instance's one leaf.
                    replace={
                        "granularity": target.granularity,
                        "processing_date": target.processing_date,
                        "instance_id": target.instance_id,
                        "segment": index,
                    },
                    extra_column=None,
                )
        except SegmentBroken as error:
            reason = str(error)
        except IngestError as error:
            # asyncpg reports an error raised by the COPY source as a failed COPY.
            cause = error.__context__
            if not isinstance(cause, SegmentBroken):
                raise
            reason = str(cause)
    raise SegmentUnreadable(
        f"segment {index} of the {target.report.name} instance could not be read twice, with "
        f"two URLs: {reason}"
    )
