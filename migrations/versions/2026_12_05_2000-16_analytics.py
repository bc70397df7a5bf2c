"""App Analytics: report requests per app, report instances, their rows and vintages.

Revision ID: 16_analytics
Revises: 20_searchads
Create Date: 2026-12-05 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "16_analytics"
down_revision: str | None = "20_searchads"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "analytics_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("access_type", sa.String(length=24), nullable=False),
        sa.Column("apple_request_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_by_orchard", sa.Boolean(), nullable=False),
        sa.Column("checked_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_analytics_requests_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_analytics_requests_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_analytics_requests_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_requests")),
        sa.UniqueConstraint(
            "account_id",
            "app_id",
            "access_type",
            name=op.f("uq_analytics_requests_account_id_app_id_access_type"),
        ),
    )
    op.create_table(
        "analytics_instances",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("apple_instance_id", sa.String(length=64), nullable=False),
        sa.Column("access_type", sa.String(length=24), nullable=False),
        sa.Column("report", sa.String(length=24), nullable=False),
        sa.Column("report_name", sa.String(length=120), nullable=False),
        sa.Column("granularity", sa.String(length=8), nullable=False),
        sa.Column("processing_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("discovered_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("loaded_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_analytics_instances_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_analytics_instances_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_analytics_instances_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_instances")),
        sa.UniqueConstraint(
            "account_id",
            "apple_instance_id",
            name=op.f("uq_analytics_instances_account_id_apple_instance_id"),
        ),
    )
    op.create_index(
        "ix_analytics_instances_pending", "analytics_instances", ["account_id", "state"]
    )
    op.create_table(
        "analytics_vintages",
        sa.Column("instance_id", sa.UUID(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("report", sa.String(length=24), nullable=False),
        sa.Column("granularity", sa.String(length=8), nullable=False),
        sa.Column("processing_date", sa.Date(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["analytics_instances.id"],
            name=op.f("fk_analytics_vintages_instance_id_analytics_instances"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_analytics_vintages_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_analytics_vintages_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_analytics_vintages_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", "report_date", name=op.f("pk_analytics_vintages")),
    )
    op.create_index(
        "ix_analytics_vintages_lookup",
        "analytics_vintages",
        ["app_id", "report", "granularity", "report_date", "processing_date"],
    )
    op.create_table(
        "analytics_rows",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("instance_id", sa.UUID(), nullable=False),
        sa.Column("segment", sa.SmallInteger(), nullable=False),
        sa.Column("report", sa.String(length=24), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("event", sa.Text(), nullable=True),
        sa.Column("download_type", sa.Text(), nullable=True),
        sa.Column("app_version", sa.Text(), nullable=True),
        sa.Column("device", sa.Text(), nullable=True),
        sa.Column("platform_version", sa.Text(), nullable=True),
        sa.Column("source_type", sa.Text(), nullable=True),
        sa.Column("page_type", sa.Text(), nullable=True),
        sa.Column("engagement_type", sa.Text(), nullable=True),
        sa.Column("territory", sa.Text(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("unique_count", sa.BigInteger(), nullable=True),
        sa.Column("duration", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_analytics_rows_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_analytics_rows_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["analytics_instances.id"],
            name=op.f("fk_analytics_rows_instance_id_analytics_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rows")),
    )
    op.create_index(
        "ix_analytics_rows_instance", "analytics_rows", ["instance_id", "segment", "report_date"]
    )


def downgrade() -> None:
    op.drop_table("analytics_rows")
    op.drop_table("analytics_vintages")
    op.drop_table("analytics_instances")
    op.drop_table("analytics_requests")
