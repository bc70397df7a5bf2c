"""SQL for what units leave behind: per-dataset state and per-date availability."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.sync import queue


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
    session: AsyncSession, account_ids: Sequence[uuid.UUID], dataset: str, days: list[dt.date]
) -> dict[tuple[uuid.UUID, dt.date], dt.datetime]:
    """Of ``days``, those stored as ``no_data`` for each of the accounts, with when Apple last
    said so, by (account, day): one statement however many accounts a planning round has."""
    rows = await session.execute(
        text(
            "SELECT account_id, report_date, fetched_at FROM dataset_availability "
            "WHERE account_id = ANY(CAST(:accounts AS uuid[])) AND dataset = :d "
            "AND state = 'no_data' AND report_date = ANY(CAST(:days AS date[]))"
        ),
        {"accounts": list(account_ids), "d": dataset, "days": days},
    )
    return {(row[0], row[1]): row[2] for row in rows}


async def due_periods(
    session: AsyncSession,
    account_ids: Sequence[uuid.UUID],
    dataset: str,
    periods: Sequence[tuple[dt.date, str, dt.timedelta | None, dt.datetime]],
    provisional_refresh: dt.timedelta,
    now: dt.datetime,
) -> list[tuple[uuid.UUID, dt.date, bool]]:
    """A planning round's routine periods of ``dataset`` not kept yet, for every account:
    (account, report date, provisional), in ``periods`` order per account. ``periods`` are
    (report date, unit key, refresh, provisional before): a period stored as ``no_data`` by
    a fetch before its "provisional before" is provisional and refreshed every
    ``provisional_refresh`` instead. One statement for all the accounts; the kept units
    (nearly all, round after round) never leave the database."""
    refresh = (
        "CASE WHEN p.account_id IS NOT NULL THEN CAST(:provisional AS float8) ELSE k.refresh END"
    )
    rows = await session.execute(
        text(
            f"""
            WITH k AS (
                SELECT * FROM unnest(CAST(:days AS date[]), CAST(:keys AS text[]),
                                     CAST(:refresh AS float8[]), CAST(:before AS timestamptz[]))
                     WITH ORDINALITY AS k(report_date, unit_key, refresh, before, n)
            ), p AS (
                SELECT av.account_id, av.report_date FROM dataset_availability av
                JOIN k ON k.report_date = av.report_date
                WHERE av.account_id = ANY(CAST(:accounts AS uuid[]))
                  AND av.dataset = CAST(:kept_dataset AS text) AND av.state = 'no_data'
                  AND av.fetched_at < k.before
            )
            SELECT a.account_id, k.report_date, p.account_id IS NOT NULL
            FROM unnest(CAST(:accounts AS uuid[])) AS a(account_id)
            CROSS JOIN k
            LEFT JOIN p ON p.account_id = a.account_id AND p.report_date = k.report_date
            WHERE NOT {queue.kept_unit("a.account_id", "k.unit_key", refresh)}
            ORDER BY a.account_id, k.n
            """  # noqa: S608  (fixed fragments; values are bound)
        ),
        {
            "accounts": list(account_ids),
            "kept_dataset": dataset,
            "days": [day for day, _, _, _ in periods],
            "keys": [key for _, key, _, _ in periods],
            "refresh": [r.total_seconds() if r is not None else None for _, _, r, _ in periods],
            "before": [before for _, _, _, before in periods],
            "provisional": provisional_refresh.total_seconds(),
            "kept_now": now,
        },
    )
    return [(row[0], row[1], bool(row[2])) for row in rows]


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


class DatasetStateRow(NamedTuple):
    """What the status lists read of a ``sync_dataset_states`` row."""

    account_id: uuid.UUID
    dataset: str
    last_success_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_error_code: str | None
    last_error_message: str | None
    last_error_at: dt.datetime | None
    last_unit_requests: int | None


class KeyBudgetRow(NamedTuple):
    """What the status lists read of an ``asc_key_budgets`` row."""

    key_id: str
    hour_limit: int
    remaining: int
    observed_at: dt.datetime
    blocked_until: dt.datetime | None


@dataclass(frozen=True)
class StatusFacts:
    """Everything the sync status of some accounts reads: per (account, dataset) the unit
    counts by state and the next due time (``next_run``), the dataset state row and the newest
    report date published or "no data"; per key its request budget; the learned report
    versions."""

    counts: dict[tuple[uuid.UUID, str], dict[str, Any]]
    states: dict[tuple[uuid.UUID, str], DatasetStateRow]
    newest: dict[tuple[uuid.UUID, str], dt.date]
    budgets: dict[str, KeyBudgetRow]
    versions: dict[tuple[str, str, str], str]


async def status_facts(
    session: AsyncSession, account_ids: list[uuid.UUID], key_ids: list[str]
) -> StatusFacts:
    """The sync status facts of the accounts (and their keys' budgets) in one statement: each
    part an array of anonymous rows, decoded with their types."""
    row = (
        await session.execute(
            text(
                """
                SELECT
                  ARRAY(SELECT ROW(account_id, dataset, state, count(*),
                                   min(run_after) FILTER (WHERE state IN ('queued', 'waiting')))
                        FROM sync_jobs WHERE account_id = ANY(CAST(:ids AS uuid[]))
                        GROUP BY account_id, dataset, state) AS counts,
                  ARRAY(SELECT ROW(account_id, dataset, last_success_at, last_attempt_at,
                                   last_error_code, last_error_message, last_error_at,
                                   last_unit_requests)
                        FROM sync_dataset_states
                        WHERE account_id = ANY(CAST(:ids AS uuid[]))) AS states,
                  ARRAY(SELECT ROW(account_id, dataset, max(report_date))
                        FROM dataset_availability
                        WHERE account_id = ANY(CAST(:ids AS uuid[]))
                          AND state IN ('published', 'no_data')
                        GROUP BY account_id, dataset) AS newest,
                  ARRAY(SELECT ROW(key_id, hour_limit, remaining, observed_at, blocked_until)
                        FROM asc_key_budgets
                        WHERE key_id = ANY(CAST(:keys AS text[]))) AS budgets,
                  ARRAY(SELECT ROW(report_type, report_subtype, frequency, version)
                        FROM report_versions) AS versions
                """
            ),
            {"ids": account_ids, "keys": key_ids},
        )
    ).one()
    counts: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for account_id, dataset, state, n, next_run in row.counts:
        entry = counts.setdefault((account_id, dataset), {"next_run": None})
        entry[state] = int(n)
        if next_run is not None and (entry["next_run"] is None or next_run < entry["next_run"]):
            entry["next_run"] = next_run
    states = [DatasetStateRow(*values) for values in row.states]
    budgets = [KeyBudgetRow(*values) for values in row.budgets]
    return StatusFacts(
        counts=counts,
        states={(s.account_id, s.dataset): s for s in states},
        newest={(a, d): day for a, d, day in row.newest},
        budgets={b.key_id: b for b in budgets},
        versions={(t, s, f): v for t, s, f, v in row.versions},
    )


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


class PublicStateRow(NamedTuple):
    """What the status list reads of a ``sync_public_states`` row."""

    dataset: str
    last_success_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    last_error_code: str | None
    last_error_message: str | None
    last_error_at: dt.datetime | None


@dataclass(frozen=True)
class PublicStatusFacts:
    """Per public dataset its unit counts by state and next due time (``next_run``) and its
    state row; per source query (in the order given) its rows."""

    counts: dict[str, dict[str, Any]]
    states: dict[str, PublicStateRow]
    sources: list[list[tuple[Any, ...]]]


def _bound(sql: str, params: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """``sql`` with each of its parameters renamed ``prefix`` + name (``::`` casts kept)."""
    if not params:
        return sql, {}
    names = "|".join(re.escape(name) for name in sorted(params, key=len, reverse=True))
    renamed = re.sub(rf"(?<![:\w]):({names})\b", rf":{prefix}\1", sql)
    return renamed, {f"{prefix}{name}": value for name, value in params.items()}


async def public_status_facts(
    session: AsyncSession, sources: list[tuple[str, dict[str, Any]]]
) -> PublicStatusFacts:
    """The public datasets' counts and states, and the rows of each source query (SQL and
    parameters, as the datasets give them), in one statement."""
    parts = [
        """ARRAY(SELECT ROW(dataset, state, count(*),
                           min(run_after) FILTER (WHERE state IN ('queued', 'waiting')))
                 FROM sync_jobs WHERE account_id IS NULL GROUP BY dataset, state)""",
        """ARRAY(SELECT ROW(dataset, last_success_at, last_attempt_at, last_error_code,
                           last_error_message, last_error_at)
                 FROM sync_public_states)""",
    ]
    params: dict[str, Any] = {}
    for index, (sql, values) in enumerate(sources):
        renamed, bound = _bound(sql, values, f"s{index}_")
        part = f"ARRAY(SELECT ROW(q.*) FROM ({renamed}) AS q)"  # noqa: S608  (datasets' SQL)
        parts.append(part)
        params.update(bound)
    row = (await session.execute(text("SELECT " + ",\n".join(parts)), params)).one()
    counts: dict[str, dict[str, Any]] = {}
    for dataset, state, n, next_run in row[0]:
        entry = counts.setdefault(dataset, {"next_run": None})
        entry[state] = int(n)
        if next_run is not None and (entry["next_run"] is None or next_run < entry["next_run"]):
            entry["next_run"] = next_run
    states = [PublicStateRow(*values) for values in row[1]]
    return PublicStatusFacts(
        counts=counts,
        states={state.dataset: state for state in states},
        sources=[[tuple(values) for values in part] for part in row[2:]],
    )
