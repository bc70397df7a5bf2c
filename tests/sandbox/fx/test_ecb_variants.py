"""Every ECB file variant (FACTS §2 leaves these unconfirmed) still parses as documented."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from app.sandbox.fx import FxState, FxVariants
from tests.sandbox.fx.helpers import parse_ecb_xml, parse_history_csv, unzip_one

ECB = "/stats/eurofxref"
XML_FILES = ("eurofxref-daily.xml", "eurofxref-hist-90d.xml", "eurofxref-hist.xml")


@pytest.mark.parametrize("quotes", ["single", "double"])
async def test_xml_quote_styles_parse_alike(
    client: httpx.AsyncClient, state: FxState, quotes: str
) -> None:
    state.variants = FxVariants(xml_quotes=quotes)  # type: ignore[arg-type]
    mark = "'" if quotes == "single" else '"'
    for name in XML_FILES:
        body = (await client.get(f"{ECB}/{name}")).content
        assert f"<Cube time={mark}2025-06-10{mark}>".encode() in body
        days = parse_ecb_xml(body)
        assert days[date(2025, 6, 10)]["USD"] == str(state.rate(date(2025, 6, 10), "USD"))


async def hist_texts(client: httpx.AsyncClient) -> tuple[str, str]:
    xml = (await client.get(f"{ECB}/eurofxref-hist.xml")).text
    _, content = unzip_one((await client.get(f"{ECB}/eurofxref-hist.zip")).content)
    return xml, content.decode()


def _csv_cells(text: str) -> list[str]:
    _, rows = parse_history_csv(text)
    return [cell for row in rows for cell in row[1:] if cell not in ("", "N/A")]


def _xml_rates(text: str) -> list[str]:
    return [r for day in parse_ecb_xml(text.encode()).values() for r in day.values()]


def _has_trailing_zero(values: list[str]) -> bool:
    return any("." in value and value.endswith("0") for value in values)


@pytest.mark.parametrize(
    ("choice", "xml_zeros", "csv_zeros"),
    [("as_observed", True, False), ("fixed", True, True), ("trimmed", False, False)],
)
async def test_history_number_styles(
    client: httpx.AsyncClient, state: FxState, choice: str, xml_zeros: bool, csv_zeros: bool
) -> None:
    state.variants = FxVariants(history_numbers=choice)  # type: ignore[arg-type]
    xml, csv_text = await hist_texts(client)
    assert _has_trailing_zero(_xml_rates(xml)) == xml_zeros
    assert _has_trailing_zero(_csv_cells(csv_text)) == csv_zeros
    # The daily file always keeps the ECB's decimals.
    daily = parse_ecb_xml((await client.get(f"{ECB}/eurofxref-daily.xml")).content)
    assert daily[date(2025, 6, 10)]["BGN"] == "1.9558"


@pytest.mark.parametrize(("ending", "eol"), [("lf", "\n"), ("crlf", "\r\n")])
async def test_csv_line_endings(
    client: httpx.AsyncClient, state: FxState, ending: str, eol: str
) -> None:
    state.variants = FxVariants(csv_line_ending=ending)  # type: ignore[arg-type]
    _, hist = await hist_texts(client)
    assert hist.count(eol) == hist.count("\n") == len(state.published_dates()) + 1
    header, rows = parse_history_csv(hist)
    assert header[0] == "Date" and rows[0][0] == "2025-06-10"
    _, daily = unzip_one((await client.get(f"{ECB}/eurofxref.zip")).content)
    lines = daily.decode().split(eol)
    assert lines[0].startswith("Date, USD, ") and lines[1].startswith("10 June 2025, ")
    assert lines[2] == ""
