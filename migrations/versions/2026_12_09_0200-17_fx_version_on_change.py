"""``fx_data_version`` changes only when a statement changed a rate.

The triggers of ``17_fx_version`` fired once per statement, rows or none: the hourly
``fx_ecb`` unit's upsert of rates already stored (equal rates are left alone) made a new
version every hour, so every rate book kept per process and every converted item kept by the
worker (``17_kept_converted_items``) was thrown away and rebuilt for nothing. Now each event has
a trigger that sees the statement's changed rows (a transition table) and bumps the version
only when there are any; a ``TRUNCATE`` still always does.

Revision ID: 17_fx_version_on_change
Revises: 17_kept_converted_items
Create Date: 2026-12-09 02:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "17_fx_version_on_change"
down_revision: str | None = "17_kept_converted_items"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("fx_rates", "fx_manual_rates")
#: Event → the transition table that holds its changed rows.
EVENTS = {"insert": "NEW", "update": "NEW", "delete": "OLD"}


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION fx_data_version_bump_if_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT FROM changed) THEN
                INSERT INTO fx_data_version (id, version) VALUES (1, gen_random_uuid())
                ON CONFLICT (id) DO UPDATE SET version = excluded.version;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_version ON {table}")
        for event, rows in EVENTS.items():
            op.execute(
                f"CREATE TRIGGER {table}_version_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT "
                "EXECUTE FUNCTION fx_data_version_bump_if_changed()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_version_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION fx_data_version_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        for event in (*EVENTS, "truncate"):
            op.execute(f"DROP TRIGGER {table}_version_{event} ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION fx_data_version_bump()"
        )
    op.execute("DROP FUNCTION fx_data_version_bump_if_changed()")
