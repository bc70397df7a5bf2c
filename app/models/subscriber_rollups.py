"""Per-subscriber tables of the Subscriber Report (``app.subscriptions.subscriber_rollup``):
derived from ``subscriber_transaction_rows`` per (account, App Apple ID, Subscriber ID) in the
unit's transaction, read by MRR movements and Subscriber ID cohorts."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Identity, Index, Numeric, Text
from sqlalchemy.dialects.postgresql import UUID as PGUUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class _AppKey:
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_apple_id: Mapped[str] = mapped_column(Text)


class _Workspace:
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))


class _WorkspaceColumn:
    """The workspace, without a foreign key: the account's cascades a purge, and a checked key
    per row would double the per-subscriber rows' writes."""

    workspace_id: Mapped[uuid.UUID] = mapped_column(PGUUID(as_uuid=True))


class _Groups:
    """The dimensions of the charge a row describes, empty values as null."""

    g_app: Mapped[str | None] = mapped_column(Text)
    g_subscription: Mapped[str | None] = mapped_column(Text)
    g_country: Mapped[str | None] = mapped_column(Text)
    g_offer: Mapped[str | None] = mapped_column(Text)
    g_duration: Mapped[str | None] = mapped_column(Text)


class SubscriberReportDay(_AppKey, Base):
    """A Subscriber ID (trimmed) one report day's rows name: re-derived when the day is
    replaced, with the IDs its new rows name."""

    __tablename__ = "subscriber_report_days"
    __table_args__ = (Index("ix_subscriber_report_days_day", "account_id", "report_date"),)

    subscriber_id: Mapped[str] = mapped_column(Text)
    report_date: Mapped[dt.date] = mapped_column(Date)


class SubscriberCohort(_AppKey, _WorkspaceColumn, Base):
    """A Subscriber ID with a charge: its first charge's Event Date and month (its cohort)."""

    __tablename__ = "subscriber_cohorts"
    __table_args__ = (
        Index("ix_subscriber_cohorts_subscriber", "account_id", "app_apple_id", "subscriber_id"),
    )

    subscriber_id: Mapped[str] = mapped_column(Text)
    first_charge: Mapped[dt.date] = mapped_column(Date)
    cohort: Mapped[dt.date] = mapped_column(Date)


class SubscriberMonth(_AppKey, _WorkspaceColumn, _Groups, Base):
    """A month whose last day a charge of the Subscriber ID (not refunded) covers; with the
    newest such charge with proceeds, its monthly proceeds (``mrr``), currency and dimensions
    (null when none has proceeds)."""

    __tablename__ = "subscriber_months"
    __table_args__ = (
        # Only by Subscriber ID: with another index on the app's rows, a planner whose
        # statistics still say the table is empty picks that one and filters every row.
        Index("ix_subscriber_months_subscriber", "account_id", "app_apple_id", "subscriber_id"),
    )

    subscriber_id: Mapped[str] = mapped_column(Text)
    month: Mapped[dt.date] = mapped_column(Date)
    first_charge: Mapped[dt.date] = mapped_column(Date)
    cohort: Mapped[dt.date] = mapped_column(Date)
    mrr: Mapped[Decimal | None] = mapped_column(Numeric)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)


class SubscriberDayProceeds(_AppKey, _WorkspaceColumn, Base):
    """A Subscriber ID's developer proceeds of one Event Date and proceeds currency: charges
    minus |refunds|."""

    __tablename__ = "subscriber_day_proceeds"
    __table_args__ = (
        Index(
            "ix_subscriber_day_proceeds_subscriber", "account_id", "app_apple_id", "subscriber_id"
        ),
    )

    subscriber_id: Mapped[str] = mapped_column(Text)
    cohort: Mapped[dt.date] = mapped_column(Date)
    event_date: Mapped[dt.date] = mapped_column(Date)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    proceeds: Mapped[Decimal] = mapped_column(Numeric)
    source_rows: Mapped[int] = mapped_column(BigInteger)


class SubscriberMrrMovementMonth(_AppKey, _Workspace, _Groups, Base):
    """An app's MRR movements of one calendar month (end of the month before → end of the
    month) per proceeds currency and dimensions."""

    __tablename__ = "subscriber_mrr_movement_months"
    __table_args__ = (
        Index("ix_subscriber_mrr_movement_months_month", "account_id", "app_apple_id", "month"),
        # A workspace's or an account's apps (several apps' movements add up).
        Index("ix_subscriber_mrr_movement_months_workspace", "workspace_id", "month"),
    )

    month: Mapped[dt.date] = mapped_column(Date)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    new: Mapped[Decimal] = mapped_column(Numeric)
    reactivation: Mapped[Decimal] = mapped_column(Numeric)
    expansion: Mapped[Decimal] = mapped_column(Numeric)
    contraction: Mapped[Decimal] = mapped_column(Numeric)
    churned: Mapped[Decimal] = mapped_column(Numeric)
    closing: Mapped[Decimal] = mapped_column(Numeric)
    #: Subscribers in the sums (a key none is in any more is removed).
    subscribers: Mapped[int] = mapped_column(BigInteger)
    #: Of them, those with a charge at the month's end (``closing``'s subscribers): the stock
    #: a day's or a week's closing starts from.
    holders: Mapped[int] = mapped_column(BigInteger, server_default="0")


