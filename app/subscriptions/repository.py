"""SQL for the subscription API. Every query is scoped to one workspace."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.subscriptions.catalog import IN_MRR_COLUMNS
from app.subscriptions.metrics import STATISTICS, OfferType
from app.subscriptions.schemas import RowFilter

#: Group-by dimension → the column it groups rows by.
SNAPSHOT_DIMENSIONS = {
    "subscription": "s.subscription_apple_id",
    "country": "s.country",
}
EVENT_DIMENSIONS = {
    "subscription": "e.subscription_apple_id",
    "country": "e.country",
}
_KINDS = ", ".join(
    [f"('{kind.value}', s.{kind.column})" for kind in OfferType]
    + [f"('{name}', s.{name})" for name in STATISTICS]
)
#: The same kinds from the per-day rollup, with each in-MRR kind's Σ count × proceeds (``p``)
#: and its count without proceeds (``u``); the other kinds carry neither (unused for them).
_ROLLUP_KINDS = ", ".join(
    [
        f"('{kind.value}', s.{kind.column}, s.{kind.column}_proceeds, s.{kind.column}_unpriced)"
        if kind.in_mrr
        else f"('{kind.value}', s.{kind.column}, NULL::numeric, 0::bigint)"
        for kind in OfferType
    ]
    + [f"('{name}', s.{name}, NULL::numeric, 0::bigint)" for name in STATISTICS]
)


def _where(alias: str, filters: RowFilter, params: dict[str, Any]) -> str:
    sql = ""
    if filters.account_id is not None:
        sql += f" AND {alias}.account_id = :f_account"
        params["f_account"] = filters.account_id
    if filters.app_apple_id is not None:
        sql += f" AND {alias}.app_apple_id = :f_app"
        params["f_app"] = filters.app_apple_id
    return sql


@dataclass(frozen=True)
class KindRow:
    """Σ of one count column over rows sharing a date, group, currency and duration."""

    report_date: dt.date
    group: tuple[str | None, ...]
    subscription_name: str | None
    app_apple_id: str | None
    kind: str
    currency: str | None
    duration: str | None
    count: int
    # Σ count × developer proceeds over the rows that have proceeds; None when none has.
    proceeds: Decimal | None
    unpriced: int  # subscriptions on rows without developer proceeds


def snapshot_kinds_sql(
    workspace_id: uuid.UUID,
    where: str,
    span: str,
    dimensions: list[str],
    params: dict[str, Any],
    source: str = "rollup",
    *,
    money: bool = True,
) -> str:
    """The SELECT of ``snapshot_kinds`` (its parameters added to ``params``; ``where``: more
    conditions on ``s``, ``span``: the report dates' condition): from the per-day rollup
    (``snapshot_rollup``, the same answer), or the raw rows with ``source="raw"``.

    Only the kinds in MRR are split by proceeds currency and standard duration (the others
    read null there: nothing uses them), and none without ``money``: a year of days then
    stays a few thousand rows instead of a hundred thousand."""
    params["ws"] = workspace_id
    currency, duration = "NULL::text", "NULL::text"
    if money:
        in_mrr = ", ".join(f"'{kind.value}'" for kind in OfferType if kind.in_mrr)
        currency = f"CASE WHEN k.kind IN ({in_mrr}) THEN s.proceeds_currency END"
        duration = f"CASE WHEN k.kind IN ({in_mrr}) THEN s.standard_duration END"
    groups = "".join(f", {SNAPSHOT_DIMENSIONS[d]}" for d in dimensions)
    selects = "".join(f", {SNAPSHOT_DIMENSIONS[d]} AS g{i}" for i, d in enumerate(dimensions))
    if source == "rollup":
        table, nonzero = "subscription_snapshot_day_rollup", "IS NOT NULL"
        kinds = f"{_ROLLUP_KINDS}) AS k(kind, n, p, u"
        proceeds, unpriced = "sum(k.p)", "COALESCE(sum(k.u), 0)"
        params["by_country"] = "country" in dimensions
        layer = "AND s.by_country = :by_country"
    else:
        table, nonzero, layer = "subscription_snapshot_rows", "<> 0", ""
        kinds = f"{_KINDS}) AS k(kind, n"
        proceeds = "sum(k.n * s.developer_proceeds)"
        unpriced = "COALESCE(sum(k.n) FILTER (WHERE s.developer_proceeds IS NULL), 0)"
    return f"""
        SELECT s.report_date{selects}, k.kind, {currency} AS currency, {duration} AS duration,
               max(s.subscription_name) AS subscription_name,
               max(s.app_apple_id) AS app_apple_id,
               sum(k.n) AS n,
               {proceeds} AS proceeds,
               {unpriced} AS unpriced
        FROM {table} AS s
        CROSS JOIN LATERAL (VALUES {kinds})
        WHERE s.workspace_id = :ws AND s.report_date {span}
              AND k.n {nonzero} {layer} {where}
        GROUP BY s.report_date{groups}, k.kind, {3 + len(dimensions)}, {4 + len(dimensions)}
    """  # noqa: S608  (identifiers come from the fixed maps above; values are bound)


def snapshot_mrr_sql(
    workspace_id: uuid.UUID,
    where: str,
    span: str,
    params: dict[str, Any],
    source: str = "rollup",
) -> str:
    """The estimated MRR's read (the series'): per report date, proceeds currency and standard
    duration, Σ in-MRR count × developer proceeds (null when no row has proceeds) and the
    in-MRR count on rows with proceeds — all MRR needs, the kinds already added up, so a year
    is a few rows per currency and duration a day instead of one per kind too. From the
    per-day rollup (its ``mrr_base``), or the raw rows with ``source="raw"``; ``where`` and
    ``span`` as for ``snapshot_kinds_sql``."""
    params["ws"] = workspace_id
    if source == "rollup":
        table, layer = "subscription_snapshot_day_rollup", "AND NOT s.by_country"
        base, priced = "s.mrr_base", "s.mrr_priced"
    else:
        table, layer = "subscription_snapshot_rows", ""
        in_mrr = " + ".join(f"COALESCE(s.{c}, 0)" for c in IN_MRR_COLUMNS)
        base = f"({in_mrr}) * s.developer_proceeds"
        priced = f"CASE WHEN s.developer_proceeds IS NULL THEN 0 ELSE {in_mrr} END"
    return f"""
        SELECT s.report_date, s.proceeds_currency AS currency,
               s.standard_duration AS duration, sum({base}) AS base,
               COALESCE(sum({priced}), 0) AS priced
        FROM {table} AS s
        WHERE s.workspace_id = :ws AND s.report_date {span} {layer} {where}
        GROUP BY s.report_date, s.proceeds_currency, s.standard_duration
    """  # noqa: S608  (identifiers come from the fixed maps above; values are bound)


@dataclass(frozen=True)
class MrrPart:
    """``snapshot_mrr_sql``'s row: one report date's MRR base in a currency and duration."""

    report_date: dt.date
    currency: str | None
    duration: str | None
    base: Decimal | None  # Σ in-MRR count × developer proceeds; None when no row has proceeds
    priced: int  # in-MRR subscriptions on rows with developer proceeds


def mrr_order(part: MrrPart) -> tuple[Any, ...]:
    """One order whatever the plan: MRR adds the parts up in this order."""
    values = (part.currency, part.duration)
    return (part.report_date, *((v is None, v or "") for v in values))


def kind_rows(rows: Iterable[Sequence[Any]], width: int) -> list[KindRow]:
    """``snapshot_kinds_sql``'s rows as ``KindRow``s (``width``: the number of dimensions), in
    one order whatever the plan (MRR adds them up in this order)."""
    found = [
        KindRow(
            report_date=row[0],
            group=tuple(row[1 : 1 + width]),
            kind=row[1 + width],
            currency=row[2 + width],
            duration=row[3 + width],
            subscription_name=row[4 + width],
            app_apple_id=row[5 + width],
            count=int(row[6 + width]),
            proceeds=row[7 + width],
            unpriced=int(row[8 + width]),
        )
        for row in rows
    ]
    return sorted(found, key=_kind_order)


def _kind_order(row: KindRow) -> tuple[Any, ...]:
    values = (*row.group, row.kind, row.currency, row.duration)
    return (row.report_date, *((v is None, v or "") for v in values))


async def snapshot_kinds(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: RowFilter,
    start: dt.date,
    end: dt.date,
    dimensions: list[str],
    source: str = "rollup",
) -> list[KindRow]:
    """Each count column of the Subscription Report, summed per (date, group, currency,
    standard duration) — enough for every measure and for MRR without listing price points."""
    params: dict[str, Any] = {"start": start, "end": end}
    where = _where("s", filters, params)
    span = "BETWEEN :start AND :end"
    sql = snapshot_kinds_sql(workspace_id, where, span, dimensions, params, source)
    return kind_rows(await session.execute(text(sql), params), len(dimensions))


async def snapshot_mrr(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: RowFilter,
    start: dt.date,
    end: dt.date,
    source: str = "rollup",
) -> list[MrrPart]:
    """``snapshot_mrr_sql``'s parts of every report date in [start, end], in ``mrr_order``."""
    params: dict[str, Any] = {"start": start, "end": end}
    where = _where("s", filters, params)
    sql = snapshot_mrr_sql(workspace_id, where, "BETWEEN :start AND :end", params, source)
    parts = [MrrPart(*row) for row in await session.execute(text(sql), params)]
    return sorted(parts, key=mrr_order)


