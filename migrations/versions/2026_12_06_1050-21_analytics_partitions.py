"""App Analytics rows and Apple Ads daily rows partitioned by month, like the other report rows.

    analytics_rows                        PARTITION BY LIST (granularity)
      analytics_rows_daily                PARTITION BY RANGE (processing_date): a leaf a month
        analytics_rows_daily_2026_10
        analytics_rows_daily_default      catch-all for writers that do not make theirs
      analytics_rows_weekly / _monthly    a leaf a year (a file a week or a month)
    searchads_daily                       PARTITION BY RANGE (report_date): a leaf a month
      searchads_daily_2026_10
      searchads_daily_default

``analytics_rows`` is split by the month its report instance was *processed* (Apple's
``processingDate``), not by each row's ``Date``: an instance holds several dates (back to the
report's completeness window, a one-time snapshot years of them) and is replaced whole, and
its processing date is known before its file is read. So an instance's rows live in one leaf,
made before the unit writes; its replacement deletes and inserts in that leaf only; and
retention (``ORCHARD_REPORT_RETENTION_<granularity>``) drops whole leaves of instances
processed before the cut-off — every row in them has an earlier ``Date`` (a date is
reported on or after it). The rows carry their instance's ``granularity`` and
``processing_date`` (bound once per load, like the instance id).

Measured against an account-hash layout (``tests/benchmarks/report_partitions.py
--analytics``): reads and rollups are by workspace and date range, and retention by hash is a
row-by-row ``DELETE``; see the README.

``analytics_rows`` loses its primary key (a unique index must include the partition key; the
identity alone makes ids unique) and its three foreign keys: checked for every row COPYed,
they cost more than the rest of the insert. Their cascade is kept by one trigger on
``analytics_instances`` (an instance's deletion — its account's, app's or workspace's —
deletes its rows, in their one leaf). ``searchads_daily`` keeps its primary key (it holds
``report_date``) and its foreign keys (rows come in thousands, not millions).

Existing rows are copied across (with their ids) and back.
"""

from __future__ import annotations

from alembic import op

revision = "21_analytics_partitions"
down_revision = "18_mrr_spans"
branch_labels = None
depends_on = None

#: analytics granularity → leaf span
GRANULARITIES = {"DAILY": "month", "WEEKLY": "year", "MONTHLY": "year"}
ANALYTICS_INDEX = (
    "CREATE INDEX ix_analytics_rows_instance ON analytics_rows (instance_id, segment, report_date)"
)
#: analytics_rows' columns before this migration
ANALYTICS_COLUMNS = (
    "id, workspace_id, app_id, instance_id, segment, report, report_date, event, download_type, "
    "app_version, device, platform_version, source_type, page_type, engagement_type, territory, "
    "count, unique_count, duration"
)
ANALYTICS_KEYS = (
    ("workspace_id", "workspaces"),
    ("app_id", "apps"),
    ("instance_id", "analytics_instances"),
)
SEARCHADS_KEY = (
    "account_id, level, report_date, campaign_id, ad_group_id, keyword_id, country, search_term"
)
SEARCHADS_INDEX = (
    "CREATE INDEX ix_searchads_daily_workspace_id_level_report_date "
    "ON searchads_daily (workspace_id, level, report_date)"
)
SEARCHADS_KEYS = (("account_id", "searchads_accounts"), ("workspace_id", "workspaces"))

TRIGGERS = (
    """CREATE FUNCTION orchard_analytics_instance_deleted() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN
        DELETE FROM analytics_rows WHERE granularity = OLD.granularity
            AND processing_date = OLD.processing_date AND instance_id = OLD.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER analytics_rows_instance_deleted AFTER DELETE ON analytics_instances
    FOR EACH ROW EXECUTE FUNCTION orchard_analytics_instance_deleted()""",
)

