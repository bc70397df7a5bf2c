"""SQL of the analytics sync: request states, discovered instances, vintages."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.sync import queue


@dataclass(frozen=True)
class ListedApp:
    id: uuid.UUID
    apple_id: str


async def listed_app(
    session: AsyncSession, account_id: uuid.UUID, apple_id: str
) -> ListedApp | None:
    row = (
        await session.execute(
            text(
                "SELECT id, apple_id FROM apps WHERE account_id = :account "
                "AND apple_id = :apple_id AND removed_at IS NULL"
            ),
            {"account": account_id, "apple_id": apple_id},
        )
    ).first()
    return None if row is None else ListedApp(row[0], str(row[1]))


@dataclass(frozen=True)
class StoredRequest:
    apple_request_id: str | None
    state: str
    created_by_orchard: bool


async def stored_request(
    session: AsyncSession, account_id: uuid.UUID, app_id: uuid.UUID, access_type: str
) -> StoredRequest | None:
    row = (
        await session.execute(
            text(
                "SELECT apple_request_id, state, created_by_orchard FROM analytics_requests "
                "WHERE account_id = :a AND app_id = :app AND access_type = :t"
            ),
            {"a": account_id, "app": app_id, "t": access_type},
        )
    ).first()
    return None if row is None else StoredRequest(row[0], row[1], row[2])


async def record_request(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    app_id: uuid.UUID,
    access_type: str,
    apple_request_id: str | None,
    state: str,
    detail: str | None,
    created_by_orchard: bool,
    now: dt.datetime,
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO analytics_requests (id, workspace_id, account_id, app_id, access_type,
                apple_request_id, state, detail, created_by_orchard, checked_at)
            VALUES (:id, :ws, :a, :app, :t, :rid, :state, :detail, :mine, :now)
            ON CONFLICT (account_id, app_id, access_type) DO UPDATE SET
                apple_request_id = EXCLUDED.apple_request_id, state = EXCLUDED.state,
                detail = EXCLUDED.detail,
                created_by_orchard = CASE
                    WHEN analytics_requests.apple_request_id = EXCLUDED.apple_request_id
                    THEN analytics_requests.created_by_orchard OR EXCLUDED.created_by_orchard
                    ELSE EXCLUDED.created_by_orchard END,
                checked_at = EXCLUDED.checked_at
            """
        ),
        {
            "id": uuid.uuid4(),
            "ws": workspace_id,
            "a": account_id,
            "app": app_id,
            "t": access_type,
            "rid": apple_request_id,
            "state": state,
            "detail": detail,
            "mine": created_by_orchard,
            "now": now,
        },
    )


async def active_ongoing_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    value = await session.scalar(
        text(
            "SELECT count(*) FROM analytics_requests WHERE account_id = :a "
            "AND access_type = 'ONGOING' AND state = 'active'"
        ),
        {"a": account_id},
    )
    return int(value or 0)


async def blocked_ongoing_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    """Apps whose ONGOING request this key could not create (or replace)."""
    value = await session.scalar(
        text(
            "SELECT count(*) FROM analytics_requests WHERE account_id = :a "
            "AND access_type = 'ONGOING' AND state IN ('admin_required', 'stopped')"
        ),
        {"a": account_id},
    )
    return int(value or 0)


@dataclass(frozen=True)
class NewInstance:
    apple_instance_id: str
    report: str
    report_name: str
    granularity: str
    processing_date: dt.date


async def add_instances(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    app_id: uuid.UUID,
    access_type: str,
    instances: list[NewInstance],
) -> int:
    """Record instances not seen before as ``pending``; returns how many were new."""
    if not instances:
        return 0
    result = await session.execute(
        text(
            """
            INSERT INTO analytics_instances (id, workspace_id, account_id, app_id,
                apple_instance_id, access_type, report, report_name, granularity,
                processing_date, state, rows, segments)
            SELECT gen_random_uuid(), :ws, :a, :app, i.apple_id, :t, i.report, i.name, i.gran,
                   i.pdate, 'pending', 0, 0
            FROM unnest(CAST(:ids AS text[]), CAST(:reports AS text[]), CAST(:names AS text[]),
                        CAST(:grans AS text[]), CAST(:pdates AS date[]))
                AS i(apple_id, report, name, gran, pdate)
            ON CONFLICT (account_id, apple_instance_id) DO NOTHING
            RETURNING id
            """
        ),
        {
            "ws": workspace_id,
            "a": account_id,
            "app": app_id,
            "t": access_type,
            "ids": [i.apple_instance_id for i in instances],
            "reports": [i.report for i in instances],
            "names": [i.report_name for i in instances],
            "grans": [i.granularity for i in instances],
            "pdates": [i.processing_date for i in instances],
        },
    )
    return len(result.fetchall())


