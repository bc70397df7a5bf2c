"""SQL for what units leave behind: per-dataset state and per-date availability."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def record_success(
    session: AsyncSession,
    account_id: uuid.UUID,
    dataset: str,
    *,
    requests: int,
    notes: dict[str, Any],
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO sync_dataset_states (account_id, dataset, last_success_at, last_attempt_at,
                                             last_unit_requests, notes)
            VALUES (:a, :d, now(), now(), :requests, CAST(:notes AS jsonb))
            ON CONFLICT (account_id, dataset) DO UPDATE SET
                last_success_at = now(), last_attempt_at = now(),
                last_unit_requests = EXCLUDED.last_unit_requests,
                notes = sync_dataset_states.notes || EXCLUDED.notes
            """
        ),
        {"a": account_id, "d": dataset, "requests": requests, "notes": json.dumps(notes)},
    )


async def record_failure(
    session: AsyncSession, account_id: uuid.UUID, dataset: str, *, code: str, message: str
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO sync_dataset_states (account_id, dataset, last_attempt_at,
                                             last_error_code, last_error_message, last_error_at)
            VALUES (:a, :d, now(), :code, :message, now())
            ON CONFLICT (account_id, dataset) DO UPDATE SET
                last_attempt_at = now(), last_error_code = EXCLUDED.last_error_code,
                last_error_message = EXCLUDED.last_error_message, last_error_at = now()
            """
        ),
        {"a": account_id, "d": dataset, "code": code, "message": message[:2000]},
    )


async def record_availability(
    session: AsyncSession,
    account_id: uuid.UUID,
    dataset: str,
    report_date: dt.date,
    *,
    state: str,
    row_count: int,
    detail: str | None,
    report_version: str | None,
    keep_facts: bool = False,
) -> str | None:
    """Upsert a date's availability; returns the state it had before (None: never fetched,
    or kept). ``keep_facts``: a failed re-fetch must not hide data already stored, so it only
    overwrites states that are not facts."""
    guard = "WHERE dataset_availability.state NOT IN ('published', 'no_data')" if keep_facts else ""
    result = await session.execute(
        text(
            f"""
            WITH previous AS (
                SELECT state FROM dataset_availability
                WHERE account_id = :a AND dataset = :d AND report_date = :day
            )
            INSERT INTO dataset_availability (account_id, dataset, report_date, state, fetched_at,
                                              row_count, detail, report_version)
            VALUES (:a, :d, :day, :state, now(), :rows, :detail, :version)
            ON CONFLICT (account_id, dataset, report_date) DO UPDATE SET
                state = EXCLUDED.state, fetched_at = now(), row_count = EXCLUDED.row_count,
                detail = EXCLUDED.detail, report_version = EXCLUDED.report_version
            {guard}
            RETURNING (SELECT state FROM previous)
            """  # noqa: S608  (guard is one of two constants)
        ),
        {
            "a": account_id,
            "d": dataset,
            "day": report_date,
            "state": state,
            "rows": row_count,
            "detail": detail,
            "version": report_version,
        },
    )
    previous = result.scalar()
    if previous is not None and previous in _FACT_STATES and previous != state:
        # A fact changed (e.g. a provisional "no sales" day whose file came late): keep it.
        await session.execute(
            text(
                "INSERT INTO dataset_availability_changes (account_id, dataset, report_date, "
                "from_state, to_state) VALUES (:a, :d, :day, :from_state, :to_state)"
            ),
            {
                "a": account_id,
                "d": dataset,
                "day": report_date,
                "from_state": previous,
                "to_state": state,
            },
        )
    return None if previous is None else str(previous)


_FACT_STATES = frozenset({"published", "no_data"})


async def no_data_fetches(
    session: AsyncSession, account_id: uuid.UUID, dataset: str, days: list[dt.date]
) -> dict[dt.date, dt.datetime]:
    """Of ``days``, those stored as ``no_data``, with when Apple last said so."""
    rows = await session.execute(
        text(
            "SELECT report_date, fetched_at FROM dataset_availability WHERE account_id = :a "
            "AND dataset = :d AND state = 'no_data' AND report_date = ANY(CAST(:days AS date[]))"
        ),
        {"a": account_id, "d": dataset, "days": days},
    )
    return {row[0]: row[1] for row in rows}


async def availability_changes(
    session: AsyncSession, account_id: uuid.UUID, dataset: str, report_date: dt.date
) -> list[tuple[str, str, dt.datetime]]:
    """(from, to, when) of every change of a fact about one report date, oldest first."""
    rows = await session.execute(
        text(
            "SELECT from_state, to_state, changed_at FROM dataset_availability_changes "
            "WHERE account_id = :a AND dataset = :d AND report_date = :day ORDER BY id"
        ),
        {"a": account_id, "d": dataset, "day": report_date},
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def learned_report_version(
    session: AsyncSession, report_type: str, report_subtype: str, frequency: str
) -> str | None:
    """The version Apple last named for a report (None: never named one)."""
    found = await session.scalar(
        text(
            "SELECT version FROM report_versions WHERE report_type = :t "
            "AND report_subtype = :s AND frequency = :f"
        ),
        {"t": report_type, "s": report_subtype, "f": frequency},
    )
    return None if found is None else str(found)


async def learn_report_version(
    session: AsyncSession,
    report_type: str,
    report_subtype: str,
    frequency: str,
    *,
    version: str,
    previous: str | None,
) -> None:
    """Remember the version Apple named for a report: every later unit asks with it."""
    await session.execute(
        text(
            """
            INSERT INTO report_versions (report_type, report_subtype, frequency, version,
                                         previous_version, learned_at)
            VALUES (:t, :s, :f, :v, :p, now())
            ON CONFLICT (report_type, report_subtype, frequency) DO UPDATE SET
                version = EXCLUDED.version, previous_version = EXCLUDED.previous_version,
                learned_at = now()
            WHERE report_versions.version IS DISTINCT FROM EXCLUDED.version
            """
        ),
        {"t": report_type, "s": report_subtype, "f": frequency, "v": version, "p": previous},
    )


async def learned_report_versions(session: AsyncSession) -> dict[tuple[str, str, str], str]:
    rows = await session.execute(
        text("SELECT report_type, report_subtype, frequency, version FROM report_versions")
    )
    return {(row[0], row[1], row[2]): row[3] for row in rows}


async def mark_failing(session: AsyncSession, account_id: uuid.UUID, dataset: str) -> bool:
    """A unit of the dataset ended ``failed``: True if the dataset was not failing before."""
    result = await session.execute(
        text(
            "UPDATE sync_dataset_states SET failing_since = now() "
            "WHERE account_id = :a AND dataset = :d AND failing_since IS NULL RETURNING 1"
        ),
        {"a": account_id, "d": dataset},
    )
    return result.first() is not None


async def clear_failing(session: AsyncSession, account_id: uuid.UUID, dataset: str) -> bool:
    """A unit of the dataset succeeded: True if the dataset was failing until now."""
    result = await session.execute(
        text(
            "UPDATE sync_dataset_states SET failing_since = NULL "
            "WHERE account_id = :a AND dataset = :d AND failing_since IS NOT NULL RETURNING 1"
        ),
        {"a": account_id, "d": dataset},
    )
    return result.first() is not None


async def job_counts(
    session: AsyncSession, account_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], dict[str, Any]]:
    """Per (account, dataset): unit counts by state and the next due time."""
    rows = await session.execute(
        text(
            """
            SELECT account_id, dataset, state, count(*) AS n,
                   min(run_after) FILTER (WHERE state IN ('queued', 'waiting')) AS next_run
            FROM sync_jobs WHERE account_id = ANY(CAST(:ids AS uuid[]))
            GROUP BY account_id, dataset, state
            """
        ),
        {"ids": account_ids},
    )
    counts: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for account_id, dataset, state, n, next_run in rows:
        entry = counts.setdefault((account_id, dataset), {"next_run": None})
        entry[state] = int(n)
        if next_run is not None and (entry["next_run"] is None or next_run < entry["next_run"]):
            entry["next_run"] = next_run
    return counts


async def dataset_states(
    session: AsyncSession, account_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], Any]:
    rows = await session.execute(
        text("SELECT * FROM sync_dataset_states WHERE account_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": account_ids},
    )
    return {(row.account_id, row.dataset): row for row in rows}


async def newest_available(
    session: AsyncSession, account_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], dt.date]:
    rows = await session.execute(
        text(
            """
            SELECT account_id, dataset, max(report_date) FROM dataset_availability
            WHERE account_id = ANY(CAST(:ids AS uuid[])) AND state IN ('published', 'no_data')
            GROUP BY account_id, dataset
            """
        ),
        {"ids": account_ids},
    )
    return {(a, d): day for a, d, day in rows}


async def stalest_per_dataset(
    session: AsyncSession,
) -> dict[str, tuple[dt.datetime | None, dt.date | None]]:
    """Per dataset, over the live accounts that have any: the oldest last success and the
    oldest newest-available report date (the stalest account's data)."""
    rows = await session.execute(
        text(
            """
            WITH live AS (SELECT id FROM asc_accounts WHERE unlinked_at IS NULL),
            newest AS (
                SELECT a.account_id, a.dataset, max(a.report_date) AS day
                FROM dataset_availability a JOIN live ON live.id = a.account_id
                WHERE a.state IN ('published', 'no_data')
                GROUP BY a.account_id, a.dataset
            ),
            per_dataset AS (
                SELECT s.dataset, min(s.last_success_at) AS success, NULL::date AS day
                FROM sync_dataset_states s JOIN live ON live.id = s.account_id
                WHERE s.last_success_at IS NOT NULL GROUP BY s.dataset
                UNION ALL
                SELECT dataset, NULL, min(day) FROM newest GROUP BY dataset
            )
            SELECT dataset, min(success), min(day) FROM per_dataset GROUP BY dataset
            """
        )
    )
    return {dataset: (success, day) for dataset, success, day in rows}


async def key_budgets(session: AsyncSession, key_ids: list[str]) -> dict[str, Any]:
    rows = await session.execute(
        text("SELECT * FROM asc_key_budgets WHERE key_id = ANY(CAST(:ids AS text[]))"),
        {"ids": key_ids},
    )
    return {row.key_id: row for row in rows}


async def availability_range(
    session: AsyncSession, account_id: uuid.UUID, dataset: str, start: dt.date, end: dt.date
) -> dict[dt.date, Any]:
    rows = await session.execute(
        text(
            """
            SELECT report_date, state, fetched_at, row_count, detail FROM dataset_availability
            WHERE account_id = :a AND dataset = :d AND report_date BETWEEN :start AND :end
            """
        ),
        {"a": account_id, "d": dataset, "start": start, "end": end},
    )
    return {row.report_date: row for row in rows}


async def live_workers(session: AsyncSession, stale_after: dt.timedelta) -> int:
    return int(
        await session.scalar(
            text(
                "SELECT count(*) FROM sync_workers WHERE stopped_at IS NULL "
                "AND last_beat_at > now() - make_interval(secs => :s)"
            ),
            {"s": stale_after.total_seconds()},
        )
        or 0
    )


async def queue_depth(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        text(
            "SELECT state, count(*) FROM sync_jobs "
            "WHERE state IN ('queued', 'waiting', 'running', 'paused', 'failed') GROUP BY state"
        )
    )
    return {state: int(n) for state, n in rows}


async def worker_beat(
    session: AsyncSession, worker_id: str, *, host: str, pid: int, concurrency: int
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO sync_workers (worker_id, hostname, pid, concurrency, started_at,
                                      last_beat_at)
            VALUES (:id, :host, :pid, :concurrency, now(), now())
            ON CONFLICT (worker_id) DO UPDATE SET last_beat_at = now(), stopped_at = NULL
            """
        ),
        {"id": worker_id, "host": host, "pid": pid, "concurrency": concurrency},
    )


async def worker_stopped(session: AsyncSession, worker_id: str) -> None:
    await session.execute(
        text("UPDATE sync_workers SET stopped_at = now() WHERE worker_id = :id"),
        {"id": worker_id},
    )


# --- public datasets (no account) ------------------------------------------------------------


async def record_public_success(
    session: AsyncSession, dataset: str, *, requests: int, notes: dict[str, Any]
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO sync_public_states (dataset, last_success_at, last_attempt_at,
                                            last_unit_requests, notes)
            VALUES (:d, now(), now(), :requests, CAST(:notes AS jsonb))
            ON CONFLICT (dataset) DO UPDATE SET
                last_success_at = now(), last_attempt_at = now(),
                last_unit_requests = EXCLUDED.last_unit_requests,
                notes = sync_public_states.notes || EXCLUDED.notes
            """
        ),
        {"d": dataset, "requests": requests, "notes": json.dumps(notes)},
    )


