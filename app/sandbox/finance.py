"""Financial report (``financeReports`` ``FINANCIAL``) generation from the daily sales.

A fiscal month's report aggregates the revenue-bearing rows of the team's daily sales over
the fiscal period (see :mod:`app.sandbox.periods` for the calendar): one row per product,
storefront, per-unit partner share, customer price and sale/return. ``Partner Share`` is the
per-unit developer proceeds (always positive), ``Quantity`` is signed and ``Extended Partner
Share`` = Quantity × Partner Share. Region ``ZZ`` puts every region into one file (a single
header and footer — whether Apple repeats blocks per currency is unconfirmed); another region
code keeps only that region's storefronts. Footer: ``Total_Rows`` (row count),
``Total_Amount`` (Σ Extended Partner Share; no decimals for JPY/KRW regions) and
``Total_Units`` (Σ Quantity of sale rows only, as in Apple's EU sample).
"""

from __future__ import annotations

from decimal import Decimal

from app.sandbox.markets import CURRENCIES
from app.sandbox.payment_regions import day_lines, region_of
from app.sandbox.periods import Period, fiscal_period
from app.sandbox.state import SandboxTeam

FINANCE_HEADER: tuple[str, ...] = (
    "Start Date",
    "End Date",
    "UPC",
    "ISRC/ISBN",
    "Vendor Identifier",
    "Quantity",
    "Partner Share",
    "Extended Partner Share",
    "Partner Share Currency",
    "Sales or Return",
    "Apple Identifier",
    "Artist/Show/Developer/Author",
    "Title",
    "Label/Studio/Network/Developer/Publisher",
    "Grid",
    "Product Type Identifier",
    "ISAN/Other Identifier",
    "Country Of Sale",
    "Pre-order Flag",
    "Promo Code",
    "Customer Price",
    "Customer Currency",
)
ALL_REGIONS = "ZZ"
DETAIL_REGION = "Z1"
_NO_REVENUE_TYPES = {"3", "7", "IA3"}

_FinanceKey = tuple[str, str, str, str, str, Decimal, str, Decimal, str]


def _two(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def generate_finance_rows(
    team: SandboxTeam, fiscal_year: int, period_number: int, region: str
) -> list[dict[str, str]]:
    """Rows of the FINANCIAL report for fiscal period ``period_number`` of ``fiscal_year``
    and ``region`` (``ZZ`` = all). Empty when nothing was sold there."""
    period = fiscal_period(fiscal_year, period_number)
    return finance_rows_for(team, period, region)


def finance_rows_for(
    team: SandboxTeam, period: Period, region: str, *, usd_regions: bool = False
) -> list[dict[str, str]]:
    """``usd_regions``: include the extra USD storefronts (``payment_regions`` option)."""
    totals: dict[_FinanceKey, int] = {}
    for day in period.days():
        for line, units in day_lines(team, day, usd_regions=usd_regions):
            if units == 0 or line.customer_price == 0 or line.product_type in _NO_REVENUE_TYPES:
                continue
            if region not in (ALL_REGIONS, region_of(line.country)):
                continue
            key: _FinanceKey = (
                line.sku,
                line.apple_id,
                line.title,
                line.product_type,
                line.country,
                line.proceeds,
                line.customer_currency,
                line.customer_price,
                "R" if units < 0 else "S",
            )
            totals[key] = totals.get(key, 0) + units
    start, end = period.start.strftime("%m/%d/%Y"), period.end.strftime("%m/%d/%Y")
    rows = []
    for (
        sku,
        apple_id,
        title,
        ptype,
        country_code,
        share,
        currency,
        price,
        kind,
    ), qty in totals.items():
        values = (
            start,
            end,
            "",
            "",
            sku,
            str(qty),
            _two(share),
            _two(share * qty),
            currency,
            kind,
            apple_id,
            team.name,
            title,
            "",
            "",
            ptype,
            "",
            country_code,
            "",
            "",
            _two(price),
            currency,
        )
        rows.append(dict(zip(FINANCE_HEADER, values, strict=True)))
    return rows


def finance_footer(rows: list[dict[str, str]], region: str) -> list[str]:
    amount = sum((Decimal(row["Extended Partner Share"]) for row in rows), Decimal(0))
    currency = CURRENCIES.get(next(iter({r["Partner Share Currency"] for r in rows}), "USD"))
    zero_decimals = region != ALL_REGIONS and currency is not None and currency.decimals == 0
    total = str(amount.quantize(Decimal(1))) if zero_decimals else _two(amount)
    units = sum(int(row["Quantity"]) for row in rows if row["Sales or Return"] == "S")
    return [f"Total_Rows\t{len(rows)}", f"Total_Amount\t{total}", f"Total_Units\t{units}"]


def finance_report_text(rows: list[dict[str, str]], region: str) -> str:
    lines = ["\t".join(FINANCE_HEADER)]
    lines.extend("\t".join(row[name] for name in FINANCE_HEADER) for row in rows)
    lines.extend(finance_footer(rows, region))
    return "\n".join(lines) + "\n"
