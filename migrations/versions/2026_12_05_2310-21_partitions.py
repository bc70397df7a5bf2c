"""sales_rows partitioned: by frequency, then by report month (daily) or year (the others).

    sales_rows                      PARTITION BY LIST (frequency)
      sales_rows_daily              PARTITION BY RANGE (report_date): one leaf per month
        sales_rows_daily_2026_10
      sales_rows_weekly / _monthly / _yearly   one leaf per year (a few rows a period)

Replacing a report day touches one leaf; retention drops whole leaves (or deletes within the
one leaf it cuts); an account's purge deletes its rows leaf by leaf through the account index.
Leaves are created on demand (``app.reports.partitions``); each frequency also has an
empty ``…_default`` leaf for writers that do not create theirs (tests inserting rows). The table keeps its name, columns
and indexes (on every leaf); the bigint identity key stays, without a unique index (the
identity alone makes ids unique; a unique index would have to include the partition key).

The foreign keys of ``sales_rows`` and ``sales_daily_rollup`` go: three per-row checks cost
more than the rest of an insert (measured: 200,000 rows, 0.54 s without, 7.9 s with). Their
ON DELETE actions are kept by triggers that run once per deleted account or app instead of
once per inserted row.

Existing rows are copied across with their ids.
"""

from __future__ import annotations

from alembic import op

revision = "21_partitions"
down_revision = "18_snapshot_rollup"
branch_labels = None
depends_on = None

#: frequency → (leaf span, date_trunc unit)
FREQUENCIES = {"DAILY": "month", "WEEKLY": "year", "MONTHLY": "year", "YEARLY": "year"}
INDEXES = (
    "CREATE INDEX ix_sales_rows_partition ON sales_rows (account_id, frequency, report_date)",
    "CREATE INDEX ix_sales_rows_unlinked ON sales_rows (account_id) WHERE app_id IS NULL",
    "CREATE INDEX ix_sales_rows_workspace_date ON sales_rows "
    "(workspace_id, frequency, report_date, id)",
)
COLUMNS = """
    id, workspace_id, account_id, frequency, report_date, app_id, begin_date, end_date,
    provider, provider_country, sku, developer, title, version, product_type, unit_kind, units,
    developer_proceeds, proceeds_currency, customer_price, customer_currency, country_code,
    apple_identifier, parent_identifier, promo_code, subscription, period, category, cmb,
    device, supported_platforms, proceeds_reason, preserved_pricing, client, order_type,
    platform, extra
"""
OLD_INDEXES = ("ix_sales_rows_partition", "ix_sales_rows_unlinked", "ix_sales_rows_workspace_date")

#: The foreign keys' ON DELETE actions, once per deleted row of the referenced table.
TRIGGERS = (
    """CREATE FUNCTION orchard_sales_rows_account_deleted() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN
        DELETE FROM sales_rows WHERE account_id = OLD.id;
        DELETE FROM sales_daily_rollup WHERE account_id = OLD.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER sales_rows_account_deleted AFTER DELETE ON asc_accounts
    FOR EACH ROW EXECUTE FUNCTION orchard_sales_rows_account_deleted()""",
    """CREATE FUNCTION orchard_sales_rows_app_deleted() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN
        UPDATE sales_rows SET app_id = NULL WHERE account_id = OLD.account_id AND app_id = OLD.id;
        UPDATE sales_daily_rollup SET app_id = NULL
        WHERE account_id = OLD.account_id AND app_id = OLD.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER sales_rows_app_deleted AFTER DELETE ON apps
    FOR EACH ROW EXECUTE FUNCTION orchard_sales_rows_app_deleted()""",
)


#: sales_daily_rollup's foreign keys (a 1M-row day rolls up to ~150,000 rows: three checks each).
ROLLUP_KEYS = (
    ("fk_sales_daily_rollup_account_id_asc_accounts", "account_id", "asc_accounts", "CASCADE"),
    ("fk_sales_daily_rollup_app_id_apps", "app_id", "apps", "SET NULL"),
    ("fk_sales_daily_rollup_workspace_id_workspaces", "workspace_id", "workspaces", "CASCADE"),
)


