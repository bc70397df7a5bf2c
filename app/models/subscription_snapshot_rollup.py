"""The per-day rollup of the Subscription Report (see ``app/subscriptions/snapshot_rollup.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Identity, Index, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class SubscriptionSnapshotDayRollup(Base):
    """``subscription_snapshot_rows`` of one (account, report date) summed per app,
    subscription, storefront (and over storefronts: ``by_country`` false, country null), offer
    name, standard duration and proceeds currency; rebuilt in the transaction that replaces the
    day's rows. Count columns are Σ over the rows where they are non-zero (null: none)."""

    __tablename__ = "subscription_snapshot_day_rollup"
    __table_args__ = (
        Index("ix_subscription_snapshot_day_rollup_partition", "account_id", "report_date"),
        Index(
            "ix_subscription_snapshot_day_rollup_workspace_date",
            "workspace_id",
            "by_country",
            "report_date",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    subscription_apple_id: Mapped[str | None] = mapped_column(Text)
    offer_name: Mapped[str | None] = mapped_column(Text)
    standard_duration: Mapped[str | None] = mapped_column(Text)
    proceeds_currency: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    by_country: Mapped[bool] = mapped_column(Boolean)
    subscription_name: Mapped[str | None] = mapped_column(Text)
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
    #: Per column counted in MRR: Σ count × developer proceeds (rows with a non-zero count),
    #: and Σ count of the rows without proceeds.
    active_standard_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    active_standard_unpriced: Mapped[int] = mapped_column(BigInteger)
    pay_as_you_go_introductory_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    pay_as_you_go_introductory_unpriced: Mapped[int] = mapped_column(BigInteger)
    pay_as_you_go_promotional_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    pay_as_you_go_promotional_unpriced: Mapped[int] = mapped_column(BigInteger)
    pay_as_you_go_offer_code_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    pay_as_you_go_offer_code_unpriced: Mapped[int] = mapped_column(BigInteger)
    pay_as_you_go_win_back_proceeds: Mapped[Decimal | None] = mapped_column(Numeric)
    pay_as_you_go_win_back_unpriced: Mapped[int] = mapped_column(BigInteger)
    #: Σ (standard + pay-as-you-go count) × developer proceeds (null: no row has proceeds), and
    #: Σ of those counts over the rows with and without proceeds.
    mrr_base: Mapped[Decimal | None] = mapped_column(Numeric)
    mrr_priced: Mapped[int] = mapped_column(BigInteger)
    mrr_unpriced: Mapped[int] = mapped_column(BigInteger)
    source_rows: Mapped[int] = mapped_column(BigInteger)
