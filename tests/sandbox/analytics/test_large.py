"""Realistic volumes: a snapshot's daily history of the most popular app is an instance of more
than 100,000 rows in several segments, generated and streamed Date by Date (never held whole),
and :func:`large_snapshot` scales an app up for benchmarks."""

from __future__ import annotations

import gzip
import hashlib
import tracemalloc
from datetime import date

import pytest

from app.sandbox import SandboxState
from app.sandbox.analytics_files import FileFormat, segment_chunks, segment_plans
from app.sandbox.analytics_instances import find_instance, report_instances, request_reports
from app.sandbox.analytics_ledger import AnalyticsLedger
from app.sandbox.analytics_truth import large_snapshot
from app.sandbox.catalog import SandboxApp
from tests.sandbox.analytics.conftest import Api, at

INSTALLS = "App Store Installation and Deletion Standard"


@pytest.mark.slow
async def test_snapshot_history_is_a_large_multi_segment_instance_streamed_lazily(
    api: Api, state: SandboxState, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    request_id = await api.request_id(apps[0].id, "ONE_TIME_SNAPSHOT")
    report_id = await api.report_id(request_id, INSTALLS)
    api.clock.now = at(date(2025, 6, 13))
    [daily] = await api.instances(report_id, **{"filter[granularity]": "DAILY"})
    segments = await api.segments(daily["id"])
    assert len(segments) >= 3  # 50,000 rows per segment by default
    instance = find_instance(ledger, api.key.team, daily["id"], api.clock.now)
    assert instance is not None
    fmt = FileFormat.of(ledger, apps[0].id)
    plans = segment_plans(instance, fmt)
    assert sum(plan.rows for plan in plans) >= 100_000
    assert [p.size for p in plans] == [s["attributes"]["sizeInBytes"] for s in segments]

    last = segments[-1]["attributes"]
    content = (await api.download(last["url"])).content
    assert hashlib.md5(content).hexdigest() == last["checksum"]
    lines = gzip.decompress(content).decode().splitlines()
    assert lines[0].startswith("Date\t") and len(lines) - 1 == plans[-1].rows
    assert lines[-1].startswith("2025-06-1")  # history runs up to the day before processing

    # The bytes are produced chunk by chunk from the segment's first Date: the peak of
    # memory traced while streaming stays far below the size of the instance's text.
    tracemalloc.start()
    try:
        chunks = sum(1 for _ in segment_chunks(instance, fmt, plans[-1]))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert chunks > 5
    assert peak < 25_000_000  # the text alone is > 15 MB; generated rows as objects ≫ that


def test_large_snapshot_scales_an_app_for_benchmarks(
    state: SandboxState, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    app = apps[2]
    request_id, volume = large_snapshot(state, app.id, 6_000, report_name="App Crashes")
    assert volume > 1 and ledger.volume[app.id] == volume
    request = ledger.requests[request_id]
    assert request.access_type == "ONE_TIME_SNAPSHOT" and request.created_at < state.now()
    report_id, report = next(
        (rid, r) for rid, r in request_reports(ledger, request) if r.name == "App Crashes"
    )
    [daily] = [
        i
        for i in report_instances(ledger, request, report_id, report, state.now())
        if i.granularity == "DAILY"
    ]
    rows = sum(plan.rows for plan in segment_plans(daily, FileFormat.of(ledger, app.id)))
    assert rows >= 6_000
