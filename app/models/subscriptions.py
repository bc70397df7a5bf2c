"""Apple's subscription-family daily reports, one table per report (FACTS §5.3–5.5).

Rows are stored as Apple writes them (text enums, per-unit money in the row's own currencies),
parsed by header name; columns Apple adds later land in ``extra``. Each table is partitioned
by (account, report date) — the date *requested*, since the Subscription Report has no date
column — and a report day is replaced atomically. Fact rows use a bigint identity key, like
the sales rows.

The three report-row tables (``_ReportRow``) are partitioned like ``sales_rows`` (migration
``21_report_partitions``, :mod:`app.reports.partitions`): the snapshot and event rows by
report month, the subscriber rows by account hash. No primary key constraint and no foreign
keys (the identity makes ``id`` unique; a trigger on ``asc_accounts`` deletes an account's
rows, as the cascade did).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class _ReportRow:
    # The mapper's identity; the table has no primary key constraint (see the module).
    __mapper_args__ = {"primary_key": ["id"]}  # noqa: RUF012

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Apple's reporting day (Pacific) of the file: the day asked for.
    report_date: Mapped[dt.date] = mapped_column(Date)
    app_name: Mapped[str | None] = mapped_column(Text)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_name: Mapped[str | None] = mapped_column(Text)
    subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_group_id: Mapped[str | None] = mapped_column(Text)
    standard_duration: Mapped[str | None] = mapped_column(Text)
    offer_name: Mapped[str | None] = mapped_column(Text)
    promotional_offer_id: Mapped[str | None] = mapped_column(Text)
    preserved_pricing: Mapped[str | None] = mapped_column(Text)
    proceeds_reason: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class SubscriptionSnapshotRow(_ReportRow, Base):
    """One row of SUBSCRIPTION/SUMMARY: active subscriptions at one price point on a day."""

    __tablename__ = "subscription_snapshot_rows"
    __table_args__ = (
        Index("ix_subscription_snapshot_rows_partition", "account_id", "report_date"),
        Index("ix_subscription_snapshot_rows_workspace_date", "workspace_id", "report_date"),
        {"postgresql_partition_by": "RANGE (report_date)"},
    )

    offer_type: Mapped[str | None] = mapped_column(Text)
    customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    customer_currency: Mapped[str | None] = mapped_column(Text)
    developer_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    active_standard: Mapped[int | None] = mapped_column(Integer)
    free_trial_introductory: Mapped[int | None] = mapped_column(Integer)
    pay_up_front_introductory: Mapped[int | None] = mapped_column(Integer)
    pay_as_you_go_introductory: Mapped[int | None] = mapped_column(Integer)
    free_trial_promotional: Mapped[int | None] = mapped_column(Integer)
    pay_up_front_promotional: Mapped[int | None] = mapped_column(Integer)
    pay_as_you_go_promotional: Mapped[int | None] = mapped_column(Integer)
    free_trial_offer_code: Mapped[int | None] = mapped_column(Integer)
    pay_up_front_offer_code: Mapped[int | None] = mapped_column(Integer)
    pay_as_you_go_offer_code: Mapped[int | None] = mapped_column(Integer)
    free_trial_win_back: Mapped[int | None] = mapped_column(Integer)
    pay_up_front_win_back: Mapped[int | None] = mapped_column(Integer)
    pay_as_you_go_win_back: Mapped[int | None] = mapped_column(Integer)
    marketing_opt_ins: Mapped[int | None] = mapped_column(Integer)
    billing_retry: Mapped[int | None] = mapped_column(Integer)
    grace_period: Mapped[int | None] = mapped_column(Integer)
    subscribers: Mapped[int | None] = mapped_column(Integer)


class SubscriptionEventRow(_ReportRow, Base):
    """One row of SUBSCRIPTION_EVENT/SUMMARY: ``quantity`` identical events on ``event_date``
    (a daily file can carry several event dates)."""

    __tablename__ = "subscription_event_rows"
    __table_args__ = (
        Index("ix_subscription_event_rows_partition", "account_id", "report_date"),
        Index("ix_subscription_event_rows_workspace_event_date", "workspace_id", "event_date"),
        {"postgresql_partition_by": "RANGE (report_date)"},
    )

    event_date: Mapped[dt.date | None] = mapped_column(Date)
    event: Mapped[str | None] = mapped_column(Text)
    offer_type: Mapped[str | None] = mapped_column(Text)
    offer_duration: Mapped[str | None] = mapped_column(Text)
    marketing_opt_in: Mapped[str | None] = mapped_column(Text)
    marketing_opt_in_duration: Mapped[str | None] = mapped_column(Text)
    consecutive_paid_periods: Mapped[int | None] = mapped_column(Integer)
    original_start_date: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str | None] = mapped_column(Text)
    previous_subscription_name: Mapped[str | None] = mapped_column(Text)
    previous_subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    days_before_canceling: Mapped[int | None] = mapped_column(Integer)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    days_canceled: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    paid_service_days_recovered: Mapped[int | None] = mapped_column(Integer)


class SubscriberTransactionRow(_ReportRow, Base):
    """One row of SUBSCRIBER/DETAILED: one subscriber transaction. ``subscriber_id`` is
    Apple's already-anonymised per-developer id, stored as given."""

    __tablename__ = "subscriber_transaction_rows"
    __table_args__ = (
        Index("ix_subscriber_transaction_rows_partition", "account_id", "report_date"),
        Index("ix_subscriber_transaction_rows_workspace_event_date", "workspace_id", "event_date"),
        # One Subscriber ID's rows, re-derived per subscriber (subscriber_rollup).
        Index(
            "ix_subscriber_transaction_rows_subscriber",
            "account_id",
            "app_apple_id",
            text("btrim(subscriber_id)"),
        ),
        # By account, not by month: read per Subscriber ID over all dates (see the migration).
        {"postgresql_partition_by": "HASH (account_id)"},
    )

    event_date: Mapped[dt.date | None] = mapped_column(Date)
    offer_type: Mapped[str | None] = mapped_column(Text)
    offer_duration: Mapped[str | None] = mapped_column(Text)
    marketing_opt_in_duration: Mapped[str | None] = mapped_column(Text)
    customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    customer_currency: Mapped[str | None] = mapped_column(Text)
    developer_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    subscriber_id: Mapped[str | None] = mapped_column(Text)
    subscriber_id_reset: Mapped[bool | None] = mapped_column(Boolean)
    refund: Mapped[bool | None] = mapped_column(Boolean)
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)
    units: Mapped[Decimal | None] = mapped_column(Numeric)


