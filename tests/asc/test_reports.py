"""Report parsing (gzip sniffing, streaming TSV by header) and report downloads."""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import httpx
import pytest
import respx

from app.asc.client import AscClient
from app.asc.errors import (
    AscGone,
    AscInvalidParameter,
    AscNotFound,
    AscReportCorrupt,
    AscTransportError,
    NotFoundKind,
)
from app.asc.report_download import GzipDecoder
from tests.asc.conftest import RecordingSleep, apple_error
from tests.fixtures.apple_files import sample_path
from tests.fixtures.report_rows import finance_report_rows, sales_report_rows
from tests.fixtures.tsv import (
    TsvRowParser,
    aiter_decoded,
    aiter_tsv_rows,
    iter_decoded,
    iter_tsv_rows,
    read_tsv_file,
)

SALES_SAMPLE = "sales_summary_daily_v1_0__kachit.tsv"
FINANCE_EU_SAMPLE = "finance_financial_region_EU__fedoco.txt"


def _rows(data: bytes, *, chunk: int = 7, stop_at_total: bool = False) -> list[dict[str, str]]:
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    return list(iter_tsv_rows(chunks, stop_at_total=stop_at_total))


def _one_byte_chunks(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# -- TSV parsing ---------------------------------------------------------------------------


def test_rows_keyed_by_header_with_crlf_and_blank_lines() -> None:
    data = b"A\tB\tC\r\n1\t2\t3\r\n\r\n  \r\n4\t \t6\r\n"
    assert _rows(data) == [{"A": "1", "B": "2", "C": "3"}, {"A": "4", "B": " ", "C": "6"}]


def test_reordered_columns_parse_by_name() -> None:
    first = _rows(b"Units\tSKU\n5\tcom.a\n")
    second = _rows(b"SKU\tUnits\ncom.a\t5\n")
    assert first == second == [{"Units": "5", "SKU": "com.a"}]


def test_short_and_long_rows() -> None:
    rows = _rows(b"A\tB\tC\n1\n1\t2\t3\t4\t\t6\n1\t2\t3\t\n")
    assert rows == [
        {"A": "1", "B": "", "C": ""},
        {"A": "1", "B": "2", "C": "3", "_extra_1": "4", "_extra_3": "6"},
        {"A": "1", "B": "2", "C": "3"},
    ]


def test_no_trailing_newline_bom_and_header_cleanup() -> None:
    rows = _rows("\ufeff A \tB\tB\t\nx\ty\tz\tw".encode())
    assert rows == [{"A": "x", "B": "y", "B_2": "z", "_column_4": "w"}]


def test_multibyte_utf8_split_across_chunks() -> None:
    data = "Title\tPrice\nÜberApp — 日本\t¥120\n".encode()
    rows = list(iter_tsv_rows(_one_byte_chunks(data)))
    assert rows == [{"Title": "ÜberApp — 日本", "Price": "¥120"}]


def test_invalid_utf8_is_corrupt() -> None:
    with pytest.raises(AscReportCorrupt, match="UTF-8"):
        _rows(b"A\n\xff\xfe\n")
    with pytest.raises(AscReportCorrupt, match="UTF-8"):
        _rows(b"A\nabc\xe6\x97")  # cut inside a multi-byte character at EOF


def test_empty_input() -> None:
    parsed = iter_tsv_rows([])
    assert list(parsed) == []
    assert parsed.header is None


def test_stop_at_total_collects_footer() -> None:
    data = b"A\tB\n1\t2\n3\t4\nTotal_Rows\t2\nTotal_Amount\t6.00\n\nTotal_Units\t4\n"
    parsed = iter_tsv_rows([data], stop_at_total=True)
    assert list(parsed) == [{"A": "1", "B": "2"}, {"A": "3", "B": "4"}]
    assert parsed.totals == {"Total_Rows": "2", "Total_Amount": "6.00", "Total_Units": "4"}
    assert parsed.parser.footer_row_count == parsed.row_count == 2


def test_lines_after_footer_are_counted_not_mixed_in() -> None:
    data = b"A\tB\n1\t2\nTotal_Rows\t1\nA\tB\n9\t9\n"
    parsed = iter_tsv_rows([data], stop_at_total=True)
    assert list(parsed) == [{"A": "1", "B": "2"}]
    assert parsed.parser.ignored_lines == 2


def test_total_rows_are_data_without_stop_at_total() -> None:
    rows = _rows(b"A\tB\n1\t2\nTotal_Rows\t1\n")
    assert rows[-1] == {"A": "Total_Rows", "B": "1"}


def test_parser_push_api() -> None:
    parser = TsvRowParser()
    assert parser.feed(b"A\tB\n1\t") == []
    assert parser.feed(b"2\n3") == [{"A": "1", "B": "2"}]
    assert parser.close() == [{"A": "3", "B": ""}]
    assert parser.row_count == 2
    with pytest.raises(RuntimeError):
        parser.feed(b"x")


def test_real_sales_sample_46_rows_28_columns() -> None:
    path = sample_path(SALES_SAMPLE)
    parsed = read_tsv_file(path, chunk_size=512)
    rows = list(parsed)
    header = path.read_text().split("\n", 1)[0].split("\t")
    assert len(header) == 28
    assert parsed.header == header
    assert len(rows) == 46
    assert all(list(row) == header for row in rows)
    refund = [r for r in rows if r["Customer Price"] == "-85.43"]
    assert refund and refund[0]["Developer Proceeds"] == "59.80"
    assert rows[0]["Developer"] == " "  # single-space cells are kept raw


def test_real_finance_sample_stops_at_total(tmp_path: Path) -> None:
    path = sample_path(FINANCE_EU_SAMPLE)
    parsed = read_tsv_file(path, stop_at_total=True)
    rows = list(parsed)
    assert len(rows) == 6
    assert all(not r["Start Date"].startswith("Total_") for r in rows)
    assert rows[0]["Sales or Return"] == "R"
    assert rows[0]["Extended Partner Share"] == "-12.17"
    assert parsed.totals == {"Total_Rows": "6", "Total_Amount": "206.89", "Total_Units": "20"}
    assert parsed.parser.footer_row_count == len(rows)

    gz = tmp_path / "report.txt.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert list(read_tsv_file(gz, stop_at_total=True, chunk_size=16)) == rows


async def test_async_rows_and_batches() -> None:
    async def source() -> AsyncIterator[bytes]:
        for chunk in (b"A\tB\n1\t", b"2\n3\t4\n", b"5\t6"):
            yield chunk

    assert [r async for r in aiter_tsv_rows(source())] == [
        {"A": "1", "B": "2"},
        {"A": "3", "B": "4"},
        {"A": "5", "B": "6"},
    ]
    batches = [b async for b in aiter_tsv_rows(source()).batches()]
    assert [len(b) for b in batches] == [2, 1]  # rows completed per chunk


# -- gzip ------------------------------------------------------------------------------------

TEXT = b"Provider\tUnits\n" + b"".join(b"APPLE\t%d\n" % i for i in range(2000))


def _decoded(chunks: Iterable[bytes]) -> bytes:
    return b"".join(iter_decoded(chunks))


def test_gzip_detected_and_decoded_in_tiny_chunks() -> None:
    assert _decoded(_one_byte_chunks(gzip.compress(TEXT))) == TEXT


def test_plain_text_passes_through() -> None:
    assert _decoded([TEXT[:1], TEXT[1:50], TEXT[50:]]) == TEXT
    assert _decoded([b"x"]) == b"x"
    assert _decoded([]) == b""


def test_multi_member_gzip_and_zero_padding() -> None:
    data = gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:]) + b"\x00\x00"
    assert _decoded([data]) == TEXT
    assert _decoded(_one_byte_chunks(data)) == TEXT


