"""Each report date's series values, precomputed (see ``app/subscriptions/series_days.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class SubscriptionMrrDay(Base):
    """One account's estimated MRR of one report date in one proceeds currency, unrounded:
    per app (``by_app``, the app's Apple ID as stored) and for the whole account (``by_app``
    false, app null); rebuilt with the day's Subscription Report rollup, in its transaction."""

    __tablename__ = "subscription_mrr_days"
    __table_args__ = (
        Index("ix_subscription_mrr_days_partition", "account_id", "report_date"),
        Index(
            "ix_subscription_mrr_days_scope",
            "account_id",
            "by_app",
            "app_apple_id",
            "report_date",
        ),
        Index("ix_subscription_mrr_days_workspace", "workspace_id", "by_app", "report_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    by_app: Mapped[bool] = mapped_column(Boolean)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    proceeds_currency: Mapped[str] = mapped_column(Text)
    #: ``metrics.MrrTotal``'s amount of the currency (Python's ``Decimal``), not yet rounded.
    amount: Mapped[Decimal] = mapped_column(Numeric)
    #: ``amount`` as the series serves it (``amount_text``), rounded to ``decimals`` minor units.
    decimals: Mapped[int] = mapped_column(SmallInteger)
    amount_text: Mapped[str] = mapped_column(Text)


class SubscriptionCountDay(Base):
    """One account's Subscription Report counts of one report date, each column summed over
    the snapshot rollup's rows (null: no row has it): per app (``by_app``) and for the whole
    account (``by_app`` false, app null); rebuilt with the day's rollup, in its transaction."""

    __tablename__ = "subscription_count_days"
    __table_args__ = (
        Index("ix_subscription_count_days_partition", "account_id", "report_date"),
        Index(
            "ix_subscription_count_days_scope",
            "workspace_id",
            "by_app",
            "report_date",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    by_app: Mapped[bool] = mapped_column(Boolean)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    active_standard: Mapped[int | None] = mapped_column(BigInteger)
    free_trial_introductory: Mapped[int | None] = mapped_column(BigInteger)
    pay_up_front_introductory: Mapped[int | None] = mapped_column(BigInteger)
    pay_as_you_go_introductory: Mapped[int | None] = mapped_column(BigInteger)
    free_trial_promotional: Mapped[int | None] = mapped_column(BigInteger)
    pay_up_front_promotional: Mapped[int | None] = mapped_column(BigInteger)
    pay_as_you_go_promotional: Mapped[int | None] = mapped_column(BigInteger)
    free_trial_offer_code: Mapped[int | None] = mapped_column(BigInteger)
    pay_up_front_offer_code: Mapped[int | None] = mapped_column(BigInteger)
    pay_as_you_go_offer_code: Mapped[int | None] = mapped_column(BigInteger)
    free_trial_win_back: Mapped[int | None] = mapped_column(BigInteger)
    pay_up_front_win_back: Mapped[int | None] = mapped_column(BigInteger)
    pay_as_you_go_win_back: Mapped[int | None] = mapped_column(BigInteger)
    billing_retry: Mapped[int | None] = mapped_column(BigInteger)
    grace_period: Mapped[int | None] = mapped_column(BigInteger)
    marketing_opt_ins: Mapped[int | None] = mapped_column(BigInteger)
    subscribers: Mapped[int | None] = mapped_column(BigInteger)
    #: The Subscription Report rows behind the counts (Σ the rollup's ``source_rows``): the
    #: metrics' traces.
    source_rows: Mapped[int] = mapped_column(BigInteger)
