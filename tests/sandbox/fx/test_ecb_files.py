"""Each ECB file parses as FACTS §2 describes, with the simulator's rates in it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from app.sandbox.fx import FxState
from app.sandbox.fx.calendar import is_target_closing_day
from app.sandbox.fx.currencies import ECB_BY_CODE, HISTORY_CSV_COLUMNS
from tests.sandbox.fx.helpers import ROSTER_2025, parse_ecb_xml, parse_history_csv, unzip_one

ECB = "/stats/eurofxref"
TODAY = date(2025, 6, 10)


async def test_daily_xml(client: httpx.AsyncClient, state: FxState) -> None:
    response = await client.get(f"{ECB}/eurofxref-daily.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    text = response.text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<gesmes:Envelope ')
    assert 'xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"' in text
    assert 'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"' in text
    assert "<Cube time='2025-06-10'>" in text and "<Cube currency='USD' rate='" in text
    days = parse_ecb_xml(response.content)
    assert list(days) == [TODAY]
    rates = days[TODAY]
    assert list(rates) == list(ROSTER_2025)  # the ECB's order; EUR itself is not listed
    for code, text_rate in rates.items():
        decimals = len(text_rate.split(".")[1])
        assert decimals == ECB_BY_CODE[code].decimals, (code, text_rate)
        assert Decimal(text_rate) == state.rate(TODAY, code)
    assert rates["BGN"] == "1.9558"


async def test_ninety_day_xml_is_newest_first_and_working_days_only(
    client: httpx.AsyncClient, state: FxState
) -> None:
    response = await client.get(f"{ECB}/eurofxref-hist-90d.xml")
    days = list(parse_ecb_xml(response.content))
    assert days == sorted(days, reverse=True)
    assert days[0] == TODAY and days[-1] >= TODAY - timedelta(days=89)
    expected = [TODAY - timedelta(days=n) for n in range(90)]
    assert days == [d for d in expected if not is_target_closing_day(d)]
    assert date(2025, 4, 18) not in days and date(2025, 4, 21) not in days  # Easter
    assert date(2025, 5, 1) not in days
    assert state.published_dates(days[-1]) == sorted(days)


async def test_history_xml_covers_every_published_day(
    client: httpx.AsyncClient, state: FxState
) -> None:
    days = parse_ecb_xml((await client.get(f"{ECB}/eurofxref-hist.xml")).content)
    assert list(days) == sorted(days, reverse=True)
    assert min(days) == date(2025, 1, 2) and max(days) == TODAY
    assert all(not is_target_closing_day(d) for d in days)
    assert sorted(days) == state.published_dates()
    assert Decimal(days[date(2025, 3, 14)]["JPY"]) == state.rate(date(2025, 3, 14), "JPY")


async def test_history_zip_csv(client: httpx.AsyncClient, state: FxState) -> None:
    response = await client.get(f"{ECB}/eurofxref-hist.zip")
    assert response.headers["content-type"] == "application/zip"
    name, content = unzip_one(response.content)
    assert name == "eurofxref-hist.csv"
    text = content.decode()
    first_line = text.split("\n", 1)[0]
    assert first_line == "Date," + ",".join(HISTORY_CSV_COLUMNS) + ","
    assert all(line.endswith(",") for line in text.splitlines())  # trailing comma everywhere
    header, rows = parse_history_csv(text)
    assert header[-1] == "" and header[0] == "Date"
    days = [date.fromisoformat(row[0]) for row in rows]
    assert days == sorted(state.published_dates(), reverse=True)
    column = {code: i for i, code in enumerate(header)}
    latest = rows[0]
    for code in ("CYP", "EEK", "HRK", "RUB", "TRL", "ROL"):
        assert latest[column[code]] == "N/A"
    for code in ROSTER_2025:
        assert Decimal(latest[column[code]]) == state.rate(TODAY, code)
    # History values drop trailing zeros (snapshot [R-PYFIFO]: 394.7, 17569, 1.08).
    cells = [cell for row in rows for cell in row[1:] if cell not in ("", "N/A")]
    assert all(not (("." in cell) and cell.endswith("0")) for cell in cells)


async def test_daily_zip_csv(client: httpx.AsyncClient, state: FxState) -> None:
    response = await client.get(f"{ECB}/eurofxref.zip")
    name, content = unzip_one(response.content)
    assert name == "eurofxref.csv"
    header, values = content.decode().split("\n")[:2]
    assert header == "Date, " + "".join(f"{code}, " for code in ROSTER_2025)
    assert values.startswith("10 June 2025, ") and values.endswith(", ")
    cells = values.split(", ")[1:-1]
    assert [Decimal(c) for c in cells] == [state.rate(TODAY, code) for code in ROSTER_2025]
    assert cells[ROSTER_2025.index("IDR")].count(".") == 1  # fixed decimals, e.g. 19900.00


async def test_unknown_ecb_path_and_human_page(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{ECB}/eurofxref-hist-30d.xml")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    page = await client.get(
        "/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html"
    )
    assert page.status_code == 200 and "2025-06-10" in page.text


def test_history_start_before_the_modelled_roster_is_refused() -> None:
    with pytest.raises(ValueError, match="2018-02-01"):
        FxState(history_start=date(2017, 1, 2))