@pytest.mark.parametrize("cut", [10, 30, -8, -1])
def test_truncated_gzip_is_corrupt(cut: int) -> None:
    data = gzip.compress(TEXT)[:cut]
    with pytest.raises(AscReportCorrupt):
        _decoded([data])


def test_corrupted_gzip_and_trailing_garbage() -> None:
    data = bytearray(gzip.compress(TEXT))
    data[-6] ^= 0xFF  # CRC/size trailer
    with pytest.raises(AscReportCorrupt):
        _decoded([bytes(data)])
    with pytest.raises(AscReportCorrupt, match="garbage"):
        _decoded([gzip.compress(TEXT) + b"junk"])


def test_gzip_decoder_bounds_output_per_step() -> None:
    bomb = gzip.compress(b"\x00" * (5 << 20))
    pieces = GzipDecoder().feed(bomb)
    assert max(len(p) for p in pieces) <= 1 << 20
    assert sum(len(p) for p in pieces) == 5 << 20


async def test_async_decoding() -> None:
    async def source() -> AsyncIterator[bytes]:
        data = gzip.compress(TEXT)
        for i in range(0, len(data), 100):
            yield data[i : i + 100]

    assert b"".join([c async for c in aiter_decoded(source())]) == TEXT


# -- downloads through the client -----------------------------------------------------------


