"""MRR movements of a workspace's or an account's apps read the monthly sums: an index that
finds a workspace's months without naming an account and app (issue 18's speed).

Revision ID: 18_movement_scopes
Revises: 18_cohort_periods
Create Date: 2026-12-06 00:30:00
"""

from __future__ import annotations

from alembic import op

revision: str = "18_movement_scopes"
down_revision: str | None = "18_cohort_periods"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        "ix_subscriber_mrr_movement_months_workspace",
        "subscriber_mrr_movement_months",
        ["workspace_id", "month"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_subscriber_mrr_movement_months_workspace", table_name="subscriber_mrr_movement_months"
    )
