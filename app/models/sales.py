from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class SalesRow(Base):
    """One row of an Apple SALES/SUMMARY report, normalised.

    Money is per unit, exactly as Apple writes it, in the row's own currencies: line proceeds
    are ``units × developer_proceeds`` (already negative on refunds, where Apple writes negative
    units with a positive per-unit proceeds). A report (account, frequency, report date) is
    replaced atomically. Fact rows use a bigint identity key: at tens of millions of rows a UUID
    key would double the index for nothing.

    Partitioned (migration ``21_partitions``, :mod:`app.reports.partitions`): by frequency,
    then by report month (daily) or year. No foreign keys and no unique index on ``id`` (the
    identity makes it unique): per-row checks cost more than the insert itself; triggers on
    ``asc_accounts`` and ``apps`` keep the ON DELETE actions (rows go with their account; a
    deleted app's rows keep no ``app_id``).
    """

    __tablename__ = "sales_rows"
    __table_args__ = (
        # Rows still waiting for their catalog app (see sales.repository.link_rows_to_apps).
        Index("ix_sales_rows_unlinked", "account_id", postgresql_where=text("app_id IS NULL")),
        # Also how an account's report day is found (with its workspace): an index on the
        # account and day held a million equal keys a big day (migration 21_sales_rows_one_index).
        Index("ix_sales_rows_workspace_date", "workspace_id", "frequency", "report_date", "id"),
        {"postgresql_partition_by": "LIST (frequency)"},
    )
    # The mapper's identity; the table has no primary key constraint (see above).
    __mapper_args__ = {"primary_key": ["id"]}  # noqa: RUF012

    # Handed out a thousand at a time per session (a million-row COPY asks once per row):
    # unique, not dense, in order within a session only (migration 21_ing_sales_rows_id_cache).
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True, cache=1000))
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    frequency: Mapped[str] = mapped_column(String(8))
    report_date: Mapped[dt.date] = mapped_column(Date)
    # The catalog app the row belongs to (by Apple Identifier, or for in-app products by the
    # parent app's SKU); null when the catalog does not know it. The row is kept either way.
    app_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    begin_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    provider: Mapped[str | None] = mapped_column(Text)
    provider_country: Mapped[str | None] = mapped_column(Text)
    sku: Mapped[str | None] = mapped_column(Text)
    developer: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(Text)
    product_type: Mapped[str | None] = mapped_column(Text)
    unit_kind: Mapped[str] = mapped_column(String(24))
    units: Mapped[Decimal] = mapped_column(Numeric)
    developer_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    customer_currency: Mapped[str | None] = mapped_column(Text)
    country_code: Mapped[str | None] = mapped_column(Text)
    apple_identifier: Mapped[str | None] = mapped_column(Text)
    parent_identifier: Mapped[str | None] = mapped_column(Text)
    promo_code: Mapped[str | None] = mapped_column(Text)
    subscription: Mapped[str | None] = mapped_column(Text)
    period: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    cmb: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(Text)
    supported_platforms: Mapped[str | None] = mapped_column(Text)
    proceeds_reason: Mapped[str | None] = mapped_column(Text)
    preserved_pricing: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(Text)
    order_type: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(16))
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class SalesDailyRollup(Base):
    """Daily sums of ``sales_rows`` per dimension combination, rebuilt for a day in the same
    transaction that replaces the day's rows, so dashboard queries never scan raw rows."""

    __tablename__ = "sales_daily_rollup"
    __table_args__ = (
        Index("ix_sales_daily_rollup_workspace_date", "workspace_id", "report_date"),
        # Covers the sales API's one-app queries (the dashboards'): an index-only scan, already
        # in (date, currency) order, where the plain (app, date) index fetched a scattered heap
        # page per row — see tests/benchmarks/sales_query.py.
        Index(
            "ix_sales_daily_rollup_app_totals",
            "app_id",
            "report_date",
            "proceeds_currency",
            "customer_currency",
            postgresql_include=[
                "workspace_id",
                "unit_kind",
                "units_in",
                "refunds",
                "net_units",
                "proceeds",
                "customer_sales",
            ],
        ),
        Index("ix_sales_daily_rollup_account_date", "account_id", "report_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # No foreign keys, like sales_rows (triggers keep their ON DELETE actions).
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    report_date: Mapped[dt.date] = mapped_column(Date)
    app_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    product: Mapped[str | None] = mapped_column(Text)
    sku: Mapped[str | None] = mapped_column(Text)
    country_code: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(16))
    unit_kind: Mapped[str] = mapped_column(String(24))
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    customer_currency: Mapped[str | None] = mapped_column(Text)
    units_in: Mapped[Decimal] = mapped_column(Numeric)
    refunds: Mapped[Decimal] = mapped_column(Numeric)
    net_units: Mapped[Decimal] = mapped_column(Numeric)
    proceeds: Mapped[Decimal] = mapped_column(Numeric)
    customer_sales: Mapped[Decimal] = mapped_column(Numeric)
    #: Rows with 0 units and money (partial refunds, FACTS §8): count and money given back.
    partial_refunds: Mapped[Decimal] = mapped_column(Numeric, server_default=text("0"))
    partial_refund_proceeds: Mapped[Decimal] = mapped_column(Numeric, server_default=text("0"))
    partial_refund_customer: Mapped[Decimal] = mapped_column(Numeric, server_default=text("0"))


class _Measures:
    """The measure set: the unit kinds as columns, refunds, net units, money."""

    first_time_downloads: Mapped[int] = mapped_column(BigInteger)
    redownloads: Mapped[int] = mapped_column(BigInteger)
    updates: Mapped[int] = mapped_column(BigInteger)
    iap_units: Mapped[int] = mapped_column(BigInteger)
    subscription_units: Mapped[int] = mapped_column(BigInteger)
    restores: Mapped[int] = mapped_column(BigInteger)
    refunds: Mapped[int] = mapped_column(BigInteger)
    net_units: Mapped[int] = mapped_column(BigInteger)
    partial_refunds: Mapped[int] = mapped_column(BigInteger)
    proceeds: Mapped[Decimal] = mapped_column(Numeric)
    customer_sales: Mapped[Decimal] = mapped_column(Numeric)
    partial_refund_proceeds: Mapped[Decimal] = mapped_column(Numeric)
    partial_refund_customer: Mapped[Decimal] = mapped_column(Numeric)


class _MeasureSetRollup(_Measures):
    """Sums of ``sales_daily_rollup`` over the dimensions a dashboard rarely splits by
    (product, SKU, device, platform): one row per period × country × currency pair (× app),
    with the unit kinds as columns (the *measure set*), so a whole-workspace 90-day query
    sums thousands of rows, not millions. Rebuilt in the transaction that replaces the day's
    rows (``app.sales.rollups``); ``report_date`` is the first day of the period."""

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    country_code: Mapped[str | None] = mapped_column(Text)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    customer_currency: Mapped[str | None] = mapped_column(Text)


class _AppRollup(_MeasureSetRollup):
    app_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))


