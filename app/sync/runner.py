"""Runs one claimed unit: lease renewal, the unit's transaction, and what each failure means.

The unit's rows, its availability row, the dataset state and the job's completion commit in
one transaction, and the completion only counts if this worker still holds the lease, so a
unit taken over by another worker (after this one stalled) can never be written twice. Whichever
transaction ends a unit (done, deferred, failed, paused) also writes Apple's budget figures with
room to spare seen so far (``KeyBudgets.transaction``), so they never wait for a next claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.asc.client import AscClient
from app.asc.errors import (
    AscAgreementRequired,
    AscError,
    AscForbidden,
    AscRateLimited,
    AscUnauthorized,
)
from app.credentials import states as credential_states
from app.credentials.clients import AscClientFactory
from app.credentials.crypto import SecretKeysError
from app.credentials.states import CredentialStatus
from app.kit.metrics import Metrics
from app.kit.tracing import tracer
from app.models import AscAccount
from app.sync import events, queue, records
from app.sync.budget import BudgetReserveReached, KeyBudgets
from app.sync.contract import (
    Dataset,
    DatasetRegistry,
    Outcome,
    PermanentUnitError,
    UnitContext,
    UnitResult,
)
from app.sync.public_runner import PublicRunner

log = logging.getLogger("orchard.sync")

#: Availability states that are facts about a report date.
FACTS = frozenset({Outcome.PUBLISHED.value, Outcome.NO_DATA.value})


async def _stop(renewer: asyncio.Task[None]) -> None:
    """Stop the lease renewer; its own failure (a database blip) must not mask the unit's."""
    renewer.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await renewer


class LeaseLost(Exception):
    """Another worker owns this unit now (our lease expired); our work must not commit."""


@dataclass(frozen=True)
class RunnerConfig:
    worker_id: str
    lease: dt.timedelta
    key_concurrency: int
    budget_reserve: int
    max_attempts: int
    retry_base: dt.timedelta


def retry_delay(attempts: int, base: dt.timedelta) -> dt.timedelta:
    """Exponential backoff with full jitter, capped at an hour."""
    doublings: int = min(max(attempts - 1, 0), 16)
    cap = min(base * (1 << doublings), dt.timedelta(hours=1))
    return max(cap * random.random(), base / 4)


