"""Checking a finance file against its own totals (FACTS §5.6, §8).

A **region file** (``FINANCIAL`` with ``EU``, ``JP``, …) ends in three lines, ``Total_Rows``,
``Total_Amount`` and ``Total_Units`` [R-FEDOCO]: the row count must equal ``Total_Rows`` and the
sum of ``Extended Partner Share`` must equal ``Total_Amount`` at the footer's precision, or the
file is refused (a cut or garbled download).

The **all-regions single file** (``ZZ``) is not pinned down. Integrators report that it carries
a summary table of totals *per country* instead of one combined ``Total_Amount``
(ole/itunesconnect-financialreports PR #1) and, once, a response that stops inside the
``Total_Rows`` line (Ponytech/appstoreconnectapi #21). So a ZZ file is loaded with whatever
totals it has:

* ``Total_Rows`` with a count — checked against the rows;
* ``Total_Amount`` — checked (it sums every currency, as region files' footers do theirs);
* a per-country table after the footer (a line whose first cell starts ``Country``, then one
  line per country) — read by header name; each country/currency amount that can be matched is
  checked against the rows of that country and currency;
* none of them (``Total_Rows`` without a count, or no footer at all) — loaded, and the missing
  totals are named in sync-status notes; the month is never failed for it alone.

The per-country table's column names are a guess (the sandbox's ``per_country`` variant uses
``Country Of Sale``, ``Partner Share Currency``, ``Quantity``, ``Extended Partner Share``); a
table whose columns cannot be matched is kept in the notes unread rather than failing the month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.asc.errors import AscReportCorrupt
from app.reports.ingest import LoadResult

_COUNTRY = ("Country Of Sale", "Country of Sale", "Country", "Country Code")
_CURRENCY = ("Partner Share Currency", "Currency", "Currency of Proceeds")
_AMOUNT = ("Extended Partner Share", "Total Amount", "Amount", "Total")


class TotalsMismatch(AscReportCorrupt):
    """A finance file whose rows do not add up to its own totals. Not retried: Apple's file
    would say the same again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="FINANCE_TOTALS_MISMATCH")


@dataclass
class CountryTable:
    """The per-country totals table of a ZZ file, as far as it could be read."""

    header: list[str]
    #: (country, currency or None) → amount; only rows whose amount is a number.
    amounts: dict[tuple[str, str | None], Decimal] = field(default_factory=dict)
    readable: bool = True


def _number(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "").strip())
    except InvalidOperation:
        return None


def _amount(raw: str) -> Decimal:
    value = _number(raw)
    if value is None:
        raise TotalsMismatch(f"Total_Amount {raw!r} is not a number")
    return value


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [name.strip().lower() for name in header]
    for name in names:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def country_table(trailer: list[str]) -> CountryTable | None:
    """The per-country table after a file's footer, or None when there is none."""
    start = next(
        (n for n, line in enumerate(trailer) if line.split("\t")[0].strip().startswith("Country")),
        None,
    )
    if start is None:
        return None
    header = [cell.strip() for cell in trailer[start].split("\t")]
    table = CountryTable(header=header)
    country, currency, amount = (_column(header, names) for names in (_COUNTRY, _CURRENCY, _AMOUNT))
    if country is None or amount is None:
        table.readable = False
        return table
    for line in trailer[start + 1 :]:
        cells = [cell.strip() for cell in line.split("\t")]
        if not line.strip() or cells[0].startswith("Total_"):
            continue
        if len(cells) <= max(country, amount):
            continue
        value = _number(cells[amount])
        if value is None:
            continue
        key_currency = cells[currency] if currency is not None and len(cells) > currency else None
        key = (cells[country], key_currency or None)
        table.amounts[key] = table.amounts.get(key, Decimal(0)) + value
    return table


def _matches(expected: Decimal, actual: Decimal) -> bool:
    # Apple rounds totals to the currency's precision (JPY totals have no decimals).
    exponent = expected.as_tuple().exponent
    places = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    return actual.quantize(places, ROUND_HALF_UP) == expected


def _check_rows(name: str, footer: dict[str, str], rows: int) -> None:
    expected_rows = footer["Total_Rows"].replace(",", "")
    if not expected_rows.isdigit() or int(expected_rows) != rows:
        raise TotalsMismatch(
            f"the {name} report has {rows} rows but its Total_Rows says "
            f"{footer['Total_Rows']}; the previously stored report is kept"
        )


def _check_amount(name: str, footer: dict[str, str], amount: Decimal) -> None:
    expected = _amount(footer["Total_Amount"])
    if not _matches(expected, amount):
        raise TotalsMismatch(
            f"the {name} report's Extended Partner Share adds up to {amount} but its "
            f"Total_Amount says {footer['Total_Amount']}; the previously stored report is kept"
        )


def check_region_file(name: str, loaded: LoadResult, rows: int, amount: Decimal) -> None:
    """A region file: the three-line footer must be there and agree with the rows."""
    footer = loaded.footer
    if "Total_Rows" not in footer or "Total_Amount" not in footer:
        raise TotalsMismatch(
            f"the {name} report has no Total_Rows/Total_Amount footer; it may be cut short"
        )
    _check_rows(name, footer, rows)
    _check_amount(name, footer, amount)


def check_all_regions_file(
    name: str,
    loaded: LoadResult,
    rows: int,
    amount: Decimal,
    by_country: dict[tuple[str, str | None], Decimal],
) -> dict[str, Any]:
    """A ZZ file: check whatever totals it has; returns what was checked (for the notes).

    ``by_country`` is Σ Extended Partner Share of the loaded rows per (country, currency).
    """
    footer = loaded.footer
    checked: list[str] = []
    if "Total_Rows" in footer:
        _check_rows(name, footer, rows)
        checked.append("Total_Rows")
    if "Total_Amount" in footer:
        _check_amount(name, footer, amount)
        checked.append("Total_Amount")
    notes: dict[str, Any] = {"totals_checked": checked}
    table = country_table(loaded.trailer)
    if table is not None and not table.readable:
        notes["country_totals"] = {"read": False, "header": table.header}
    elif table is not None:
        for (country, currency), expected in table.amounts.items():
            actual = (
                by_country.get((country, currency), Decimal(0))
                if currency is not None
                else sum((v for (c, _), v in by_country.items() if c == country), Decimal(0))
            )
            if not _matches(expected, actual):
                raise TotalsMismatch(
                    f"the {name} report's rows for {country} {currency or ''} add up to "
                    f"{actual} but its per-country table says {expected}; the previously "
                    "stored report is kept"
                )
        notes["country_totals"] = {"read": True, "countries": len(table.amounts)}
        checked.append("country_totals")
    missing = [total for total in ("Total_Rows", "Total_Amount") if total not in footer]
    if missing:
        notes["totals_missing"] = missing
    return notes
