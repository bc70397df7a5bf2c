"""Finance report layouts Apple has not pinned down: ZZ file endings and ``FINANCE_DETAIL``.

``FINANCIAL`` with ``regionCode=ZZ`` ("All Countries or Regions (Single File)", FACTS §4.6)
ends in one of four ways (option ``zz_footer``, FACTS §8). Region files always keep the
strict three-line footer of :func:`app.sandbox.finance.finance_footer`.

``combined``
    Today's: ``Total_Rows``, ``Total_Amount`` (a sum over every currency), ``Total_Units``.
``per_country``
    ``Total_Rows`` and ``Total_Units``, an empty line, then a table of totals per country.
    *Reported* (ole/itunesconnect-financialreports PR #1, 2018: the single file "adds a new
    summary table … that shows totals per country, rather than a single combined total", and
    ``Total_Amount`` "doesn't appear in the combined report"; that project's parser skips
    blank lines and starts the table at a line beginning ``Country``; a third-party
    TypeScript parser looks for a trailing summary header starting ``Country Of Sale`` with at
    most five columns). *Guessed*: the column names and order (``Country Of Sale``,
    ``Partner Share Currency``, ``Quantity``, ``Extended Partner Share``), one row per country
    and currency sorted by country, ``Quantity`` = net units (returns subtracted), amounts =
    Σ ``Extended Partner Share`` (returns included; no decimals for JPY/KRW, as in region
    footers), the single empty separator line, and ``Total_Units`` staying.
``rows_only``
    Only ``Total_Rows``: no ``Total_Amount``, no ``Total_Units`` (FACTS §8 "with or without
    ``Total_Amount``"; the rest is guessed).
``cut_at_rows``
    The text stops inside the ``Total_Rows`` line: the label, no count, no newline.
    *Reported* (Ponytech/appstoreconnectapi #21: the response "always 'wraps' at the
    ``Total Rows`` line"); exactly where it stops is guessed.

``FINANCE_DETAIL`` (``regionCode=Z1``, FACTS §5.6) — option ``finance_detail``: today's
404 "There were no sales…" (also what Ponytech #17/#45 saw), or transaction-level rows in
one of two shapes. Columns are the ones third-party parsers expect (mpfouziya ETL
``finance_columns`` [R-ETL]; a TypeScript parser adds ``Developer Name`` and ``Product Type
Identifier``), with their spellings ``Country of Sale`` and ``Sale or Return``:

``header_first``
    The header is the first line (what the ETL's ``pandas.read_csv`` assumes).
``title_lines``
    Title lines above the header: the UI's name for the report (rorkai/App-Store-Connect-CLI
    PR #89: "All Countries or Regions (Detailed)"), ``Vendor Name``/``Vendor Number``/
    ``Start Date``/``End Date`` as key–value pairs (the TypeScript parser reads
    ``Vendor Name``, ``Start Date`` and ``End Date`` from the first five lines), then an
    empty line.

*Guessed* for both: one row per transaction day, product, storefront, per-unit share, price
and sale/return; ``Settlement Date`` = the transaction date; ``Region`` = the finance region
code (``EU``, ``LL``…); dates ``MM/DD/YYYY``; no footer. The rows sum, per currency, to the
``FINANCIAL`` ``ZZ`` file of the same period.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from app.sandbox.fidelity import FinanceDetailShape, ZzFooter
from app.sandbox.finance import FINANCE_HEADER, finance_report_text
from app.sandbox.markets import CURRENCIES
from app.sandbox.payment_regions import day_lines, region_of
from app.sandbox.periods import Period
from app.sandbox.sales import LineKey
from app.sandbox.state import SandboxTeam

SUMMARY_HEADER = ("Country Of Sale", "Partner Share Currency", "Quantity", "Extended Partner Share")
DETAIL_TITLE = "All Countries or Regions (Detailed)"
DETAIL_HEADER: tuple[str, ...] = (
    "Transaction Date",
    "Settlement Date",
    "Apple Identifier",
    "SKU",
    "Title",
    "Developer Name",
    "Product Type Identifier",
    "Country of Sale",
    "Quantity",
    "Partner Share",
    "Extended Partner Share",
    "Partner Share Currency",
    "Customer Price",
    "Customer Currency",
    "Sale or Return",
    "Promo Code",
    "Order Type",
    "Region",
)
_NO_REVENUE_TYPES = frozenset({"3", "7", "IA3"})


def _amount(value: Decimal, currency: str) -> str:
    """Totals: no decimals for zero-decimal currencies (JPY sample: ``Total_Amount 179``)."""
    spec = CURRENCIES.get(currency)
    places = Decimal(1) if spec is not None and spec.decimals == 0 else Decimal("0.01")
    return str(value.quantize(places))


def _lines(header: tuple[str, ...], rows: list[dict[str, str]]) -> list[str]:
    return ["\t".join(header), *("\t".join(row[name] for name in header) for row in rows)]


def country_summary(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The guessed per-country totals table of a ZZ file (see the module docstring)."""
    quantity: defaultdict[tuple[str, str], int] = defaultdict(int)
    amount: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        key = (row["Country Of Sale"], row["Partner Share Currency"])
        quantity[key] += int(row["Quantity"])
        amount[key] += Decimal(row["Extended Partner Share"])
    summary = []
    for country, currency in sorted(quantity):
        key = (country, currency)
        cells = (country, currency, str(quantity[key]), _amount(amount[key], currency))
        summary.append(dict(zip(SUMMARY_HEADER, cells, strict=True)))
    return summary