async def record_public_failure(
    session: AsyncSession, dataset: str, *, code: str, message: str
) -> None:
    await session.execute(
        text(
            """
            INSERT INTO sync_public_states (dataset, last_attempt_at, last_error_code,
                                            last_error_message, last_error_at)
            VALUES (:d, now(), :code, :message, now())
            ON CONFLICT (dataset) DO UPDATE SET
                last_attempt_at = now(), last_error_code = EXCLUDED.last_error_code,
                last_error_message = EXCLUDED.last_error_message, last_error_at = now()
            """
        ),
        {"d": dataset, "code": code, "message": message[:2000]},
    )


async def public_job_counts(session: AsyncSession) -> dict[str, dict[str, Any]]:
    """Per public dataset: unit counts by state and the next due time."""
    rows = await session.execute(
        text(
            """
            SELECT dataset, state, count(*) AS n,
                   min(run_after) FILTER (WHERE state IN ('queued', 'waiting')) AS next_run
            FROM sync_jobs WHERE account_id IS NULL
            GROUP BY dataset, state
            """
        )
    )
    counts: dict[str, dict[str, Any]] = {}
    for dataset, state, n, next_run in rows:
        entry = counts.setdefault(dataset, {"next_run": None})
        entry[state] = int(n)
        if next_run is not None and (entry["next_run"] is None or next_run < entry["next_run"]):
            entry["next_run"] = next_run
    return counts


async def public_states(session: AsyncSession) -> dict[str, Any]:
    rows = await session.execute(text("SELECT * FROM sync_public_states"))
    return {row.dataset: row for row in rows}
