"""Freshness: on-demand sync requests and their units, a re-run marker on sync jobs; App Store
Connect webhooks Orchard registers at Apple (receivers, webhooks, deliveries seen).

Revision ID: 14_freshness
Revises: 17_fx
Create Date: 2026-12-05 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "14_freshness"
down_revision: str | None = "17_fx"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.add_column("sync_jobs", sa.Column("rerun_priority", sa.Integer(), nullable=True))
    op.create_table(
        "sync_requests",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=True),
        sa.Column("datasets", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_sync_requests_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sync_requests_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_requests")),
    )
    op.create_index(
        op.f("ix_sync_requests_workspace_id"), "sync_requests", ["workspace_id"], unique=False
    )
    op.create_table(
        "sync_request_units",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("unit_key", sa.String(length=64), nullable=False),
        sa.Column(
            "state", sa.String(length=16), server_default=sa.text("'pending'"), nullable=False
        ),
        sa.Column("requested_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_sync_request_units_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["sync_jobs.id"],
            name=op.f("fk_sync_request_units_job_id_sync_jobs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["sync_requests.id"],
            name=op.f("fk_sync_request_units_request_id_sync_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_request_units")),
    )
    op.create_index(
        op.f("ix_sync_request_units_request_id"),
        "sync_request_units",
        ["request_id"],
        unique=False,
    )
    op.create_index(
        "ix_sync_request_units_pending_job",
        "sync_request_units",
        ["job_id"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )

    _apple_webhooks()
    _beta_feedback()


def _beta_feedback() -> None:
    text, string = sa.Text(), sa.String
    op.create_table(
        "beta_feedback",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", string(length=128), nullable=False),
        sa.Column("kind", string(length=16), nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
        sa.Column("comment", text, nullable=True),
        sa.Column("tester_email", string(length=320), nullable=True),
        sa.Column("tester_apple_id", string(length=64), nullable=True),
        sa.Column("build_apple_id", string(length=64), nullable=True),
        sa.Column("device_model", string(length=64), nullable=True),
        sa.Column("device_family", string(length=32), nullable=True),
        sa.Column("os_version", string(length=32), nullable=True),
        sa.Column("app_platform", string(length=32), nullable=True),
        sa.Column("device_platform", string(length=32), nullable=True),
        sa.Column("locale", string(length=32), nullable=True),
        sa.Column("time_zone", string(length=64), nullable=True),
        sa.Column("connection_type", string(length=32), nullable=True),
        sa.Column("battery_percentage", sa.Integer(), nullable=True),
        sa.Column("app_uptime_ms", sa.BigInteger(), nullable=True),
        sa.Column("crash_log_url", text, nullable=True),
        sa.Column("screenshots", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        _fk("beta_feedback", "account_id", "asc_accounts"),
        _fk("beta_feedback", "app_id", "apps"),
        _fk("beta_feedback", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beta_feedback")),
        sa.UniqueConstraint(
            "account_id", "apple_id", name=op.f("uq_beta_feedback_account_id_apple_id")
        ),
    )
    op.create_index(
        "ix_beta_feedback_app_id_submitted_at",
        "beta_feedback",
        ["app_id", "submitted_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_beta_feedback_workspace_id"), "beta_feedback", ["workspace_id"], unique=False
    )


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _apple_webhooks() -> None:
    op.create_table(
        "apple_webhook_receivers",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("encrypted_token", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("checked_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("last_delivery_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", TIMESTAMP, nullable=True),
        _fk("apple_webhook_receivers", "account_id", "asc_accounts"),
        _fk("apple_webhook_receivers", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_apple_webhook_receivers")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_apple_webhook_receivers_token_hash")),
    )
    op.create_index(
        op.f("ix_apple_webhook_receivers_workspace_id"),
        "apple_webhook_receivers",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "apple_webhooks",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("app_apple_id", sa.String(length=32), nullable=False),
        sa.Column("apple_webhook_id", sa.String(length=64), nullable=False),
        sa.Column("encrypted_secret", sa.LargeBinary(), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("created_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("last_delivery_at", TIMESTAMP, nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        _fk("apple_webhooks", "account_id", "asc_accounts"),
        _fk("apple_webhooks", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apple_webhooks")),
        sa.UniqueConstraint(
            "account_id", "app_apple_id", name=op.f("uq_apple_webhooks_account_id_app_apple_id")
        ),
    )
    op.create_index(
        op.f("ix_apple_webhooks_workspace_id"), "apple_webhooks", ["workspace_id"], unique=False
    )
    op.create_table(
        "apple_webhook_deliveries",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("app_apple_id", sa.String(length=32), nullable=False),
        sa.Column("data_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        _fk("apple_webhook_deliveries", "account_id", "asc_accounts"),
        _fk("apple_webhook_deliveries", "workspace_id", "workspaces"),
        sa.PrimaryKeyConstraint("account_id", "event_id", name=op.f("pk_apple_webhook_deliveries")),
    )
    op.create_index(
        op.f("ix_apple_webhook_deliveries_workspace_id"),
        "apple_webhook_deliveries",
        ["workspace_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("beta_feedback")
    op.drop_table("apple_webhook_deliveries")
    op.drop_table("apple_webhooks")
    op.drop_table("apple_webhook_receivers")
    op.drop_table("sync_request_units")
    op.drop_table("sync_requests")
    op.drop_column("sync_jobs", "rerun_priority")
