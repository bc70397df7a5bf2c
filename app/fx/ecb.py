"""The ECB's euro foreign exchange reference rates (FACTS fx §2), read from its XML files.

``ORCHARD_FX_ECB_URL`` is the folder holding the files (``…/stats/eurofxref``): the full
history (``eurofxref-hist.xml``) for the first backfill, the last 90 days
(``eurofxref-hist-90d.xml``) afterwards, which also catches a day published late or revised.
Quotation: 1 EUR = *rate* units of the currency; EUR itself is not listed. The files are read
with an XML parser (attribute quotes vary), by namespace, never by text matching.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import httpx

EUROFXREF_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
HISTORY_FILE = "eurofxref-hist.xml"
RECENT_FILE = "eurofxref-hist-90d.xml"
#: The full history is ~6,700 days × 30 currencies (about 2 MB); anything far bigger is not it.
MAX_BYTES = 64 * 1024 * 1024


class EcbFileError(Exception):
    """The file is not an ECB reference-rate file (wrong shape, bad numbers, too big)."""


@dataclass(frozen=True)
class EcbRate:
    day: dt.date
    currency: str
    rate: Decimal  # units of ``currency`` per 1 EUR


def file_url(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/{name}"


async def fetch(http: httpx.AsyncClient, url: str, timeout_seconds: float) -> bytes:
    """GET ``url``; raises ``httpx.HTTPStatusError`` on a non-2xx answer (the unit retries)."""
    response = await http.get(url, timeout=timeout_seconds, headers={"Accept": "application/xml"})
    response.raise_for_status()
    if len(response.content) > MAX_BYTES:
        raise EcbFileError(f"{url} is larger than {MAX_BYTES} bytes")
    return response.content


def parse(content: bytes) -> list[EcbRate]:
    """Every (day, currency, rate) of an ECB XML file, in file order (newest day first)."""
    try:
        root = ET.fromstring(content)  # noqa: S314
    except ET.ParseError as error:
        raise EcbFileError(f"not XML: {error}") from None
    outer = root.find(f"{{{EUROFXREF_NS}}}Cube")
    if outer is None:
        raise EcbFileError("no eurofxref Cube element: not an ECB reference-rate file")
    rates: list[EcbRate] = []
    for day_cube in outer.findall(f"{{{EUROFXREF_NS}}}Cube"):
        day = _day(day_cube.get("time"))
        for cube in day_cube.findall(f"{{{EUROFXREF_NS}}}Cube"):
            rates.append(EcbRate(day, _code(cube.get("currency")), _rate(cube.get("rate"))))
    return rates


def _day(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        raise EcbFileError(f"Cube time {value!r} is not YYYY-MM-DD") from None


def _code(value: str | None) -> str:
    if value is None or len(value) != 3 or not value.isascii() or not value.isupper():
        raise EcbFileError(f"Cube currency {value!r} is not an ISO 4217 code")
    return value


def _rate(value: str | None) -> Decimal:
    try:
        rate = Decimal(value or "")
    except InvalidOperation:
        raise EcbFileError(f"Cube rate {value!r} is not a decimal number") from None
    if not rate.is_finite() or rate <= 0:
        raise EcbFileError(f"Cube rate {value!r} is not positive")
    return rate
