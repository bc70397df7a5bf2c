"""The ECB's files, byte for byte as far as FACTS §2 and its captures show them.

* XML (``eurofxref-daily.xml``, ``-hist-90d.xml``, ``-hist.xml``): ``gesmes:Envelope`` with the
  gesmes namespace and the eurofxref default namespace, ``gesmes:subject`` "Reference rates",
  ``gesmes:Sender/gesmes:name`` "European Central Bank", then ``Cube`` → ``Cube time`` per day,
  newest first → ``Cube currency rate``; tab indentation, single-quoted ``Cube`` attributes and
  no final newline as in the 2022-07-08 capture [R-XPT].
* History CSV (``eurofxref-hist.csv`` in ``eurofxref-hist.zip``): the fixed 41-currency header
  with a trailing comma, rows newest first, ``YYYY-MM-DD``, ``N/A`` where no rate [R-PYFIFO].
* Daily CSV (``eurofxref.csv`` in ``eurofxref.zip``): comma + space separators, trailing
  ``", "``, date as ``06 February 2026``, only that day's currencies [R-SEB].
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from app.sandbox.fx.currencies import ECB_BY_CODE, HISTORY_CSV_COLUMNS
from app.sandbox.fx.numbers import fixed, trimmed

if TYPE_CHECKING:
    from app.sandbox.fx.state import FxState

GESMES_NS = "http://www.gesmes.org/xml/2002-08-01"
EUROFXREF_NS = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
HIST_90_DAYS = 90
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

Day = tuple[date, dict[str, Decimal]]


def _days(state: FxState, days: Iterable[date]) -> list[Day]:
    return [(day, state.ecb.rates(day)) for day in sorted(days, reverse=True)]


def _number(code: str, value: Decimal, style: str) -> str:
    return trimmed(value) if style == "trimmed" else fixed(value, ECB_BY_CODE[code].decimals)


def _xml(state: FxState, days: list[Day], style: str) -> bytes:
    q = "'" if state.variants.xml_quotes == "single" else '"'
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<gesmes:Envelope xmlns:gesmes="{GESMES_NS}" xmlns="{EUROFXREF_NS}">',
        "\t<gesmes:subject>Reference rates</gesmes:subject>",
        "\t<gesmes:Sender>",
        "\t\t<gesmes:name>European Central Bank</gesmes:name>",
        "\t</gesmes:Sender>",
        "\t<Cube>",
    ]
    for day, rates in days:
        lines.append(f"\t\t<Cube time={q}{day.isoformat()}{q}>")
        for code, value in rates.items():
            number = _number(code, value, style)
            lines.append(f"\t\t\t<Cube currency={q}{code}{q} rate={q}{number}{q}/>")
        lines.append("\t\t</Cube>")
    lines += ["\t</Cube>", "</gesmes:Envelope>"]
    return "\n".join(lines).encode("utf-8")


def _history_style(state: FxState, kind: str) -> str:
    """``fixed`` or ``trimmed`` for a history file (``xml`` or ``csv``)."""
    choice = state.variants.history_numbers
    if choice == "as_observed":
        return "trimmed" if kind == "csv" else "fixed"
    return choice


def daily_xml(state: FxState) -> bytes:
    latest = state.ecb.latest_on_or_before(state.ecb.today())
    return _xml(state, _days(state, [latest] if latest else []), "fixed")


def hist_90d_xml(state: FxState) -> bytes:
    start = state.ecb.today() - timedelta(days=HIST_90_DAYS - 1)
    return _xml(state, _days(state, state.ecb.visible_days(start)), _history_style(state, "xml"))


def hist_xml(state: FxState) -> bytes:
    return _xml(state, _days(state, state.ecb.visible_days()), _history_style(state, "xml"))


def _eol(state: FxState) -> str:
    return "\r\n" if state.variants.csv_line_ending == "crlf" else "\n"


def hist_csv(state: FxState) -> bytes:
    eol, style = _eol(state), _history_style(state, "csv")
    out = ["Date," + ",".join(HISTORY_CSV_COLUMNS) + "," + eol]
    for day, rates in _days(state, state.ecb.visible_days()):
        cells = [_number(c, rates[c], style) if c in rates else "N/A" for c in HISTORY_CSV_COLUMNS]
        out.append(day.isoformat() + "," + ",".join(cells) + "," + eol)
    return "".join(out).encode("utf-8")


def daily_csv(state: FxState) -> bytes:
    eol = _eol(state)
    latest = state.ecb.latest_on_or_before(state.ecb.today())
    if latest is None:
        return ("Date, " + eol).encode("utf-8")
    rates = state.ecb.rates(latest)
    header = "".join(f"{code}, " for code in rates)
    written = f"{latest.day:02d} {_MONTHS[latest.month - 1]} {latest.year}"
    values = "".join(f"{fixed(v, ECB_BY_CODE[c].decimals)}, " for c, v in rates.items())
    return f"Date, {header}{eol}{written}, {values}{eol}".encode()


def zipped(name: str, content: bytes, stamp: date | None) -> bytes:
    """A zip holding one file ``name``; deterministic (timestamp = the newest day)."""
    when = stamp or date(2000, 1, 1)
    info = zipfile.ZipInfo(name, date_time=(when.year, when.month, when.day, 16, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, content)
    return buffer.getvalue()


def hist_zip(state: FxState) -> bytes:
    latest = state.ecb.latest_on_or_before(state.ecb.today())
    return zipped("eurofxref-hist.csv", hist_csv(state), latest)


def daily_zip(state: FxState) -> bytes:
    latest = state.ecb.latest_on_or_before(state.ecb.today())
    return zipped("eurofxref.csv", daily_csv(state), latest)
