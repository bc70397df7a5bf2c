"""App Analytics rollups: the latest vintage of every (app, report, granularity, date) summed
per territory, kept at ingest so ``/v1/analytics`` answers most requests without the raw rows.
Existing data is rolled up here once.

Revision ID: 16_analytics_rollups
Revises: 14_freshness
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "16_analytics_rollups"
down_revision: str | None = "18_subscription_rollups"
branch_labels: str | None = None
depends_on: str | None = None

MEASURES = (
    "installs",
    "first_time_installs",
    "deletions",
    "sessions",
    "session_seconds",
    "impressions",
    "product_page_views",
    "downloads",
    "first_time_downloads",
    "crashes",
)

#: The rollup of every stored date (the same sums as app.analytics.rollup, frozen here).
BACKFILL = """
INSERT INTO analytics_rollups (workspace_id, account_id, app_id, instance_id, report,
    granularity, report_date, processing_date, territory, rows, installs, first_time_installs,
    deletions, sessions, session_seconds, impressions, product_page_views, downloads,
    first_time_downloads, crashes, unique_devices)
SELECT l.workspace_id, l.account_id, l.app_id, l.instance_id, l.report, l.granularity,
    l.report_date, l.processing_date, r.territory, count(*),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'installs'
        AND lower(r.event) = 'install'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'installs' AND lower(r.event) = 'install'
        AND lower(r.download_type) = 'first-time download'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'installs'
        AND lower(r.event) = 'delete'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'sessions'), 0),
    COALESCE(sum(r.duration) FILTER (WHERE r.report = 'sessions'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'discovery'
        AND lower(r.event) = 'impression'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'discovery'
        AND lower(r.event) = 'page view'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'downloads'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'downloads'
        AND lower(r.download_type) = 'first-time download'), 0),
    COALESCE(sum(r.count) FILTER (WHERE r.report = 'crashes'), 0),
    sum(r.unique_count)
FROM (
    SELECT DISTINCT ON (v.app_id, v.report, v.granularity, v.report_date)
        v.workspace_id, v.account_id, v.app_id, v.instance_id, v.report, v.granularity,
        v.report_date, v.processing_date
    FROM analytics_vintages AS v
    ORDER BY v.app_id, v.report, v.granularity, v.report_date,
             v.processing_date DESC, v.instance_id DESC
) AS l
JOIN analytics_rows AS r ON r.instance_id = l.instance_id AND r.report_date = l.report_date
GROUP BY l.workspace_id, l.account_id, l.app_id, l.instance_id, l.report, l.granularity,
         l.report_date, l.processing_date, r.territory
"""


def upgrade() -> None:
    op.create_table(
        "analytics_rollups",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("instance_id", sa.UUID(), nullable=False),
        sa.Column("report", sa.String(length=24), nullable=False),
        sa.Column("granularity", sa.String(length=8), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("processing_date", sa.Date(), nullable=False),
        sa.Column("territory", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES),
        sa.Column("unique_devices", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_analytics_rollups_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_analytics_rollups_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_analytics_rollups_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["analytics_instances.id"],
            name=op.f("fk_analytics_rollups_instance_id_analytics_instances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rollups")),
    )
    op.create_index(
        "ix_analytics_rollups_query",
        "analytics_rollups",
        ["workspace_id", "app_id", "report_date"],
    )
    op.create_index(
        "ix_analytics_rollups_rebuild",
        "analytics_rollups",
        ["app_id", "report", "granularity", "report_date"],
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("analytics_rollups")
