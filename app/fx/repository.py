"""SQL for currency rates: bulk upserts of public rates, manual rates, reads for conversion
and for the rates API, and the workspace's reporting currency."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, func, literal, select, text, tuple_, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FxManualRate, FxRate, FxWorkspaceSettings
from app.reports.repository import Also

BATCH = 2000


@dataclass(frozen=True)
class StoredRate:
    day: dt.date
    base: str
    quote: str
    rate: Decimal
    source: str  # "ecb" | "frankfurter" | "manual"
    provider: str  # Frankfurter's provider key; "" otherwise
    fetched_at: dt.datetime


@dataclass(frozen=True)
class Revision:
    day: dt.date
    base: str
    quote: str
    previous: Decimal
    rate: Decimal


async def upsert_public(
    session: AsyncSession,
    *,
    source: str,
    rows: list[dict[str, Any]],
    source_url: str,
    now: dt.datetime,
) -> tuple[int, list[Revision]]:
    """Insert rates of one public source (``rows``: day, base, quote, rate, provider).

    A rate already stored with the same value is left alone (so a re-sync is idempotent); a
    different value replaces it but keeps the old one in ``previous_rate`` with
    ``revised_at``: returned as revisions for the unit to log. Returns (new rows, revisions).
    """
    inserted = 0
    revisions: list[Revision] = []
    table = cast(Table, FxRate.__table__)
    for start in range(0, len(rows), BATCH):
        values = [
            {**row, "source": source, "source_url": source_url, "fetched_at": now}
            for row in rows[start : start + BATCH]
        ]
        statement = insert(table).values(values)
        excluded = statement.excluded
        upsert = statement.on_conflict_do_update(
            index_elements=["source", "provider", "day", "base", "quote"],
            set_={
                "previous_rate": table.c.rate,
                "rate": excluded.rate,
                "revised_at": excluded.fetched_at,
                "fetched_at": excluded.fetched_at,
                "source_url": excluded.source_url,
            },
            where=table.c.rate != excluded.rate,
        ).returning(
            table.c.day,
            table.c.base,
            table.c.quote,
            table.c.previous_rate,
            table.c.rate,
            table.c.revised_at,
        )
        for row in await session.execute(upsert):
            if row.revised_at is None:
                inserted += 1
            else:
                revisions.append(
                    Revision(row.day, row.base, row.quote, row.previous_rate, row.rate)
                )
    return inserted, revisions


async def has_rates(session: AsyncSession, source: str) -> bool:
    found = await session.scalar(select(FxRate.id).where(FxRate.source == source).limit(1))
    return found is not None


async def newest_day(session: AsyncSession, source: str) -> dt.date | None:
    return await session.scalar(select(func.max(FxRate.day)).where(FxRate.source == source))


async def upsert_manual(
    session: AsyncSession, workspace_id: uuid.UUID, rows: list[dict[str, Any]], now: dt.datetime
) -> int:
    """Insert or replace a workspace's manual rates (all in one statement per batch)."""
    table = cast(Table, FxManualRate.__table__)
    written = 0
    for start in range(0, len(rows), BATCH):
        values = [
            {**row, "id": uuid.uuid4(), "workspace_id": workspace_id, "updated_at": now}
            for row in rows[start : start + BATCH]
        ]
        statement = insert(table).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["workspace_id", "day", "base", "quote"],
            set_={
                "previous_rate": table.c.rate,
                "rate": statement.excluded.rate,
                "note": statement.excluded.note,
                "updated_at": statement.excluded.updated_at,
            },
        )
        result = await session.execute(statement)
        written += result.rowcount or 0  # type: ignore[attr-defined]
    return written


def _public_select() -> Any:
    return select(
        FxRate.day,
        FxRate.base,
        FxRate.quote,
        FxRate.rate,
        FxRate.source,
        FxRate.provider,
        FxRate.fetched_at,
    )


def _manual_select(workspace_id: uuid.UUID) -> Any:
    return select(
        FxManualRate.day,
        FxManualRate.base,
        FxManualRate.quote,
        FxManualRate.rate,
        literal("manual").label("source"),
        literal("").label("provider"),
        FxManualRate.updated_at.label("fetched_at"),
    ).where(FxManualRate.workspace_id == workspace_id)


