"""Apple fidelity: the report versions Orchard learned from Apple, and the history of report
dates whose availability changed (a "no sales" day that got its file later).

Revision ID: 13_fidelity
Revises: 19_webhooks
Create Date: 2026-12-05 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "13_fidelity"
down_revision: str | None = "19_webhooks"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_versions",
        sa.Column("report_type", sa.String(length=64), nullable=False),
        sa.Column("report_subtype", sa.String(length=32), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("previous_version", sa.String(length=16), nullable=True),
        sa.Column("learned_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "report_type", "report_subtype", "frequency", name=op.f("pk_report_versions")
        ),
    )
    op.create_table(
        "dataset_availability_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("changed_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_dataset_availability_changes_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_availability_changes")),
    )
    op.create_index(
        "ix_dataset_availability_changes_date",
        "dataset_availability_changes",
        ["account_id", "dataset", "report_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_dataset_availability_changes_date", table_name="dataset_availability_changes")
    op.drop_table("dataset_availability_changes")
    op.drop_table("report_versions")
