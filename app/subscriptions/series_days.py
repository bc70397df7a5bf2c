"""Each report date's series values, precomputed in the unit's transaction (issue 18): the
estimated MRR per currency and the Subscription Report's counts, per app and per account.

Right after a day's snapshot rollup is rebuilt (``snapshot_rollup.rebuild_snapshot_rollup``
calls ``rebuild_series_days`` in the same transaction: never stale, never half built), two
tables are recomputed from it for that (account, report date), each per app (``by_app``, the
Apple ID as stored) and over the account's apps (``by_app`` false, app null):

* ``subscription_mrr_days`` — per proceeds currency the estimated MRR, by the very arithmetic
  the series ran on every request (``metrics.MrrTotal`` over the (currency, duration) MRR bases
  that the series read for that app or account, in the same order), unrounded with every digit
  ``Decimal`` gave it (``numeric`` keeps them), and its text as served (``amount_text``). A year
  of one app's or one account's ``estimated_mrr`` is then ~6,000 rows read as they are instead
  of ~17,500 parts decoded and added up per request: the same document, digit for digit.
  Why not in SQL: ``MrrTotal`` multiplies by factors like 1/12 in ``Decimal``'s 28-digit context
  and money rounds half-even; PostgreSQL's numeric division differs in the last digits. Why not
  per workspace: a workspace's day mixes accounts loaded by concurrent units, and per-account
  amounts cannot be added up exactly (each was rounded to 28 digits), so a workspace-wide MRR
  series reads the one account's amounts on days when one account alone has MRR, and the
  rollup's parts (``repository.snapshot_mrr_sql``) on the others.
* ``subscription_count_days`` — each count column summed (null when no rollup row has it) and
  the source rows behind them, so a count series (``active``, ``paying``, …) and the metrics'
  stocks of one app or account (``analytics_repository.stored_days_sql``) read one row per day
  instead of every rollup row times every kind. Integer sums add up exactly: a workspace's
  series sums its accounts' rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.money import amount_sql, amount_text, minor_units, minor_units_sql
from app.subscriptions.metrics import STATISTICS, MrrTotal, OfferType

TABLE = "subscription_mrr_days"
COUNTS_TABLE = "subscription_count_days"
#: Every count column of the Subscription Report (``snapshot_rollup.COUNT_COLUMNS``).
COUNT_COLUMNS: tuple[str, ...] = tuple(kind.column for kind in OfferType) + STATISTICS

#: One (account, report date)'s MRR bases per app (and summed over apps: ``by_app`` false) ×
#: proceeds currency × standard duration — what the series read for one app or one account,
#: grouped the same way, so each sum is the one the series added.
PARTS = """
    SELECT workspace_id, account_id, report_date, GROUPING(app_apple_id) = 0 AS by_app,
           app_apple_id, proceeds_currency, standard_duration, sum(mrr_base) AS base
    FROM subscription_snapshot_day_rollup
    WHERE NOT by_country AND {where}
    GROUP BY workspace_id, account_id, report_date, proceeds_currency, standard_duration,
             GROUPING SETS ((app_apple_id), ())
"""
_ONE_DAY = "account_id = :a AND report_date = :d"
INSERT = f"""
    INSERT INTO {TABLE} (workspace_id, account_id, report_date, by_app, app_apple_id,
                         proceeds_currency, amount, decimals, amount_text)
    SELECT CAST(:ws AS uuid), CAST(:a AS uuid), CAST(:d AS date), u.by_app, u.app, u.currency,
           u.amount, u.decimals, u.amount_text
    FROM unnest(CAST(:by_app AS boolean[]), CAST(:apps AS text[]), CAST(:currencies AS text[]),
                CAST(:amounts AS numeric[]), CAST(:decimals AS smallint[]),
                CAST(:texts AS text[])) AS u(by_app, app, currency, amount, decimals, amount_text)
"""  # noqa: S608  (fixed SQL; values are bound)

#: (currency, duration, Σ MRR base or None): one part of a day's MRR.
Part = tuple[str | None, str | None, Decimal | None]


def _order(part: Part) -> tuple[Any, ...]:
    """``repository.mrr_order`` of a part: the order the series added the parts in."""
    currency, duration, _ = part
    return (currency is None, currency or "", duration is None, duration or "")


def amounts_of(parts: Iterable[Part]) -> dict[str, Decimal]:
    """Currency → the unrounded MRR of one day's parts: ``MrrTotal`` as the series ran it."""
    total = MrrTotal()
    for currency, duration, base in sorted(parts, key=_order):
        total.add(currency, duration, base, 0)
    return total.amounts


#: One stored row: (by_app, app, currency, unrounded amount, minor units, rounded text).
DayRow = tuple[bool, str | None, str, Decimal, int, str]


def day_rows(found: Iterable[Any]) -> list[DayRow]:
    """``PARTS``' rows of one (account, report date) as rows to store: each layer's amounts,
    with the text the series serves (``amount_text``) and the minor units it was rounded to."""
    rows = []
    key = itemgetter(3, 4)
    for (by_app, app), parts in groupby(sorted(found, key=_layer_order), key=key):
        amounts = amounts_of((p[5], p[6], p[7]) for p in parts)
        rows += [
            (by_app, app, c, amount, minor_units(c), amount_text(amount, c))
            for c, amount in amounts.items()
        ]
    return rows


