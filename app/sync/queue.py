"""SQL for the job queue: enqueue, claim with leases, renew, finish, reap, pause and resume.

Claiming takes the fairest due job with ``FOR UPDATE SKIP LOCKED`` (so concurrent workers never
take the same row), then a transaction-scoped advisory lock on the job's API key, under which
it counts that key's running jobs: claimers of one key are serialised for those few
milliseconds, so the per-key concurrency cap holds exactly across all workers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.sync.contract import PUBLIC_KEY_PREFIX, PlannedUnit

# Job states.
WAITING = "waiting"
QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
PAUSED = "paused"

#: ``NOTIFY``'d when units are queued to run now (on demand): idle workers ``LISTEN`` and
#: claim at once instead of at their next poll (``app.sync.worker``).
QUEUED_CHANNEL = "orchard_units_queued"

_KEY_LOCK_NAMESPACE = 0x0C4A  # first half of the advisory lock key: "orchard key slots"


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    account_id: uuid.UUID | None  # None: a public unit (no account owns it)
    workspace_id: uuid.UUID | None
    key_id: str
    dataset: str
    unit_key: str
    attempts: int
    priority: int

    @property
    def account(self) -> uuid.UUID:
        """The owning account of an account's unit (a public unit has none)."""
        if self.account_id is None:
            raise ValueError(f"{self.dataset}/{self.unit_key} is a public unit")
        return self.account_id


@dataclass(frozen=True)
class AccountUnits:
    """One account's planned units of one dataset, for ``enqueue_many``."""

    account_id: uuid.UUID
    workspace_id: uuid.UUID
    key_id: str
    units: list[PlannedUnit]


async def enqueue(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    workspace_id: uuid.UUID,
    key_id: str,
    dataset: str,
    units: list[PlannedUnit],
    now: dt.datetime,
    force: bool = False,
) -> int:
    """Insert the units; an existing unit is re-queued only when it is finished and stale
    (its ``refresh_after`` elapsed), or with ``force`` (a manual backfill). Idempotent: any
    number of schedulers may enqueue the same units at once. Returns how many were (re)queued.
    """
    planned = AccountUnits(account_id, workspace_id, key_id, units)
    return await enqueue_many(session, dataset=dataset, planned=[planned], now=now, force=force)


async def enqueue_many(
    session: AsyncSession,
    *,
    dataset: str,
    planned: list[AccountUnits],
    now: dt.datetime,
    force: bool = False,
) -> int:
    """``enqueue`` for many accounts' units of one dataset, in one statement per distinct
    ``refresh_after`` (a planning round costs a few statements per dataset, not one per
    account). Returns how many were (re)queued."""
    groups: dict[dt.timedelta | None, list[tuple[AccountUnits, int, PlannedUnit]]] = {}
    for entry in planned:
        # Round-robin across accounts: each account's k-th unit ranks k, so two accounts'
        # backfills interleave instead of one waiting for the other to finish.
        for rank, unit in enumerate(entry.units):
            groups.setdefault(unit.refresh_after, []).append((entry, rank, unit))
    total = 0
    for refresh_after, group in groups.items():
        result = await session.execute(
            _ENQUEUE,
            {
                "accounts": [entry.account_id for entry, _, _ in group],
                "workspaces": [entry.workspace_id for entry, _, _ in group],
                "key_ids": [entry.key_id for entry, _, _ in group],
                "dataset": dataset,
                "keys": [unit.unit_key for _, _, unit in group],
                "priorities": [int(unit.priority) for _, _, unit in group],
                "ranks": [rank for _, rank, _ in group],
                "run_afters": [unit.run_after or now for _, _, unit in group],
                "now": now,
                "force": force,
                "refresh": refresh_after.total_seconds() if refresh_after is not None else None,
            },
        )
        total += len(result.fetchall())
    return total