class _DayRollup:
    """A per-day rollup of one of the event-dated reports: sums of its rows per (account,
    report date, event date) and every dimension a metric groups or filters by, rebuilt for an
    (account, report date) in the transaction that replaces that day's rows (see
    ``app/subscriptions/rollup.py``). ``source_rows`` counts the rows summed, for traces."""

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    event_date: Mapped[dt.date] = mapped_column(Date)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    offer_name: Mapped[str | None] = mapped_column(Text)
    standard_duration: Mapped[str | None] = mapped_column(Text)
    source_rows: Mapped[int] = mapped_column(BigInteger)
    #: Two layers: per storefront (true), and summed over storefronts (false, country null),
    #: for the many requests that neither group nor filter by country.
    by_country: Mapped[bool] = mapped_column(Boolean)


class SubscriptionEventDayRollup(_DayRollup, Base):
    """``subscription_event_rows`` summed per day and dimension, with the event name lower-cased
    and trimmed (``n``) and whether the offer type is Free Trial (``free``) precomputed."""

    __tablename__ = "subscription_event_day_rollup"
    __table_args__ = (
        Index("ix_subscription_event_day_rollup_partition", "account_id", "report_date"),
        Index(
            "ix_subscription_event_day_rollup_workspace_event_date", "workspace_id", "event_date"
        ),
    )

    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    n: Mapped[str] = mapped_column(Text)
    free: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int] = mapped_column(BigInteger)
    #: Σ Consecutive Paid Periods × Quantity, and Σ Quantity, of the rows that state the periods.
    paid_periods: Mapped[int] = mapped_column(BigInteger)
    quantity_with_periods: Mapped[int] = mapped_column(BigInteger)


class SubscriptionEventMonthRollup(Base):
    """``subscription_event_day_rollup`` summed per calendar month of Event Date (``month``):
    the same dimensions, event name, free-trial flag and layers, with the report and event
    dates each month's rows span (for traces). Rebuilt for the months a report day's events
    fall in (before and after), in the unit's transaction; read for the whole months of a
    monthly request instead of each day's rows."""

    __tablename__ = "subscription_event_month_rollup"
    __table_args__ = (
        Index("ix_subscription_event_month_rollup_partition", "account_id", "month"),
        Index(
            "ix_subscription_event_month_rollup_workspace_month",
            "workspace_id",
            "by_country",
            "month",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    offer_name: Mapped[str | None] = mapped_column(Text)
    standard_duration: Mapped[str | None] = mapped_column(Text)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    n: Mapped[str] = mapped_column(Text)
    free: Mapped[bool] = mapped_column(Boolean)
    by_country: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int] = mapped_column(BigInteger)
    paid_periods: Mapped[int] = mapped_column(BigInteger)
    quantity_with_periods: Mapped[int] = mapped_column(BigInteger)
    source_rows: Mapped[int] = mapped_column(BigInteger)
    first_report: Mapped[dt.date] = mapped_column(Date)
    last_report: Mapped[dt.date] = mapped_column(Date)
    first_event: Mapped[dt.date] = mapped_column(Date)
    last_event: Mapped[dt.date] = mapped_column(Date)


class SubscriberTransactionDayRollup(_DayRollup, Base):
    """``subscriber_transaction_rows`` summed per day, dimension, currencies and whether the
    rows are refunds (``refund``: Refund = Yes or a negative Customer Price)."""

    __tablename__ = "subscriber_transaction_day_rollup"
    __table_args__ = (
        Index("ix_subscriber_transaction_day_rollup_partition", "account_id", "report_date"),
        Index(
            "ix_subscriber_transaction_day_rollup_workspace_event_date",
            "workspace_id",
            "event_date",
        ),
    )

    customer_currency: Mapped[str | None] = mapped_column(Text)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    refund: Mapped[bool] = mapped_column(Boolean)
    customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    developer_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    abs_customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    abs_developer_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)


