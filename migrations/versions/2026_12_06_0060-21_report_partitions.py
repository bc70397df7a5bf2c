"""The subscription reports' row tables partitioned, like sales_rows: two by report month, the
Subscriber Report's by account.

    subscription_event_rows              PARTITION BY RANGE (report_date)
      subscription_event_rows_2026_10      one leaf per month (made on demand)
      subscription_event_rows_default      catch-all for writers that do not make theirs
    subscription_snapshot_rows           likewise
    subscriber_transaction_rows          PARTITION BY HASH (account_id)
      subscriber_transaction_rows_h00 … _h15

By month, replacing a report day touches one leaf and retention
(``ORCHARD_REPORT_RETENTION_DAILY``) drops whole leaves. The Subscriber Report's rows are read
per Subscriber ID over all dates (``subscriber_rollup`` re-derives every ID a day names, each
unit): by month that lookup probes every month's leaf (3× slower at 13 months, measured by
``tests/benchmarks/report_partitions.py``, and growing with each month kept), and retention
would drop charges the per-subscriber history (cohorts, first charge) is derived from. By
account, the lookup reads one leaf, a day's replacement and an account's purge touch one leaf
(a sixteenth of the table), and retention does not apply.

Each table keeps its name, columns, identity and indexes (on every leaf); the primary key on
``id`` goes (a unique index must include the partition key; the identity alone makes ids
unique). The per-row foreign keys go too, as on ``sales_rows``: their ON DELETE CASCADE is kept
by one trigger on ``asc_accounts`` (a workspace's deletion reaches its accounts first).
Existing rows are copied across with their ids.
"""

from __future__ import annotations

from alembic import op

revision = "21_report_partitions"
down_revision = "18_movement_scopes"
branch_labels = None
depends_on = None

#: table → its indexes (the same on every leaf)
TABLES: dict[str, tuple[str, ...]] = {
    "subscription_snapshot_rows": (
        "CREATE INDEX ix_subscription_snapshot_rows_partition "
        "ON subscription_snapshot_rows (account_id, report_date)",
        "CREATE INDEX ix_subscription_snapshot_rows_workspace_date "
        "ON subscription_snapshot_rows (workspace_id, report_date)",
    ),
    "subscription_event_rows": (
        "CREATE INDEX ix_subscription_event_rows_partition "
        "ON subscription_event_rows (account_id, report_date)",
        "CREATE INDEX ix_subscription_event_rows_workspace_event_date "
        "ON subscription_event_rows (workspace_id, event_date)",
    ),
    "subscriber_transaction_rows": (
        "CREATE INDEX ix_subscriber_transaction_rows_partition "
        "ON subscriber_transaction_rows (account_id, report_date)",
        "CREATE INDEX ix_subscriber_transaction_rows_workspace_event_date "
        "ON subscriber_transaction_rows (workspace_id, event_date)",
        "CREATE INDEX ix_subscriber_transaction_rows_subscriber "
        "ON subscriber_transaction_rows (account_id, app_apple_id, btrim(subscriber_id))",
    ),
}

#: Partitioned by account instead of by month (see the module), into this many leaves.
BY_ACCOUNT = frozenset({"subscriber_transaction_rows"})
HASH_LEAVES = 16

#: The foreign keys' ON DELETE CASCADE, once per deleted account instead of a check per row.
TRIGGERS = (
    """CREATE FUNCTION orchard_report_rows_account_deleted() RETURNS trigger LANGUAGE plpgsql
    AS $$
    DECLARE
        name text;
    BEGIN
        FOREACH name IN ARRAY TG_ARGV LOOP
            EXECUTE format('DELETE FROM %I WHERE account_id = $1', name) USING OLD.id;
        END LOOP;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER subscription_rows_account_deleted AFTER DELETE ON asc_accounts "
    "FOR EACH ROW EXECUTE FUNCTION orchard_report_rows_account_deleted("
    + ", ".join(f"'{table}'" for table in TABLES)
    + ")",
)


_MONTH_LEAVES = """
    DO $$
    DECLARE
        first date;
    BEGIN
        FOR first IN
            SELECT DISTINCT CAST(date_trunc('month', CAST(report_date AS timestamp)) AS date)
            FROM {old}
        LOOP
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF {table} FOR VALUES FROM (%L) TO (%L)',
                '{table}_' || to_char(first, 'YYYY_MM'),
                first, CAST(first + interval '1 month' AS date));
        END LOOP;
    END $$
"""


def _copy(table: str, source: str) -> None:
    # Both made LIKE the other: the same columns in the same order.
    op.execute(f"INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM {source}")  # noqa: S608
    op.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
        f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
    )


def _index_names(table: str) -> list[str]:
    return [statement.split()[2] for statement in TABLES[table]]


def upgrade() -> None:
    for table, indexes in TABLES.items():
        old = f"{table}_unpartitioned"
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        op.execute(f"ALTER TABLE {old} DROP CONSTRAINT pk_{table}")
        for name in _index_names(table):
            op.execute(f"DROP INDEX {name}")
        key = "HASH (account_id)" if table in BY_ACCOUNT else "RANGE (report_date)"
        op.execute(
            f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY) "
            f"PARTITION BY {key}"
        )
        if table in BY_ACCOUNT:
            for remainder in range(HASH_LEAVES):
                op.execute(
                    f"CREATE TABLE {table}_h{remainder:02d} PARTITION OF {table} "
                    f"FOR VALUES WITH (MODULUS {HASH_LEAVES}, REMAINDER {remainder})"
                )
        else:
            # A catch-all for writers that do not create their leaf first (the report units
            # always do: this stays empty in production), and a leaf per month holding rows.
            op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
            op.execute(_MONTH_LEAVES.format(table=table, old=old))
        for statement in indexes:
            op.execute(statement)
        _copy(table, old)
        op.execute(f"DROP TABLE {old}")  # its foreign keys go with it
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER subscription_rows_account_deleted ON asc_accounts")
    op.execute("DROP FUNCTION orchard_report_rows_account_deleted()")
    for table, indexes in TABLES.items():
        old = f"{table}_partitioned"
        op.execute(f"ALTER TABLE {table} RENAME TO {old}")
        for name in _index_names(table):
            op.execute(f"ALTER INDEX {name} RENAME TO {name}_partitioned")
        op.execute(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        _copy(table, old)
        op.execute(f"DROP TABLE {old}")  # its partitions go with it
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
        for column, target in (("account_id", "asc_accounts"), ("workspace_id", "workspaces")):
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{target} "
                f"FOREIGN KEY ({column}) REFERENCES {target} (id) ON DELETE CASCADE"
            )
        for statement in indexes:
            op.execute(statement)