class _MrrState:
    """A subscriber's MRR state before (``a_``) and from (``z_``) a change: the monthly
    proceeds, proceeds currency and dimensions of its newest covering charge (all null: no
    charge with proceeds covers the day)."""

    a_mrr: Mapped[Decimal | None] = mapped_column(Numeric)
    a_currency: Mapped[str | None] = mapped_column(Text)
    a_g_app: Mapped[str | None] = mapped_column(Text)
    a_g_subscription: Mapped[str | None] = mapped_column(Text)
    a_g_country: Mapped[str | None] = mapped_column(Text)
    a_g_offer: Mapped[str | None] = mapped_column(Text)
    a_g_duration: Mapped[str | None] = mapped_column(Text)
    z_mrr: Mapped[Decimal | None] = mapped_column(Numeric)
    z_currency: Mapped[str | None] = mapped_column(Text)
    z_g_app: Mapped[str | None] = mapped_column(Text)
    z_g_subscription: Mapped[str | None] = mapped_column(Text)
    z_g_country: Mapped[str | None] = mapped_column(Text)
    z_g_offer: Mapped[str | None] = mapped_column(Text)
    z_g_duration: Mapped[str | None] = mapped_column(Text)


class SubscriberMrrChange(_AppKey, _WorkspaceColumn, _MrrState, Base):
    """A day whose MRR state of the Subscriber ID differs from the day before's (its charge
    periods' boundaries where the newest covering charge changes): the state at any day is
    that of the newest change on or before it."""

    __tablename__ = "subscriber_mrr_changes"
    __table_args__ = (
        Index(
            "ix_subscriber_mrr_changes_subscriber", "account_id", "app_apple_id", "subscriber_id"
        ),
        Index("ix_subscriber_mrr_changes_day", "account_id", "app_apple_id", "day"),
        Index("ix_subscriber_mrr_changes_workspace", "workspace_id", "day"),
    )

    subscriber_id: Mapped[str] = mapped_column(Text)
    day: Mapped[dt.date] = mapped_column(Date)
    first_charge: Mapped[dt.date] = mapped_column(Date)


class SubscriberMrrMovementSpan(_AppKey, _Workspace, _Groups, Base):
    """An app's MRR movements of one day (``span='day'``) or ISO week (``'week'``, from its
    Monday ``start``) per proceeds currency and dimensions, with the change of the closing
    stock (``net``, ``held``) per the group of each side."""

    __tablename__ = "subscriber_mrr_movement_spans"
    __table_args__ = (
        Index(
            "ix_subscriber_mrr_movement_spans_start", "account_id", "app_apple_id", "span", "start"
        ),
        Index("ix_subscriber_mrr_movement_spans_workspace", "workspace_id", "span", "start"),
    )

    span: Mapped[str] = mapped_column(Text)
    start: Mapped[dt.date] = mapped_column(Date)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    new: Mapped[Decimal] = mapped_column(Numeric)
    reactivation: Mapped[Decimal] = mapped_column(Numeric)
    expansion: Mapped[Decimal] = mapped_column(Numeric)
    contraction: Mapped[Decimal] = mapped_column(Numeric)
    churned: Mapped[Decimal] = mapped_column(Numeric)
    #: Subscribers without a charge at the span's end that had one the day before it.
    churners: Mapped[int] = mapped_column(BigInteger)
    #: The closing MRR's change (+ the state after, − the state before, each in its group).
    net: Mapped[Decimal] = mapped_column(Numeric)
    #: The change of the subscribers with a charge (+1 after, −1 before, each in its group).
    held: Mapped[int] = mapped_column(BigInteger)
    #: Contributions in the sums (a key none is in any more is removed).
    subscribers: Mapped[int] = mapped_column(BigInteger)


class SubscriberMrrMonthToDate(_AppKey, _WorkspaceColumn, _Groups, Base):
    """An app's closing MRR stock at the end of ``day`` minus that at the end of the month
    before (``net``, ``held``), per proceeds currency and dimensions: the running sums of the
    month's day spans (``subscriber_mrr_movement_spans``) up to the day, kept for every day of
    the month from a key's first change on, so a day's closing is two reads (the month end's
    and this). A key whose sums are both zero has no row."""

    __tablename__ = "subscriber_mrr_month_to_date"
    __table_args__ = (
        Index("ix_subscriber_mrr_month_to_date_day", "account_id", "app_apple_id", "day"),
        Index("ix_subscriber_mrr_month_to_date_workspace", "workspace_id", "day"),
    )

    day: Mapped[dt.date] = mapped_column(Date)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    net: Mapped[Decimal] = mapped_column(Numeric)
    held: Mapped[int] = mapped_column(BigInteger)


class SubscriberCohortMonth(_AppKey, _Workspace, Base):
    """An app's cohort: its size (``kind='size'``), retained subscribers per month
    (``retained``) and net proceeds per month and currency (``revenue``)."""

    __tablename__ = "subscriber_cohort_months"
    __table_args__ = (
        Index("ix_subscriber_cohort_months_cohort", "account_id", "app_apple_id", "cohort"),
    )

    cohort: Mapped[dt.date] = mapped_column(Date)
    month: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(Text)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    subscribers: Mapped[int] = mapped_column(BigInteger)
    proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