class SubscriberTransactionMonthRollup(Base):
    """``subscriber_transaction_day_rollup`` summed per calendar month of Event Date
    (``month``), with the report and event dates each month's rows span (for traces); rebuilt
    for the months a Subscriber Report day touches (before and after), in the unit's
    transaction; read for the whole months of a monthly request instead of each day's rows."""

    __tablename__ = "subscriber_transaction_month_rollup"
    __table_args__ = (
        Index("ix_subscriber_transaction_month_rollup_partition", "account_id", "month"),
        Index(
            "ix_subscriber_transaction_month_rollup_workspace_month",
            "workspace_id",
            "by_country",
            "month",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    offer_name: Mapped[str | None] = mapped_column(Text)
    standard_duration: Mapped[str | None] = mapped_column(Text)
    customer_currency: Mapped[str | None] = mapped_column(Text)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    refund: Mapped[bool] = mapped_column(Boolean)
    by_country: Mapped[bool] = mapped_column(Boolean)
    customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    developer_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    abs_customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    abs_developer_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    source_rows: Mapped[int] = mapped_column(BigInteger)
    first_report: Mapped[dt.date] = mapped_column(Date)
    last_report: Mapped[dt.date] = mapped_column(Date)
    first_event: Mapped[dt.date] = mapped_column(Date)
    last_event: Mapped[dt.date] = mapped_column(Date)


class SubscriberPayerMonth(Base):
    """Distinct paying Subscriber IDs (charges, not refunds) of one account's app in one
    calendar month of Event Date, per (customer, proceeds) currency pair and in total
    (``total``: currencies null). Distinct counts do not add up over days, so the months a
    Subscriber Report day touches are recounted in the unit's transaction."""

    __tablename__ = "subscriber_payer_months"
    __table_args__ = (Index("ix_subscriber_payer_months_account_app_month", "account_id",
                            "app_apple_id", "month"),)  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    month: Mapped[dt.date] = mapped_column(Date)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    customer_currency: Mapped[str | None] = mapped_column(Text)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    total: Mapped[bool] = mapped_column(Boolean)
    payers: Mapped[int] = mapped_column(BigInteger)


class OfferCodeRedemptionRow(Base):
    """One row of Apple's SUBSCRIPTION_OFFER_CODE_REDEMPTION daily report: redemptions of one
    offer code per subscription and territory on ``event_date``."""

    __tablename__ = "offer_code_redemption_rows"
    __table_args__ = (
        Index("ix_offer_code_redemption_rows_partition", "account_id", "report_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    event_date: Mapped[dt.date | None] = mapped_column(Date)
    app_name: Mapped[str | None] = mapped_column(Text)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_name: Mapped[str | None] = mapped_column(Text)
    subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    offer_reference_name: Mapped[str | None] = mapped_column(Text)
    offer_code: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    redemptions: Mapped[Decimal | None] = mapped_column(Numeric)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class WinBackEligibilityRow(Base):
    """One row of Apple's WIN_BACK_ELIGIBILITY daily report: churned subscriptions as of the
    report date, per subscription, tenure, time since churn and territory."""

    __tablename__ = "win_back_eligibility_rows"
    __table_args__ = (Index("ix_win_back_eligibility_rows_partition", "account_id", "report_date"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    app_name: Mapped[str | None] = mapped_column(Text)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_name: Mapped[str | None] = mapped_column(Text)
    subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_group_id: Mapped[str | None] = mapped_column(Text)
    standard_duration: Mapped[str | None] = mapped_column(Text)
    paid_tenure_months: Mapped[Decimal | None] = mapped_column(Numeric)
    months_since_subscribed: Mapped[Decimal | None] = mapped_column(Numeric)
    redeemed_win_back: Mapped[bool | None] = mapped_column(Boolean)
    months_since_win_back: Mapped[Decimal | None] = mapped_column(Numeric)
    territory: Mapped[str | None] = mapped_column(Text)
    churned_count: Mapped[Decimal | None] = mapped_column(Numeric)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
