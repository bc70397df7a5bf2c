"""SQL for delivering: lease an endpoint, read its pending deliveries in order, record each
attempt, disable an endpoint, hand leases back.

The lease is on the *endpoint*, claimed with ``FOR NO KEY UPDATE SKIP LOCKED`` like the sync
engine's units (and compatible with the key-share locks that writers' deliveries take on it,
so a long sync transaction never holds a claim up): whoever holds it is the only one sending
that endpoint's events, one at a time, oldest first. A worker that dies stops renewing its
lease; once it expires another worker takes the endpoint and sends the delivery that was in
flight again, with the same ``webhook-id``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class ClaimedEndpoint:
    id: uuid.UUID
    workspace_id: uuid.UUID
    url: str
    encrypted_secret: bytes
    encrypted_previous_secret: bytes | None
    previous_secret_expires_at: dt.datetime | None


@dataclass(frozen=True)
class PendingDelivery:
    id: uuid.UUID
    event_id: uuid.UUID
    attempts: int
    next_attempt_at: dt.datetime
    body: str


async def claim_endpoints(
    session: AsyncSession, *, worker_id: str, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[ClaimedEndpoint]:
    """Lease up to ``limit`` enabled endpoints whose oldest pending delivery is due, least
    recently served first. Commit right after."""
    rows = await session.execute(
        text(
            """
            WITH due AS (
                SELECT e.id FROM webhook_endpoints AS e
                WHERE e.enabled AND e.disabled_at IS NULL
                  AND (e.lease_expires_at IS NULL OR e.lease_expires_at < :now)
                  AND (SELECT d.next_attempt_at FROM webhook_deliveries AS d
                       WHERE d.endpoint_id = e.id AND d.state = 'pending'
                       ORDER BY d.seq LIMIT 1) <= :now
                ORDER BY e.last_claimed_at NULLS FIRST, e.id
                LIMIT :limit
                FOR NO KEY UPDATE OF e SKIP LOCKED
            )
            UPDATE webhook_endpoints AS e SET lease_owner = :worker,
                lease_expires_at = CAST(:now AS timestamptz) + make_interval(secs => :lease),
                last_claimed_at = :now
            FROM due WHERE e.id = due.id
            RETURNING e.id, e.workspace_id, e.url, e.encrypted_secret,
                      e.encrypted_previous_secret, e.previous_secret_expires_at
            """
        ),
        {"now": now, "worker": worker_id, "lease": lease.total_seconds(), "limit": limit},
    )
    return [ClaimedEndpoint(*row) for row in rows]


async def pending(
    session: AsyncSession, endpoint_id: uuid.UUID, limit: int
) -> list[PendingDelivery]:
    """The endpoint's next pending deliveries, in the order they must be sent."""
    rows = await session.execute(
        text(
            """
            SELECT d.id, d.event_id, d.attempts, d.next_attempt_at, ev.body
            FROM webhook_deliveries AS d JOIN webhook_events AS ev ON ev.id = d.event_id
            WHERE d.endpoint_id = :e AND d.state = 'pending'
            ORDER BY d.seq LIMIT :limit
            """
        ),
        {"e": endpoint_id, "limit": limit},
    )
    return [PendingDelivery(*row) for row in rows]


async def touch_endpoint(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    worker_id: str,
    *,
    now: dt.datetime,
    lease: dt.timedelta,
    ok: bool,
    succeeded_before: bool = False,
    release: bool = False,
) -> tuple[dt.datetime | None] | None:
    """Renew our lease and record the last attempt's effect on the endpoint's health
    (``succeeded_before``: earlier attempts of the same batch succeeded, so a failure starts
    a new failing streak); returns ``(failing_since,)``, or None if the lease is no longer
    ours. ``release``: hand the lease back in the same statement (the queue is empty)."""
    row = (
        await session.execute(
            text(
                """
                UPDATE webhook_endpoints SET
                    lease_owner = CASE WHEN :release THEN NULL ELSE lease_owner END,
                    lease_expires_at = CASE
                        WHEN :release THEN NULL
                        ELSE CAST(:now AS timestamptz) + make_interval(secs => :lease) END,
                    failing_since = CASE
                        WHEN :ok THEN NULL
                        WHEN :fresh THEN CAST(:now AS timestamptz)
                        ELSE coalesce(failing_since, CAST(:now AS timestamptz)) END,
                    last_success_at = CASE WHEN :ok OR :fresh THEN CAST(:now AS timestamptz)
                                           ELSE last_success_at END,
                    last_failure_at = CASE WHEN :ok THEN last_failure_at
                                           ELSE CAST(:now AS timestamptz) END
                WHERE id = :e AND lease_owner = :worker
                RETURNING failing_since
                """
            ),
            {
                "e": endpoint_id,
                "worker": worker_id,
                "now": now,
                "lease": lease.total_seconds(),
                "ok": ok,
                "fresh": succeeded_before,
                "release": release,
            },
        )
    ).first()
    return None if row is None else (row[0],)