def _report_response(body: bytes, **headers: str) -> httpx.Response:
    base = {
        "Content-Type": "application/a-gzip",
        "x-reports-download-version": "1_0",
        "x-reports-filename": "S_D_80012345_20201005.txt.gz",
        "X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:3590;",
    }
    base.update(headers)
    return httpx.Response(200, content=body, headers=base)


async def test_sales_report_rows_agzip(apple: respx.MockRouter, client: AscClient) -> None:
    data = sample_path(SALES_SAMPLE).read_bytes()
    route = apple.get("/v1/salesReports").mock(
        return_value=_report_response(gzip.compress(data), **{"Content-Encoding": "agzip"})
    )

    async with sales_report_rows(
        client, "80012345", "SALES", "SUMMARY", "DAILY", dt.date(2020, 10, 5), "1_0"
    ) as report:
        assert report.version == "1_0"
        rows = [row async for row in report]

    assert len(rows) == 46
    assert report.header is not None and len(report.header) == 28
    assert all(len(row) == 28 for row in rows)
    request = route.calls.last.request
    assert request.headers["Accept"] == "application/a-gzip"
    assert dict(request.url.params) == {
        "filter[vendorNumber]": "80012345",
        "filter[reportType]": "SALES",
        "filter[reportSubType]": "SUMMARY",
        "filter[frequency]": "DAILY",
        "filter[reportDate]": "2020-10-05",
        "filter[version]": "1_0",
    }
    assert report.download.is_gzip is True
    assert client.rate_limit is not None and client.rate_limit.remaining == 3590


@pytest.mark.parametrize(
    ("frequency", "date", "expected"),
    [
        ("WEEKLY", dt.date(2020, 10, 4), "2020-10-04"),
        ("MONTHLY", dt.date(2020, 10, 1), "2020-10"),
        ("YEARLY", dt.date(2020, 1, 1), "2020"),
        ("DAILY", "2020-10-05", "2020-10-05"),
    ],
)
async def test_report_date_formats(
    apple: respx.MockRouter, client: AscClient, frequency: str, date: dt.date | str, expected: str
) -> None:
    route = apple.get("/v1/salesReports").mock(return_value=_report_response(b"A\n"))
    rows = [
        r async for r in sales_report_rows(client, "1", "SALES", "SUMMARY", frequency, date, None)
    ]
    assert rows == []
    params = route.calls.last.request.url.params
    assert params["filter[reportDate]"] == expected
    assert "filter[version]" not in params


async def test_plain_report_body_passes_through(apple: respx.MockRouter, client: AscClient) -> None:
    apple.get("/v1/salesReports").mock(
        return_value=_report_response(b"A\tB\r\n1\t2\r\n", **{"Content-Type": "text/plain"})
    )
    report = sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", "2020-10-05", "1_0")
    assert [row async for row in report] == [{"A": "1", "B": "2"}]
    assert report.download.is_gzip is False
    assert report.version == "1_0"


async def test_content_encoding_gzip_decoded_by_httpx_still_works(
    apple: respx.MockRouter, client: AscClient
) -> None:
    apple.get("/v1/salesReports").mock(
        return_value=_report_response(gzip.compress(TEXT), **{"Content-Encoding": "gzip"})
    )
    async with client.stream_report("/v1/salesReports", {"filter[x]": "1"}) as download:
        body = b"".join([chunk async for chunk in download])
    assert body == TEXT
    assert download.is_gzip is False  # httpx already decoded it


async def test_truncated_report_raises_corrupt(apple: respx.MockRouter, client: AscClient) -> None:
    route = apple.get("/v1/salesReports").mock(
        return_value=_report_response(gzip.compress(TEXT)[:-20], **{"Content-Encoding": "agzip"})
    )
    report = sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", "2020-10-05", "1_0")
    with pytest.raises(AscReportCorrupt):
        async for _ in report:
            pass
    assert route.call_count == 1


async def test_streamed_chunks_are_decoded_incrementally(
    apple: respx.MockRouter, client: AscClient
) -> None:
    data = gzip.compress(TEXT)

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 64):
            yield data[i : i + 64]

    apple.get("/v1/salesReports").mock(
        return_value=httpx.Response(200, content=body(), headers={"Content-Encoding": "agzip"})
    )
    report = sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", "2020-10-05", "1_0")
    rows = [row async for row in report]
    assert len(rows) == 2000
    assert rows[-1] == {"Provider": "APPLE", "Units": "1999"}
    assert report.download.bytes_received == len(data)