def upgrade() -> None:
    for name, _, _, _ in ROLLUP_KEYS:
        op.execute(f"ALTER TABLE sales_daily_rollup DROP CONSTRAINT {name}")
    op.execute("ALTER TABLE sales_rows RENAME TO sales_rows_unpartitioned")
    for name in OLD_INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute(
        "CREATE TABLE sales_rows (LIKE sales_rows_unpartitioned INCLUDING DEFAULTS "
        "INCLUDING IDENTITY) PARTITION BY LIST (frequency)"
    )
    for frequency in FREQUENCIES:
        op.execute(
            f"CREATE TABLE sales_rows_{frequency.lower()} PARTITION OF sales_rows "
            f"FOR VALUES IN ('{frequency}') PARTITION BY RANGE (report_date)"
        )
        # A catch-all for writers that do not create their leaf first (ingest always does:
        # this stays empty in production).
        op.execute(
            f"CREATE TABLE sales_rows_{frequency.lower()}_default "
            f"PARTITION OF sales_rows_{frequency.lower()} DEFAULT"
        )
    for statement in INDEXES:
        op.execute(statement)
    # One leaf per (frequency, month or year) holding rows, then the rows with their ids.
    op.execute(
        """
        DO $$
        DECLARE
            leaf record;
        BEGIN
            FOR leaf IN
                SELECT DISTINCT frequency,
                       CAST(date_trunc(CASE frequency WHEN 'DAILY' THEN 'month' ELSE 'year' END,
                                       CAST(report_date AS timestamp)) AS date) AS first
                FROM sales_rows_unpartitioned
            LOOP
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                    'sales_rows_' || lower(leaf.frequency) || '_'
                        || to_char(leaf.first,
                                   CASE leaf.frequency WHEN 'DAILY' THEN 'YYYY_MM' ELSE 'YYYY' END),
                    'sales_rows_' || lower(leaf.frequency),
                    leaf.first,
                    leaf.first + CASE leaf.frequency WHEN 'DAILY' THEN interval '1 month'
                                 ELSE interval '1 year' END);
            END LOOP;
        END $$
        """
    )
    op.execute(
        f"INSERT INTO sales_rows ({COLUMNS}) OVERRIDING SYSTEM VALUE "  # noqa: S608
        f"SELECT {COLUMNS} FROM sales_rows_unpartitioned"
    )
    op.execute(
        "SELECT setval(pg_get_serial_sequence('sales_rows', 'id'), "
        "COALESCE((SELECT max(id) FROM sales_rows), 0) + 1, false)"
    )
    op.execute("DROP TABLE sales_rows_unpartitioned")
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER sales_rows_app_deleted ON apps")
    op.execute("DROP TRIGGER sales_rows_account_deleted ON asc_accounts")
    op.execute("DROP FUNCTION orchard_sales_rows_app_deleted()")
    op.execute("DROP FUNCTION orchard_sales_rows_account_deleted()")
    for name, column, target, action in ROLLUP_KEYS:
        op.execute(
            f"ALTER TABLE sales_daily_rollup ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id) ON DELETE {action}"
        )
    op.execute("ALTER TABLE sales_rows RENAME TO sales_rows_partitioned")
    for name in OLD_INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_partitioned")
    op.execute(
        "CREATE TABLE sales_rows (LIKE sales_rows_partitioned INCLUDING DEFAULTS "
        "INCLUDING IDENTITY)"
    )
    op.execute(
        f"INSERT INTO sales_rows ({COLUMNS}) OVERRIDING SYSTEM VALUE "  # noqa: S608
        f"SELECT {COLUMNS} FROM sales_rows_partitioned"
    )
    op.execute(
        "SELECT setval(pg_get_serial_sequence('sales_rows', 'id'), "
        "COALESCE((SELECT max(id) FROM sales_rows), 0) + 1, false)"
    )
    op.execute("DROP TABLE sales_rows_partitioned")  # its partitions go with it
    op.execute("ALTER TABLE sales_rows ADD CONSTRAINT pk_sales_rows PRIMARY KEY (id)")
    op.execute(
        "ALTER TABLE sales_rows ADD CONSTRAINT fk_sales_rows_account_id_asc_accounts "
        "FOREIGN KEY (account_id) REFERENCES asc_accounts (id) ON DELETE CASCADE"
    )
    op.execute(
        "ALTER TABLE sales_rows ADD CONSTRAINT fk_sales_rows_app_id_apps "
        "FOREIGN KEY (app_id) REFERENCES apps (id) ON DELETE SET NULL"
    )
    op.execute(
        "ALTER TABLE sales_rows ADD CONSTRAINT fk_sales_rows_workspace_id_workspaces "
        "FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE"
    )
    for statement in INDEXES:
        op.execute(statement)
