"""Partitioned report tables: their leaves, created on demand, and retention by whole leaves.

A partitioned report table is split by report date: one leaf per month for daily reports (a
busy account's day is a million rows), one per year for the others (a few rows a period).
``sales_rows`` (migration ``21_partitions``) holds every frequency, so it is split by
frequency first; the subscription reports' tables (migration ``21_report_partitions``) hold
daily reports only and are split by month directly::

    sales_rows → sales_rows_daily → sales_rows_daily_2026_10
               → sales_rows_weekly → sales_rows_weekly_2026   (likewise monthly, yearly)
    subscription_event_rows → subscription_event_rows_2026_10

(``subscriber_transaction_rows`` is split by account hash into fixed leaves made by its
migration, and is not pruned: see ``21_report_partitions``.) Migration
``21_analytics_partitions`` adds the App Analytics rows — by granularity, then by the month
(or year) their report instance was *processed*, so that an instance, which holds several
dates, lives in one leaf known before its file is read — and the Apple Ads daily rows, by
report month::

    analytics_rows → analytics_rows_daily → analytics_rows_daily_2026_10   (by processing_date)
    searchads_daily → searchads_daily_2026_10

Replacing a report day touches one leaf. A leaf is created before the unit's transaction
starts writing, in its own short transaction: ``ATTACH PARTITION`` takes only a SHARE UPDATE
EXCLUSIVE lock on its parent, so readers and other units' writes go on meanwhile. Retention
drops whole leaves past it and deletes only inside the one leaf it cuts through.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.sync.worker import DomainTask

log = logging.getLogger(__name__)

#: Frequencies of Apple's report periods (``app.reports.periods``) and their leaf span.
SPANS: Mapping[str, str] = {"DAILY": "month", "WEEKLY": "year", "MONTHLY": "year", "YEARLY": "year"}
#: The partitioned report tables (created so by a migration) → whether a LIST (frequency)
#: level sits above the date ranges; a table without it holds daily reports only.
BY_FREQUENCY: Mapping[str, bool] = {
    "sales_rows": True,
    "subscription_snapshot_rows": False,
    "subscription_event_rows": False,
    "analytics_rows": True,  # by the instance's granularity
    "searchads_daily": False,
}
PARTITIONED = frozenset(BY_FREQUENCY)
#: The range partition key of a table, when not ``report_date``. An analytics row's date is
#: never after its instance's processing date, so retention by the latter keeps every row the
#: cut-off keeps by the former.
KEY: Mapping[str, str] = {"analytics_rows": "processing_date"}
#: Partitioned tables whose stale leaves a unit analyzes before it loads (``analyze_stale``).
ANALYZED_BEFORE_LOAD = frozenset({"subscriber_transaction_rows"})
#: Waiting longer than this for a lock on a parent is given up (retried next time): a DETACH
#: or DROP must never queue readers behind a long unit.
LOCK_TIMEOUT = "5s"
#: An ANALYZE that would wait (autovacuum on the leaf) is skipped: the unit must not wait.
ANALYZE_LOCK_TIMEOUT = "100ms"
LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class Leaf:
    table: str  # the partitioned table
    frequency: str
    first: dt.date  # the first report date (``key``) in the leaf
    following: dt.date  # the first report date after it

    @property
    def key(self) -> str:
        """The column the leaf's bounds are on."""
        return key_of(self.table)

    @property
    def parent(self) -> str:
        return parent_of(self.table, self.frequency)

    @property
    def name(self) -> str:
        suffix = f"{self.first:%Y_%m}" if SPANS[self.frequency] == "month" else f"{self.first:%Y}"
        return f"{self.parent}_{suffix}"


def key_of(table: str) -> str:
    return KEY.get(table, "report_date")


def parent_of(table: str, frequency: str) -> str:
    """The partitioned table whose leaves hold ``frequency``'s reports of ``table``."""
    if BY_FREQUENCY.get(table, True):
        return f"{table}_{frequency.lower()}"
    if frequency != "DAILY":
        raise ValueError(f"{table} holds daily reports only, not {frequency}")
    return table