async def enqueue_public(
    session: AsyncSession,
    *,
    key_id: str,
    dataset: str,
    units: list[PlannedUnit],
    now: dt.datetime,
    force: bool = False,
) -> int:
    """``enqueue`` for a public dataset's units (owned by no account; one row per unit key,
    whoever plans it)."""
    total = 0
    for refresh_after in {unit.refresh_after for unit in units}:
        group = [(rank, u) for rank, u in enumerate(units) if u.refresh_after == refresh_after]
        result = await session.execute(
            _ENQUEUE_PUBLIC,
            {
                "key_id": key_id,
                "dataset": dataset,
                "keys": [unit.unit_key for _, unit in group],
                "priorities": [int(unit.priority) for _, unit in group],
                "ranks": [rank for rank, _ in group],
                "run_afters": [unit.run_after or now for _, unit in group],
                "now": now,
                "force": force,
                "refresh": refresh_after.total_seconds() if refresh_after is not None else None,
            },
        )
        total += len(result.fetchall())
    return total


@dataclass(frozen=True)
class OnDemandUnits:
    """What an on-demand request did to one dataset's units of one account."""

    units: int  # units the request waits for
    coalesced: int  # of which were already queued or running (no duplicate work)


async def enqueue_on_demand(
    session: AsyncSession,
    *,
    request_id: uuid.UUID,
    account_id: uuid.UUID,
    workspace_id: uuid.UUID,
    key_id: str,
    dataset: str,
    units: list[PlannedUnit],
    now: dt.datetime,
) -> OnDemandUnits:
    """Queue every unit now at its (on-demand) priority and tie it to the request.

    A unit already queued keeps its place but rises to the request's priority; a running
    unit is marked to run once more when its run ends (that run may have read Apple before
    the request); a finished, failed or waiting unit is queued now; a paused one (broken
    credentials) stays paused. The request waits for each unit's next run that starts at or
    after it (``finish`` settles it)."""
    if not units:
        return OnDemandUnits(0, 0)
    rows = (
        await session.execute(
            _ENQUEUE_ON_DEMAND,
            {
                "request": request_id,
                "account_id": account_id,
                "workspace_id": workspace_id,
                "key_id": key_id,
                "dataset": dataset,
                "keys": [unit.unit_key for unit in units],
                "priorities": [int(unit.priority) for unit in units],
                "ranks": list(range(len(units))),
                "run_afters": [now for _ in units],
                "now": now,
            },
        )
    ).all()
    coalesced = sum(1 for _, before in rows if before in (QUEUED, RUNNING))
    if rows:  # delivered at commit, when the units can be claimed
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": QUEUED_CHANNEL})
    return OnDemandUnits(len(rows), coalesced)


def _requeueable(job: str) -> str:
    """When an existing unit ``job`` is queued again: finished and stale (its ``refresh_after``
    elapsed), or with ``force`` (a manual backfill) finished or waiting."""
    return f"""
        ((CAST(:force AS boolean) AND {job}.state IN ('succeeded', 'failed', 'waiting'))
         OR ({job}.state IN ('succeeded', 'failed')
             AND CAST(:refresh AS float8) IS NOT NULL
             AND {job}.finished_at < CAST(:now AS timestamptz)
                                     - make_interval(secs => CAST(:refresh AS float8))))"""


def kept_unit(account: str, unit_key: str, refresh: str) -> str:
    """SQL condition: the unit (``account``, ``:kept_dataset``, ``unit_key``) exists and a
    planning round at ``:kept_now`` would leave it alone, ``refresh`` being its refresh
    interval in seconds (NULL: never refreshed). For planners, which leave such units out.

    ``OFFSET 0`` keeps it one probe of the unique index per proposed unit: as an anti-join
    PostgreSQL hashed the whole of ``sync_jobs`` once per dataset instead (every unit ever
    planned, backfills included, every round)."""
    return f"""EXISTS (
        SELECT 1 FROM sync_jobs kept
        WHERE kept.account_id = {account} AND kept.dataset = CAST(:kept_dataset AS text)
          AND kept.unit_key = {unit_key}
          AND NOT (kept.state IN ('succeeded', 'failed') AND {refresh} IS NOT NULL
                   AND kept.finished_at < CAST(:kept_now AS timestamptz)
                                          - make_interval(secs => {refresh}))
        OFFSET 0)"""  # noqa: S608


