"""customer reviews

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_sync_states",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_apple_id", sa.String(length=32), nullable=False),
        sa.Column("last_pass_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("last_full_pass_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("last_pass_requests", sa.Integer(), nullable=False),
        sa.Column("last_pass_reviews", sa.Integer(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_review_sync_states_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_review_sync_states_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_sync_states")),
        sa.UniqueConstraint(
            "account_id", "app_apple_id", name=op.f("uq_review_sync_states_account_id_app_apple_id")
        ),
    )
    op.create_table(
        "customer_reviews",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("app_apple_id", sa.String(length=32), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("reviewer_nickname", sa.Text(), nullable=True),
        sa.Column("territory", sa.String(length=3), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("first_seen_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("last_seen_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("response_apple_id", sa.String(length=64), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_state", sa.String(length=32), nullable=True),
        sa.Column("response_last_modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("reply_changed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(body, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_customer_reviews_rating_range")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_customer_reviews_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_customer_reviews_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_customer_reviews_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_reviews")),
        sa.UniqueConstraint(
            "account_id", "apple_id", name=op.f("uq_customer_reviews_account_id_apple_id")
        ),
    )
    op.create_index(
        "ix_customer_reviews_app_id_created_at",
        "customer_reviews",
        ["app_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_customer_reviews_search_vector",
        "customer_reviews",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_customer_reviews_workspace_id_created_at",
        "customer_reviews",
        ["workspace_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "review_reply_requests",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("review_id", sa.UUID(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["customer_reviews.id"],
            name=op.f("fk_review_reply_requests_review_id_customer_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_review_reply_requests_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_reply_requests")),
        sa.UniqueConstraint(
            "workspace_id",
            "idempotency_key",
            name=op.f("uq_review_reply_requests_workspace_id_idempotency_key"),
        ),
    )
    op.create_index(
        op.f("ix_review_reply_requests_review_id"),
        "review_reply_requests",
        ["review_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_review_reply_requests_review_id"), table_name="review_reply_requests")
    op.drop_table("review_reply_requests")
    op.drop_index("ix_customer_reviews_workspace_id_created_at", table_name="customer_reviews")
    op.drop_index(
        "ix_customer_reviews_search_vector", table_name="customer_reviews", postgresql_using="gin"
    )
    op.drop_index("ix_customer_reviews_app_id_created_at", table_name="customer_reviews")
    op.drop_table("customer_reviews")
    op.drop_table("review_sync_states")
