"""A sync worker process: claim-and-run loops, the scheduler, the lease reaper, credential
refresh and a heartbeat, until asked to stop.

Everything coordinates through PostgreSQL, so any number of workers in any number of processes
run side by side. Stopping is graceful: no new claims, in-flight units get
``shutdown_timeout`` to finish, then they are cancelled (their transactions roll back) and
their leases are handed back so another worker can start them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.db.listen import listen
from app.kit.metrics import Metrics
from app.sync import queue, records
from app.sync.budget import KeyBudgets
from app.sync.contract import DatasetRegistry
from app.sync.runner import Runner, RunnerConfig
from app.sync.scheduler import plan_round

log = logging.getLogger("orchard.worker")


@dataclass
class PeriodicTask:
    name: str
    run: Callable[[], Awaitable[object]]
    every_seconds: float


#: A domain's periodic work (background re-verification of keys), run with the worker's
#: database and Apple clients.
DomainTaskRun = Callable[[async_sessionmaker[AsyncSession], AscClientFactory], Awaitable[object]]


@dataclass(frozen=True)
class DomainTask:
    name: str
    run: DomainTaskRun
    every_seconds: float


#: A domain's long-running loop (webhook deliveries): runs until ``stopping`` is set, then
#: finishes what it holds within the shutdown timeout (after it, it is cancelled).
DomainLoopRun = Callable[
    [async_sessionmaker[AsyncSession], AscClientFactory, asyncio.Event], Awaitable[object]
]


@dataclass(frozen=True)
class DomainLoop:
    name: str
    run: DomainLoopRun


@dataclass(frozen=True)
class WorkerParts:
    """What the entry points hand a worker: every dataset, the domains' periodic tasks and
    their long-running loops."""

    registry: DatasetRegistry
    tasks: Sequence[DomainTask] = ()
    loops: Sequence[DomainLoop] = ()


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class SyncWorker:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        factory: AscClientFactory,
        parts: WorkerParts,
        metrics: Metrics | None = None,
        *,
        concurrency: int | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.factory = factory
        self.parts = parts
        self.metrics = metrics
        self.concurrency = concurrency or settings.worker_concurrency
        self.worker_id = new_worker_id()
        self.budgets = KeyBudgets(sessionmaker, reserve=settings.budget_reserve, metrics=metrics)
        self.runner = Runner(
            sessionmaker,
            factory,
            parts.registry,
            self.budgets,
            RunnerConfig(
                worker_id=self.worker_id,
                lease=dt.timedelta(seconds=settings.lease_seconds),
                key_concurrency=settings.key_concurrency,
                budget_reserve=settings.budget_reserve,
                max_attempts=settings.max_attempts,
                retry_base=dt.timedelta(seconds=settings.retry_base_seconds),
            ),
            metrics,
        )
        self._stopping = asyncio.Event()
        #: Set when a unit was queued for now (``queue.QUEUED_CHANNEL``) or the worker stops:
        #: an idle claim loop claims at once instead of at its next poll.
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._loops: list[asyncio.Task[None]] = []

    # -- periodic work ------------------------------------------------------------------

    def periodic_tasks(self) -> list[PeriodicTask]:
        settings = self.settings
        return [
            PeriodicTask("heartbeat", self.heartbeat, settings.heartbeat_seconds),
            PeriodicTask("maintain_queue", self.maintain_queue, settings.scheduler_seconds),
            PeriodicTask("plan", self.plan, settings.scheduler_seconds),
            *(
                PeriodicTask(
                    task.name,
                    functools.partial(task.run, self.sessionmaker, self.factory),
                    task.every_seconds,
                )
                for task in self.parts.tasks
            ),
        ]

    async def heartbeat(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            await records.worker_beat(
                session,
                self.worker_id,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
                concurrency=self.concurrency,
            )

    async def maintain_queue(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            expired = await queue.reap_expired(session, self.settings.max_attempts)
            await queue.promote_waiting(session)
        if expired:
            log.warning("returned units of dead workers to the queue", extra={"units": expired})
            if self.metrics is not None:
                self.metrics.lease_expiries.inc(expired)

    async def plan(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            await plan_round(session, self.parts.registry, dt.datetime.now(dt.UTC))

    async def _periodic(self, task: PeriodicTask) -> None:
        while not self._stopping.is_set():
            try:
                await task.run()
            except Exception:
                # One failing task must not stop the others; it runs again next period.
                log.exception("worker task failed", extra={"task": task.name})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=task.every_seconds)

    async def _domain_loop(self, loop: DomainLoop) -> None:
        while not self._stopping.is_set():
            try:
                await loop.run(self.sessionmaker, self.factory, self._stopping)
            except Exception:
                log.exception("worker loop failed", extra={"task": loop.name})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopping.wait(), timeout=self.settings.worker_poll_seconds
                    )

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ran = await self.runner.run_once()
            except Exception:
                log.exception("claim loop error")
                ran = False
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), timeout=self.settings.worker_poll_seconds
                    )
                # Cleared after waking and before claiming again: a unit queued later sets it
                # again; one queued earlier is committed, so that claim sees it.
                if not self._stopping.is_set():
                    self._wake.clear()

    async def _listen(self) -> None:
        """Wakes the claim loops when a unit is queued for now, by any process, from a
        connection of its own (not the pool's: ``app.db.listen``). The poll stays, for a
        lost connection and for units that become due by time."""
        engine = self.sessionmaker.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            return
        await listen(
            engine.url,
            queue.QUEUED_CHANNEL,
            self._wake.set,
            self._stopping,
        )

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._periodic(t)) for t in self.periodic_tasks()]
        self._loops = [asyncio.create_task(self._claim_loop()) for _ in range(self.concurrency)]
        self._loops += [asyncio.create_task(self._domain_loop(loop)) for loop in self.parts.loops]
        self._listener = asyncio.create_task(self._listen())
        log.info(
            "worker started", extra={"worker_id": self.worker_id, "concurrency": self.concurrency}
        )

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        timeout = self.settings.shutdown_timeout_seconds
        if self._loops:
            _, pending = await asyncio.wait(self._loops, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:  # it closes its connection and ends once stopping is set
            _, pending = await asyncio.wait({self._listener}, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        async with self.budgets.transaction() as session:
            released = await queue.release_worker(session, self.worker_id)
            await records.worker_stopped(session, self.worker_id)
        log.info("worker stopped", extra={"worker_id": self.worker_id, "released_units": released})

    async def run_until(self, stop: asyncio.Event) -> None:
        await self.start()
        await stop.wait()
        await self.stop()