async def unkept_accounts(
    session: AsyncSession,
    dataset: str,
    account_ids: list[uuid.UUID],
    unit_key: str,
    refresh: dt.timedelta,
    now: dt.datetime,
) -> list[uuid.UUID]:
    """Of ``account_ids``, those whose unit ``unit_key`` of ``dataset`` (refreshed every
    ``refresh``) is not kept: what a planning round queues of a one-unit-per-account dataset."""
    kept = kept_unit("a.account_id", "CAST(:unit_key AS text)", "CAST(:refresh AS float8)")
    rows = await session.execute(
        text(
            "SELECT a.account_id FROM unnest(CAST(:accounts AS uuid[])) "  # noqa: S608  (fixed fragments; values are bound)
            f"WITH ORDINALITY AS a(account_id, n) WHERE NOT {kept} ORDER BY a.n"
        ),
        {
            "accounts": account_ids,
            "kept_dataset": dataset,
            "unit_key": unit_key,
            "refresh": refresh.total_seconds(),
            "kept_now": now,
        },
    )
    return [row[0] for row in rows]


# Units that exist and are not to be queued again (queued, running, paused, or finished and
# still fresh) are dropped before the INSERT (an anti-join on the unique key): ``ON CONFLICT
# DO UPDATE … WHERE`` alone would leave them unchanged but still lock, and so write, each row
# every round (a round at 10,000 accounts proposes 650,000 units, nearly all already there).
# The ON CONFLICT clause still decides a unit that another transaction touches meanwhile.
def _skip_kept(account: str) -> str:
    return f"""
    WHERE NOT EXISTS (
        SELECT 1 FROM sync_jobs kept
        WHERE kept.account_id {account} AND kept.dataset = CAST(:dataset AS text)
          AND kept.unit_key = u.unit_key AND NOT {_requeueable("kept")})
"""  # noqa: S608  (fixed fragments; values are bound)


_INSERT_PUBLIC_UNITS = """
    INSERT INTO sync_jobs (id, account_id, workspace_id, key_id, dataset, unit_key, state,
                           priority, fair_rank, run_after, created_at)
    SELECT gen_random_uuid(), NULL, NULL, :key_id, CAST(:dataset AS text), u.unit_key,
           CASE WHEN u.run_after <= :now THEN 'queued' ELSE 'waiting' END,
           u.priority, u.rank, u.run_after, :now
    FROM unnest(CAST(:keys AS text[]), CAST(:priorities AS int[]),
                CAST(:ranks AS bigint[]), CAST(:run_afters AS timestamptz[]))
         AS u(unit_key, priority, rank, run_after)
""" + _skip_kept("IS NULL")  # noqa: S608  (fixed fragments; values are bound)


_REQUEUE_FINISHED = f"""
    DO UPDATE SET
        state = EXCLUDED.state, priority = EXCLUDED.priority,
        fair_rank = EXCLUDED.fair_rank, run_after = EXCLUDED.run_after,
        key_id = EXCLUDED.key_id, attempts = 0,
        lease_owner = NULL, lease_expires_at = NULL
    WHERE {_requeueable("sync_jobs")}
    RETURNING id
"""
_INSERT_ACCOUNT_UNITS = """
    INSERT INTO sync_jobs (id, account_id, workspace_id, key_id, dataset, unit_key, state,
                           priority, fair_rank, run_after, created_at)
    SELECT gen_random_uuid(), u.account_id, u.workspace_id, u.key_id, CAST(:dataset AS text),
           u.unit_key,
           CASE WHEN u.run_after <= :now THEN 'queued' ELSE 'waiting' END,
           u.priority, u.rank, u.run_after, :now
    FROM unnest(CAST(:accounts AS uuid[]), CAST(:workspaces AS uuid[]),
                CAST(:key_ids AS text[]), CAST(:keys AS text[]), CAST(:priorities AS int[]),
                CAST(:ranks AS bigint[]), CAST(:run_afters AS timestamptz[]))
         AS u(account_id, workspace_id, key_id, unit_key, priority, rank, run_after)
""" + _skip_kept("= u.account_id")  # noqa: S608  (fixed fragments; values are bound)
_ENQUEUE = text(
    _INSERT_ACCOUNT_UNITS + "ON CONFLICT (account_id, dataset, unit_key)" + _REQUEUE_FINISHED
)
# Public units have no account: their own partial unique index is the conflict target.
_ENQUEUE_PUBLIC = text(
    _INSERT_PUBLIC_UNITS
    + "ON CONFLICT (dataset, unit_key) WHERE account_id IS NULL"
    + _REQUEUE_FINISHED
)