@dataclass(frozen=True)
class EventRow:
    event_date: dt.date
    group: tuple[str | None, ...]
    subscription_name: str | None
    event: str | None
    free_trial: bool
    quantity: int


def event_counts_sql(
    workspace_id: uuid.UUID,
    where: str,
    start: dt.date,
    end: dt.date,
    dimensions: list[str],
    params: dict[str, Any],
) -> str:
    """The SELECT of ``event_counts`` (its parameters added to ``params``; ``where``: more
    conditions on ``e``)."""
    params.update(ws=workspace_id, start=start, end=end)
    groups = "".join(f", {EVENT_DIMENSIONS[d]}" for d in dimensions)
    selects = "".join(f", {EVENT_DIMENSIONS[d]} AS g{i}" for i, d in enumerate(dimensions))
    return f"""
        SELECT e.event_date{selects}, e.event,
               COALESCE(lower(btrim(e.offer_type)) = 'free trial', false) AS free_trial,
               max(e.subscription_name) AS subscription_name,
               sum(e.quantity) AS quantity
        FROM subscription_event_rows AS e
        WHERE e.workspace_id = :ws AND e.event_date BETWEEN :start AND :end
              {where}
        GROUP BY e.event_date{groups}, e.event, {3 + len(dimensions)}
    """  # noqa: S608  (identifiers come from the fixed maps above; values are bound)


def event_rows(rows: Iterable[Sequence[Any]], width: int) -> list[EventRow]:
    """``event_counts_sql``'s rows as ``EventRow``s (``width``: the number of dimensions)."""
    return [
        EventRow(
            event_date=row[0],
            group=tuple(row[1 : 1 + width]),
            event=row[1 + width],
            free_trial=bool(row[2 + width]),
            subscription_name=row[3 + width],
            quantity=int(row[4 + width] or 0),
        )
        for row in rows
    ]


async def event_counts(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    filters: RowFilter,
    start: dt.date,
    end: dt.date,
    dimensions: list[str],
) -> list[EventRow]:
    """Σ quantity per (event date, event, free-trial offer or not, group)."""
    params: dict[str, Any] = {}
    where = _where("e", filters, params)
    sql = event_counts_sql(workspace_id, where, start, end, dimensions, params)
    return event_rows(await session.execute(text(sql), params), len(dimensions))