_ANALYTICS_LEAVES = """
    DO $$
    DECLARE
        leaf record;
    BEGIN
        FOR leaf IN
            SELECT DISTINCT i.granularity,
                   CAST(date_trunc(CASE i.granularity WHEN 'DAILY' THEN 'month' ELSE 'year' END,
                                   CAST(i.processing_date AS timestamp)) AS date) AS first
            FROM analytics_instances AS i
            WHERE EXISTS (SELECT 1 FROM analytics_rows_unpartitioned AS r
                          WHERE r.instance_id = i.id)
        LOOP
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                'analytics_rows_' || lower(leaf.granularity) || '_'
                    || to_char(leaf.first,
                               CASE leaf.granularity WHEN 'DAILY' THEN 'YYYY_MM' ELSE 'YYYY' END),
                'analytics_rows_' || lower(leaf.granularity),
                leaf.first,
                leaf.first + CASE leaf.granularity WHEN 'DAILY' THEN interval '1 month'
                             ELSE interval '1 year' END);
        END LOOP;
    END $$
"""

_SEARCHADS_LEAVES = """
    DO $$
    DECLARE
        first date;
    BEGIN
        FOR first IN
            SELECT DISTINCT CAST(date_trunc('month', CAST(report_date AS timestamp)) AS date)
            FROM searchads_daily_unpartitioned
        LOOP
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF searchads_daily FOR VALUES FROM (%L) TO (%L)',
                'searchads_daily_' || to_char(first, 'YYYY_MM'),
                first, CAST(first + interval '1 month' AS date));
        END LOOP;
    END $$
"""


def _restart_identity(table: str) -> None:
    op.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
        f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
    )


def upgrade() -> None:
    # --- analytics_rows ---
    op.execute("ALTER TABLE analytics_rows RENAME TO analytics_rows_unpartitioned")
    op.execute("ALTER TABLE analytics_rows_unpartitioned DROP CONSTRAINT pk_analytics_rows")
    op.execute("DROP INDEX ix_analytics_rows_instance")
    op.execute(
        "CREATE TABLE analytics_rows (LIKE analytics_rows_unpartitioned INCLUDING DEFAULTS "
        "INCLUDING IDENTITY, granularity varchar(8) NOT NULL, processing_date date NOT NULL) "
        "PARTITION BY LIST (granularity)"
    )
    for granularity in GRANULARITIES:
        parent = f"analytics_rows_{granularity.lower()}"
        op.execute(
            f"CREATE TABLE {parent} PARTITION OF analytics_rows FOR VALUES IN ('{granularity}') "
            "PARTITION BY RANGE (processing_date)"
        )
        # Units make their leaf before they write: this stays empty in production.
        op.execute(f"CREATE TABLE {parent}_default PARTITION OF {parent} DEFAULT")
    op.execute(ANALYTICS_INDEX)
    op.execute(_ANALYTICS_LEAVES)
    # LIKE the old table, then the two new columns: the same order.
    op.execute(
        "INSERT INTO analytics_rows OVERRIDING SYSTEM VALUE "
        "SELECT r.*, i.granularity, i.processing_date FROM analytics_rows_unpartitioned AS r "
        "JOIN analytics_instances AS i ON i.id = r.instance_id"
    )
    _restart_identity("analytics_rows")
    op.execute("DROP TABLE analytics_rows_unpartitioned")  # its foreign keys go with it
    for statement in TRIGGERS:
        op.execute(statement)

    # --- searchads_daily ---
    op.execute("ALTER TABLE searchads_daily RENAME TO searchads_daily_unpartitioned")
    op.execute("ALTER TABLE searchads_daily_unpartitioned DROP CONSTRAINT pk_searchads_daily")
    op.execute("DROP INDEX ix_searchads_daily_workspace_id_level_report_date")
    op.execute(
        "CREATE TABLE searchads_daily (LIKE searchads_daily_unpartitioned INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (report_date)"
    )
    op.execute("CREATE TABLE searchads_daily_default PARTITION OF searchads_daily DEFAULT")
    op.execute(f"ALTER TABLE searchads_daily ADD CONSTRAINT pk_searchads_daily "
               f"PRIMARY KEY ({SEARCHADS_KEY})")  # fmt: skip
    op.execute(SEARCHADS_INDEX)
    op.execute(_SEARCHADS_LEAVES)
    op.execute("INSERT INTO searchads_daily SELECT * FROM searchads_daily_unpartitioned")
    op.execute("DROP TABLE searchads_daily_unpartitioned")
    _searchads_keys()


