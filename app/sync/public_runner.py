"""Runs a claimed *public* unit: one owned by no account (the App Store's charts and star
ratings, fetched once for every workspace).

Same guarantees as an account's unit: its rows and the job's completion commit in one
transaction, only while this worker holds the lease. There is no credential to break: a
:class:`~app.sync.contract.DeferUnit` (the source throttled us, or a shared request budget is
spent) puts the unit back for later without counting the attempt, anything else retries with
backoff and then fails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kit.metrics import Metrics
from app.sync import queue, records
from app.sync.contract import DeferUnit, PermanentUnitError, PublicDataset, PublicUnitContext

log = logging.getLogger("orchard.sync")


class PublicLeaseLost(Exception):
    """Another worker owns this unit now; our work must not commit."""


@dataclass
class PublicRunner:
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    worker_id: str
    max_attempts: int
    retry_delay: Callable[[int], dt.timedelta]
    metrics: Metrics | None = None

    async def run(
        self,
        job: queue.ClaimedJob,
        dataset: PublicDataset | None,
        renew: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        if dataset is None:
            await self._finish(job, queue.FAILED, "not_runnable", "the dataset is gone")
            return
        unit_log = logging.LoggerAdapter(log, {"dataset": job.dataset, "unit": job.unit_key})
        renewer = asyncio.create_task(renew())
        try:
            rows = await self._execute(job, dataset, unit_log)
        except BaseException as exc:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
            if isinstance(exc, asyncio.CancelledError):
                raise
            await self._failed(job, exc, unit_log)
            return
        renewer.cancel()
        await asyncio.gather(renewer, return_exceptions=True)
        if self.metrics is not None:
            self.metrics.units.labels(job.dataset, "done").inc()
        unit_log.info("public unit done", extra={"rows": rows})

    async def _execute(
        self,
        job: queue.ClaimedJob,
        dataset: PublicDataset,
        unit_log: logging.LoggerAdapter[logging.Logger],
    ) -> int:
        async with self.sessionmaker() as session, session.begin():
            context = PublicUnitContext(
                session=session,
                sessions=self.sessionmaker,
                http=self.http,
                dataset=job.dataset,
                unit_key=job.unit_key,
                now=dt.datetime.now(dt.UTC),
                cadence=dataset.cadence,
                log=unit_log,
            )
            result = await dataset.run(context)
            await records.record_public_success(
                session,
                job.dataset,
                requests=int(result.notes.get("requests", 0)),
                notes=result.notes,
            )
            held = await queue.finish(session, job.id, self.worker_id, state=queue.SUCCEEDED)
            if not held:
                raise PublicLeaseLost(f"lost the lease on {job.dataset}/{job.unit_key}")
        return result.rows

    async def _failed(
        self,
        job: queue.ClaimedJob,
        exc: BaseException,
        unit_log: logging.LoggerAdapter[logging.Logger],
    ) -> None:
        if isinstance(exc, PublicLeaseLost):
            unit_log.warning("unit discarded: another worker took it over")
            return
        if isinstance(exc, DeferUnit):
            unit_log.info("public unit deferred", extra={"until": exc.until.isoformat()})
            await self._finish(
                job, queue.WAITING, None, None, run_after=exc.until, undo_attempt=True
            )
            return
        if isinstance(exc, PermanentUnitError):
            code, message, retryable = exc.code, str(exc), False
        elif isinstance(exc, httpx.HTTPError):
            # The network or the source failed: expected now and then, retried with backoff.
            code, message, retryable = "source_unreachable", f"{type(exc).__name__}: {exc}", True
            unit_log.warning("public unit failed: %s", message)
        else:
            unit_log.error("public unit crashed", exc_info=exc)
            code, retryable = "internal_error", True
            message = f"{type(exc).__name__} in {job.dataset}"
        if retryable and job.attempts < self.max_attempts:
            run_after = dt.datetime.now(dt.UTC) + self.retry_delay(job.attempts)
            await self._finish(job, queue.WAITING, code, message, run_after=run_after)
        else:
            await self._finish(job, queue.FAILED, code, message)
        if self.metrics is not None:
            self.metrics.units.labels(job.dataset, "failed").inc()

    async def _finish(
        self,
        job: queue.ClaimedJob,
        state: str,
        code: str | None,
        message: str | None,
        *,
        run_after: dt.datetime | None = None,
        undo_attempt: bool = False,
    ) -> None:
        async with self.sessionmaker() as session, session.begin():
            await queue.finish(
                session,
                job.id,
                self.worker_id,
                state=state,
                run_after=run_after,
                error_code=code,
                error_message=message,
            )
            if undo_attempt:
                await queue.undo_attempt(session, job.id)
            if code is not None and message is not None:
                await records.record_public_failure(
                    session, job.dataset, code=code, message=message
                )
