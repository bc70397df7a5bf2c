"""The SQL of the Search Ads read API: performance sums, fetched days, an app's ad spend
beside its App Store proceeds. Every query is scoped by workspace."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: group_by name → (select expressions, group-by expressions)
DIMENSIONS: dict[str, tuple[list[str], list[str]]] = {
    "org": (["a.ad_account_id AS ad_account_id"], ["a.ad_account_id"]),
    "campaign": (
        [
            "a.ad_account_id AS ad_account_id",
            "d.campaign_id AS campaign_id",
            "min(c.name) AS campaign_name",
        ],
        ["a.ad_account_id", "d.campaign_id"],
    ),
    "ad_group": (
        ["d.campaign_id AS campaign_id", "d.ad_group_id AS ad_group_id"],
        ["d.campaign_id", "d.ad_group_id"],
    ),
    "keyword": (
        [
            "d.ad_group_id AS ad_group_id",
            "d.keyword_id AS keyword_id",
            "min(d.keyword_text) AS keyword",
        ],
        ["d.ad_group_id", "d.keyword_id"],
    ),
    "search_term": (
        ["d.search_term AS search_term", "min(d.keyword_text) AS keyword"],
        ["d.search_term"],
    ),
    "app": (["c.adam_id AS adam_id", "c.app_id AS app_id"], ["c.adam_id", "c.app_id"]),
    "country": (["d.country AS country"], ["d.country"]),
}
_PERIOD = {
    "day": "d.report_date",
    "week": "date_trunc('week', d.report_date)::date",
    "month": "date_trunc('month', d.report_date)::date",
    "total": "NULL::date",
}
_SUMS = """
    sum(d.spend) AS spend, sum(d.impressions) AS impressions, sum(d.taps) AS taps,
    sum(d.tap_installs) AS tap_installs, sum(d.view_installs) AS view_installs,
    sum(d.total_installs) AS installs, sum(d.total_new_downloads) AS new_downloads,
    sum(d.total_redownloads) AS redownloads
"""


def level_for(group_by: Sequence[str]) -> str:
    if "search_term" in group_by:
        return "search_term"
    if "keyword" in group_by:
        return "keyword"
    if "ad_group" in group_by:
        return "ad_group"
    return "campaign"


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
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Sums per (period, groups, currency), deterministic order; ``limit`` rows from
    ``offset``. Currencies are a group of their own: never added together."""
    selects = [f"{_PERIOD[granularity]} AS period_start"]
    groups = ["1"]
    seen: set[str] = set()
    for name in group_by:
        columns, keys = DIMENSIONS[name]
        for column in columns:
            alias = column.rsplit(" AS ", 1)[1]
            if alias not in seen:
                seen.add(alias)
                selects.append(column)
        groups.extend(k for k in keys if k not in groups)
    selects.append("d.currency AS currency")
    groups.append("d.currency")
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
        "offset": offset,
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
    order = ", ".join(f"{g} NULLS FIRST" for g in groups)
    sql = f"""
        SELECT {", ".join(selects)}, {_SUMS}
        FROM searchads_daily d
        JOIN searchads_accounts a ON a.id = d.account_id
        LEFT JOIN searchads_campaigns c
               ON c.account_id = d.account_id AND c.campaign_id = d.campaign_id
        WHERE {" AND ".join(where)}
        GROUP BY {", ".join(groups)}
        ORDER BY {order}
        OFFSET :offset LIMIT :limit
    """  # noqa: S608 (identifiers come from the fixed tables above; values are bound)
    result = await session.execute(text(sql), params)
    return [dict(row._mapping) for row in result]


async def missing_days(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    level: str,
    start: dt.date,
    end: dt.date,
    ad_account_ids: Sequence[int] | None = None,
) -> list[dt.date]:
    """Days of the range (up to today in each ad account's zone) not yet fetched for every
    ad account that syncs."""
    rows = await session.execute(
        text(
            """
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
        ),
        {
            "workspace": workspace_id,
            "level": level,
            "start": start,
            "end": end,
            "ad_accounts": list(ad_account_ids) if ad_account_ids else None,
        },
    )
    return [row[0] for row in rows]


async def app_spend(
    session: AsyncSession, workspace_id: uuid.UUID, adam_id: int, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    result = await session.execute(
        text(
            f"""
            SELECT d.currency AS currency, {_SUMS}
            FROM searchads_daily d
            JOIN searchads_campaigns c
              ON c.account_id = d.account_id AND c.campaign_id = d.campaign_id
            WHERE d.workspace_id = :workspace AND d.level = 'campaign'
              AND c.adam_id = :adam AND d.report_date BETWEEN :start AND :end
            GROUP BY d.currency ORDER BY d.currency
            """  # noqa: S608 (a constant fragment)
        ),
        {"workspace": workspace_id, "adam": adam_id, "start": start, "end": end},
    )
    return [dict(row._mapping) for row in result]


async def app_proceeds(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID, start: dt.date, end: dt.date
) -> list[tuple[str, Any]]:
    """App Store proceeds of the app over the same dates (Apple's Pacific report days)."""
    result = await session.execute(
        text(
            """
            SELECT proceeds_currency, sum(proceeds) FROM sales_daily_rollup
            WHERE workspace_id = :workspace AND app_id = :app
              AND report_date BETWEEN :start AND :end AND proceeds_currency IS NOT NULL
            GROUP BY proceeds_currency ORDER BY proceeds_currency
            """
        ),
        {"workspace": workspace_id, "app": app_id, "start": start, "end": end},
    )
    return [(row[0], row[1]) for row in result]