def leaf_of(table: str, frequency: str, day: dt.date) -> Leaf:
    if SPANS[frequency] == "month":
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
    else:
        first = day.replace(month=1, day=1)
        following = first.replace(year=first.year + 1)
    return Leaf(table, frequency, first, following)


async def ensure_leaf(session: AsyncSession, table: str, frequency: str, day: dt.date) -> None:
    """Make sure the leaf holding (``frequency``, ``day``) of ``table`` exists, creating it in
    a transaction of its own (committed at once) on another connection of the same engine."""
    if table not in PARTITIONED:
        return
    leaf = leaf_of(table, frequency, day)
    exists = await session.scalar(
        text("SELECT to_regclass(:name) IS NOT NULL"), {"name": leaf.name}
    )
    if exists:
        return
    async with _own_transaction(session) as conn:
        await _create(conn, leaf)


@asynccontextmanager
async def _own_transaction(session: AsyncSession) -> AsyncIterator[AsyncConnection]:
    """A transaction of its own (committed at once) on another connection of the session's
    engine; on a session bound to one connection, that connection's."""
    engine = session.bind
    if isinstance(engine, AsyncEngine):
        async with engine.begin() as conn:
            yield conn
    else:
        yield await session.connection()


async def _create(conn: AsyncConnection, leaf: Leaf) -> None:
    # Two units wanting the same new leaf: the second waits here, then finds it.
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"partition:{leaf.name}"},
    )
    if await conn.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": leaf.name}):
        return
    await conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    # LIKE the parent: its columns and defaults; ATTACH adds the parent's indexes (empty:
    # instant) and checks no row (an empty table is trivially in bounds).
    await conn.execute(text(f"CREATE TABLE {leaf.name} (LIKE {leaf.parent} INCLUDING DEFAULTS)"))
    bounds = {"first": leaf.first, "following": leaf.following}
    in_bounds = f"{leaf.key} >= :first AND {leaf.key} < :following"
    # Rows a writer put in the catch-all leaf move to their own (never, from ingest).
    moved = await conn.execute(
        text(
            f"WITH moved AS (DELETE FROM {leaf.parent}_default WHERE {in_bounds} "  # noqa: S608
            f"RETURNING *) INSERT INTO {leaf.name} SELECT * FROM moved"
        ),
        bounds,
    )
    await conn.execute(
        text(
            f"ALTER TABLE {leaf.parent} ATTACH PARTITION {leaf.name} "
            f"FOR VALUES FROM ('{leaf.first.isoformat()}') TO ('{leaf.following.isoformat()}')"
        )
    )
    if moved.rowcount:
        log.info("moved rows out of the default partition", extra={"rows": moved.rowcount})
    log.info("created report partition", extra={"partition": leaf.name})


async def analyze_stale(session: AsyncSession, table: str) -> None:
    """Analyze each leaf of ``table`` changed much since it was last analyzed, each in a short
    transaction of its own (a busy leaf is left for next time).

    The Subscriber Report's rollup looks Subscriber IDs up in its rows, planned by their
    statistics; it analyzes the table when autovacuum is behind (a bulk sync) or off, judged
    by the table's counters in ``pg_stat_user_tables`` — which a partitioned parent does not
    keep (its leaves do). So the leaves are checked here, with the rollup's threshold, before
    the unit writes (the counters show only committed work either way)."""
    if table not in ANALYZED_BEFORE_LOAD:
        return
    stale = await session.scalars(
        text(
            """
            SELECT s.relname FROM pg_partition_tree(CAST(:table AS regclass)) AS tree
            JOIN pg_stat_user_tables AS s ON s.relid = tree.relid
            WHERE tree.isleaf AND s.n_mod_since_analyze > 1000 + 0.2 * s.n_live_tup
            """
        ),
        {"table": table},
    )
    for leaf in list(stale):
        try:
            async with _own_transaction(session) as conn:
                # Another unit analyzing the leaf already (the counters lag): not waited for.
                if not await conn.scalar(
                    text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"),
                    {"key": f"analyze:{leaf}"},
                ):
                    continue
                await conn.execute(text(f"SET LOCAL lock_timeout = '{ANALYZE_LOCK_TIMEOUT}'"))
                await conn.execute(text(f"ANALYZE {leaf}"))
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            log.info("leaf busy, not analyzed", extra={"leaf": leaf})


