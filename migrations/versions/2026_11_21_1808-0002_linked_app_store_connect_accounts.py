"""linked app store connect accounts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 18:08:53.760713+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "asc_accounts",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("issuer_id", sa.String(length=36), nullable=True),
        sa.Column("key_id", sa.String(length=10), nullable=False),
        sa.Column("key_type", sa.String(length=16), nullable=False),
        sa.Column("vendor_number", sa.String(length=16), nullable=True),
        sa.Column("encrypted_private_key", sa.LargeBinary(), nullable=True),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("credential_status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("status_code", sa.String(length=100), nullable=True),
        sa.Column(
            "capabilities",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("last_verified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("unlinked_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_asc_accounts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asc_accounts")),
    )
    op.create_index(
        op.f("ix_asc_accounts_workspace_id"), "asc_accounts", ["workspace_id"], unique=False
    )
    op.create_index(
        "uq_asc_accounts_workspace_id_key_id_live",
        "asc_accounts",
        ["workspace_id", "key_id"],
        unique=True,
        postgresql_where=sa.text("unlinked_at IS NULL"),
    )
    op.create_table(
        "asc_key_history",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("key_id", sa.String(length=10), nullable=False),
        sa.Column("issuer_id", sa.String(length=36), nullable=True),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "replaced_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_asc_key_history_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asc_key_history")),
    )
    op.create_index(
        op.f("ix_asc_key_history_account_id"), "asc_key_history", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_asc_key_history_account_id"), table_name="asc_key_history")
    op.drop_table("asc_key_history")
    op.drop_index(
        "uq_asc_accounts_workspace_id_key_id_live",
        table_name="asc_accounts",
        postgresql_where=sa.text("unlinked_at IS NULL"),
    )
    op.drop_index(op.f("ix_asc_accounts_workspace_id"), table_name="asc_accounts")
    op.drop_table("asc_accounts")
