"""App Analytics from Apple's Analytics Reports API (ANALYTICS.md): report requests per app,
report instances, their rows, and which processing date (vintage) holds each date's rows.

Apple restates dates: a newer instance of the same report and granularity carries the same
``Date`` again with other numbers. Every vintage is kept (rows carry their instance); reads pick
one vintage per (app, report, granularity, date) through ``analytics_vintages``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class AnalyticsReportRequest(UuidPrimaryKey, Base):
    """One of Apple's ``analyticsReportRequests`` for an app (``ONGOING`` or
    ``ONE_TIME_SNAPSHOT``), or the reason an app has none (``state``)."""

    __tablename__ = "analytics_requests"
    __table_args__ = (UniqueConstraint("account_id", "app_id", "access_type"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    access_type: Mapped[str] = mapped_column(String(24))
    #: Apple's request id (a UUID string); null while there is none.
    apple_request_id: Mapped[str | None] = mapped_column(String(64))
    #: ``active``, ``stopped`` (Apple's ``stoppedDueToInactivity``), ``admin_required`` (none
    #: exists and this key may not create one), ``processed`` (a snapshot whose instances are
    #: all loaded).
    state: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(Text)
    created_by_orchard: Mapped[bool] = mapped_column(default=False)
    checked_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class AnalyticsInstance(UuidPrimaryKey, Base):
    """One ``analyticsReportInstance`` Orchard has seen: one sync unit (its Apple id)."""

    __tablename__ = "analytics_instances"
    __table_args__ = (
        UniqueConstraint("account_id", "apple_instance_id"),
        Index("ix_analytics_instances_pending", "account_id", "state"),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    apple_instance_id: Mapped[str] = mapped_column(String(64))
    access_type: Mapped[str] = mapped_column(String(24))
    report: Mapped[str] = mapped_column(String(24))  # Orchard's report key, e.g. ``sessions``
    report_name: Mapped[str] = mapped_column(String(120))  # Apple's exact name
    granularity: Mapped[str] = mapped_column(String(8))  # DAILY, WEEKLY, MONTHLY
    processing_date: Mapped[dt.date] = mapped_column(Date)
    #: ``pending`` (seen, not loaded), ``loaded``, ``failed``.
    state: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(Text)
    discovered_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    loaded_at: Mapped[dt.datetime | None] = mapped_column()


class AnalyticsVintage(Base):
    """Which instance (processing date) carried rows of one date of one report: every vintage."""

    __tablename__ = "analytics_vintages"
    __table_args__ = (
        Index(
            "ix_analytics_vintages_lookup",
            "app_id",
            "report",
            "granularity",
            "report_date",
            "processing_date",
        ),
    )

    instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analytics_instances.id", ondelete="CASCADE"), primary_key=True
    )
    report_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    report: Mapped[str] = mapped_column(String(24))
    granularity: Mapped[str] = mapped_column(String(8))
    processing_date: Mapped[dt.date] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer)


class AnalyticsRow(Base):
    """One row of an analytics report file, normalised over the reports Orchard reads.

    ``count`` is the report's event count (Counts, Sessions or Crashes), ``unique_count`` its
    distinct devices/users (Unique Devices, Unique Counts: never additive across dates),
    ``duration`` the sessions' Total Session Duration in seconds.

    Partitioned (migration ``21_analytics_partitions``, :mod:`app.reports.partitions`) by its
    instance's ``granularity``, then by the month (daily) or year of the instance's
    ``processing_date``: an instance's rows are in one leaf. No primary key constraint and no
    foreign keys (checked for every row COPYed, they cost more than the insert): the identity
    makes ``id`` unique, and a trigger on ``analytics_instances`` deletes an instance's rows.
    """

    __tablename__ = "analytics_rows"
    __table_args__ = (
        Index("ix_analytics_rows_instance", "instance_id", "segment", "report_date"),
        {"postgresql_partition_by": "LIST (granularity)"},
    )
    # The mapper's identity; the table has no primary key constraint (see above).
    __mapper_args__ = {"primary_key": ["id"]}  # noqa: RUF012

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    workspace_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    app_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    instance_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    segment: Mapped[int] = mapped_column(SmallInteger)
    report: Mapped[str] = mapped_column(String(24))
    report_date: Mapped[dt.date] = mapped_column(Date)
    event: Mapped[str | None] = mapped_column(Text)
    download_type: Mapped[str | None] = mapped_column(Text)
    app_version: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(Text)
    platform_version: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str | None] = mapped_column(Text)
    page_type: Mapped[str | None] = mapped_column(Text)
    engagement_type: Mapped[str | None] = mapped_column(Text)
    territory: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int] = mapped_column(BigInteger)
    unique_count: Mapped[int | None] = mapped_column(BigInteger)
    duration: Mapped[int | None] = mapped_column(BigInteger)
    #: The instance's, bound to each of its rows: the partition keys.
    granularity: Mapped[str] = mapped_column(String(8))
    processing_date: Mapped[dt.date] = mapped_column(Date)


class AnalyticsRollup(Base):
    """Measures of the latest vintage of one (app, report, granularity, date), per territory:
    what ``/v1/analytics`` reads when a request needs nothing finer (group by app/territory,
    filter by account/app/territory, latest vintage). Rebuilt for a date in the transaction that
    loads any of its vintages, so it never lags the rows it summarises.

    The additive measure columns hold the sums of the rows each measure counts (0 when none of
    the rows does); ``unique_devices`` is the sum of ``unique_count`` over the territory's rows
    of one date and granularity — what the raw-row query serves, never summed across dates.
    """

    __tablename__ = "analytics_rollups"
    __table_args__ = (
        Index("ix_analytics_rollups_query", "workspace_id", "app_id", "report_date"),
        Index("ix_analytics_rollups_rebuild", "app_id", "report", "granularity", "report_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    instance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analytics_instances.id", ondelete="CASCADE")
    )
    report: Mapped[str] = mapped_column(String(24))
    granularity: Mapped[str] = mapped_column(String(8))
    report_date: Mapped[dt.date] = mapped_column(Date)
    processing_date: Mapped[dt.date] = mapped_column(Date)
    territory: Mapped[str | None] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    installs: Mapped[int] = mapped_column(BigInteger)
    first_time_installs: Mapped[int] = mapped_column(BigInteger)
    deletions: Mapped[int] = mapped_column(BigInteger)
    sessions: Mapped[int] = mapped_column(BigInteger)
    session_seconds: Mapped[int] = mapped_column(BigInteger)
    impressions: Mapped[int] = mapped_column(BigInteger)
    product_page_views: Mapped[int] = mapped_column(BigInteger)
    downloads: Mapped[int] = mapped_column(BigInteger)
    first_time_downloads: Mapped[int] = mapped_column(BigInteger)
    crashes: Mapped[int] = mapped_column(BigInteger)
    unique_devices: Mapped[int | None] = mapped_column(BigInteger)
