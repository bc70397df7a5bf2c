"""One report date as a sync unit: download, classify Apple's answer, load, say what it was.

Apple's answers for a report date (FACTS §4.5, §7):

* 200 — the report: loaded, ``published``;
* 404 "There were no sales for the date specified." — a zero, ``no_data``, but only once the
  date is past its availability time (before that, Apple's 404s mean "not generated yet"),
  and provisional for two more days: the routine plan asks again after each daily batch
  (see :func:`app.reports.spec.dated_dataset`), and a file that comes late replaces it;
* any other 404 before or after — ``not_yet_published``, asked again later;
* past Apple's documented retention (decided by the calendar, FACTS §5.7, §8) — 410, 404 or a
  400 on ``filter[reportDate]`` alike: ``expired``, never a zero; a 410 always means expired;
* 400 naming ``filter[version]`` (in ``source.parameter``, or only in ``detail`` — the shape
  on record) — Apple moved the report to a new version: read it from the detail, retry once,
  and record the drift (the report spec persists it, so later units ask with it at once).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.client import Params
from app.asc.errors import (
    AscGone,
    AscInvalidParameter,
    AscNotFound,
    AscReportCorrupt,
    AscTransportError,
    NotFoundKind,
)
from app.asc.report_download import ReportDownload
from app.reports.ingest import Layout, LoadResult, Streamed, delete_partition, load_report
from app.sync.contract import Outcome, UnitContext, UnitResult

#: How soon to ask again about a date Apple has not published yet.
NOT_YET_RETRY = dt.timedelta(hours=2)
#: Downloads of one report per unit when its body arrives cut short (see _download_and_load).
DOWNLOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class ReportRequest:
    path: str
    params: Callable[[str | None], Params]  # version → query parameters
    version: str | None
    #: When Apple should have published this date; a "no sales" 404 before it is not a zero.
    available_at: dt.datetime
    #: The period is past Apple's documented retention: whatever Apple refuses it with (410,
    #: a "no sales" 404, a 400 on ``filter[reportDate]``), it is ``expired``, never a zero.
    expired: bool = False


async def fetch_report_unit(
    ctx: UnitContext,
    request: ReportRequest,
    layout: Layout,
    *,
    table: str,
    constants: Mapping[str, Any],
    replace: Mapping[str, Any],
    derived: Mapping[str, str] | None = None,
    footer: bool = False,
    joins: str = "",
    check: Callable[[LoadResult], None] | None = None,
    streamed: Streamed | None = None,
) -> tuple[UnitResult, LoadResult | None]:
    """Run one report unit inside ``ctx.session``'s transaction. ``check`` may raise to reject
    a loaded file (e.g. finance totals that do not add up): the transaction then rolls back."""
    version = request.version
    notes: dict[str, Any] = {}
    load = functools.partial(
        load_report,
        layout=layout,
        table=table,
        constants=constants,
        replace=replace,
        derived=derived,
        footer=footer,
        joins=joins,
        streamed=streamed,
    )
    for attempt in (1, 2):
        try:
            loaded, served_version = await _download_and_load(ctx, request, version, load)
        except AscInvalidParameter as error:
            latest = error.latest_version
            if attempt == 1 and _names_version(error) and latest and latest != version:
                ctx.log.warning("report version drift", extra={"from": version, "to": latest})
                notes["version_drift"] = {
                    "requested": version,
                    "latest": latest,
                    "at": ctx.now.isoformat(),
                }
                version = latest
                continue
            if request.expired and error.parameter in (None, "filter[reportDate]"):
                return UnitResult(Outcome.EXPIRED, detail=error.detail, notes=notes), None
            raise
        except AscGone as error:
            return UnitResult(Outcome.EXPIRED, detail=error.detail, notes=notes), None
        except AscNotFound as error:
            if request.expired:
                return UnitResult(Outcome.EXPIRED, detail=error.detail, notes=notes), None
            if error.kind is NotFoundKind.NO_SALES and ctx.now >= request.available_at:
                # A real zero: make sure nothing is left from an earlier fetch.
                await delete_partition(ctx.session, table, replace)
                return UnitResult(Outcome.NO_DATA, detail=error.detail, notes=notes), None
            retry_at = max(request.available_at, ctx.now + NOT_YET_RETRY)
            return (
                UnitResult(
                    Outcome.NOT_YET_PUBLISHED, retry_at=retry_at, detail=error.detail, notes=notes
                ),
                None,
            )
        if check is not None:
            check(loaded)
        notes["report_version"] = served_version
        if loaded.unknown_columns:
            notes["unknown_columns"] = loaded.unknown_columns
        return (
            UnitResult(
                Outcome.PUBLISHED, rows=loaded.rows, report_version=served_version, notes=notes
            ),
            loaded,
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _names_version(error: AscInvalidParameter) -> bool:
    """Apple refused ``filter[version]``: named in ``source.parameter``, or — the shape on
    record (Ponytech/appstoreconnectapi #62, #10) — only in ``detail`` ("… The latest version
    for this report is 1_1.", "Please include the version parameter …")."""
    if error.parameter == "filter[version]":
        return True
    if error.parameter is not None:
        return False  # Apple named another parameter: not a version problem
    texts = [error.detail, *(item.detail for item in error.errors)]
    return any(text and "version" in text.lower() for text in texts)


async def _download_and_load(
    ctx: UnitContext,
    request: ReportRequest,
    version: str | None,
    load: Callable[[AsyncSession, ReportDownload], Awaitable[LoadResult]],
) -> tuple[LoadResult, str | None]:
    """Stream the report into its partition; fetch it again whole if it arrives broken.

    The client retries a download only until its first bytes are delivered. A body cut
    short after that (a truncated gzip, a connection dropped mid-file) surfaces here, when
    rows are already in the COPY: each try runs in a savepoint, so a broken one leaves
    nothing behind, and the next downloads the file from the start.
    """
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        download = ctx.client.stream_report(request.path, request.params(version))
        try:
            async with ctx.session.begin_nested(), download:
                loaded = await load(ctx.session, download)
                return loaded, download.version or version
        except (AscReportCorrupt, AscTransportError) as error:
            mid_body = isinstance(error, AscReportCorrupt) or download.bytes_received > 0
            if not mid_body or attempt == DOWNLOAD_ATTEMPTS:
                raise
            ctx.log.warning(
                "report download broken off; fetching it again",
                extra={"attempt": attempt, "error": str(error)},
            )
    raise AssertionError("unreachable")  # pragma: no cover