class SalesRollupAppDay(_AppRollup, Base):
    """Per day × account × app × country × currency pair (see ``_MeasureSetRollup``)."""

    __tablename__ = "sales_rollup_app_day"
    __table_args__ = (
        Index("ix_sales_rollup_app_day_workspace_date", "workspace_id", "report_date"),
        Index("ix_sales_rollup_app_day_app_date", "app_id", "report_date"),
        Index("ix_sales_rollup_app_day_account_date", "account_id", "report_date"),
    )


class SalesRollupAppMonth(_AppRollup, Base):
    """Per calendar month × account × app × country × currency pair."""

    __tablename__ = "sales_rollup_app_month"
    __table_args__ = (
        Index("ix_sales_rollup_app_month_workspace_date", "workspace_id", "report_date"),
        Index("ix_sales_rollup_app_month_app_date", "app_id", "report_date"),
        Index("ix_sales_rollup_app_month_account_date", "account_id", "report_date"),
    )


class SalesRollupAccountDay(_MeasureSetRollup, Base):
    """Per day × account × country × currency pair: what whole-workspace queries read."""

    __tablename__ = "sales_rollup_account_day"
    __table_args__ = (
        Index("ix_sales_rollup_account_day_workspace_date", "workspace_id", "report_date"),
        Index("ix_sales_rollup_account_day_account_date", "account_id", "report_date"),
    )


