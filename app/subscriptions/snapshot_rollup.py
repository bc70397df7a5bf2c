"""The per-day rollup of Apple's Subscription Report (the daily snapshot), rebuilt in the unit's
transaction.

A SUBSCRIPTION file is one report date's stock of active subscriptions, one row per price
point, device, offer and storefront. Right after the day's rows are replaced (in the same
transaction, through the report spec's ``after_load``, like ``rollup``), that (account, report
date)'s rollup rows are deleted and re-aggregated from the rows just stored: never stale, never
half built.

One rollup row sums the raw rows sharing (account, report date, app, subscription, storefront,
offer name, standard duration, proceeds currency) — every dimension and filter the actives,
MRR, summary and series reads group or filter by, kept as stored (not normalised), so grouping
the rollup gives exactly the raw rows' answer. Like the event-dated rollups it has two layers
(``by_country``): per storefront, and summed over storefronts (country null), read when a
request neither groups nor filters by country.

What a row keeps:

* every count column, as Σ over the rows where it is non-zero (null when none is: a kind no
  row has stays absent, as it is when reading raw rows);
* per count column that enters MRR (standard price and the pay-as-you-go modes): Σ count ×
  developer proceeds over those rows, and Σ count over those without proceeds;
* the MRR base of the analytics reads: Σ (in-MRR count) × developer proceeds (null when no row
  has proceeds), and Σ in-MRR count over rows with and without proceeds;
* ``subscription_name`` (the greatest, as the raw reads pick), and ``source_rows`` for traces.

Counts are summed only where non-zero, so the rollup answers exactly what the raw rows do; the
readers (``repository.snapshot_kinds``, ``analytics_repository.snapshot_days`` and
``bucket_ends``) take ``source="raw"`` for the property test that proves it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.subscriptions.catalog import IN_MRR_COLUMNS
from app.subscriptions.metrics import STATISTICS, OfferType
from app.subscriptions.series_days import rebuild_series_days

TABLE = "subscription_snapshot_day_rollup"
#: Every count column of the Subscription Report, in a fixed order.
COUNT_COLUMNS: tuple[str, ...] = tuple(kind.column for kind in OfferType) + STATISTICS
MRR_COLUMNS: tuple[str, ...] = IN_MRR_COLUMNS

_KEYS = "app_apple_id, subscription_apple_id, offer_name, standard_duration, proceeds_currency"
_RECURRING = " + ".join(f"COALESCE({c}, 0)" for c in MRR_COLUMNS)


def _sums() -> tuple[str, str]:
    """(insert column list, select list) of the summed columns."""
    columns: list[str] = []
    values: list[str] = []
    for c in COUNT_COLUMNS:
        columns.append(c)
        values.append(f"sum({c}) FILTER (WHERE {c} <> 0)")
    for c in MRR_COLUMNS:
        columns += [f"{c}_proceeds", f"{c}_unpriced"]
        values += [
            f"sum({c} * developer_proceeds) FILTER (WHERE {c} <> 0)",
            f"COALESCE(sum({c}) FILTER (WHERE developer_proceeds IS NULL), 0)",
        ]
    columns += ["mrr_base", "mrr_priced", "mrr_unpriced", "source_rows"]
    values += [
        f"sum(({_RECURRING}) * developer_proceeds)",
        f"COALESCE(sum({_RECURRING}) FILTER (WHERE developer_proceeds IS NOT NULL), 0)",
        f"COALESCE(sum({_RECURRING}) FILTER (WHERE developer_proceeds IS NULL), 0)",
        "count(*)",
    ]
    return ", ".join(columns), ", ".join(values)


_COLUMNS, _VALUES = _sums()

SNAPSHOT_ROLLUP_INSERT = f"""
    INSERT INTO {TABLE} (
        workspace_id, account_id, report_date, {_KEYS}, country, by_country, subscription_name,
        {_COLUMNS})
    SELECT workspace_id, account_id, report_date, {_KEYS}, country, GROUPING(country) = 0,
           max(subscription_name), {_VALUES}
    FROM subscription_snapshot_rows
    WHERE {{where}}
    GROUP BY workspace_id, account_id, report_date, {_KEYS}, GROUPING SETS ((country), ())
"""  # noqa: S608  (fixed SQL; values are bound)

_ONE_DAY = "account_id = :a AND report_date = :d"


async def rebuild_snapshot_rollup(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Re-aggregate one account's Subscription Report rows of one report date, then the day's
    series values from them (``series_days``); runs in the unit's transaction."""
    params = {"a": account_id, "d": report_date}
    await session.execute(text(f"DELETE FROM {TABLE} WHERE {_ONE_DAY}"), params)  # noqa: S608
    await session.execute(text(SNAPSHOT_ROLLUP_INSERT.format(where=_ONE_DAY)), params)
    await rebuild_series_days(session, account_id, report_date)