_RATES_FOR = text(
    """
    SELECT day, base, quote, rate, source, provider FROM fx_rates
    WHERE day BETWEEN :start AND :end AND (quote = ANY(:codes) OR base = ANY(:codes))
    UNION ALL
    SELECT day, base, quote, rate, 'manual', '' FROM fx_manual_rates
    WHERE workspace_id = :ws AND day BETWEEN :start AND :end
          AND (quote = ANY(:codes) OR base = ANY(:codes))
    """
)


async def rates_for(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    currencies: list[str],
    start: dt.date,
    end: dt.date,
) -> Sequence[Any]:
    """Every rate (public, and this workspace's manual ones) between ``start`` and ``end``
    that involves one of ``currencies`` (as base or quote), for conversion: rows with
    ``day, base, quote, rate, source, provider`` (plain rows: a report loads thousands)."""
    params = {"start": start, "end": end, "codes": currencies, "ws": workspace_id}
    return (await session.execute(_RATES_FOR, params)).all()


# The rates version (the first row: its day is null), then the rates themselves only when the
# caller's kept ones are not of that version: each scan sits under a one-time filter (an
# uncorrelated subquery), so a caller whose kept rates are current pays one primary-key read.
_RATES_UNLESS_CURRENT = text(
    """
    WITH current AS MATERIALIZED (
        SELECT (SELECT version FROM fx_data_version WHERE id = 1) AS version
    ), wanted AS MATERIALIZED (
        SELECT CAST(:kept AS uuid) IS NULL
               OR version IS NULL OR version <> CAST(:kept AS uuid) AS read
        FROM current
    )
    SELECT version, NULL AS day, NULL AS base, NULL AS quote, NULL AS rate, NULL AS source,
           NULL AS provider
    FROM current
    UNION ALL
    SELECT NULL, day, base, quote, rate, source, provider FROM fx_rates
    WHERE (SELECT read FROM wanted) AND day BETWEEN :start AND :end
    UNION ALL
    SELECT NULL, day, base, quote, rate, 'manual', '' FROM fx_manual_rates
    WHERE (SELECT read FROM wanted) AND workspace_id = :ws AND day BETWEEN :start AND :end
    """
)


async def rates_unless_current(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    kept: uuid.UUID | None,
    start: dt.date,
    end: dt.date,
) -> tuple[uuid.UUID | None, Sequence[Any] | None]:
    """(the rates version, every rate between ``start`` and ``end`` as :func:`rates_for`'s
    rows — or None when ``kept`` is that version already). One statement either way; the
    version is None when its row is missing (then nothing may be kept)."""
    params = {"start": start, "end": end, "ws": workspace_id, "kept": kept}
    found = (await session.execute(_RATES_UNLESS_CURRENT, params)).all()
    version = next(row[0] for row in found if row[1] is None)
    if version is not None and version == kept:
        return version, None
    return version, [row[1:] for row in found if row[1] is not None]


#: ``_RATES_UNLESS_CURRENT`` as one scalar JSON value, to be read inside another statement
#: (``reports.repository.Also``): ``{"version": …, "rates": [[day, base, quote, rate, source,
#: provider], …] or null}``. The rates' subquery sits in the CASE branch taken only when the
#: caller's kept version is not current, so a current caller pays one primary-key read. The
#: parameters are named apart from the host statement's (``ws`` is the same workspace).
_RATES_UNLESS_CURRENT_JSON = """(
    SELECT CAST(json_build_object(
        'version', c.version,
        'rates', CASE WHEN CAST(:fx_kept AS uuid) IS NULL OR c.version IS NULL
                           OR c.version <> CAST(:fx_kept AS uuid)
                 THEN (SELECT COALESCE(json_agg(json_build_array(
                                  r.day, r.base, r.quote, CAST(r.rate AS text), r.source,
                                  r.provider)), '[]')
                       FROM (SELECT day, base, quote, rate, source, provider FROM fx_rates
                             WHERE day BETWEEN :fx_start AND :fx_end
                             UNION ALL
                             SELECT day, base, quote, rate, 'manual', '' FROM fx_manual_rates
                             WHERE workspace_id = :ws AND day BETWEEN :fx_start AND :fx_end
                            ) AS r)
                 END) AS text)
    FROM (SELECT (SELECT version FROM fx_data_version WHERE id = 1) AS version) AS c)"""


