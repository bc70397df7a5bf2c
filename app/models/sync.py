"""The sync engine's tables: the job queue, per-dataset state, per-key budgets, availability,
worker heartbeats. PostgreSQL is the only coordination point between workers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class SyncJob(UuidPrimaryKey, Base):
    """One unit of work: (account, dataset, unit key), e.g. one report date or one app.

    States: ``waiting`` (due at ``run_after``), ``queued`` (due now), ``running`` (leased),
    ``succeeded``, ``failed`` (attempts exhausted or not retryable), ``paused`` (credentials).
    The unique key makes enqueueing idempotent across any number of schedulers. A *public*
    unit (App Store charts and ratings, fetched once for every workspace) has no account and
    no workspace; its own partial unique index keys it by (dataset, unit key).
    """

    __tablename__ = "sync_jobs"
    __table_args__ = (
        UniqueConstraint("account_id", "dataset", "unit_key"),
        # The claim query walks this index in order: only due work, fairest first.
        Index(
            "ix_sync_jobs_claim",
            "priority",
            "fair_rank",
            "run_after",
            postgresql_where=text("state = 'queued'"),
        ),
        Index("ix_sync_jobs_waiting", "run_after", postgresql_where=text("state = 'waiting'")),
        Index(
            "ix_sync_jobs_running",
            "key_id",
            "lease_expires_at",
            postgresql_where=text("state = 'running'"),
        ),
        Index("ix_sync_jobs_account_dataset_state", "account_id", "dataset", "state"),
        Index(
            "uq_sync_jobs_public_dataset_unit",
            "dataset",
            "unit_key",
            unique=True,
            postgresql_where=text("account_id IS NULL"),
        ),
    )

    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE")
    )
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    # The App Store Connect key the unit spends budget on (rate limits are per key).
    key_id: Mapped[str] = mapped_column(String(10))
    dataset: Mapped[str] = mapped_column(String(64))
    unit_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    fair_rank: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    run_after: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_error_code: Mapped[str | None] = mapped_column(String(100))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    # An on-demand request arrived while the unit ran: when this run ends, the unit is queued
    # again at this priority (the run in progress may have read Apple before the request).
    rerun_priority: Mapped[int | None] = mapped_column(Integer)


class SyncRequest(UuidPrimaryKey, Base):
    """An on-demand refresh (``POST /v1/accounts/{id}/sync`` or ``POST /v1/sync``): the units
    it asked for are its :class:`SyncRequestUnit` rows; its progress is read from them."""

    __tablename__ = "sync_requests"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    # None: every account of the workspace (``POST /v1/sync``).
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE")
    )
    datasets: Mapped[list[str]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class SyncRequestUnit(UuidPrimaryKey, Base):
    """One unit an on-demand request waits for. ``pending`` until a run of the unit that
    *started* at or after ``requested_at`` ends (so the caller's data is at least as new as the
    request), then ``succeeded`` or ``failed``."""

    __tablename__ = "sync_request_units"
    __table_args__ = (
        Index(
            "ix_sync_request_units_pending_job",
            "job_id",
            postgresql_where=text("state = 'pending'"),
        ),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sync_requests.id", ondelete="CASCADE"), index=True
    )
    # SET NULL: a unit removed with its account reads as failed, never as forever queued.
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sync_jobs.id", ondelete="SET NULL")
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    dataset: Mapped[str] = mapped_column(String(64))
    unit_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    requested_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column()


class SyncDatasetState(Base):
    """Per (account, dataset): the last outcome, for sync-status and the scheduler."""

    __tablename__ = "sync_dataset_states"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column()
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    last_error_code: Mapped[str | None] = mapped_column(String(100))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column()
    last_unit_requests: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # Since when units of the dataset end ``failed`` with no success after (null: not
    # failing); its changes are the ``sync.dataset_failing``/``recovered`` events.
    failing_since: Mapped[dt.datetime | None] = mapped_column()


class SyncPublicState(Base):
    """Per public dataset (no account): the last outcome, for sync-status."""

    __tablename__ = "sync_public_states"

    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column()
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    last_error_code: Mapped[str | None] = mapped_column(String(100))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column()
    last_unit_requests: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class AscKeyBudget(Base):
    """The last ``X-Rate-Limit`` seen for an App Store Connect key, shared by all workers."""

    __tablename__ = "asc_key_budgets"

    key_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    hour_limit: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[dt.datetime] = mapped_column()
    # No unit for this key starts before this time (budget reserve reached, or a 429).
    blocked_until: Mapped[dt.datetime | None] = mapped_column()
    consecutive_429: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class DatasetAvailability(Base):
    """What Apple said about one report date: only ``published`` and ``no_data`` are facts."""

    __tablename__ = "dataset_availability"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    fetched_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    row_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    detail: Mapped[str | None] = mapped_column(Text)
    report_version: Mapped[str | None] = mapped_column(String(16))


class SyncWorkerHeartbeat(Base):
    """One row per running worker process, refreshed every few seconds."""

    __tablename__ = "sync_workers"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_beat_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    stopped_at: Mapped[dt.datetime | None] = mapped_column()


class ReportVersion(Base):
    """The ``filter[version]`` Orchard asks Apple for, per report, once Apple named a newer
    one (FACTS §4.5, §8). Apple's versions are the same for every account, so one row per
    (report type, subtype, frequency); no row: the registry's default (``app.reports.versions``).
    """

    __tablename__ = "report_versions"

    report_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_subtype: Mapped[str] = mapped_column(String(32), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[str] = mapped_column(String(16))
    previous_version: Mapped[str | None] = mapped_column(String(16))
    learned_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class AvailabilityChange(Base):
    """A report date whose availability state changed (e.g. ``no_data`` → ``published`` when
    Apple's file came late): the history behind ``dataset_availability``."""

    __tablename__ = "dataset_availability_changes"
    __table_args__ = (
        Index("ix_dataset_availability_changes_date", "account_id", "dataset", "report_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    dataset: Mapped[str] = mapped_column(String(64))
    report_date: Mapped[dt.date] = mapped_column(Date)
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    changed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