async def claim(
    session: AsyncSession,
    *,
    worker_id: str,
    lease: dt.timedelta,
    key_concurrency: int,
    budget_reserve: int,
    max_skips: int = 20,
) -> ClaimedJob | None:
    """Lease the next due job, or None. Commit right after: the locks are only for the claim."""
    excluded: list[str] = []
    for _ in range(max_skips):
        row = (
            await session.execute(
                text(
                    """
                    SELECT j.id, j.key_id FROM sync_jobs j
                    WHERE j.state = 'queued' AND j.key_id <> ALL(CAST(:excluded AS text[]))
                      AND NOT EXISTS (
                          SELECT 1 FROM asc_key_budgets b
                          WHERE b.key_id = j.key_id
                            AND (b.blocked_until > now()
                                 OR (b.remaining < :reserve
                                     AND b.observed_at > now() - interval '1 hour')))
                    ORDER BY j.priority, j.fair_rank, j.run_after
                    LIMIT 1
                    FOR UPDATE OF j SKIP LOCKED
                    """
                ),
                {"excluded": excluded, "reserve": budget_reserve},
            )
        ).first()
        if row is None:
            return None
        job_id, key_id = row
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:ns, hashtext(:key_id))"),
            {"ns": _KEY_LOCK_NAMESPACE, "key_id": key_id},
        )
        running = 0
        if locked:
            running = int(
                await session.scalar(
                    text(
                        "SELECT count(*) FROM sync_jobs WHERE key_id = :key_id "
                        "AND state = 'running' AND lease_expires_at > now()"
                    ),
                    {"key_id": key_id},
                )
                or 0
            )
        # A public lane (``~…``) runs one unit at a time: its requests are paced anyway.
        cap = 1 if key_id.startswith(PUBLIC_KEY_PREFIX) else key_concurrency
        if not locked or running >= cap:
            excluded.append(key_id)
            continue
        claimed = (
            await session.execute(
                text(
                    """
                    UPDATE sync_jobs SET state = 'running', lease_owner = :worker,
                        lease_expires_at = now() + make_interval(secs => :lease),
                        attempts = attempts + 1, started_at = now(), rerun_priority = NULL
                    WHERE id = :id
                    RETURNING id, account_id, workspace_id, key_id, dataset, unit_key,
                              attempts, priority
                    """
                ),
                {"id": job_id, "worker": worker_id, "lease": lease.total_seconds()},
            )
        ).one()
        return ClaimedJob(*claimed)
    return None


async def renew(
    session: AsyncSession, job_id: uuid.UUID, worker_id: str, lease: dt.timedelta
) -> bool:
    result = await session.execute(
        text(
            "UPDATE sync_jobs SET lease_expires_at = now() + make_interval(secs => :lease) "
            "WHERE id = :id AND lease_owner = :worker AND state = 'running' RETURNING id"
        ),
        {"id": job_id, "worker": worker_id, "lease": lease.total_seconds()},
    )
    return result.first() is not None


