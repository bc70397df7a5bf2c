"""``sales_rows`` without its account index (issue 21, item 4: ingest).

``ix_sales_rows_partition`` (account, frequency, report date) holds one key for all of a
report day's rows: a million equal keys for a 1 M-row day, which the B-tree merges into posting
lists page by page as they arrive. Measured side by side (``tests/benchmarks/ingest.py``, the
same typed rows COPYed into ``sales_rows``): 7.33–7.36 s with it, 4.45–4.69 s without; the
whole unit 11.3–11.8 s → 8.2–9.0 s. What it served is served by
``ix_sales_rows_workspace_date`` (workspace, frequency, report date, id): replacing a report
day now names the account's workspace too (``app.reports.spec``), and so do the rollup's
rebuild from stored rows and the two triggers that keep the dropped foreign keys' ON DELETE
actions (below): an account's day or purge reads its workspace's entries of that index.

Revision ID: 21_sales_rows_one_index
Revises: 17_fx_version_on_change
Create Date: 2026-12-09 03:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "21_sales_rows_one_index"
down_revision: str | None = "17_fx_version_on_change"
branch_labels: str | None = None
depends_on: str | None = None


def _triggers(workspace: str) -> list[str]:
    """The ON DELETE actions of ``21_partitions``; ``workspace``: the condition on the
    deleted row's workspace put before the account's (empty: none)."""
    return [
        f"""CREATE OR REPLACE FUNCTION orchard_sales_rows_account_deleted() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            DELETE FROM sales_rows WHERE {workspace}account_id = OLD.id;
            DELETE FROM sales_daily_rollup WHERE account_id = OLD.id;
            RETURN NULL;
        END $$""",  # noqa: S608  (fixed SQL)
        f"""CREATE OR REPLACE FUNCTION orchard_sales_rows_app_deleted() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN
            UPDATE sales_rows SET app_id = NULL
            WHERE {workspace}account_id = OLD.account_id AND app_id = OLD.id;
            UPDATE sales_daily_rollup SET app_id = NULL
            WHERE account_id = OLD.account_id AND app_id = OLD.id;
            RETURN NULL;
        END $$""",  # noqa: S608  (fixed SQL)
    ]


def upgrade() -> None:
    op.execute("DROP INDEX ix_sales_rows_partition")
    for statement in _triggers("workspace_id = OLD.workspace_id AND "):
        op.execute(statement)


def downgrade() -> None:
    for statement in _triggers(""):
        op.execute(statement)
    op.execute(
        "CREATE INDEX ix_sales_rows_partition ON sales_rows (account_id, frequency, report_date)"
    )