def rates_unless_current_also(
    workspace_id: uuid.UUID, *, kept: uuid.UUID | None, start: dt.date, end: dt.date
) -> Also:
    """:func:`rates_unless_current` as a value another statement reads along
    (:func:`rates_of_also` decodes it): a route's conversion costs no statement of its own."""
    params = {"fx_kept": kept, "fx_start": start, "fx_end": end, "ws": workspace_id}
    return Also(_RATES_UNLESS_CURRENT_JSON, params)


def rates_of_also(value: str) -> tuple[uuid.UUID | None, Sequence[Any] | None]:
    """What :func:`rates_unless_current` returns, from :func:`rates_unless_current_also`'s
    value (its rates are null exactly when the kept version is current)."""
    found = json.loads(value)
    version = uuid.UUID(found["version"]) if found["version"] is not None else None
    if found["rates"] is None:
        return version, None
    return version, [
        (dt.date.fromisoformat(day), base, quote, Decimal(rate), source, provider)
        for day, base, quote, rate, source, provider in found["rates"]
    ]


async def list_rates(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    base: str | None,
    quote: str | None,
    start: dt.date,
    end: dt.date,
    sources: list[str],
    after: tuple[dt.date, str, str, str, str] | None,
    limit: int,
) -> list[StoredRate]:
    """Stored rates for the rates API, ordered by (day, base, quote, source, provider)."""
    parts = []
    if any(s != "manual" for s in sources):
        public = _public_select().where(
            FxRate.day.between(start, end),
            FxRate.source.in_([s for s in sources if s != "manual"]),
        )
        if base:
            public = public.where(FxRate.base == base)
        if quote:
            public = public.where(FxRate.quote == quote)
        parts.append(public)
    if "manual" in sources:
        manual = _manual_select(workspace_id).where(FxManualRate.day.between(start, end))
        if base:
            manual = manual.where(FxManualRate.base == base)
        if quote:
            manual = manual.where(FxManualRate.quote == quote)
        parts.append(manual)
    combined = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    c = combined.c
    statement = select(combined)
    if after is not None:
        statement = statement.where(
            tuple_(c.day, c.base, c.quote, c.source, c.provider) > tuple_(*after)
        )
    statement = statement.order_by(c.day, c.base, c.quote, c.source, c.provider).limit(limit)
    return [StoredRate(*row) for row in await session.execute(statement)]


async def currencies_with_rates(
    session: AsyncSession, workspace_id: uuid.UUID, *, start: dt.date, end: dt.date
) -> set[str]:
    """Currencies with any rate (either side of a pair) between ``start`` and ``end``."""
    public = select(FxRate.base, FxRate.quote).where(FxRate.day.between(start, end)).distinct()
    manual = (
        select(FxManualRate.base, FxManualRate.quote)
        .where(FxManualRate.workspace_id == workspace_id, FxManualRate.day.between(start, end))
        .distinct()
    )
    found: set[str] = set()
    for base, quote in await session.execute(union_all(public, manual)):
        found.update((base, quote))
    return found


async def reporting_currency(session: AsyncSession, workspace_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(FxWorkspaceSettings.reporting_currency).where(
            FxWorkspaceSettings.workspace_id == workspace_id
        )
    )


async def set_reporting_currency(
    session: AsyncSession, workspace_id: uuid.UUID, currency: str | None, now: dt.datetime
) -> None:
    statement = insert(cast(Table, FxWorkspaceSettings.__table__)).values(
        workspace_id=workspace_id, reporting_currency=currency, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["workspace_id"],
        set_={"reporting_currency": currency, "updated_at": now},
    )
    await session.execute(statement)