async def pending_instances(
    session: AsyncSession,
    account_ids: Sequence[uuid.UUID],
    *,
    skip_kept_of: str | None,
    now: dt.datetime,
) -> dict[uuid.UUID, list[str]]:
    """Each account's pending instances (accounts with none left out), oldest processing date
    first: one statement for a planning round's accounts. A round's (``skip_kept_of``, its
    dataset, at ``now``) leaves out the instances whose unit is kept (``queue.kept_unit``; an
    instance's unit is never refreshed, so any unit of it), which its INSERT would skip."""
    kept = ""
    params: dict[str, object] = {"accounts": list(account_ids)}
    if skip_kept_of is not None:
        unit = queue.kept_unit("i.account_id", "i.apple_instance_id", "CAST(NULL AS float8)")
        kept = f"AND NOT {unit} "
        params |= {"kept_dataset": skip_kept_of, "kept_now": now}
    rows = await session.execute(
        text(
            "SELECT i.account_id, i.apple_instance_id FROM analytics_instances i "  # noqa: S608  (fixed fragments; values are bound)
            "WHERE i.account_id = ANY(CAST(:accounts AS uuid[])) AND i.state = 'pending' "
            f"{kept}ORDER BY i.account_id, i.processing_date, i.report, i.granularity"
        ),
        params,
    )
    pending: dict[uuid.UUID, list[str]] = {}
    for account_id, instance_id in rows:
        pending.setdefault(account_id, []).append(str(instance_id))
    return pending


@dataclass(frozen=True)
class StoredInstance:
    id: uuid.UUID
    workspace_id: uuid.UUID
    app_id: uuid.UUID
    report: str
    granularity: str
    processing_date: dt.date
    state: str


async def find_instance(
    session: AsyncSession, account_id: uuid.UUID, apple_instance_id: str
) -> StoredInstance | None:
    row = (
        await session.execute(
            text(
                "SELECT id, workspace_id, app_id, report, granularity, processing_date, state "
                "FROM analytics_instances WHERE account_id = :a AND apple_instance_id = :i "
                "FOR UPDATE"
            ),
            {"a": account_id, "i": apple_instance_id},
        )
    ).first()
    return None if row is None else StoredInstance(*row)


async def replace_vintages(
    session: AsyncSession, instance: StoredInstance, account_id: uuid.UUID
) -> set[dt.date]:
    """The instance's dates, from its loaded rows (a reload replaces only its own); returns
    every date it carried before or carries now."""
    before = await session.execute(
        text("DELETE FROM analytics_vintages WHERE instance_id = :i RETURNING report_date"),
        {"i": instance.id},
    )
    dates = {row[0] for row in before}
    now = await session.execute(
        text(
            """
            INSERT INTO analytics_vintages (instance_id, report_date, workspace_id, account_id,
                app_id, report, granularity, processing_date, rows)
            SELECT i.id, r.report_date, i.workspace_id, i.account_id, i.app_id, i.report,
                   i.granularity, i.processing_date, count(*)
            FROM analytics_rows r JOIN analytics_instances i ON i.id = r.instance_id
            WHERE r.granularity = :g AND r.processing_date = :p AND r.instance_id = :i
              AND i.account_id = :a
            GROUP BY i.id, r.report_date
            RETURNING report_date
            """
        ),
        {"i": instance.id, "a": account_id, **_leaf(instance)},
    )
    return dates | {row[0] for row in now}


def _leaf(instance: StoredInstance) -> dict[str, object]:
    """The partition keys of the instance's rows: its one leaf is read, no other."""
    return {"g": instance.granularity, "p": instance.processing_date}


async def delete_instance_rows(session: AsyncSession, instance: StoredInstance) -> None:
    await session.execute(
        text(
            "DELETE FROM analytics_rows WHERE granularity = :g AND processing_date = :p "
            "AND instance_id = :i"
        ),
        {"i": instance.id, **_leaf(instance)},
    )


async def mark_loaded(
    session: AsyncSession, instance_id: uuid.UUID, *, rows: int, segments: int, now: dt.datetime
) -> None:
    await session.execute(
        text(
            "UPDATE analytics_instances SET state = 'loaded', rows = :rows, "
            "segments = :segments, loaded_at = :now, detail = NULL WHERE id = :i"
        ),
        {"i": instance_id, "rows": rows, "segments": segments, "now": now},
    )