async def finish(
    session: AsyncSession,
    job_id: uuid.UUID,
    worker_id: str,
    *,
    state: str,
    run_after: dt.datetime | None = None,
    reset_attempts: bool = False,
    error_code: str | None = None,
    error_message: str | None = None,
    settles: str | None = None,
) -> bool:
    """Move a job we hold out of ``running``. False if we no longer hold its lease.

    ``settles`` (``succeeded``/``failed``): this run answers the on-demand requests made
    before it started. A request that arrived while it ran re-queues the unit instead."""
    result = await session.execute(
        text(
            """
            WITH settled AS (
                UPDATE sync_request_units u SET state = CAST(:settles AS text), finished_at = now()
                FROM sync_jobs j
                WHERE u.job_id = :id AND u.state = 'pending' AND j.id = :id
                  AND j.lease_owner = :worker AND j.state = 'running'
                  AND CAST(:settles AS text) IS NOT NULL AND u.requested_at <= j.started_at
            )
            UPDATE sync_jobs SET
                state = CASE WHEN rerun_priority IS NOT NULL AND CAST(:state AS text) <> 'paused'
                             THEN 'queued' ELSE CAST(:state AS text) END,
                priority = COALESCE(rerun_priority, priority),
                run_after = CASE WHEN rerun_priority IS NOT NULL THEN now()
                                 ELSE COALESCE(CAST(:run_after AS timestamptz), run_after) END,
                attempts = CASE WHEN CAST(:reset AS boolean) OR rerun_priority IS NOT NULL
                                THEN 0 ELSE attempts END,
                rerun_priority = NULL,
                lease_owner = NULL, lease_expires_at = NULL,
                finished_at = CASE WHEN CAST(:state AS text) IN ('succeeded', 'failed')
                                   THEN now() ELSE finished_at END,
                last_error_code = CAST(:code AS text),
                last_error_message = CAST(:message AS text),
                last_error_at = CASE WHEN CAST(:code AS text) IS NULL THEN last_error_at
                                     ELSE now() END
            WHERE id = :id AND lease_owner = :worker AND state = 'running'
            RETURNING id
            """
        ),
        {
            "id": job_id,
            "worker": worker_id,
            "state": state,
            "run_after": run_after,
            "reset": reset_attempts,
            "code": error_code,
            "message": error_message,
            "settles": settles,
        },
    )
    return result.first() is not None


async def reap_expired(session: AsyncSession, max_attempts: int) -> int:
    """Return units whose worker died (lease expired) to the queue; a unit that keeps killing
    its workers fails after ``max_attempts``."""
    result = await session.execute(
        text(
            """
            WITH settled AS (
                UPDATE sync_request_units u SET state = 'failed', finished_at = now()
                FROM sync_jobs j
                WHERE u.job_id = j.id AND u.state = 'pending' AND j.state = 'running'
                  AND j.lease_expires_at < now() AND j.attempts >= :max
                  AND j.rerun_priority IS NULL AND u.requested_at <= j.started_at
            )
            UPDATE sync_jobs SET
                state = CASE WHEN attempts >= :max AND rerun_priority IS NULL
                             THEN 'failed' ELSE 'queued' END,
                finished_at = CASE WHEN attempts >= :max THEN now() ELSE finished_at END,
                last_error_code = 'lease_expired',
                last_error_message = 'the worker running this unit stopped renewing its lease',
                last_error_at = now(), lease_owner = NULL, lease_expires_at = NULL
            WHERE id IN (SELECT id FROM sync_jobs
                         WHERE state = 'running' AND lease_expires_at < now()
                         FOR UPDATE SKIP LOCKED)
            RETURNING id
            """
        ),
        {"max": max_attempts},
    )
    return len(result.fetchall())


async def promote_waiting(session: AsyncSession) -> int:
    # SKIP LOCKED: two workers promoting at once take disjoint rows instead of locking the
    # same rows in different orders (a deadlock); a row skipped now is promoted next round.
    result = await session.execute(
        text(
            """
            UPDATE sync_jobs SET state = 'queued'
            WHERE id IN (SELECT id FROM sync_jobs WHERE state = 'waiting' AND run_after <= now()
                         FOR UPDATE SKIP LOCKED)
            RETURNING id
            """
        )
    )
    return len(result.fetchall())


async def pause_account(session: AsyncSession, account_id: uuid.UUID) -> int:
    result = await session.execute(
        text(
            "UPDATE sync_jobs SET state = 'paused' "
            "WHERE account_id = :a AND state IN ('queued', 'waiting') RETURNING id"
        ),
        {"a": account_id},
    )
    return len(result.fetchall())


