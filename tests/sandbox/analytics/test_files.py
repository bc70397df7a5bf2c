"""Segments and their files: pre-signed URLs (no auth, 5-minute expiry), gzip TSV with the
report's exact header, size and MD5, corruption, multi-segment instances and the file-format
variants (header per segment, BOM, territory names)."""

from __future__ import annotations

import gzip
import hashlib
from datetime import date
from typing import Any

import pytest

from app.sandbox.analytics_catalog import report_catalogue
from app.sandbox.analytics_ledger import AnalyticsLedger
from app.sandbox.catalog import SandboxApp
from tests.sandbox.analytics.conftest import Api, at
from tests.sandbox.helpers import assert_error

SESSIONS = "App Sessions Standard"


async def first_instance(api: Api, app: SandboxApp, report: str = SESSIONS) -> dict[str, Any]:
    request_id = await api.request_id(app.id)
    report_id = await api.report_id(request_id, report)
    api.clock.now = at(date(2025, 6, 12))
    return (await api.instances(report_id))[0]


def lines_of(content: bytes) -> list[str]:
    assert content[:2] == b"\x1f\x8b"
    text = gzip.decompress(content).decode("utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


async def test_segment_download_matches_size_and_md5(
    api: Api, apps: tuple[SandboxApp, ...]
) -> None:
    instance = await first_instance(api, apps[0])
    [segment] = await api.segments(instance["id"])
    attributes = segment["attributes"]
    assert set(attributes) == {"checksum", "sizeInBytes", "url"}
    downloaded = await api.download(attributes["url"])
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "application/octet-stream"
    assert "content-encoding" not in downloaded.headers
    assert len(downloaded.content) == attributes["sizeInBytes"]
    assert hashlib.md5(downloaded.content).hexdigest() == attributes["checksum"]
    assert downloaded.headers["etag"] == f'"{attributes["checksum"]}"'
    header, *rows = lines_of(downloaded.content)
    assert header.split("\t") == [
        "Date", "App Name", "App Apple Identifier", "App Version", "Device", "Platform Version",
        "Source Type", "Page Type", "App Download Date", "Territory", "Sessions",
        "Total Session Duration", "Unique Devices",
    ]  # fmt: skip
    assert rows and all(len(r.split("\t")) == 13 for r in rows)
    assert {r.split("\t")[0] for r in rows} == {f"2025-06-{d:02d}" for d in range(7, 12)}
    single = await api.ok(
        f"/v1/analyticsReportSegments/{segment['id']}", "/v1/analyticsReportSegments/{id}"
    )
    assert single["data"]["attributes"]["checksum"] == attributes["checksum"]
    linkages = await api.ok(
        f"/v1/analyticsReportInstances/{instance['id']}/relationships/segments",
        "/v1/analyticsReportInstances/{id}/relationships/segments",
    )
    assert linkages["data"] == [{"type": "analyticsReportSegments", "id": segment["id"]}]


@pytest.mark.parametrize("report", [r.name for r in report_catalogue() if r.family is not None])
async def test_every_data_report_has_its_documented_header(
    api: Api, apps: tuple[SandboxApp, ...], report: str
) -> None:
    instance = await first_instance(api, apps[2], report)
    [segment] = await api.segments(instance["id"])
    header, *_ = lines_of((await api.download(segment["attributes"]["url"])).content)
    expected = next(r for r in report_catalogue() if r.name == report).header
    assert tuple(header.split("\t")) == expected
    detailed_only = {"Source Info", "Campaign", "Page Title"}
    assert bool(detailed_only & set(expected)) == report.endswith("Detailed")


async def test_url_expires_after_five_minutes_as_s3_access_denied(
    api: Api, apps: tuple[SandboxApp, ...]
) -> None:
    instance = await first_instance(api, apps[1])
    [segment] = await api.segments(instance["id"])
    url = segment["attributes"]["url"]
    api.clock.advance(seconds=300)
    assert (await api.download(url)).status_code == 200  # still valid at 5:00
    api.clock.advance(seconds=1)
    expired = await api.download(url)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired.text
    # A fresh listing (or single GET) mints a new URL that works.
    [again] = await api.segments(instance["id"])
    assert (await api.download(again["attributes"]["url"])).status_code == 200


async def test_expired_url_variant_expired_token(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    ledger.options.expired_url = "expired_token"
    instance = await first_instance(api, apps[1])
    [segment] = await api.segments(instance["id"])
    api.clock.advance(minutes=6)
    expired = await api.download(segment["attributes"]["url"])
    assert expired.status_code == 400 and "<Code>ExpiredToken</Code>" in expired.text


async def test_url_refuses_a_bearer_token_and_a_tampered_signature(
    api: Api, apps: tuple[SandboxApp, ...]
) -> None:
    instance = await first_instance(api, apps[1])
    [segment] = await api.segments(instance["id"])
    url = segment["attributes"]["url"]
    with_auth = await api.client.get(url, headers=api.headers())
    assert with_auth.status_code == 400 and "<Code>InvalidArgument</Code>" in with_auth.text
    tampered = await api.download(url.replace("X-Amz-Expires=300", "X-Amz-Expires=9000"))
    assert tampered.status_code == 403 and "SignatureDoesNotMatch" in tampered.text
    missing = await api.download(url.replace("/0.csv.gz", "/7.csv.gz"))
    assert missing.status_code == 403  # the signature covers the path


async def test_deleted_request_makes_its_urls_404(api: Api, apps: tuple[SandboxApp, ...]) -> None:
    instance = await first_instance(api, apps[1])
    [segment] = await api.segments(instance["id"])
    request_id = (await api.get(f"/v1/apps/{apps[1].id}/analyticsReportRequests")).json()["data"][
        0
    ]["id"]
    await api.client.delete(f"/v1/analyticsReportRequests/{request_id}", headers=api.headers())
    gone = await api.download(segment["attributes"]["url"])
    assert gone.status_code == 404 and "NoSuchKey" in gone.text
    assert_error(await api.get(f"/v1/analyticsReportSegments/{segment['id']}"), 404, "NOT_FOUND")


@pytest.mark.parametrize("always", [False, True])
async def test_corrupted_segment_fails_its_checksum(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...], always: bool
) -> None:
    instance = await first_instance(api, apps[1])
    [segment] = await api.segments(instance["id"])
    ledger.corrupt(segment["id"], always=always)
    attributes = segment["attributes"]
    first = (await api.download(attributes["url"])).content
    assert len(first) == attributes["sizeInBytes"]
    assert hashlib.md5(first).hexdigest() != attributes["checksum"]
    second = (await api.download(attributes["url"])).content
    assert (hashlib.md5(second).hexdigest() == attributes["checksum"]) is not always


async def test_truncated_segment_fails_its_size(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    instance = await first_instance(api, apps[1])
    [segment] = await api.segments(instance["id"])
    ledger.corrupt(segment["id"], kind="truncate")
    cut = (await api.download(segment["attributes"]["url"])).content
    assert 0 < len(cut) < segment["attributes"]["sizeInBytes"]
    with pytest.raises(EOFError):
        gzip.decompress(cut)


@pytest.mark.parametrize("headers", ["every", "first"])
async def test_multi_segment_instance(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...], headers: str
) -> None:
    ledger.options.rows_per_segment = 400
    ledger.options.segment_headers = headers  # type: ignore[assignment]
    instance = await first_instance(api, apps[1])
    segments = await api.segments(instance["id"])
    assert len(segments) > 2
    assert len({s["id"] for s in segments}) == len(segments)
    rows, first_lines = [], []
    for segment in segments:
        content = (await api.download(segment["attributes"]["url"])).content
        assert hashlib.md5(content).hexdigest() == segment["attributes"]["checksum"]
        lines = lines_of(content)
        first_lines.append(lines[0])
        rows += [line for line in lines if not line.startswith("Date\t")]
    has_header = [line.startswith("Date\t") for line in first_lines]
    assert has_header == (
        [True] * len(segments) if headers == "every" else [True] + [False] * (len(segments) - 1)
    )
    ledger.options.rows_per_segment = 50_000
    [whole] = await api.segments(instance["id"])
    single = lines_of((await api.download(whole["attributes"]["url"])).content)[1:]
    assert rows == single


async def test_bom_and_territory_name_variants(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    instance = await first_instance(api, apps[1])
    [plain] = await api.segments(instance["id"])
    plain_lines = lines_of((await api.download(plain["attributes"]["url"])).content)
    assert {line.split("\t")[9] for line in plain_lines[1:]} >= {"US"}
    ledger.options.bom = True
    ledger.options.territory_format = "name"
    [varied] = await api.segments(instance["id"])
    assert varied["attributes"]["checksum"] != plain["attributes"]["checksum"]
    content = (await api.download(varied["attributes"]["url"])).content
    assert hashlib.md5(content).hexdigest() == varied["attributes"]["checksum"]
    lines = lines_of(content)
    assert lines[0].startswith("\ufeffDate\t")
    territories = {line.split("\t")[9] for line in lines[1:]}
    assert "United States" in territories and "US" not in territories


@pytest.mark.parametrize("quoting", ["none", "minimal"])
async def test_quoting_variants(
    api: Api, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...], quoting: str
) -> None:
    ledger.options.quoting = quoting  # type: ignore[assignment]
    instance = await first_instance(api, apps[2], "App Sessions Detailed")
    [segment] = await api.segments(instance["id"])
    content = (await api.download(segment["attributes"]["url"])).content
    assert hashlib.md5(content).hexdigest() == segment["attributes"]["checksum"]
    header, *rows = lines_of(content)
    title = header.split("\t").index("Page Title")
    titles = {row.split("\t")[title] for row in rows}
    if quoting == "none":
        assert 'Holiday "Gift" Guide' in titles
    else:
        assert '"Holiday ""Gift"" Guide"' in titles and 'Holiday "Gift" Guide' not in titles
