"""Public App Store data: public sync units (no account), tracked apps, storefronts, star-rating
and chart snapshots, and the shared request budget for Apple's public endpoints.

Revision ID: 22_store
Revises: 0008
Create Date: 2026-12-05 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "22_store"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    _public_units()
    op.create_table(
        "store_tracked_apps",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.BigInteger(), nullable=False),
        sa.Column("added_manually", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("storefronts", postgresql.ARRAY(sa.String(length=2)), nullable=True),
        sa.Column(
            "effective_storefronts",
            postgresql.ARRAY(sa.String(length=2)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_store_tracked_apps_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_tracked_apps")),
        sa.UniqueConstraint(
            "workspace_id", "apple_id", name=op.f("uq_store_tracked_apps_workspace_id_apple_id")
        ),
    )
    op.create_index(
        "ix_store_tracked_apps_apple_id", "store_tracked_apps", ["apple_id"], unique=False
    )
    op.create_table(
        "store_workspace_settings",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("storefronts", postgresql.ARRAY(sa.String(length=2)), nullable=True),
        sa.Column(
            "effective_storefronts",
            postgresql.ARRAY(sa.String(length=2)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "effective_source",
            sa.String(length=16),
            server_default=sa.text("'default'"),
            nullable=False,
        ),
        sa.Column("refreshed_at", TS, nullable=True),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_store_workspace_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_store_workspace_settings")),
    )
    op.create_table(
        "store_apps",
        sa.Column("apple_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("artist_name", sa.Text(), nullable=True),
        sa.Column("bundle_id", sa.Text(), nullable=True),
        sa.Column("primary_genre_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("apple_id", name=op.f("pk_store_apps")),
    )
    op.create_table(
        "store_rating_snapshots",
        sa.Column("apple_id", sa.BigInteger(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("rating_count", sa.Integer(), nullable=True),
        sa.Column("average", sa.Numeric(), nullable=True),
        sa.Column("current_version_rating_count", sa.Integer(), nullable=True),
        sa.Column("current_version_average", sa.Numeric(), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("version_released_at", TS, nullable=True),
        sa.Column("reset_detected", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("fetched_at", TS, nullable=False),
        sa.PrimaryKeyConstraint(
            "apple_id", "country", "snapshot_date", name=op.f("pk_store_rating_snapshots")
        ),
    )
    op.create_table(
        "store_chart_snapshots",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("chart", sa.String(length=32), nullable=False),
        sa.Column("genre", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("feed", sa.String(length=16), nullable=False),
        sa.Column("feed_updated_at", TS, nullable=True),
        sa.Column("requested_n", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column(
            "app_ids",
            postgresql.ARRAY(sa.BigInteger()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "names", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("first_fetched_at", TS, nullable=False),
        sa.Column("last_fetched_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_chart_snapshots")),
    )
    op.create_index(
        "ix_store_chart_snapshots_chart_time",
        "store_chart_snapshots",
        ["country", "chart", "genre", "first_fetched_at"],
        unique=False,
    )
    op.create_table(
        "store_request_budget",
        sa.Column("lane", sa.String(length=32), nullable=False),
        sa.Column("next_slot_at", TS, nullable=False),
        sa.Column("blocked_until", TS, nullable=True),
        sa.Column(
            "consecutive_throttles", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("last_throttled_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("lane", name=op.f("pk_store_request_budget")),
    )
    # Every app already linked is tracked from the start.
    op.execute(
        """
        INSERT INTO store_tracked_apps (id, workspace_id, apple_id)
        SELECT gen_random_uuid(), a.workspace_id, a.apple_id::bigint
        FROM apps a JOIN asc_accounts ac ON ac.id = a.account_id
        WHERE a.removed_at IS NULL AND ac.unlinked_at IS NULL AND a.apple_id ~ '^[0-9]{1,18}$'
        GROUP BY a.workspace_id, a.apple_id
        """
    )


def _public_units() -> None:
    """Public units belong to no account: ``sync_jobs`` owners become optional."""
    op.alter_column("sync_jobs", "account_id", existing_type=sa.UUID(), nullable=True)
    op.alter_column("sync_jobs", "workspace_id", existing_type=sa.UUID(), nullable=True)
    op.create_index(
        "uq_sync_jobs_public_dataset_unit",
        "sync_jobs",
        ["dataset", "unit_key"],
        unique=True,
        postgresql_where=sa.text("account_id IS NULL"),
    )
    op.create_table(
        "sync_public_states",
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", TS, nullable=True),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("last_error_code", sa.String(length=100), nullable=True),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column("last_error_at", TS, nullable=True),
        sa.Column("last_unit_requests", sa.Integer(), nullable=True),
        sa.Column(
            "notes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("dataset", name=op.f("pk_sync_public_states")),
    )


def downgrade() -> None:
    op.drop_table("store_request_budget")
    op.drop_index("ix_store_chart_snapshots_chart_time", table_name="store_chart_snapshots")
    op.drop_table("store_chart_snapshots")
    op.drop_table("store_rating_snapshots")
    op.drop_table("store_apps")
    op.drop_table("store_workspace_settings")
    op.drop_index("ix_store_tracked_apps_apple_id", table_name="store_tracked_apps")
    op.drop_table("store_tracked_apps")
    op.drop_table("sync_public_states")
    op.execute("DELETE FROM sync_jobs WHERE account_id IS NULL")
    op.drop_index("uq_sync_jobs_public_dataset_unit", table_name="sync_jobs")
    op.alter_column("sync_jobs", "workspace_id", existing_type=sa.UUID(), nullable=False)
    op.alter_column("sync_jobs", "account_id", existing_type=sa.UUID(), nullable=False)
