"""Reviews are planned per app by the scheduler: the two-step "app-list" unit is retired.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("DELETE FROM sync_jobs WHERE dataset = 'reviews' AND unit_key = 'app-list'")


def downgrade() -> None:
    # The old planner re-creates its unit at its next round; nothing to restore.
    pass