async def record_attempt(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    state: str,
    now: dt.datetime,
    next_attempt_at: dt.datetime | None,
    status_code: int | None,
    latency_ms: int,
    error: str | None,
    response_body: str | None,
) -> None:
    await session.execute(
        text(
            """
            UPDATE webhook_deliveries SET
                attempts = attempts + 1, state = CAST(:state AS text),
                last_attempt_at = CAST(:now AS timestamptz),
                next_attempt_at = coalesce(CAST(:next AS timestamptz), next_attempt_at),
                last_status_code = :code, last_latency_ms = :latency, last_error = :error,
                last_response_body = :body,
                finished_at = CASE WHEN CAST(:state AS text) = 'pending' THEN NULL
                                   ELSE CAST(:now AS timestamptz) END
            WHERE id = :d AND state = 'pending'
            """
        ),
        {
            "d": delivery_id,
            "state": state,
            "now": now,
            "next": next_attempt_at,
            "code": status_code,
            "latency": latency_ms,
            "error": error,
            "body": response_body,
        },
    )


async def record_successes(
    session: AsyncSession,
    delivery_ids: list[uuid.UUID],
    *,
    now: dt.datetime,
    status_codes: list[int],
    latencies_ms: list[int],
    response_bodies: list[str | None],
) -> None:
    """A batch of delivered events, in one statement."""
    await session.execute(
        text(
            """
            UPDATE webhook_deliveries AS d SET
                attempts = d.attempts + 1, state = 'succeeded',
                last_attempt_at = CAST(:now AS timestamptz), finished_at = :now,
                last_status_code = r.code, last_latency_ms = r.latency, last_error = NULL,
                last_response_body = r.body
            FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS smallint[]),
                        CAST(:latencies AS int[]), CAST(:bodies AS text[]))
                 AS r(id, code, latency, body)
            WHERE d.id = r.id AND d.state = 'pending'
            """
        ),
        {
            "ids": delivery_ids,
            "codes": status_codes,
            "latencies": latencies_ms,
            "bodies": response_bodies,
            "now": now,
        },
    )


async def disable(
    session: AsyncSession, endpoint_id: uuid.UUID, *, reason: str, now: dt.datetime
) -> bool:
    """Stop delivering to the endpoint; False if it was disabled already."""
    result = await session.execute(
        text(
            """
            UPDATE webhook_endpoints SET disabled_at = :now, disabled_reason = :reason,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
            WHERE id = :e AND disabled_at IS NULL RETURNING id
            """
        ),
        {"e": endpoint_id, "reason": reason, "now": now},
    )
    return result.first() is not None


async def release(session: AsyncSession, endpoint_id: uuid.UUID, worker_id: str) -> None:
    await session.execute(
        text(
            "UPDATE webhook_endpoints SET lease_owner = NULL, lease_expires_at = NULL "
            "WHERE id = :e AND lease_owner = :worker"
        ),
        {"e": endpoint_id, "worker": worker_id},
    )


async def release_worker(session: AsyncSession, worker_id: str) -> int:
    result = await session.execute(
        text(
            "UPDATE webhook_endpoints SET lease_owner = NULL, lease_expires_at = NULL "
            "WHERE lease_owner = :worker RETURNING id"
        ),
        {"worker": worker_id},
    )
    return len(result.fetchall())


async def forget_finished(session: AsyncSession, before: dt.datetime) -> int:
    """Retention: finished deliveries older than ``before``, then events nobody still needs."""
    result = await session.execute(
        text(
            "DELETE FROM webhook_deliveries WHERE state <> 'pending' AND finished_at < :before "
            "RETURNING id"
        ),
        {"before": before},
    )
    await session.execute(
        text(
            """
            DELETE FROM webhook_events AS ev WHERE ev.created_at < :before
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS d WHERE d.event_id = ev.id)
            """
        ),
        {"before": before},
    )
    return len(result.fetchall())
