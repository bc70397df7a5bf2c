"""The version of the stored exchange rates: a conversion may keep the rates it resolved for a
span (per process) and reuse them while this value is unchanged.

Any statement that writes ``fx_rates`` or ``fx_manual_rates`` (a sync's upsert, a manual
upload, a delete, a truncate, by Orchard or by hand) gives ``fx_data_version`` a new random
value, so a rate published late is seen by the very next conversion. Random rather than a
counter: a value never comes back (a recreated database, a truncated table), so a kept copy
can never match rates it was not resolved from; a missing row means "do not keep".

Revision ID: 17_fx_version
Revises: 21_report_partitions
Create Date: 2026-12-06 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "17_fx_version"
down_revision: str | None = "21_report_partitions"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = ("fx_rates", "fx_manual_rates")


def upgrade() -> None:
    op.create_table(
        "fx_data_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.Uuid(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_fx_data_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_data_version")),
    )
    op.execute("INSERT INTO fx_data_version (id, version) VALUES (1, gen_random_uuid())")
    op.execute(
        """
        CREATE FUNCTION fx_data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO fx_data_version (id, version) VALUES (1, gen_random_uuid())
            ON CONFLICT (id) DO UPDATE SET version = excluded.version;
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION fx_data_version_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_version ON {table}")
    op.execute("DROP FUNCTION fx_data_version_bump()")
    op.drop_table("fx_data_version")