async def resume_account(session: AsyncSession, account_id: uuid.UUID) -> int:
    result = await session.execute(
        text(
            "UPDATE sync_jobs SET state = 'queued', run_after = now(), attempts = 0 "
            "WHERE account_id = :a AND state = 'paused' RETURNING id"
        ),
        {"a": account_id},
    )
    return len(result.fetchall())


async def release_worker(session: AsyncSession, worker_id: str) -> int:
    """Give back every lease a stopping worker still holds (graceful shutdown)."""
    result = await session.execute(
        text(
            "UPDATE sync_jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, "
            "attempts = GREATEST(attempts - 1, 0) "
            "WHERE lease_owner = :worker AND state = 'running' RETURNING id"
        ),
        {"worker": worker_id},
    )
    return len(result.fetchall())


async def undo_attempt(session: AsyncSession, job_id: uuid.UUID) -> None:
    """The unit was deferred (budget, 429), not failed: do not count the attempt."""
    await session.execute(
        text("UPDATE sync_jobs SET attempts = GREATEST(attempts - 1, 0) WHERE id = :id"),
        {"id": job_id},
    )


# ``before`` reads the units as they were (every part of one statement shares its snapshot);
# it must not lock: the upsert below locks the same rows, and a row changed by this very
# statement would drop out of a locking read.
_ENQUEUE_ON_DEMAND = text(
    """
    WITH before AS (
        SELECT unit_key, state FROM sync_jobs
        WHERE account_id = :account_id AND dataset = :dataset
          AND unit_key = ANY(CAST(:keys AS text[]))
    ),
    up AS (
        INSERT INTO sync_jobs (id, account_id, workspace_id, key_id, dataset, unit_key, state,
                               priority, fair_rank, run_after, created_at)
        SELECT gen_random_uuid(), :account_id, :workspace_id, :key_id, :dataset, u.unit_key,
               'queued', u.priority, u.rank, u.run_after, :now
        FROM unnest(CAST(:keys AS text[]), CAST(:priorities AS int[]),
                    CAST(:ranks AS bigint[]), CAST(:run_afters AS timestamptz[]))
             AS u(unit_key, priority, rank, run_after)
        ON CONFLICT (account_id, dataset, unit_key) DO UPDATE SET
            state = CASE WHEN sync_jobs.state IN ('running', 'paused') THEN sync_jobs.state
                         ELSE 'queued' END,
            priority = CASE WHEN sync_jobs.state IN ('running', 'paused') THEN sync_jobs.priority
                            WHEN sync_jobs.state = 'queued'
                            THEN LEAST(sync_jobs.priority, EXCLUDED.priority)
                            ELSE EXCLUDED.priority END,
            fair_rank = CASE WHEN sync_jobs.state IN ('running', 'paused')
                                  OR (sync_jobs.state = 'queued'
                                      AND sync_jobs.priority <= EXCLUDED.priority)
                             THEN sync_jobs.fair_rank ELSE EXCLUDED.fair_rank END,
            run_after = CASE WHEN sync_jobs.state IN ('running', 'paused') THEN sync_jobs.run_after
                             ELSE LEAST(sync_jobs.run_after, EXCLUDED.run_after) END,
            attempts = CASE WHEN sync_jobs.state IN ('queued', 'running') THEN sync_jobs.attempts
                            ELSE 0 END,
            key_id = CASE WHEN sync_jobs.state = 'running' THEN sync_jobs.key_id
                          ELSE EXCLUDED.key_id END,
            rerun_priority = CASE WHEN sync_jobs.state = 'running'
                                  THEN LEAST(COALESCE(sync_jobs.rerun_priority, EXCLUDED.priority),
                                             EXCLUDED.priority)
                                  ELSE sync_jobs.rerun_priority END
        RETURNING id, unit_key
    ),
    linked AS (
        INSERT INTO sync_request_units (id, request_id, job_id, account_id, dataset, unit_key,
                                        state, requested_at)
        SELECT gen_random_uuid(), :request, up.id, :account_id, :dataset, up.unit_key,
               'pending', now()
        FROM up
        RETURNING unit_key
    )
    SELECT linked.unit_key, before.state FROM linked LEFT JOIN before USING (unit_key)
    """
)
