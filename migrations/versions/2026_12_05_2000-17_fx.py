"""Currency reference rates: public sources (ECB, Frankfurter), workspace manual rates and the
workspace's default reporting currency.

Revision ID: 17_fx
Revises: 16_analytics
Create Date: 2026-12-05 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "17_fx"
down_revision: str | None = "16_analytics"
branch_labels: str | None = None
depends_on: str | None = None

TIMESTAMP = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), server_default=sa.text("''"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("source_url", sa.String(length=2048), nullable=False),
        sa.Column("fetched_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("previous_rate", sa.Numeric(), nullable=True),
        sa.Column("revised_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint(
            "source",
            "provider",
            "day",
            "base",
            "quote",
            name=op.f("uq_fx_rates_source_provider_day_base_quote"),
        ),
    )
    op.create_table(
        "fx_manual_rates",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.Column("previous_rate", sa.Numeric(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_fx_manual_rates_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_manual_rates")),
        sa.UniqueConstraint(
            "workspace_id",
            "day",
            "base",
            "quote",
            name=op.f("uq_fx_manual_rates_workspace_id_day_base_quote"),
        ),
    )
    op.create_table(
        "fx_workspace_settings",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("reporting_currency", sa.String(length=3), nullable=True),
        sa.Column("updated_at", TIMESTAMP, server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_fx_workspace_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_fx_workspace_settings")),
    )


def downgrade() -> None:
    op.drop_table("fx_workspace_settings")
    op.drop_table("fx_manual_rates")
    op.drop_table("fx_rates")
