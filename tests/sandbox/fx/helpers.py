"""Parsing the ECB's files the way a client would: xml.etree, csv and zipfile."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from decimal import Decimal

GESMES = "http://www.gesmes.org/xml/2002-08-01"
EUROFXREF = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
NS = {"gesmes": GESMES, "ref": EUROFXREF}

EcbDays = dict[date, dict[str, str]]

_ROSTER_2025 = "USD JPY BGN CZK DKK GBP HUF PLN RON SEK CHF ISK NOK TRY AUD BRL CAD CNY HKD IDR ILS INR KRW MXN MYR NZD PHP SGD THB ZAR"
_APPLE = "AED AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HRK HUF IDR ILS INR JPY KRW KZT MXN MYR NGN NOK NZD PEN PKR PHP PLN QAR RON RUB SAR SEK SGD THB TRY TWD TZS USD VND ZAR"
_GAP = "AED CLP COP EGP KZT NGN PEN PKR QAR RUB SAR TWD TZS VND"
#: The ECB's 2025 currencies in the XML's order (2026 drops BGN [R-SEB]).
ROSTER_2025: tuple[str, ...] = tuple(_ROSTER_2025.split())
#: Apple's 45 report currencies (FACTS §1 [H-CUR]).
APPLE: tuple[str, ...] = tuple(_APPLE.split())
#: The 14 Apple currencies the ECB does not publish (FACTS §2).
GAP: tuple[str, ...] = tuple(_GAP.split())


def parse_ecb_xml(body: bytes) -> EcbDays:
    """``{day: {code: rate text}}`` in the file's order (newest first), checking the envelope."""
    root = ET.fromstring(body)
    assert root.tag == f"{{{GESMES}}}Envelope"
    assert root.findtext("gesmes:subject", namespaces=NS) == "Reference rates"
    assert root.findtext("gesmes:Sender/gesmes:name", namespaces=NS) == "European Central Bank"
    days: EcbDays = {}
    for cube in root.findall("ref:Cube/ref:Cube", NS):
        day = date.fromisoformat(cube.attrib["time"])
        days[day] = {c.attrib["currency"]: c.attrib["rate"] for c in cube.findall("ref:Cube", NS)}
    return days


def unzip_one(body: bytes) -> tuple[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        assert len(names) == 1, names
        return names[0], archive.read(names[0])


def parse_history_csv(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def as_decimal(text: str) -> Decimal:
    return Decimal(text)
