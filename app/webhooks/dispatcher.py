"""Delivery workers: lease endpoints with due deliveries and send their events in order.

Each leased endpoint gets its own task, which sends the endpoint's pending deliveries one
after another (one in flight per endpoint, oldest first) and records each attempt with the
lease renewed in the same transaction. A failed attempt schedules the next one
(:mod:`app.webhooks.schedule`) and hands the endpoint back: its later events wait, so order
is kept. ``ORCHARD_WEBHOOKS_CONCURRENCY`` endpoints are served at once per process, so a slow
receiver only ever holds its own slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.credentials.crypto import CredentialCipher, SecretKeysError
from app.resources.changes import EventType, SubjectType, notice
from app.sync.worker import new_worker_id
from app.webhooks import queue, schedule
from app.webhooks.queue import ClaimedEndpoint, PendingDelivery
from app.webhooks.sender import Attempt, WebhookSender

log = logging.getLogger("orchard.webhooks")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class DeliveryConfig:
    concurrency: int = 16
    lease: dt.timedelta = dt.timedelta(seconds=60)
    poll_seconds: float = 0.5
    disable_after: dt.timedelta = dt.timedelta(days=3)
    #: Pending deliveries read at once, and how long one endpoint keeps its slot.
    batch: int = 50
    slot_seconds: float = 30.0


class Outcome(Enum):
    DELIVERED = "delivered"
    RETRY_LATER = "retry_later"
    STOP = "stop"  # lease lost, or the endpoint was disabled
    RELEASED = "released"  # delivered, and the lease handed back (nothing left)


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cipher: CredentialCipher,
        sender: WebhookSender,
        config: DeliveryConfig,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cipher = cipher
        self.sender = sender
        self.config = config
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker_id = worker_id or new_worker_id()

    # -- driving ----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Deliver everything due now, then return how many attempts were made (tests and
        benchmarks drive the dispatcher with this)."""
        total = 0
        while claimed := await self._claim(self.config.concurrency):
            total += sum(await asyncio.gather(*(self._drain(e) for e in claimed)))
        return total

    async def run_until(self, stopping: asyncio.Event) -> None:
        """Claim and deliver until ``stopping`` is set; then finish the attempts in flight
        and hand every lease back."""
        active: set[asyncio.Task[int]] = set()
        stop_wait = asyncio.create_task(stopping.wait())
        try:
            while not stopping.is_set():
                free = self.config.concurrency - len(active)
                claimed: list[ClaimedEndpoint] = []
                if free > 0:
                    try:
                        claimed = await self._claim(free)
                    except Exception:
                        log.exception("webhook claim failed")
                for endpoint in claimed:
                    task = asyncio.create_task(self._guarded(endpoint, stopping))
                    active.add(task)
                    task.add_done_callback(active.discard)
                if claimed and len(claimed) == free:
                    await asyncio.wait({stop_wait, *active}, return_when=asyncio.FIRST_COMPLETED)
                elif not claimed or len(claimed) < free:
                    await asyncio.wait(
                        {stop_wait, *active},
                        timeout=self.config.poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
            if active:
                await asyncio.wait(active)
        finally:
            stop_wait.cancel()
            for task in active:
                task.cancel()
            await asyncio.gather(*active, return_exceptions=True)
            with contextlib.suppress(Exception):
                async with self.sessionmaker() as session, session.begin():
                    await queue.release_worker(session, self.worker_id)

    async def _guarded(self, endpoint: ClaimedEndpoint, stopping: asyncio.Event) -> int:
        """One endpoint's slot: an unexpected error (the database went away) is logged; the
        lease runs out and the endpoint is taken up again."""
        try:
            return await self._drain(endpoint, stopping)
        except Exception:
            log.exception("webhook delivery failed", extra={"endpoint_id": str(endpoint.id)})
            return 0

    # -- one endpoint -----------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[ClaimedEndpoint]:
        async with self.sessionmaker() as session, session.begin():
            return await queue.claim_endpoints(
                session,
                worker_id=self.worker_id,
                now=self.clock(),
                lease=self.config.lease,
                limit=limit,
            )

    def _secrets(self, endpoint: ClaimedEndpoint) -> list[str]:
        secrets = [self.cipher.decrypt(endpoint.encrypted_secret)]
        expires = endpoint.previous_secret_expires_at
        if endpoint.encrypted_previous_secret is not None and expires and expires > self.clock():
            secrets.append(self.cipher.decrypt(endpoint.encrypted_previous_secret))
        return secrets

    async def _drain(self, endpoint: ClaimedEndpoint, stopping: asyncio.Event | None = None) -> int:
        """Send the endpoint's due deliveries in order; returns the attempts made.

        Attempts are recorded in batches (one transaction for up to ``batch`` deliveries or a
        third of the lease, whichever comes first, and at once after a failure): a worker
        that dies before recording sends them again, which at-least-once allows."""
        sent = 0
        released = False
        deadline = time.monotonic() + self.config.slot_seconds
        flush_after = self.config.lease.total_seconds() / 3
        try:
            secrets = self._secrets(endpoint)
            while True:
                async with self.sessionmaker() as session:
                    batch = await queue.pending(session, endpoint.id, self.config.batch)
                done: list[tuple[PendingDelivery, Attempt]] = []
                started = time.monotonic()
                for delivery in batch:
                    if delivery.next_attempt_at > self.clock():
                        break
                    attempt = await self.sender.send(
                        endpoint.url, secrets, str(delivery.event_id), delivery.body
                    )
                    done.append((delivery, attempt))
                    if not attempt.ok or time.monotonic() - started > flush_after:
                        break
                    if stopping is not None and stopping.is_set():
                        break
                if not done:
                    return sent
                sent += len(done)
                # All of a short batch delivered: the queue is empty, give the lease back now.
                last = len(batch) < self.config.batch and len(done) == len(batch)
                outcome = await self._record(endpoint, done, release=last)
                if outcome is Outcome.RELEASED:
                    released = True
                if outcome is not Outcome.DELIVERED:
                    return sent
                if (stopping is not None and stopping.is_set()) or time.monotonic() > deadline:
                    return sent
        except SecretKeysError:
            log.error(
                "cannot decrypt a webhook secret: ORCHARD_SECRET_KEYS lacks its key",
                extra={"endpoint_id": str(endpoint.id)},
            )
        finally:
            if not released:
                with contextlib.suppress(Exception):
                    async with self.sessionmaker() as session, session.begin():
                        await queue.release(session, endpoint.id, self.worker_id)
        return sent

    async def _record(
        self,
        endpoint: ClaimedEndpoint,
        done: list[tuple[PendingDelivery, Attempt]],
        *,
        release: bool = False,
    ) -> Outcome:
        """Record a batch of attempts: all succeeded but perhaps the last."""
        successes = [(delivery, attempt) for delivery, attempt in done if attempt.ok]
        delivery, attempt = done[-1]
        async with self.sessionmaker() as session, session.begin():
            now = self.clock()
            touched = await queue.touch_endpoint(
                session,
                endpoint.id,
                self.worker_id,
                now=now,
                lease=self.config.lease,
                ok=attempt.ok,
                succeeded_before=bool(successes) and not attempt.ok,
                release=release and attempt.ok,
            )
            if touched is None:
                log.warning("webhook lease lost", extra={"endpoint_id": str(endpoint.id)})
                return Outcome.STOP
            if successes:
                await queue.record_successes(
                    session,
                    [d.id for d, _ in successes],
                    now=now,
                    status_codes=[a.status_code or 200 for _, a in successes],
                    latencies_ms=[a.latency_ms for _, a in successes],
                    response_bodies=[a.response_body for _, a in successes],
                )
            if attempt.ok:
                return Outcome.RELEASED if release else Outcome.DELIVERED
            return await self._failed(session, endpoint, delivery, attempt, now, touched[0])

    async def _failed(
        self,
        session: AsyncSession,
        endpoint: ClaimedEndpoint,
        delivery: PendingDelivery,
        attempt: Attempt,
        now: dt.datetime,
        failing_since: dt.datetime | None,
    ) -> Outcome:
        delay = None
        if not attempt.gone:
            delay = schedule.retry_delay(delivery.attempts + 1, self.rng, attempt.retry_after)
        await queue.record_attempt(
            session,
            delivery.id,
            state=queue.PENDING if delay is not None else queue.FAILED,
            now=now,
            next_attempt_at=now + delay if delay is not None else None,
            status_code=attempt.status_code,
            latency_ms=attempt.latency_ms,
            error=attempt.error,
            response_body=attempt.response_body,
        )
        reason = None
        if attempt.gone:
            reason = "gone"
        elif failing_since is not None and now - failing_since >= self.config.disable_after:
            reason = "failing"
        if reason is None:
            return Outcome.RETRY_LATER
        await disable(
            session,
            endpoint_id=endpoint.id,
            workspace_id=endpoint.workspace_id,
            url=endpoint.url,
            reason=reason,
            now=now,
            attempt=attempt,
            failing_since=failing_since,
        )
        return Outcome.STOP


async def disable(
    session: AsyncSession,
    *,
    endpoint_id: uuid.UUID,
    workspace_id: uuid.UUID,
    url: str,
    reason: str,
    now: dt.datetime,
    attempt: Attempt,
    failing_since: dt.datetime | None = None,
) -> bool:
    """Disable the endpoint and say so in ``/v1/events`` (and to the workspace's other
    endpoints subscribed to ``webhook.disabled``), in the caller's transaction."""
    if not await queue.disable(session, endpoint_id, reason=reason, now=now):
        return False
    await notice(
        session,
        workspace_id,
        type=EventType.WEBHOOK_DISABLED,
        subject_type=SubjectType.WEBHOOK,
        subject_id=endpoint_id,
        from_state="enabled",
        to_state="disabled",
        details={
            "reason": reason,
            "url": url,
            "failing_since": failing_since.isoformat() if failing_since else None,
            "last_status_code": attempt.status_code,
            "last_error": attempt.error,
        },
        now=now,
    )
    log.warning(
        "webhook endpoint disabled", extra={"endpoint_id": str(endpoint_id), "reason": reason}
    )
    return True