class SalesRollupWorkspaceDay(_Measures, Base):
    """Per day × country × currency pair over every account of the workspace: the whole-
    workspace dashboards' query reads one row per item it returns."""

    __tablename__ = "sales_rollup_workspace_day"
    __table_args__ = (
        Index("ix_sales_rollup_workspace_day_workspace_date", "workspace_id", "report_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    country_code: Mapped[str | None] = mapped_column(Text)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    customer_currency: Mapped[str | None] = mapped_column(Text)


class SalesItemsWorkspaceDay(Base):
    """Per day × country: the item of a whole-workspace day report by storefront, written as
    JSON from ``sales_rollup_workspace_day`` whenever that changes (``app.sales.item_sql``)."""

    __tablename__ = "sales_items_workspace_day"
    __table_args__ = (
        # The report's order: a page is read in it, not sorted.
        Index("ix_sales_items_workspace_day_order", "workspace_id", "report_date", "position"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    country_code: Mapped[str | None] = mapped_column(Text)
    #: The item's place in its day (storefronts in byte order, none last), from 1.
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(Text)


class SalesItemsWorkspaceDayConverted(Base):
    """Per day × country: the same item converted into a workspace's default reporting
    currency, kept by the worker (``app.sales.converted_items``) for the days whose
    ``SalesItemsWorkspaceDayConvertedDay`` says they are current."""

    __tablename__ = "sales_items_workspace_day_converted"
    __table_args__ = (
        Index(
            "ix_sales_items_workspace_day_converted_order",
            "workspace_id",
            "currency",
            "report_date",
            "position",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    currency: Mapped[str] = mapped_column(String(3))
    report_date: Mapped[dt.date] = mapped_column(Date)
    country_code: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(Text)


class SalesItemsWorkspaceDayConvertedDay(Base):
    """A day whose converted items are kept: converted into ``currency`` with the rates of
    ``fx_version`` (``fx_data_version``) and ``max_rate_age_days``. Deleted, with the day's
    converted items, whenever the day's unconverted kept items change (a trigger of migration
    ``17_kept_converted_items``)."""

    __tablename__ = "sales_items_workspace_day_converted_days"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    report_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    fx_version: Mapped[uuid.UUID] = mapped_column(Uuid)
    max_rate_age_days: Mapped[int] = mapped_column(Integer)


class SalesRollupAccountMonth(_MeasureSetRollup, Base):
    """Per calendar month × account × country × currency pair."""

    __tablename__ = "sales_rollup_account_month"
    __table_args__ = (
        Index("ix_sales_rollup_account_month_workspace_date", "workspace_id", "report_date"),
        Index("ix_sales_rollup_account_month_account_date", "account_id", "report_date"),
    )


class PreOrderRow(Base):
    """One row of an Apple PRE_ORDER/SUMMARY daily report: one title in pre-order and one
    storefront (FACTS §4.5; layout by header name, see ``app.sales.layout``). A report date is
    replaced atomically."""

    __tablename__ = "pre_order_rows"
    __table_args__ = (Index("ix_pre_order_rows_partition", "account_id", "report_date"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    provider: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    apple_identifier: Mapped[str | None] = mapped_column(Text)
    pre_order_start: Mapped[dt.date | None] = mapped_column(Date)
    pre_order_end: Mapped[dt.date | None] = mapped_column(Date)
    ordered: Mapped[Decimal | None] = mapped_column(Numeric)
    canceled: Mapped[Decimal | None] = mapped_column(Numeric)
    cumulative_ordered: Mapped[Decimal | None] = mapped_column(Numeric)
    cumulative_canceled: Mapped[Decimal | None] = mapped_column(Numeric)
    begin_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    country_code: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(Text)
    supported_platforms: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(Text)
    provider_country: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