def _layer_order(row: Any) -> tuple[Any, ...]:
    return (row[3], row[4] is None, row[4] or "")


_COUNTS = ", ".join(COUNT_COLUMNS)
COUNTS_INSERT = f"""
    INSERT INTO {COUNTS_TABLE} (workspace_id, account_id, report_date, by_app, app_apple_id,
                                {_COUNTS}, source_rows)
    SELECT workspace_id, account_id, report_date, GROUPING(app_apple_id) = 0, app_apple_id,
           {", ".join(f"sum({c})" for c in COUNT_COLUMNS)}, sum(source_rows)
    FROM subscription_snapshot_day_rollup
    WHERE NOT by_country AND {{where}}
    GROUP BY workspace_id, account_id, report_date, GROUPING SETS ((app_apple_id), ())
"""  # noqa: S608  (fixed SQL; values are bound)


async def rebuild_series_days(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Recompute one account's series values of one report date from its snapshot rollup
    (rebuilt just before, in the same transaction)."""
    params: dict[str, Any] = {"a": account_id, "d": report_date}
    for table in (TABLE, COUNTS_TABLE):
        await session.execute(text(f"DELETE FROM {table} WHERE {_ONE_DAY}"), params)  # noqa: S608
    await session.execute(text(COUNTS_INSERT.format(where=_ONE_DAY)), params)
    found = list(await session.execute(text(PARTS.format(where=_ONE_DAY)), params))
    rows = day_rows(found)
    if not rows:
        return
    await session.execute(
        text(INSERT),
        {
            **params,
            "ws": found[0][0],
            "by_app": [r[0] for r in rows],
            "apps": [r[1] for r in rows],
            "currencies": [r[2] for r in rows],
            "amounts": [r[3] for r in rows],
            "decimals": [r[4] for r in rows],
            "texts": [r[5] for r in rows],
        },
    )


def mrr_series_sql(workspace_id: uuid.UUID, where: str, span: str, params: dict[str, Any]) -> str:
    """The ``estimated_mrr`` series' read for one app (``where`` names its account and Apple
    ID: the per-app rows) or one account (the rows summed over its apps): (report date,
    currency, amount text — zero ones included). The text was rounded when the day was
    stored; should a currency's minor units have changed since, the exact amount is rounded
    again here (``amount_sql``: ``amount_text``'s digits). ``where`` and ``span`` as for
    ``repository.snapshot_mrr_sql`` (alias ``s``); ``params["mrr_by_app"]`` is set by the
    caller."""
    params["ws"] = workspace_id
    decimals = minor_units_sql("s.proceeds_currency")
    return f"""
        SELECT s.report_date, s.proceeds_currency AS currency,
               CASE WHEN s.decimals = {decimals} THEN s.amount_text
                    ELSE {amount_sql("s.amount", decimals)} END AS amount
        FROM {TABLE} AS s
        WHERE s.workspace_id = :ws AND s.report_date {span} AND s.by_app = :mrr_by_app {where}
    """  # noqa: S608  (fixed SQL; values are bound)


_KINDS = ", ".join(
    [f"('{kind.value}', s.{kind.column})" for kind in OfferType]
    + [f"('{name}', s.{name})" for name in STATISTICS]
)


def kinds_series_sql(
    workspace_id: uuid.UUID, where: str, span: str, by_app: bool, params: dict[str, Any]
) -> str:
    """A count series' read: ``repository.snapshot_kinds_sql``'s rows without money or groups
    (report date, kind, Σ count; currency, duration, names and proceeds null, as unused) from
    the per-app rows (``by_app``: ``where`` names the app) or the per-account rows (one
    account, or every account of the workspace); ``where`` and ``span`` as there."""
    params["ws"] = workspace_id
    params["count_by_app"] = by_app
    return f"""
        SELECT s.report_date, k.kind, NULL::text AS currency, NULL::text AS duration,
               NULL::text AS subscription_name, NULL::text AS app_apple_id,
               sum(k.n) AS n, NULL::numeric AS proceeds, 0 AS unpriced
        FROM {COUNTS_TABLE} AS s
        CROSS JOIN LATERAL (VALUES {_KINDS}) AS k(kind, n)
        WHERE s.workspace_id = :ws AND s.report_date {span} AND s.by_app = :count_by_app
              AND k.n IS NOT NULL {where}
        GROUP BY s.report_date, k.kind
    """  # noqa: S608  (identifiers come from fixed enums; values are bound)


def single_account_days_sql(span: str) -> str:
    """The report dates of ``span`` on which one account alone has MRR in the workspace
    (``:ws``): its whole-account amounts are then the workspace's, exactly (every other
    account's parts that day were left out of MRR, or it has none)."""
    return f"""
        SELECT report_date FROM {TABLE}
        WHERE workspace_id = :ws AND NOT by_app AND report_date {span}
        GROUP BY report_date
        HAVING count(DISTINCT account_id) = 1
    """  # noqa: S608  (fixed SQL; values are bound)


def is_zero(amount: str) -> bool:
    """Whether an ``amount_text`` is zero (it never writes ``-0``)."""
    return not amount.strip("0.")
