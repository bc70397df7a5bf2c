"""release side catalog

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_invitations",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("expires_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("all_apps_visible", sa.Boolean(), nullable=False),
        sa.Column("provisioning_allowed", sa.Boolean(), nullable=True),
        sa.Column("visible_app_apple_ids", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("visible_app_total", sa.Integer(), nullable=True),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_team_invitations_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_team_invitations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_invitations")),
        sa.UniqueConstraint(
            "account_id", "apple_id", name=op.f("uq_team_invitations_account_id_apple_id")
        ),
    )
    op.create_table(
        "team_members",
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("roles", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("all_apps_visible", sa.Boolean(), nullable=False),
        sa.Column("provisioning_allowed", sa.Boolean(), nullable=True),
        sa.Column("visible_app_apple_ids", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("visible_app_total", sa.Integer(), nullable=True),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_team_members_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_team_members_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
        sa.UniqueConstraint(
            "account_id", "apple_id", name=op.f("uq_team_members_account_id_apple_id")
        ),
    )
    op.create_table(
        "app_versions",
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("version_string", sa.String(length=64), nullable=False),
        sa.Column("app_version_state", sa.Text(), nullable=True),
        sa.Column("app_store_state", sa.Text(), nullable=True),
        sa.Column("release_type", sa.Text(), nullable=True),
        sa.Column("earliest_release_date", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("created_date", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("downloadable", sa.Boolean(), nullable=True),
        sa.Column("build_apple_id", sa.String(length=64), nullable=True),
        sa.Column("build_number", sa.String(length=64), nullable=True),
        sa.Column("phased_release_state", sa.Text(), nullable=True),
        sa.Column("phased_release_start_date", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("phased_release_day", sa.Integer(), nullable=True),
        sa.Column("state_since", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("state_since_observed", sa.Boolean(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_app_versions_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_versions_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_app_versions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_versions")),
        sa.UniqueConstraint("app_id", "apple_id", name=op.f("uq_app_versions_app_id_apple_id")),
    )
    op.create_index(
        "ix_app_versions_workspace_id_app_version_state",
        "app_versions",
        ["workspace_id", "app_version_state"],
        unique=False,
    )
    op.create_table(
        "beta_groups",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column("has_access_to_all_builds", sa.Boolean(), nullable=True),
        sa.Column("public_link_enabled", sa.Boolean(), nullable=True),
        sa.Column("public_link", sa.Text(), nullable=True),
        sa.Column("public_link_limit_enabled", sa.Boolean(), nullable=True),
        sa.Column("public_link_limit", sa.Integer(), nullable=True),
        sa.Column("feedback_enabled", sa.Boolean(), nullable=True),
        sa.Column("created_date", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_beta_groups_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_beta_groups_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_beta_groups_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beta_groups")),
        sa.UniqueConstraint("app_id", "apple_id", name=op.f("uq_beta_groups_app_id_apple_id")),
    )
    op.create_table(
        "beta_testers",
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("invite_type", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("group_apple_ids", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_beta_testers_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_beta_testers_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_beta_testers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beta_testers")),
        sa.UniqueConstraint("app_id", "apple_id", name=op.f("uq_beta_testers_app_id_apple_id")),
    )
    op.create_table(
        "builds",
        sa.Column("build_number", sa.String(length=64), nullable=False),
        sa.Column("version_string", sa.String(length=64), nullable=True),
        sa.Column("platform", sa.Text(), nullable=True),
        sa.Column("uploaded_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("expires_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("expired", sa.Boolean(), nullable=False),
        sa.Column("processing_state", sa.Text(), nullable=True),
        sa.Column("audience_type", sa.Text(), nullable=True),
        sa.Column("min_os_version", sa.String(length=32), nullable=True),
        sa.Column("internal_state", sa.Text(), nullable=True),
        sa.Column("external_state", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_builds_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_builds_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_builds_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_builds")),
        sa.UniqueConstraint("app_id", "apple_id", name=op.f("uq_builds_app_id_apple_id")),
    )
    op.create_index(
        "ix_builds_app_id_uploaded_at", "builds", ["app_id", "uploaded_at"], unique=False
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
        ),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("subject_apple_id", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=True),
        sa.Column("observed_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_events_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_events_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(
        "ix_events_workspace_id_txid_seq", "events", ["workspace_id", "txid", "seq"], unique=False
    )
    op.create_table(
        "review_submissions",
        sa.Column("platform", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("submitted_date", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("submitted_by_actor_type", sa.Text(), nullable=True),
        sa.Column("version_apple_id", sa.String(length=64), nullable=True),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("app_id", sa.UUID(), nullable=False),
        sa.Column("apple_id", sa.String(length=64), nullable=False),
        sa.Column(
            "first_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("removed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_review_submissions_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_review_submissions_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_review_submissions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_submissions")),
        sa.UniqueConstraint(
            "app_id", "apple_id", name=op.f("uq_review_submissions_app_id_apple_id")
        ),
    )
    op.create_table(
        "app_version_state_changes",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("version_id", sa.UUID(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=True),
        sa.Column("from_store_state", sa.Text(), nullable=True),
        sa.Column("to_store_state", sa.Text(), nullable=True),
        sa.Column("observed_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["asc_accounts.id"],
            name=op.f("fk_app_version_state_changes_account_id_asc_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["app_versions.id"],
            name=op.f("fk_app_version_state_changes_version_id_app_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_app_version_state_changes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_version_state_changes")),
    )
    op.create_index(
        "ix_app_version_state_changes_version_id_observed_at",
        "app_version_state_changes",
        ["version_id", "observed_at"],
        unique=False,
    )
    op.add_column(
        "apps", sa.Column("versions_synced_at", postgresql.TIMESTAMP(timezone=True), nullable=True)
    )
    op.add_column(
        "apps", sa.Column("builds_synced_at", postgresql.TIMESTAMP(timezone=True), nullable=True)
    )
    op.add_column(
        "apps",
        sa.Column("testflight_synced_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
    )
    op.add_column(
        "apps",
        sa.Column("submissions_synced_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("apps", "submissions_synced_at")
    op.drop_column("apps", "testflight_synced_at")
    op.drop_column("apps", "builds_synced_at")
    op.drop_column("apps", "versions_synced_at")
    op.drop_index(
        "ix_app_version_state_changes_version_id_observed_at",
        table_name="app_version_state_changes",
    )
    op.drop_table("app_version_state_changes")
    op.drop_table("review_submissions")
    op.drop_index("ix_events_workspace_id_txid_seq", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_builds_app_id_uploaded_at", table_name="builds")
    op.drop_table("builds")
    op.drop_table("beta_testers")
    op.drop_table("beta_groups")
    op.drop_index("ix_app_versions_workspace_id_app_version_state", table_name="app_versions")
    op.drop_table("app_versions")
    op.drop_table("team_members")
    op.drop_table("team_invitations")