async def test_failure_before_first_byte_is_retried(
    apple: respx.MockRouter, client: AscClient, sleeper: RecordingSleep
) -> None:
    data = gzip.compress(TEXT)

    async def failing_body() -> AsyncIterator[bytes]:
        raise httpx.ReadError("connection reset")
        yield b""  # pragma: no cover

    route = apple.get("/v1/salesReports").mock(
        side_effect=[
            httpx.Response(503, json=apple_error(503, "UNAVAILABLE", "try later")),
            httpx.Response(200, content=failing_body()),
            httpx.ConnectTimeout("timed out"),
            _report_response(data),
        ]
    )
    report = sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", "2020-10-05", "1_0")
    assert len([row async for row in report]) == 2000
    assert route.call_count == 4
    assert len(sleeper.calls) == 3


async def test_failure_after_first_byte_is_not_retried(
    apple: respx.MockRouter, client: AscClient
) -> None:
    data = gzip.compress(TEXT)

    async def broken_body() -> AsyncIterator[bytes]:
        yield data[:100]
        raise httpx.ReadError("connection reset")

    route = apple.get("/v1/salesReports").mock(
        return_value=httpx.Response(200, content=broken_body())
    )
    report = sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", "2020-10-05", "1_0")
    with pytest.raises(AscTransportError, match="interrupted"):
        async for _ in report:
            pass
    assert route.call_count == 1


async def test_finance_report_rows_stop_at_total(
    apple: respx.MockRouter, client: AscClient
) -> None:
    data = sample_path(FINANCE_EU_SAMPLE).read_bytes()
    route = apple.get("/v1/financeReports").mock(
        return_value=_report_response(gzip.compress(data), **{"Content-Encoding": "agzip"})
    )
    report = finance_report_rows(client, "80012345", "FINANCIAL", "EU", "2014-09")
    rows = [row async for row in report]
    assert len(rows) == 6
    assert report.totals == {"Total_Rows": "6", "Total_Amount": "206.89", "Total_Units": "20"}
    assert report.footer_row_count == report.row_count == 6
    assert dict(route.calls.last.request.url.params) == {
        "filter[vendorNumber]": "80012345",
        "filter[reportType]": "FINANCIAL",
        "filter[regionCode]": "EU",
        "filter[reportDate]": "2014-09",
    }


@pytest.mark.parametrize(
    ("detail", "kind"),
    [
        ("There were no sales for the date specified.", NotFoundKind.NO_SALES),
        ("Report is not available yet.", NotFoundKind.NOT_AVAILABLE_YET),
        ("The specified resource does not exist", NotFoundKind.OTHER),
    ],
)
async def test_report_404_kinds(
    apple: respx.MockRouter, client: AscClient, detail: str, kind: NotFoundKind
) -> None:
    route = apple.get("/v1/salesReports").mock(
        return_value=httpx.Response(404, json=apple_error(404, "NOT_FOUND", detail))
    )
    with pytest.raises(AscNotFound) as info:
        async with sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", "2020-10-05", "1_0"):
            pass
    assert info.value.kind is kind
    assert route.call_count == 1


async def test_report_version_drift_and_gone(apple: respx.MockRouter, client: AscClient) -> None:
    apple.get("/v1/salesReports").mock(
        side_effect=[
            httpx.Response(
                400,
                json=apple_error(
                    400,
                    "PARAMETER_ERROR.INVALID",
                    "The version parameter you have specified is invalid. "
                    "The latest version for this report is 1_1.",
                    source={"parameter": "filter[version]"},
                ),
            ),
            httpx.Response(410, json=apple_error(410, "GONE", "Report is no longer available.")),
        ]
    )
    with pytest.raises(AscInvalidParameter) as info:
        [r async for r in sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", None, "1_0")]
    assert info.value.parameter == "filter[version]"
    assert info.value.latest_version == "1_1"
    with pytest.raises(AscGone):
        [r async for r in sales_report_rows(client, "1", "SALES", "SUMMARY", "DAILY", None, "1_0")]


def test_zlib_sanity() -> None:
    # wbits=31 is gzip framing: a raw zlib stream must not be mistaken for gzip
    assert _decoded([zlib.compress(b"hello")]) == zlib.compress(b"hello")