def zz_report_text(rows: list[dict[str, str]], footer: ZzFooter) -> str:
    """The text of a ``FINANCIAL`` ``ZZ`` file ending the ``footer`` way."""
    if footer is ZzFooter.COMBINED:
        return finance_report_text(rows, "ZZ")
    lines = _lines(FINANCE_HEADER, rows)
    if footer is ZzFooter.CUT_AT_ROWS:
        return "\n".join([*lines, "Total_Rows"])
    lines.append(f"Total_Rows\t{len(rows)}")
    if footer is ZzFooter.PER_COUNTRY:
        units = sum(int(row["Quantity"]) for row in rows if row["Sales or Return"] == "S")
        lines += [f"Total_Units\t{units}", "", *_lines(SUMMARY_HEADER, country_summary(rows))]
    return "\n".join(lines) + "\n"


def _detail_row(team: SandboxTeam, day: date, line: LineKey, units: int) -> dict[str, str]:
    mdy = day.strftime("%m/%d/%Y")
    share = line.proceeds.quantize(Decimal("0.01"))
    values = (
        mdy,
        mdy,
        line.apple_id,
        line.sku,
        line.title,
        team.name,
        line.product_type,
        line.country,
        str(units),
        str(share),
        str(share * units),
        line.customer_currency,
        str(line.customer_price.quantize(Decimal("0.01"))),
        line.customer_currency,
        "R" if units < 0 else "S",
        "",
        line.order_type.strip(),
        region_of(line.country),
    )
    return dict(zip(DETAIL_HEADER, values, strict=True))


def finance_detail_rows(
    team: SandboxTeam, period: Period, *, usd_regions: bool = False
) -> list[dict[str, str]]:
    """Transaction-level rows of ``FINANCE_DETAIL`` for a fiscal ``period`` (the truth a test
    compares with); the same revenue lines as ``FINANCIAL``, one row per day."""
    rows = []
    for day in period.days():
        for line, units in day_lines(team, day, usd_regions=usd_regions):
            if units == 0 or line.customer_price == 0 or line.product_type in _NO_REVENUE_TYPES:
                continue
            rows.append(_detail_row(team, day, line, units))
    return rows


def finance_detail_text(
    team: SandboxTeam, period: Period, rows: list[dict[str, str]], shape: FinanceDetailShape
) -> str:
    lines = _lines(DETAIL_HEADER, rows)
    if shape is FinanceDetailShape.TITLE_LINES:
        title = [
            DETAIL_TITLE,
            f"Vendor Name\t{team.name}",
            f"Vendor Number\t{team.vendor_number}",
            f"Start Date\t{period.start:%m/%d/%Y}",
            f"End Date\t{period.end:%m/%d/%Y}",
            "",
        ]
        lines = title + lines
    return "\n".join(lines) + "\n"