def _searchads_keys() -> None:
    for column, target in SEARCHADS_KEYS:
        op.execute(
            f"ALTER TABLE searchads_daily ADD CONSTRAINT fk_searchads_daily_{column}_{target} "
            f"FOREIGN KEY ({column}) REFERENCES {target} (id) ON DELETE CASCADE"
        )


def downgrade() -> None:
    # --- searchads_daily ---
    op.execute("ALTER TABLE searchads_daily RENAME TO searchads_daily_partitioned")
    op.execute("ALTER TABLE searchads_daily_partitioned RENAME CONSTRAINT pk_searchads_daily "
               "TO pk_searchads_daily_partitioned")  # fmt: skip
    op.execute("ALTER INDEX ix_searchads_daily_workspace_id_level_report_date "
               "RENAME TO ix_searchads_daily_partitioned")  # fmt: skip
    for column, target in SEARCHADS_KEYS:
        op.execute(f"ALTER TABLE searchads_daily_partitioned DROP CONSTRAINT "
                   f"fk_searchads_daily_{column}_{target}")  # fmt: skip
    op.execute("CREATE TABLE searchads_daily (LIKE searchads_daily_partitioned INCLUDING DEFAULTS)")
    op.execute("INSERT INTO searchads_daily SELECT * FROM searchads_daily_partitioned")
    op.execute("DROP TABLE searchads_daily_partitioned")  # its partitions go with it
    op.execute(f"ALTER TABLE searchads_daily ADD CONSTRAINT pk_searchads_daily "
               f"PRIMARY KEY ({SEARCHADS_KEY})")  # fmt: skip
    op.execute(SEARCHADS_INDEX)
    _searchads_keys()

    # --- analytics_rows ---
    op.execute("DROP TRIGGER analytics_rows_instance_deleted ON analytics_instances")
    op.execute("DROP FUNCTION orchard_analytics_instance_deleted()")
    op.execute("ALTER TABLE analytics_rows RENAME TO analytics_rows_partitioned")
    op.execute("ALTER INDEX ix_analytics_rows_instance RENAME TO ix_analytics_rows_partitioned")
    op.execute(
        "CREATE TABLE analytics_rows (LIKE analytics_rows_partitioned INCLUDING DEFAULTS "
        "INCLUDING IDENTITY)"
    )
    op.execute("ALTER TABLE analytics_rows DROP COLUMN granularity, DROP COLUMN processing_date")
    op.execute(
        f"INSERT INTO analytics_rows ({ANALYTICS_COLUMNS}) OVERRIDING SYSTEM VALUE "  # noqa: S608
        f"SELECT {ANALYTICS_COLUMNS} FROM analytics_rows_partitioned"
    )
    _restart_identity("analytics_rows")
    op.execute("DROP TABLE analytics_rows_partitioned")  # its partitions go with it
    op.execute("ALTER TABLE analytics_rows ADD CONSTRAINT pk_analytics_rows PRIMARY KEY (id)")
    for column, target in ANALYTICS_KEYS:
        op.execute(
            f"ALTER TABLE analytics_rows ADD CONSTRAINT fk_analytics_rows_{column}_{target} "
            f"FOREIGN KEY ({column}) REFERENCES {target} (id) ON DELETE CASCADE"
        )
    op.execute(ANALYTICS_INDEX)