class Runner:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        factory: AscClientFactory,
        registry: DatasetRegistry,
        budgets: KeyBudgets,
        config: RunnerConfig,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.factory = factory
        self.registry = registry
        self.budgets = budgets
        self.config = config
        self.metrics = metrics
        self.public = PublicRunner(
            sessionmaker,
            factory.http,
            config.worker_id,
            config.max_attempts,
            lambda attempts: retry_delay(attempts, config.retry_base),
            metrics,
        )

    async def run_once(self) -> bool:
        """Claim and run one due unit. False when there was nothing to claim."""
        async with self.sessionmaker() as session, session.begin():
            job = await queue.claim(
                session,
                worker_id=self.config.worker_id,
                lease=self.config.lease,
                key_concurrency=self.config.key_concurrency,
                budget_reserve=self.config.budget_reserve,
            )
            # The unit's account, read in the claim's transaction (a transaction of its own
            # was one more connection checkout and BEGIN/ROLLBACK per unit).
            account = None
            if job is not None and job.account_id is not None:
                account = await session.get(AscAccount, job.account_id)
        if job is None:
            return False
        await self._run(job, account)
        return True

    async def _run(self, job: queue.ClaimedJob, account: AscAccount | None) -> None:
        if job.account_id is None:
            await self.public.run(
                job,
                self.registry.get_public(job.dataset),
                lambda: self._renew_until_done(job),
            )
            return
        dataset = self.registry.get(job.dataset)
        if dataset is None or account is None or account.encrypted_private_key is None:
            await self._finish(job, queue.FAILED, "not_runnable", "dataset or account is gone")
            return
        unit_log = logging.LoggerAdapter(
            log, {"account_id": str(job.account_id), "dataset": job.dataset, "unit": job.unit_key}
        )
        try:
            client = self.factory.for_account(account)
        except SecretKeysError as exc:
            # This process lacks the key that encrypted the credential (a rotation in
            # progress): retry later, when a worker with the right keys may take the unit.
            await self._handle_failure(job, dataset, account, exc, unit_log)
            return
        client.on_rate_limit = self.budgets.record
        client.before_send = self.budgets.guard(job.key_id)
        renewer = asyncio.create_task(self._renew_until_done(job))
        try:
            result = await self._execute(job, dataset, account, client, unit_log)
        except BaseException as exc:
            await _stop(renewer)
            if isinstance(exc, asyncio.CancelledError):
                raise  # shutdown: the worker releases our lease
            await self._handle_failure(job, dataset, account, exc, unit_log)
            return
        await _stop(renewer)
        if self.metrics is not None:
            self.metrics.units.labels(job.dataset, result.outcome.value).inc()
        unit_log.info(
            "unit done",
            extra={
                "outcome": result.outcome.value,
                "rows": result.rows,
                "requests": client.request_count,
            },
        )

    async def _execute(
        self,
        job: queue.ClaimedJob,
        dataset: Dataset,
        account: AscAccount,
        client: AscClient,
        unit_log: logging.LoggerAdapter[logging.Logger],
    ) -> UnitResult:
        attributes = {
            "orchard.account_id": str(job.account_id),
            "orchard.dataset": job.dataset,
            "orchard.unit": job.unit_key,
        }
        # One span per unit (a no-op without a tracer provider): Apple's and the database's
        # spans of the unit are its children.
        with tracer.start_as_current_span(
            f"sync.unit {job.dataset}", attributes=attributes
        ) as span:
            result = await self._execute_in_span(job, dataset, account, client, unit_log)
            span.set_attribute("orchard.outcome", result.outcome.value)
            span.set_attribute("orchard.rows", result.rows)
            return result

    async def _execute_in_span(
        self,
        job: queue.ClaimedJob,
        dataset: Dataset,
        account: AscAccount,
        client: AscClient,
        unit_log: logging.LoggerAdapter[logging.Logger],
    ) -> UnitResult:
        async with self.budgets.transaction() as session:
            now = dt.datetime.now(dt.UTC)
            context = UnitContext(
                session=session,
                account=account,
                client=client,
                dataset=job.dataset,
                unit_key=job.unit_key,
                now=now,
                log=unit_log,
            )
            result = await dataset.run(context)
            if dataset.dated and dataset.unit_date is not None:
                day = dataset.unit_date(job.unit_key)
                previous = await records.record_availability(
                    session,
                    job.account,
                    job.dataset,
                    day,
                    state=result.outcome.value,
                    row_count=result.rows,
                    detail=result.detail,
                    report_version=result.report_version,
                    # A file Apple no longer keeps leaves what was stored from it a fact.
                    keep_facts=result.outcome is Outcome.EXPIRED,
                )
                if (
                    dataset.on_available is not None
                    and result.outcome in FACTS
                    and previous not in FACTS
                ):
                    await dataset.on_available(context, day, result)
            await records.record_success(
                session,
                job.account,
                job.dataset,
                requests=client.request_count,
                notes=result.notes,
            )
            recovered = await records.clear_failing(session, job.account, job.dataset)
            if result.outcome is Outcome.NOT_YET_PUBLISHED:
                state, run_after = queue.WAITING, result.retry_at or now + dt.timedelta(hours=1)
            else:
                state, run_after = queue.SUCCEEDED, None
            held = await queue.finish(
                session,
                job.id,
                self.config.worker_id,
                state=state,
                run_after=run_after,
                reset_attempts=state == queue.WAITING,
                settles=queue.SUCCEEDED,
            )
            if not held:
                raise LeaseLost(f"lost the lease on {job.dataset}/{job.unit_key}")
            if recovered:
                await events.publish_dataset_state(
                    session, account, dataset, events.DATASET_RECOVERED
                )
        return result

    async def _renew_until_done(self, job: queue.ClaimedJob) -> None:
        interval = self.config.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            async with self.sessionmaker() as session, session.begin():
                held = await queue.renew(session, job.id, self.config.worker_id, self.config.lease)
            if not held:
                log.warning("lease lost while running", extra={"job_id": str(job.id)})
                return

    async def _handle_failure(
        self,
        job: queue.ClaimedJob,
        dataset: Dataset,
        account: AscAccount,
        exc: BaseException,
        unit_log: logging.LoggerAdapter[logging.Logger],
    ) -> None:
        """What a failure means for the unit, the key and the account (module docstring)."""
        if isinstance(exc, LeaseLost):
            unit_log.warning("unit discarded: another worker took it over")
            await self.budgets.write_pending()
        elif isinstance(exc, BudgetReserveReached):
            await self._defer(job, exc.until)
        elif isinstance(exc, AscRateLimited):
            await self._defer(job, await self.budgets.rate_limited(job.key_id, exc.retry_after))
        elif isinstance(exc, AscUnauthorized | AscAgreementRequired):
            await self._pause_account(job, account, exc, unit_log)
        elif isinstance(exc, AscForbidden):
            await self._missing_role(job, dataset, account, exc)
        else:
            await self._retry_or_fail(job, dataset, account, exc, unit_log)

    async def _defer(self, job: queue.ClaimedJob, until: dt.datetime) -> None:
        """The key's budget is spent: run later, without counting an attempt."""
        await self._finish(job, queue.WAITING, None, None, run_after=until, undo_attempt=True)

    async def _pause_account(
        self,
        job: queue.ClaimedJob,
        account: AscAccount,
        exc: AscUnauthorized | AscAgreementRequired,
        unit_log: logging.LoggerAdapter[logging.Logger],
    ) -> None:
        """A revoked key or a missing agreement: no unit of the account runs until a
        verification succeeds (no retry storm)."""
        status = (
            CredentialStatus.AGREEMENT_REQUIRED
            if isinstance(exc, AscAgreementRequired)
            else CredentialStatus.REVOKED_OR_INVALID
        )
        async with self.budgets.transaction() as session:
            await credential_states.mark_credential_problem(session, account.id, status, exc.code)
            await queue.pause_account(session, account.id)
            await queue.finish(
                session,
                job.id,
                self.config.worker_id,
                state=queue.PAUSED,
                error_code=exc.code,
                error_message=str(exc),
                settles=queue.FAILED,
            )
            await records.record_failure(
                session,
                job.account,
                job.dataset,
                code=exc.code or status.value,
                message=str(exc),
            )
        unit_log.warning("account paused: credentials", extra={"status": status.value})

    async def _missing_role(
        self, job: queue.ClaimedJob, dataset: Dataset, account: AscAccount, exc: AscForbidden
    ) -> None:
        """The key lacks the role for this dataset: retrying cannot help."""
        if dataset.capability is not None:
            async with self.sessionmaker() as session, session.begin():
                await credential_states.mark_capability_missing(
                    session, account.id, dataset.capability, str(exc)
                )
        await self._finish(
            job,
            queue.FAILED,
            exc.code or "forbidden",
            str(exc),
            dataset=dataset,
            account=account,
        )

    async def _retry_or_fail(
        self,
        job: queue.ClaimedJob,
        dataset: Dataset,
        account: AscAccount,
        exc: BaseException,
        unit_log: logging.LoggerAdapter[logging.Logger],
    ) -> None:
        """Retry with backoff what may pass (5xx, network), up to ``max_attempts``; fail at
        once what cannot (an unreadable report, a refused parameter)."""
        retryable = not isinstance(exc, AscError | PermanentUnitError) or (
            isinstance(exc, AscError) and exc.retryable
        )
        if isinstance(exc, AscError):
            code, message = exc.code or type(exc).__name__, str(exc)
        elif isinstance(exc, PermanentUnitError):
            code, message = exc.code, str(exc)
        elif isinstance(exc, SecretKeysError):
            code, message = "credential_undecryptable", str(exc)
        else:
            unit_log.error("unit crashed", exc_info=exc)
            code, message = "internal_error", f"{type(exc).__name__} in {job.dataset}"
        if retryable and job.attempts < self.config.max_attempts:
            run_after = dt.datetime.now(dt.UTC) + retry_delay(job.attempts, self.config.retry_base)
            await self._finish(
                job, queue.WAITING, code, message, run_after=run_after, dataset=dataset
            )
        else:
            await self._finish(job, queue.FAILED, code, message, dataset=dataset, account=account)
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
        dataset: Dataset | None = None,
        account: AscAccount | None = None,
    ) -> None:
        # The unit ends here: Apple's budget figures it saw are written with its end.
        async with self.budgets.transaction() as session:
            await queue.finish(
                session,
                job.id,
                self.config.worker_id,
                state=state,
                run_after=run_after,
                error_code=code,
                error_message=message,
                settles=queue.FAILED if state == queue.FAILED else None,
            )
            if undo_attempt:
                await queue.undo_attempt(session, job.id)
            if code is not None and message is not None:
                await records.record_failure(
                    session, job.account, job.dataset, code=code, message=message
                )
            if (
                state == queue.FAILED
                and dataset is not None
                and dataset.dated
                and dataset.unit_date
            ):
                await records.record_availability(
                    session,
                    job.account,
                    job.dataset,
                    dataset.unit_date(job.unit_key),
                    state=Outcome.FAILED.value,
                    row_count=0,
                    detail=message,
                    report_version=None,
                    keep_facts=True,
                )
            if (
                state == queue.FAILED
                and dataset is not None
                and account is not None
                and await records.mark_failing(session, job.account, job.dataset)
            ):
                await events.publish_dataset_state(
                    session, account, dataset, events.DATASET_FAILING
                )
