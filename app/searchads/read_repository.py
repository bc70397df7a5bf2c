"""The SQL of the Search Ads read API: performance sums, fetched days, an app's ad spend
beside its App Store proceeds. Every query is scoped by workspace."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.repository import Also, bind


@dataclass(frozen=True)
class Key:
    """One column of the performance keyset: its SQL expression, output name and type."""

    expr: str
    alias: str
    kind: str  # "int" | "text" | "uuid" | "date"


#: A null key sorts first and compares as (false, sentinel): keysets never compare nulls.
SENTINEL = {
    "int": "0",
    "text": "''",
    "uuid": "'00000000-0000-0000-0000-000000000000'::uuid",
    "date": "DATE '1970-01-01'",  # not date.min: asyncpg sends that as -infinity
}
CAST = {"int": "bigint", "text": "text", "uuid": "uuid", "date": "date"}

#: group_by name → (keyset columns, other columns as ``min(expression) AS name``)
DIMENSIONS: dict[str, tuple[list[Key], list[tuple[str, str]]]] = {
    "org": ([Key("a.ad_account_id", "ad_account_id", "int")], []),
    "campaign": (
        [
            Key("a.ad_account_id", "ad_account_id", "int"),
            Key("d.campaign_id", "campaign_id", "int"),
        ],
        [("c.name", "campaign_name")],
    ),
    "ad_group": (
        [Key("d.campaign_id", "campaign_id", "int"), Key("d.ad_group_id", "ad_group_id", "int")],
        [],
    ),
    "keyword": (
        [Key("d.ad_group_id", "ad_group_id", "int"), Key("d.keyword_id", "keyword_id", "int")],
        [("d.keyword_text", "keyword")],
    ),
    "search_term": (
        [Key("d.search_term", "search_term", "text")],
        [("d.keyword_text", "keyword")],
    ),
    "app": ([Key("c.adam_id", "adam_id", "int"), Key("c.app_id", "app_id", "uuid")], []),
    "country": ([Key("d.country", "country", "text")], []),
}
_PERIOD = {
    "day": "p.day",
    "week": "date_trunc('week', p.day)::date",
    "month": "date_trunc('month', p.day)::date",
    "total": "NULL::date",
}
_MEASURES = (
    ("spend", "d.spend"),
    ("impressions", "d.impressions"),
    ("taps", "d.taps"),
    ("tap_installs", "d.tap_installs"),
    ("view_installs", "d.view_installs"),
    ("installs", "d.total_installs"),
    ("new_downloads", "d.total_new_downloads"),
    ("redownloads", "d.total_redownloads"),
)
_SUMS = ", ".join(f"sum({column}) AS {name}" for name, column in _MEASURES)


def level_for(group_by: Sequence[str]) -> str:
    if "search_term" in group_by:
        return "search_term"
    if "keyword" in group_by:
        return "keyword"
    if "ad_group" in group_by:
        return "ad_group"
    return "campaign"


def keyset(group_by: Sequence[str]) -> list[Key]:
    """The order of performance rows: period, each grouped column, currency."""
    keys = [Key("", "period_start", "date")]
    for name in group_by:
        for key in DIMENSIONS[name][0]:
            if all(k.alias != key.alias for k in keys):
                keys.append(key)
    keys.append(Key("d.currency", "currency", "text"))
    return keys


def _sort_expressions(keys: Sequence[Key]) -> list[str]:
    out: list[str] = []
    for key in keys:
        out += [f"(g.{key.alias} IS NOT NULL)", f"coalesce(g.{key.alias}, {SENTINEL[key.kind]})"]
    return out


async def performance(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    group_by: Sequence[str],
    ad_account_ids: Sequence[int] | None,
    campaign_ids: Sequence[int] | None,
    app_ids: Sequence[uuid.UUID] | None,
    after: Sequence[Any] | None,
    limit: int,
    by_day: bool = False,
) -> list[dict[str, Any]]:
    """Sums per (period, groups, currency) in keyset order (:func:`keyset`, nulls first),
    ``limit`` rows after the position ``after`` (per key: its not-null flag, then its value
    or the type's sentinel). Currencies are a group of their own: never added together.
    ``by_day`` adds each row's spend per report date (``days``, ``day_spend``) for
    conversion at each day's rate."""
    keys = keyset(group_by)[1:]
    extras: dict[str, str] = {}
    for name in group_by:
        for column, alias in DIMENSIONS[name][1]:
            extras.setdefault(alias, column)
    inner = ["d.report_date AS day"] + [f"{k.expr} AS {k.alias}" for k in keys]
    inner += [f"min({column}) AS {alias}" for alias, column in extras.items()]
    outer = [f"{_PERIOD[granularity]} AS period_start"] + [f"p.{k.alias}" for k in keys]
    outer += [f"min(p.{alias}) AS {alias}" for alias in extras]
    outer += [f"sum(p.{name}) AS {name}" for name, _ in _MEASURES]
    if by_day:
        outer += [
            "array_agg(p.day ORDER BY p.day) AS days",
            "array_agg(p.spend ORDER BY p.day) AS day_spend",
        ]
    where = [
        "d.workspace_id = :workspace",
        "d.level = :level",
        "d.report_date BETWEEN :start AND :end",
    ]
    params: dict[str, Any] = {
        "workspace": workspace_id,
        "level": level_for(group_by),
        "start": start,
        "end": end,
        "limit": limit,
    }
    if ad_account_ids:
        where.append("a.ad_account_id = ANY(:ad_accounts)")
        params["ad_accounts"] = list(ad_account_ids)
    if campaign_ids:
        where.append("d.campaign_id = ANY(:campaigns)")
        params["campaigns"] = list(campaign_ids)
    if app_ids:
        where.append("c.app_id = ANY(:apps)")
        params["apps"] = list(app_ids)
    order = _sort_expressions(keyset(group_by))
    position = ""
    if after is not None:
        kinds = [kind for key in keyset(group_by) for kind in ("flag", key.kind)]
        casts = []
        for index, (kind, value) in enumerate(zip(kinds, after, strict=True)):
            params[f"k{index}"] = value
            casts.append(f"CAST(:k{index} AS {CAST.get(kind, 'boolean')})")
        position = f"WHERE ({', '.join(order)}) > ({', '.join(casts)})"
    sql = f"""
        WITH p AS (
            SELECT {", ".join(inner)}, {_SUMS}
            FROM searchads_daily d
            JOIN searchads_accounts a ON a.id = d.account_id
            LEFT JOIN searchads_campaigns c
                   ON c.account_id = d.account_id AND c.campaign_id = d.campaign_id
            WHERE {" AND ".join(where)}
            GROUP BY {", ".join(["d.report_date"] + [k.expr for k in keys])}
        ), g AS (
            SELECT {", ".join(outer)}
            FROM p
            GROUP BY {", ".join(["1"] + [f"p.{k.alias}" for k in keys])}
        )
        SELECT g.* FROM g {position}
        ORDER BY {", ".join(order)}
        LIMIT :limit
    """  # noqa: S608 (identifiers come from the fixed tables above; values are bound)
    result = await session.execute(text(sql), params)
    return [dict(row._mapping) for row in result]


_MISSING = """
    SELECT DISTINCT g.day::date AS day
    FROM searchads_accounts a
    JOIN searchads_credentials s ON s.id = a.credential_id AND s.unlinked_at IS NULL
    CROSS JOIN generate_series(CAST(:start AS date), CAST(:end AS date),
                               interval '1 day') AS g(day)
    WHERE a.workspace_id = :workspace AND a.sync_enabled AND a.visible
      AND (CAST(:ad_accounts AS bigint[]) IS NULL
           OR a.ad_account_id = ANY(CAST(:ad_accounts AS bigint[])))
      AND g.day::date <= (now() AT TIME ZONE coalesce(a.time_zone, 'UTC'))::date
      AND NOT EXISTS (SELECT 1 FROM searchads_days f
                      WHERE f.account_id = a.id AND f.level = :level
                        AND f.report_date = g.day::date)
    ORDER BY 1
"""


async def _with_missing(
    session: AsyncSession,
    params: dict[str, Any],
    also: Also | None,
    columns: str = "",
    source: str = "",
) -> Any:
    """One statement's row: ``also``'s value, ``columns`` of ``source`` (a ``FROM`` clause:
    no row when it finds none) and ``_MISSING``'s days for ``params``."""
    value = also.sql if also is not None else "NULL"
    sql = f"SELECT ({value}) AS also, {columns} ARRAY({_MISSING}) AS missing {source}"
    return (await session.execute(text(sql), bind(params, also))).one_or_none()


def _missing_params(
    workspace_id: uuid.UUID,
    level: str,
    start: dt.date,
    end: dt.date,
    ad_account_ids: Sequence[int] | None,
) -> dict[str, Any]:
    return {
        "workspace": workspace_id,
        "level": level,
        "start": start,
        "end": end,
        "ad_accounts": list(ad_account_ids) if ad_account_ids else None,
    }


async def missing_days(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    level: str,
    start: dt.date,
    end: dt.date,
    ad_account_ids: Sequence[int] | None = None,
    also: Also | None = None,
) -> tuple[Any, list[dt.date]]:
    """Days of the range (up to today in each ad account's zone) not yet fetched for every
    ad account that syncs; with ``also``'s value (a conversion's rates) read in the same
    statement."""
    params = _missing_params(workspace_id, level, start, end, ad_account_ids)
    row = await _with_missing(session, params, also)
    return row.also, list(row.missing)


async def app_missing_days(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    app_id: uuid.UUID,
    level: str,
    start: dt.date,
    end: dt.date,
    also: Also | None = None,
) -> tuple[Any, str, list[dt.date]] | None:
    """``also``'s value (a conversion's rates), the Apple id of the workspace's app
    ``app_id`` and ``missing_days`` of every ad account, in one statement; None when the
    workspace has no such app."""
    params = {**_missing_params(workspace_id, level, start, end, None), "app": app_id}
    row = await _with_missing(
        session,
        params,
        also,
        "ap.apple_id,",
        "FROM apps ap WHERE ap.id = :app AND ap.workspace_id = :workspace",
    )
    return None if row is None else (row.also, row.apple_id, list(row.missing))


@dataclass
class SpendAndProceeds:
    """An app's ad measures per currency (``spend``: rows of ``currency`` and the sums), its
    App Store proceeds per currency, and — when asked for by day — both per (day, currency)
    for conversion at each day's rate."""

    spend: list[dict[str, Any]]
    proceeds: list[tuple[str, Any]]
    spend_days: list[tuple[dt.date, str, Any]]
    proceeds_days: list[tuple[dt.date, str, Any]]


async def app_spend_and_proceeds(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    adam_id: int,
    app_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    *,
    by_day: bool = False,
) -> SpendAndProceeds:
    """The app's ad spend and measures per currency (its campaigns' days), and its App Store
    proceeds per currency over the same dates (Apple's Pacific report days), in one
    statement; ``by_day`` adds both per (report date, currency) as further grouping sets of
    that statement."""
    others = ", ".join(f"NULL AS {name}" for name, _ in _MEASURES[1:])
    # Per currency, and per (day, currency) as a second grouping set when asked.
    ads_day, proceeds_day = ("d.report_date", "report_date") if by_day else ("NULL", "NULL")
    ads_sets = "(d.currency), (d.report_date, d.currency)" if by_day else "(d.currency)"
    proceeds_sets = (
        "(proceeds_currency), (report_date, proceeds_currency)" if by_day else "(proceeds_currency)"
    )
    result = await session.execute(
        text(
            f"""
            SELECT 'ads' AS part, CAST({ads_day} AS date) AS day, d.currency AS currency, {_SUMS}
            FROM searchads_daily d
            JOIN searchads_campaigns c
              ON c.account_id = d.account_id AND c.campaign_id = d.campaign_id
            WHERE d.workspace_id = :workspace AND d.level = 'campaign'
              AND c.adam_id = :adam AND d.report_date BETWEEN :start AND :end
            GROUP BY GROUPING SETS ({ads_sets})
            UNION ALL
            SELECT 'proceeds', {proceeds_day}, proceeds_currency, sum(proceeds), {others}
            FROM sales_daily_rollup
            WHERE workspace_id = :workspace AND app_id = :app
              AND report_date BETWEEN :start AND :end AND proceeds_currency IS NOT NULL
            GROUP BY GROUPING SETS ({proceeds_sets})
            ORDER BY 1, 2 NULLS FIRST, 3
            """  # noqa: S608 (constant fragments)
        ),
        {"workspace": workspace_id, "adam": adam_id, "app": app_id, "start": start, "end": end},
    )
    found = SpendAndProceeds([], [], [], [])
    for row in result:
        values = dict(row._mapping)
        part, day = values.pop("part"), values.pop("day")
        if part == "ads":
            if day is None:
                found.spend.append(values)
            else:
                found.spend_days.append((day, values["currency"], values["spend"]))
        elif day is None:
            found.proceeds.append((values["currency"], values["spend"]))
        else:
            found.proceeds_days.append((day, values["currency"], values["spend"]))
    return found
