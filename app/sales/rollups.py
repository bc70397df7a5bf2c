"""SQL that keeps the measure-set rollups (``sales_rollup_{app,account}_{day,month}``).

Each is derived from the level below it, inside the transaction that replaces a report day
(``repository.rebuild_daily_rollup``), so none is ever stale:

    sales_rows → sales_daily_rollup → sales_rollup_app_day → sales_rollup_account_day
                                                  ↓                    ↓             ↘
                                       sales_rollup_app_month  sales_rollup_account_month
                                                                          sales_rollup_workspace_day
                                                                                       ↓
                                                                          sales_items_workspace_day

The app and account day tables are replaced per (account, day). The workspace day table is
recomputed per (workspace, day) under a transaction-level advisory lock on it, and a month
table per (account, month) under a lock on (account, month): two units committing in any
order leave it equal to the sum of what they committed (a READ COMMITTED statement after the
lock sees the other unit's commit). Locks are taken days first, then months, each ascending,
so two units never deadlock.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: Unit kind → its column in the measure set (the sales API's measure names).
KIND_COLUMNS = {
    "first_time_download": "first_time_downloads",
    "redownload": "redownloads",
    "update": "updates",
    "iap": "iap_units",
    "subscription": "subscription_units",
    "restore": "restores",
}
COUNT_COLUMNS = (*KIND_COLUMNS.values(), "refunds", "net_units", "partial_refunds")
MONEY_COLUMNS = ("proceeds", "customer_sales", "partial_refund_proceeds", "partial_refund_customer")
MEASURE_COLUMNS = (*COUNT_COLUMNS, *MONEY_COLUMNS)

#: The measure set as sums over ``sales_daily_rollup`` (one row per unit kind and more).
FROM_DAILY_ROLLUP = {
    **{
        column: f"CAST(COALESCE(sum(r.units_in) FILTER (WHERE r.unit_kind = '{kind}'), 0) "
        "AS bigint)"
        for kind, column in KIND_COLUMNS.items()
    },
    **{c: f"CAST(sum(r.{c}) AS bigint)" for c in ("refunds", "net_units", "partial_refunds")},
    **{c: f"sum(r.{c})" for c in MONEY_COLUMNS},
}
#: The measure set as sums over another measure-set table.
FROM_MEASURE_SET = {
    **{c: f"CAST(sum(r.{c}) AS bigint)" for c in COUNT_COLUMNS},
    **{c: f"sum(r.{c})" for c in MONEY_COLUMNS},
}


APP_KEYS = ("workspace_id", "account_id", "app_id")
ACCOUNT_KEYS = ("workspace_id", "account_id")
WORKSPACE_KEYS = ("workspace_id",)


def insert_sql(
    target: str,
    source: str,
    measures: dict[str, str],
    *,
    keys: tuple[str, ...],
    monthly: bool,
    where: str,
) -> str:
    """``INSERT INTO target … SELECT … FROM source AS r WHERE where GROUP BY`` ``keys``, the
    period, the storefront and the currency pair."""
    period = (
        "CAST(date_trunc('month', CAST(r.report_date AS timestamp)) AS date)"
        if monthly
        else "r.report_date"
    )
    names = [*keys, "report_date", "country_code", "proceeds_currency", "customer_currency"]
    columns = [f"r.{key}" for key in keys]
    columns += [period, "r.country_code", "r.proceeds_currency", "r.customer_currency"]
    return f"""
        INSERT INTO {target} ({", ".join(names)}, {", ".join(MEASURE_COLUMNS)})
        SELECT {", ".join(columns)}, {", ".join(measures[c] for c in MEASURE_COLUMNS)}
        FROM {source} AS r
        WHERE {where}
        GROUP BY {", ".join(str(n + 1) for n in range(len(columns)))}
    """  # noqa: S608  (fixed identifiers)


#: (target, source, measures, keys), in the order they must be rebuilt.
DAY_LEVELS = (
    ("sales_rollup_app_day", "sales_daily_rollup", FROM_DAILY_ROLLUP, APP_KEYS),
    ("sales_rollup_account_day", "sales_rollup_app_day", FROM_MEASURE_SET, ACCOUNT_KEYS),
)
MONTH_LEVELS = (
    ("sales_rollup_app_month", "sales_rollup_app_day", APP_KEYS),
    ("sales_rollup_account_month", "sales_rollup_account_day", ACCOUNT_KEYS),
)
#: The account's workspace, for the workspace-wide table.
_WORKSPACE = "(SELECT workspace_id FROM asc_accounts WHERE id = :a)"


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


#: The lock on a (workspace, day) of the workspace day table, taken for a transaction.
_WORKSPACE_DAY_LOCK = (
    "pg_advisory_xact_lock(hashtextextended("
    "'sales_rollup_workspace_day:' || {workspace} || ':' || {day}, 0))"
)


async def lock_workspace_days(
    session: AsyncSession, workspace_id: uuid.UUID, days: list[dt.date]
) -> None:
    """Take the (workspace, day) locks ``rebuild_days`` takes, ascending, for the transaction:
    what is read after it sees every unit that changed those days committed, and no unit
    changes them before this transaction ends."""
    lock = _WORKSPACE_DAY_LOCK.format(workspace="CAST(:ws AS uuid)", day="d")
    await session.execute(
        # In the array's order: ascending, as every unit takes them (no deadlock).
        text(f"SELECT {lock} FROM unnest(CAST(:days AS date[])) AS d"),  # noqa: S608
        {"ws": workspace_id, "days": sorted(days)},
    )


async def rebuild_days(session: AsyncSession, account_id: uuid.UUID, day: dt.date) -> None:
    """Replace one account-day in the day tables (after ``sales_daily_rollup`` has it)."""
    params = {"a": account_id, "d": day}
    for target, source, measures, keys in DAY_LEVELS:
        await session.execute(
            text(f"DELETE FROM {target} WHERE account_id = :a AND report_date = :d"),  # noqa: S608
            params,
        )
        where = "r.account_id = :a AND r.report_date = :d"
        sql = insert_sql(target, source, measures, keys=keys, monthly=False, where=where)
        await session.execute(text(sql), params)
    # Every account of the workspace adds to this day: recomputed under a (workspace, day)
    # lock, like a month (see the module's docstring).
    lock = _WORKSPACE_DAY_LOCK.format(workspace="workspace_id", day="CAST(:d AS date)")
    await session.execute(
        text(f"SELECT {lock} FROM asc_accounts WHERE id = :a"),  # noqa: S608  (fixed SQL)
        params,
    )
    await session.execute(
        text(
            f"DELETE FROM sales_rollup_workspace_day WHERE workspace_id = {_WORKSPACE} "  # noqa: S608
            "AND report_date = :d"
        ),
        params,
    )
    where = f"r.workspace_id = {_WORKSPACE} AND r.report_date = :d"
    sql = insert_sql(
        "sales_rollup_workspace_day",
        "sales_rollup_account_day",
        FROM_MEASURE_SET,
        keys=WORKSPACE_KEYS,
        monthly=False,
        where=where,
    )
    await session.execute(text(sql), params)
    # The day's kept items (``app.sales.item_sql``), still under the lock.
    await session.execute(
        text(f"SELECT sales_items_workspace_refresh({_WORKSPACE}, :d, :d)"),
        params,
    )


async def rebuild_month(session: AsyncSession, account_id: uuid.UUID, month: dt.date) -> None:
    """Recompute one account-month in the month tables from the day tables."""
    first, last = month_of(month)
    params = {"a": account_id, "first": first, "last": last}
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"sales_rollup_month:{account_id}:{first.isoformat()}"},
    )
    for target, source, keys in MONTH_LEVELS:
        await session.execute(
            text(f"DELETE FROM {target} WHERE account_id = :a AND report_date = :first"),  # noqa: S608
            params,
        )
        where = "r.account_id = :a AND r.report_date BETWEEN :first AND :last"
        sql = insert_sql(target, source, FROM_MEASURE_SET, keys=keys, monthly=True, where=where)
        await session.execute(text(sql), params)


async def rebuild(session: AsyncSession, account_id: uuid.UUID, days: list[dt.date]) -> None:
    """The measure-set rollups of these account-days (each month once, in order: the
    advisory locks are always taken in the same order, so two units never deadlock)."""
    for day in days:
        await rebuild_days(session, account_id, day)
    for month in sorted({day.replace(day=1) for day in days}):
        await rebuild_month(session, account_id, month)