async def leaves(conn: AsyncConnection | AsyncSession, table: str) -> list[Leaf]:
    """Every leaf of ``table``, from the catalog."""
    frequencies = SPANS if BY_FREQUENCY[table] else ["DAILY"]
    parents = {parent_of(table, frequency): frequency for frequency in frequencies}
    rows = await conn.execute(
        text(
            """
            SELECT parent.relname AS parent, child.relname AS name,
                   pg_get_expr(child.relpartbound, child.oid) AS bound
            FROM pg_inherits AS i
            JOIN pg_class AS parent ON parent.oid = i.inhparent
            JOIN pg_class AS child ON child.oid = i.inhrelid
            WHERE parent.relname = ANY(CAST(:parents AS text[])) AND child.relkind = 'r'
            ORDER BY child.relname
            """
        ),
        {"parents": list(parents)},
    )
    found = []
    for row in rows:
        if row.bound == "DEFAULT":
            continue
        frequency = parents[row.parent]
        # "FOR VALUES FROM ('2026-10-01') TO ('2026-11-01')"
        first, following = (dt.date.fromisoformat(part) for part in row.bound.split("'")[1::2])
        found.append(Leaf(table, frequency, first, following))
    return found


@dataclass(frozen=True)
class Pruned:
    table: str
    dropped: list[str]
    deleted_rows: int


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession], table: str, keep_since: Mapping[str, dt.date]
) -> Pruned:
    """Retention: rows of ``frequency`` with a report date (``key_of(table)``) before
    ``keep_since[frequency]`` go. A leaf wholly before it is dropped (one catalog change,
    whatever its size); in the leaf the cut-off falls into, only the rows before it are
    deleted. Each leaf in its own
    short transaction; a leaf whose lock is not granted in time is left for the next run."""
    dropped: list[str] = []
    deleted = 0
    async with sessionmaker() as session:
        found = await leaves(session, table)
    for leaf in found:
        cutoff = keep_since.get(leaf.frequency)
        if cutoff is None or leaf.first >= cutoff:
            continue
        try:
            async with sessionmaker() as session, session.begin():
                await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                if leaf.following <= cutoff:
                    await session.execute(text(f"DROP TABLE {leaf.name}"))
                    dropped.append(leaf.name)
                else:
                    result = await session.execute(
                        text(f"DELETE FROM {leaf.name} WHERE {leaf.key} < :cutoff"),  # noqa: S608
                        {"cutoff": cutoff},
                    )
                    deleted += int(getattr(result, "rowcount", 0) or 0)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            log.warning("report retention: partition busy, next run", extra={"leaf": leaf.name})
    if dropped or deleted:
        log.info(
            "report retention",
            extra={"table": table, "dropped": dropped, "deleted_rows": deleted},
        )
    return Pruned(table, dropped, deleted)


def keep_since(settings: Settings, today: dt.date) -> dict[str, dt.date]:
    """The first report date kept per frequency (``ORCHARD_REPORT_RETENTION_*``; unset: all)."""
    windows = {
        "DAILY": settings.report_retention_daily,
        "WEEKLY": settings.report_retention_weekly,
        "MONTHLY": settings.report_retention_monthly,
        "YEARLY": settings.report_retention_yearly,
    }
    return {frequency: today - window for frequency, window in windows.items() if window}


def retention_task(settings: Settings) -> DomainTask:
    """The worker's hourly retention pass over every partitioned report table."""

    async def run(
        sessionmaker: async_sessionmaker[AsyncSession], factory: AscClientFactory
    ) -> list[Pruned]:
        cutoffs = keep_since(settings, dt.datetime.now(dt.UTC).date())
        if not cutoffs:
            return []
        return [await prune(sessionmaker, table, cutoffs) for table in sorted(PARTITIONED)]

    return DomainTask("report_retention", run, 3600.0)
