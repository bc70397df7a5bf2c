"""On-demand sync: "refresh this now", for one account or every account of a workspace.

Every unit of the named datasets is queued at once, above routine work and backfills, the
per-app units included (a dataset planned from stored rows, like one ``reviews`` unit per
listed app, gets all of them, whether or not their routine refresh is due). Units already
queued or running coalesce with the request (see :func:`app.sync.queue.enqueue_on_demand`), and
the request's progress is kept per unit so a caller can poll until its data is fresh.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed
from app.models import AscAccount
from app.sync import queue, requests
from app.sync.contract import Dataset, DatasetRegistry, PlannedUnit, Priority, missing_requirement
from app.sync.scheduler import backfill_units, routine_units
from app.sync.schemas import (
    RequestUnitCounts,
    SkippedDataset,
    SyncAccepted,
    SyncRequest,
    SyncRequestProgress,
    SyncRequestState,
)

#: A dated request's newest units run on demand; the rest of a long range (a backfill of a
#: year) runs at backfill priority, so it cannot hold every other account's routine work back.
ON_DEMAND_DATED_UNITS = 31
PAUSING = {"revoked_or_invalid", "agreement_required"}


def dataset_or_422(registry: DatasetRegistry, name: str, field: str) -> Dataset:
    dataset = registry.get(name)
    if dataset is None:
        known = ", ".join(registry.names())
        raise ValidationFailed.single(field, f"unknown dataset '{name}' (known: {known})", "enum")
    return dataset


def validate(registry: DatasetRegistry, request: SyncRequest, now: dt.datetime) -> list[Dataset]:
    datasets = [dataset_or_422(registry, name, "body.datasets") for name in request.datasets]
    if request.from_date and request.to_date and request.from_date > request.to_date:
        raise ValidationFailed.single("body.from", "must not be after 'to'", "out_of_range")
    if request.to_date and request.to_date > now.date():
        raise ValidationFailed.single("body.to", "must not be in the future", "out_of_range")
    for dataset in datasets:
        if (request.from_date or request.to_date) and dataset.backfill is not None:
            # Bounds check (Apple's retention) before anything is written.
            backfill_units(dataset, request.from_date, request.to_date, now)
    return datasets


async def on_demand_units(
    session: AsyncSession,
    account: AscAccount,
    dataset: Dataset,
    request: SyncRequest,
    now: dt.datetime,
) -> list[PlannedUnit]:
    """Every unit of the dataset for this account: the routine plan's units (all of them,
    due or not), or for a dated dataset with ``from``/``to`` every date in the range."""
    if dataset.backfill is not None and (request.from_date or request.to_date):
        keys = sorted(
            backfill_units(dataset, request.from_date, request.to_date, now), reverse=True
        )
    else:
        keys = [unit.unit_key for unit in await routine_units(session, account, dataset, now)]
        keys = sorted(dict.fromkeys(keys), reverse=dataset.dated)
    return [
        PlannedUnit(
            key,
            priority=Priority.MANUAL
            if n < ON_DEMAND_DATED_UNITS or not dataset.dated
            else Priority.BACKFILL,
        )
        for n, key in enumerate(keys)
    ]


async def _queue_account(
    session: AsyncSession,
    request_id: uuid.UUID,
    account: AscAccount,
    datasets: list[Dataset],
    request: SyncRequest,
    now: dt.datetime,
    accepted: SyncAccepted,
) -> None:
    for dataset in datasets:
        units = await on_demand_units(session, account, dataset, request, now)
        done = await queue.enqueue_on_demand(
            session,
            request_id=request_id,
            account_id=account.id,
            workspace_id=account.workspace_id,
            key_id=account.key_id,
            dataset=dataset.name,
            units=units,
            now=now,
        )
        accepted.datasets[dataset.name] = accepted.datasets.get(dataset.name, 0) + done.units
        accepted.enqueued += done.units
        accepted.coalesced += done.coalesced


def _skip_reason(dataset: Dataset, account: AscAccount) -> str | None:
    if account.credential_status in PAUSING:
        return account.status_reason or "the account's credentials need attention"
    return missing_requirement(dataset, account)


async def request_account_sync(
    session: AsyncSession,
    registry: DatasetRegistry,
    account: AscAccount,
    request: SyncRequest,
    now: dt.datetime,
) -> SyncAccepted:
    """``POST /v1/accounts/{id}/sync``: a dataset this account cannot sync is a 422."""
    datasets = validate(registry, request, now)
    for dataset in datasets:
        missing = missing_requirement(dataset, account)
        if missing is not None:
            raise ValidationFailed.single(
                "body.datasets", f"{dataset.name}: {missing}", "capability"
            )
    request_id = await requests.create(
        session,
        workspace_id=account.workspace_id,
        account_id=account.id,
        datasets=[d.name for d in datasets],
    )
    accepted = SyncAccepted(sync_request_id=request_id, datasets={d.name: 0 for d in datasets})
    await _queue_account(session, request_id, account, datasets, request, now, accepted)
    return accepted


async def request_workspace_sync(
    session: AsyncSession,
    registry: DatasetRegistry,
    workspace_id: uuid.UUID,
    accounts: list[AscAccount],
    request: SyncRequest,
    now: dt.datetime,
) -> SyncAccepted:
    """``POST /v1/sync``: every account of the workspace; what an account cannot sync (a
    missing role, broken credentials) is skipped and listed with the reason."""
    datasets = validate(registry, request, now)
    request_id = await requests.create(
        session, workspace_id=workspace_id, account_id=None, datasets=[d.name for d in datasets]
    )
    accepted = SyncAccepted(sync_request_id=request_id, datasets={d.name: 0 for d in datasets})
    for account in accounts:
        runnable = []
        for dataset in datasets:
            reason = _skip_reason(dataset, account)
            if reason is None:
                runnable.append(dataset)
            else:
                accepted.skipped.append(
                    SkippedDataset(account_id=account.id, dataset=dataset.name, reason=reason)
                )
        await _queue_account(session, request_id, account, runnable, request, now, accepted)
    accepted.accounts = len(accounts)
    return accepted


def _counts(by_state: dict[str, int]) -> RequestUnitCounts:
    return RequestUnitCounts(
        total=sum(by_state.values()), **{s: by_state.get(s, 0) for s in requests.PROGRESS_STATES}
    )


async def progress(
    session: AsyncSession, workspace_id: uuid.UUID, request_id: uuid.UUID
) -> SyncRequestProgress:
    found = await requests.progress(session, workspace_id, request_id)
    if found is None:
        raise NotFound(f"no sync request with id {request_id}")
    total: dict[str, int] = {}
    for by_state in found.counts.values():
        for state, n in by_state.items():
            total[state] = total.get(state, 0) + n
    units = _counts(total)
    if found.finished_at is not None:
        state = SyncRequestState.FAILED if units.failed else SyncRequestState.SUCCEEDED
    elif units.running or units.succeeded or units.failed:
        state = SyncRequestState.RUNNING
    else:
        state = SyncRequestState.QUEUED
    return SyncRequestProgress(
        id=found.id,
        account_id=found.account_id,
        datasets=found.datasets,
        created_at=found.created_at,
        state=state,
        finished_at=found.finished_at,
        units=units,
        per_dataset={name: _counts(found.counts.get(name, {})) for name in found.datasets},
    )
