"""API shapes for sales and trends: aggregated measures, normalised rows, the app card."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from app.asc.enums import ReportPlatform
from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit.money import Money
from app.reports.schemas import IncompleteDate
from app.sales.layout import UnitKind
from app.sync.schemas import AvailabilityState

REPORT_DATE = "Apple's reporting day (a Pacific-time calendar day), as Apple's report names it."


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class SalesSource(StrEnum):
    """Which of Apple's reports a bucket's figures come from."""

    DAILY = "daily"
    YEARLY = "yearly"
    MIXED = "mixed"


class Dimension(StrEnum):
    """What `/v1/sales` can group by, in the order groups are sorted."""

    ACCOUNT = "account"
    APP = "app"
    PRODUCT = "product"
    COUNTRY = "country"
    DEVICE = "device"
    UNIT_KIND = "unit_kind"
    PLATFORM = "platform"


class Frequency(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


class PartialRefunds(BaseModel):
    """Sales rows with 0 units that carry money.

    Apple's files hold such rows (a real auto-renewable subscription row: Units 0, Customer
    Price −85.43, Developer Proceeds 59.80); Apple documents `0` units as possibly a partial
    refund. Units × proceeds is 0 for them, so their money is in neither `proceeds` nor
    `customer_sales` and no unit count changes: it is listed here so sales reconcile with
    finance. Reading the money as given back (negative, like a refund's line amounts) is
    Orchard's interpretation; Apple does not document these rows.
    """

    rows: int = Field(description="Rows with 0 units and a non-zero price or proceeds.")
    proceeds: list[Money] = Field(
        description="−Σ |developer proceeds| per currency of proceeds (money given back)."
    )
    customer_amounts: list[Money] = Field(
        description="−Σ |customer price| per customer currency (refunded to customers)."
    )


class SalesMeasures(BaseModel):
    """Units by what they count (from Apple's product type identifiers) and money per currency.

    Download-like counts add up positive units only: a refund is never a download. `net_units`
    is Apple's own units total (refunds subtracted, every kind included), so it generally
    differs from the sum of the other counts.
    """

    first_time_downloads: int = Field(description="First-time app downloads and purchases.")
    redownloads: int = Field(description="Re-downloads by customers who already had the app.")
    updates: int = Field(description="App updates (never revenue).")
    iap_units: int = Field(description="In-app purchases, incl. non-renewing subscriptions.")
    subscription_units: int = Field(description="Auto-renewable subscription purchases.")
    restores: int = Field(description="Restored non-consumable in-app purchases.")
    refunds: int = Field(description="Refunded units (rows with negative units, any kind).")
    net_units: int = Field(description="Σ signed units over every row, as Apple totals units.")
    proceeds: list[ConvertibleMoney] = Field(
        description="Σ units × developer proceeds per unit, one entry per currency of proceeds "
        "with a non-zero total, sorted by currency (null last). Refunds are already negative. "
        "Amounts whose currency Apple left empty are listed under `currency: null`, never "
        "merged into another currency."
    )
    customer_sales: list[ConvertibleMoney] = Field(
        description="Σ units × |customer price| per customer currency (what customers paid, "
        "less refunds), same rules as `proceeds`."
    )
    partial_refunds: PartialRefunds = Field(
        description="Zero-unit rows with money (partial refunds): not in the figures above."
    )
    proceeds_total_converted: ConvertedTotal | None = Field(
        default=None,
        description="With a reporting currency (`currency=` or the workspace's default): "
        "`proceeds` in it, each report date at its own rate, and what had no rate.",
    )
    customer_sales_total_converted: ConvertedTotal | None = Field(
        default=None, description="Likewise for `customer_sales`."
    )


class SalesBucket(SalesMeasures):
    period_start: dt.date = Field(description="First day of the calendar bucket.")
    period_end: dt.date = Field(description="Last day of the calendar bucket.")
    partial: bool = Field(
        description="The bucket extends beyond `from`/`to`; only days within the range count."
    )
    group: dict[str, str | None] = Field(
        description="The bucket's value of each `group_by` dimension (keys as in `group_by`); "
        "null where Apple left it empty or, for `app`, the catalog does not know the product.",
        examples=[{"country": "US", "unit_kind": "redownload"}],
    )
    source: SalesSource = Field(
        description="Where the figures come from. `daily`: Apple's daily reports (every "
        "granularity but `year`, and any year not answered by a yearly file). `yearly`: "
        "Apple's yearly SALES files (`granularity=year` only: a calendar year lying wholly "
        "inside `from`/`to` whose yearly file Orchard stored for the account; Apple keeps "
        "those for ten years, daily files for one). `mixed`: some accounts' year from their "
        "yearly file, others' from daily reports. Each account-year comes from exactly one "
        "source, never both, and a year from daily reports lists its missing days in "
        "`incomplete_dates`."
    )


CURRENCY = (
    "The reporting currency money was converted into (`currency=`, else the workspace's "
    "default); null: no conversion, amounts only in their own currencies."
)


class SalesReport(BaseModel):
    """Sales measures per calendar bucket (and group), one page at a time."""

    currency: str | None = Field(default=None, description=CURRENCY)
    granularity: Granularity
    group_by: list[Dimension]
    items: list[SalesBucket] = Field(
        description="Ordered by bucket, then by each group value (nulls last). Only buckets "
        "and groups with rows appear: a missing bucket is zero only if its dates are complete."
    )
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page; null on the last page."
    )
    incomplete_dates: list[IncompleteDate] = Field(
        description="Dates in the range whose daily report is not (yet) stored for a linked "
        "account in scope, by date and account. Only `published` and `no_data` dates are "
        "complete; totals over incomplete dates can still change."
    )


class SalesRowRead(BaseModel):
    """One line of an Apple SALES/SUMMARY report, normalised. Per-unit money as Apple wrote it;
    `proceeds` and `customer_sales` are the line amounts computed from it."""

    id: int
    account_id: uuid.UUID
    app_id: uuid.UUID | None = Field(
        description="The catalog app (by Apple Identifier, or the parent app for in-app "
        "products); null when the catalog does not know it."
    )
    frequency: Frequency
    report_date: dt.date = Field(
        description=REPORT_DATE + " Weekly reports: the week-ending Sunday; monthly and yearly: "
        "the first day of the period."
    )
    begin_date: dt.date | None
    end_date: dt.date | None
    provider: str | None
    provider_country: str | None
    sku: str | None
    developer: str | None
    title: str | None
    version: str | None
    product_type: str | None = Field(description="Apple's Product Type Identifier, e.g. `1F`.")
    unit_kind: UnitKind = Field(description="What the units count, from the product type.")
    platform: ReportPlatform = Field(
        description="Apple's platform casing (as on versions and builds), from the product "
        "type and device: `IOS`, `MAC_OS`, `TV_OS`, `WATCH_OS`, `VISION_OS` or `UNKNOWN`."
    )
    units: int = Field(description="Signed: negative units are refunds.")
    developer_proceeds: Money | None = Field(description="Per unit, in the currency of proceeds.")
    customer_price: Money | None = Field(
        description="Per unit, in the customer currency; negative on refunds."
    )
    proceeds: Money | None = Field(
        description="units × developer proceeds (negative on refunds); null for a zero Apple "
        "wrote without a currency."
    )
    customer_sales: Money | None = Field(
        description="units × |customer price|; null for a zero Apple wrote without a currency."
    )
    country: str | None = Field(description="Storefront, ISO 3166-1 alpha-2.")
    apple_identifier: str | None
    parent_identifier: str | None = Field(description="In-app products: the parent app's SKU.")
    promo_code: str | None
    subscription: str | None
    period: str | None
    category: str | None
    cmb: str | None
    device: str | None
    supported_platforms: str | None
    proceeds_reason: str | None
    preserved_pricing: str | None
    client: str | None
    order_type: str | None
    extra: dict[str, Any] = Field(description="Columns of Apple's file Orchard does not know.")


class DailySales(SalesMeasures):
    report_date: dt.date = Field(description=REPORT_DATE)
    state: AvailabilityState = Field(
        description="The day's report for the app's account: only `published` and `no_data` "
        "are complete; other days show what is stored so far (usually nothing)."
    )


class AppSalesSummary(BaseModel):
    """A dashboard card: totals over the range and a complete daily series."""

    currency: str | None = Field(default=None, description=CURRENCY)
    app_id: uuid.UUID
    app_name: str
    from_date: dt.date = Field(alias="from", description="First report date.")
    to_date: dt.date = Field(alias="to", description="Last report date.")
    totals: SalesMeasures
    series: list[DailySales] = Field(description="One entry per day of the range, oldest first.")
    incomplete_dates: list[IncompleteDate]


@dataclass(frozen=True)
class SalesFilter:
    """Row filters; each list matches any of its values, an empty list matches everything."""

    account_ids: list[uuid.UUID] = field(default_factory=list)
    app_ids: list[uuid.UUID] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    unit_kinds: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
