"""Precomputed cohort tables (``app.subscriptions.subscriber_rollup`` and ``rollup``), rebuilt
in the unit's transaction: renewal rate by period number of Subscriber ID cohorts, and free-trial
conversions of trial-start cohorts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Identity, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.models.subscriber_rollups import _AppKey, _Workspace, _WorkspaceColumn


class SubscriberPeriod(_AppKey, _WorkspaceColumn, Base):
    """A Subscriber ID's n-th paid period (``period``: its n-th charge not refunded, by Event
    Date then as stored) of a known duration: the day it ends and whether an (n+1)-th charge
    follows."""

    __tablename__ = "subscriber_periods"
    __table_args__ = (
        Index("ix_subscriber_periods_subscriber", "account_id", "app_apple_id", "subscriber_id"),
    )

    subscriber_id: Mapped[str] = mapped_column(Text)
    cohort: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[int] = mapped_column(Integer)
    ended: Mapped[dt.date] = mapped_column(Date)
    renewed: Mapped[bool] = mapped_column(Boolean)


class SubscriberRenewalPeriod(_AppKey, _Workspace, Base):
    """An app's cohort: the subscribers whose n-th paid period ends on ``ended``, and those of
    them with an (n+1)-th charge."""

    __tablename__ = "subscriber_renewal_periods"
    __table_args__ = (
        Index("ix_subscriber_renewal_periods_cohort", "account_id", "app_apple_id", "cohort"),
    )

    cohort: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[int] = mapped_column(Integer)
    ended: Mapped[dt.date] = mapped_column(Date)
    subscribers: Mapped[int] = mapped_column(BigInteger)
    renewed: Mapped[int] = mapped_column(BigInteger)


class SubscriptionTrialConversionMonth(Base):
    """Free-trial conversions of one report date per app, storefront (``by_country``; the
    other layer summed over storefronts, country null), month of Original Start Date and month
    of Event Date: Σ Quantity and the rows summed."""

    __tablename__ = "subscription_trial_conversion_months"
    __table_args__ = (
        Index("ix_subscription_trial_conversion_months_partition", "account_id", "report_date"),
        Index(
            "ix_subscription_trial_conversion_months_workspace_start",
            "workspace_id",
            "start_month",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    report_date: Mapped[dt.date] = mapped_column(Date)
    app_apple_id: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    start_month: Mapped[dt.date] = mapped_column(Date)
    event_month: Mapped[dt.date] = mapped_column(Date)
    quantity: Mapped[int | None] = mapped_column(BigInteger)
    source_rows: Mapped[int] = mapped_column(BigInteger)
    by_country: Mapped[bool] = mapped_column(Boolean)
