"""API shapes for payments: Apple's finance reports per fiscal month, region and currency."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit.money import Money
from app.sync.schemas import AvailabilityState

PERIOD = (
    "Apple's fiscal month, named `YYYY-MM` after the calendar month holding its middle day, as "
    "Apple names it (08/31/2014–09/27/2014 is `2014-09`). Taken from the report's own "
    "Start/End Date, never assumed from the month requested."
)
REGION = (
    "The finance report file: `ZZ` (Apple's all-regions single file), a region code (`EU`, "
    "`JP`, … when configured with ORCHARD_FINANCE_REGIONS) or `Z1` (FINANCE_DETAIL)."
)


PAYMENT_REGION = (
    "Apple's payment region: each is paid separately at its own exchange rate, even when "
    "several share a currency (`US` Americas, `LL` Latin America and the Caribbean, `AP` South "
    "Asia and Pacific and `WW` Rest of World all pay in USD). A region file's rows belong to "
    "that region; a `ZZ`/`Z1` row's region comes from its `Country Of Sale` (a storefront "
    "Orchard does not know falls to `WW`, Apple's catch-all, and is named in sync-status)."
)


class PaymentSummary(BaseModel):
    """One fiscal month of one account's report file, for one payment region and currency."""

    account_id: uuid.UUID
    period: str = Field(description=PERIOD, examples=["2014-09"])
    period_start: dt.date | None = Field(description="The report's Start Date (a Sunday).")
    period_end: dt.date | None = Field(description="The report's End Date (a Saturday).")
    region: str = Field(description=REGION)
    payment_region: str = Field(description=PAYMENT_REGION, examples=["LL"])
    payment_region_name: str | None = Field(
        description="The region's name when it spans several countries (`Rest of World`, …)."
    )
    currency: str | None = Field(description="Partner Share Currency (ISO 4217).")
    units_sold: int = Field(
        description="Σ Quantity of sale rows (`Sales or Return` = S), like Apple's Total_Units."
    )
    returns: int = Field(description="Σ |Quantity| of return rows (`Sales or Return` = R).")
    net_units: int = Field(
        description="units_sold − returns: the Payments page's 'Units Sold' for the region."
    )
    earned: ConvertibleMoney | None = Field(
        description="Σ Extended Partner Share (returns are negative): the Payments page's "
        "'Earned', before tax, adjustments and conversion to the bank currency. With a "
        "reporting currency, `converted` is an estimate at the period's End Date rate. Null "
        "for a zero in a file with no currency."
    )
    rows: int = Field(description="Report rows behind the figures (see the rows endpoint).")


class IncompletePeriod(BaseModel):
    period: str = Field(description="Fiscal month `YYYY-MM` (as Orchard expects it).")
    account_id: uuid.UUID
    state: AvailabilityState = Field(
        description="`not_yet_published`, `expired`, `failed` or `not_fetched` (never asked)."
    )


class PeriodTotal(BaseModel):
    period: str = Field(description=PERIOD)
    earned: ConvertedTotal = Field(
        description="Σ `earned` of every account and currency of the fiscal month (all pages) "
        "in the reporting currency, each at the rate of its period's End Date (the latest "
        "published on or before it): an estimate, Apple's payment-time rate being unknown."
    )


class PaymentsReport(BaseModel):
    """Payments per fiscal month, account, region file, payment region and currency, one page
    at a time."""

    currency: str | None = Field(
        default=None,
        description="The reporting currency (`currency=`, else the workspace's default); null: "
        "no conversion.",
    )
    totals_converted: list[PeriodTotal] | None = Field(
        default=None,
        description="With a reporting currency: one converted total per fiscal month of the "
        "range that has payments, over every page.",
    )
    items: list[PaymentSummary] = Field(
        description="Ordered by period, account, region, payment region, currency (null last)."
    )
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page."
    )
    incomplete_periods: list[IncompletePeriod] = Field(
        description="Fiscal months of the range whose finance report is not stored for a "
        "linked account in scope: a month missing from `items` is zero only if not listed here."
    )


class PaymentRowRead(BaseModel):
    """One line of an Apple finance report. Quantity and extended partner share are signed."""

    id: int
    account_id: uuid.UUID
    period: str | None = Field(description=PERIOD)
    period_start: dt.date | None
    period_end: dt.date | None
    region: str = Field(description=REGION)
    payment_region: str = Field(description=PAYMENT_REGION)
    report_type: str = Field(description="`FINANCIAL` or `FINANCE_DETAIL`.")
    vendor_identifier: str | None = Field(description="Your SKU.")
    quantity: int | None = Field(description="Signed: returns are negative.")
    partner_share: Money | None = Field(description="Per unit, always positive.")
    extended_partner_share: Money | None = Field(
        description="Quantity × partner share (negative for returns)."
    )
    sale_or_return: str | None = Field(description="`S` or `R`, as Apple writes it.")
    apple_identifier: str | None
    title: str | None
    product_type: str | None = Field(description="Apple's Product Type Identifier.")
    country_of_sale: str | None = Field(description="ISO 3166-1 alpha-2.")
    preorder_flag: str | None
    promo_code: str | None
    customer_price: Money | None = Field(description="Per unit, negative on returns.")
    extra: dict[str, Any] = Field(
        description="Columns of Apple's file Orchard does not model (UPC, ISRC/ISBN, …)."
    )
