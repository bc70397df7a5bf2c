"""Sync status for ops and consumers, backfill requests, and per-date availability."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed
from app.models import AscAccount
from app.sync import records
from app.sync.contract import (
    Dataset,
    DatasetRegistry,
    PublicDataset,
    missing_requirement,
)
from app.sync.on_demand import dataset_or_422
from app.sync.schemas import (
    Availability,
    AvailabilityEntry,
    DatasetState,
    DateAvailabilityState,
    LastError,
    PublicSyncStatusEntry,
    RateBudget,
    SourceState,
    SyncStatusEntry,
    UnitCounts,
)

PAUSING = {"revoked_or_invalid", "agreement_required"}
MAX_AVAILABILITY_DAYS = 400
#: Apple's reporting days are Pacific-time calendar days.
PACIFIC = ZoneInfo("America/Los_Angeles")
REPORT_GRACE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Freshness:
    data_as_of: dt.datetime | None
    age: dt.timedelta | None
    target: dt.timedelta | None

    @property
    def lagging(self) -> bool:
        return self.target is not None and (self.age is None or self.age > self.target)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=PACIFIC)


def freshness(
    dataset: Dataset,
    last_success: dt.datetime | None,
    newest_date: dt.date | None,
    now: dt.datetime,
) -> Freshness:
    """How old a dataset's stored data is, and how old it may be (see ``SyncStatusEntry``)."""
    if dataset.dated:
        as_of = _day_start(newest_date) if newest_date is not None else None
        target = (
            now - _day_start(dataset.latest_expected(now)) + REPORT_GRACE
            if dataset.latest_expected is not None
            else None
        )
    else:
        as_of, target = last_success, 2 * dataset.cadence
    age = max(now - as_of, dt.timedelta(0)) if as_of is not None else None
    return Freshness(as_of, age, target)


def _state(
    account: AscAccount,
    dataset: Dataset,
    counts: dict[str, Any],
    state_row: Any,
    lag_days: int | None,
    now: dt.datetime,
) -> tuple[DatasetState, str | None]:
    if account.credential_status in PAUSING:
        return DatasetState.PAUSED_CREDENTIALS, account.status_reason
    missing = missing_requirement(dataset, account)
    if missing is not None:
        return DatasetState.DISABLED_MISSING_CAPABILITY, missing
    if counts.get("running"):
        return DatasetState.RUNNING, None
    last_success = state_row.last_success_at if state_row is not None else None
    last_error_at = state_row.last_error_at if state_row is not None else None
    if counts.get("failed") and (
        last_success is None or (last_error_at and last_error_at > last_success)
    ):
        message = state_row.last_error_message if state_row is not None else None
        return DatasetState.FAILING, message or "units failed after retries"
    if lag_days is not None and lag_days > 1:
        return DatasetState.LAGGING, f"{lag_days} days behind what Apple has published"
    if lag_days is None and dataset.dated and dataset.latest_expected is not None:
        return DatasetState.LAGGING, "nothing fetched yet"
    if not dataset.dated and last_success is None and not any(counts.values()):
        # No unit at all: nothing exists to fetch yet (an analytics report Apple has not
        # produced, say) — not a sync falling behind.
        return DatasetState.OK, "nothing to fetch yet"
    if not dataset.dated and freshness(dataset, last_success, None, now).lagging:
        return DatasetState.LAGGING, "not refreshed within twice its cadence"
    return DatasetState.OK, None


def _report_version(dataset: Dataset, learned: dict[tuple[str, str, str], str]) -> str | None:
    report = dataset.report
    if report is None:
        return None
    key = (report.report_type, report.report_subtype, report.frequency)
    return learned.get(key, report.default_version)


async def sync_status(
    session: AsyncSession,
    registry: DatasetRegistry,
    accounts: list[AscAccount],
    now: dt.datetime,
) -> list[SyncStatusEntry]:
    facts = await records.status_facts(
        session, [account.id for account in accounts], [account.key_id for account in accounts]
    )
    counts, states, newest = facts.counts, facts.states, facts.newest
    budgets, versions = facts.budgets, facts.versions
    entries = []
    for account in accounts:
        budget_row = budgets.get(account.key_id)
        budget = (
            RateBudget(
                limit=budget_row.hour_limit,
                remaining=budget_row.remaining,
                observed_at=budget_row.observed_at,
                blocked_until=budget_row.blocked_until,
            )
            if budget_row is not None
            else None
        )
        for dataset in registry.all():
            key = (account.id, dataset.name)
            unit_counts = counts.get(key, {})
            state_row = states.get(key)
            newest_date = newest.get(key)
            expected = dataset.latest_expected(now) if dataset.latest_expected else None
            lag = (expected - newest_date).days if expected and newest_date else None
            if lag is not None:
                lag = max(lag, 0)
            last_success = state_row.last_success_at if state_row else None
            fresh = freshness(dataset, last_success, newest_date, now)
            state, reason = _state(account, dataset, unit_counts, state_row, lag, now)
            next_run = unit_counts.get("next_run")
            if next_run is None and not dataset.dated and last_success is not None:
                # Everything ran: the scheduler plans the next pass one cadence after this one.
                next_run = last_success + dataset.cadence
            last_error = None
            if state_row is not None and state_row.last_error_code:
                last_error = LastError(
                    code=state_row.last_error_code,
                    message=state_row.last_error_message or "",
                    at=state_row.last_error_at,
                )
            entries.append(
                SyncStatusEntry(
                    account_id=account.id,
                    account_name=account.name,
                    dataset=dataset.name,
                    state=state,
                    reason=reason,
                    last_success_at=state_row.last_success_at if state_row else None,
                    last_attempt_at=state_row.last_attempt_at if state_row else None,
                    next_run_at=next_run,
                    newest_available_date=newest_date,
                    latest_expected_date=expected,
                    lag_days=lag,
                    data_as_of=fresh.data_as_of,
                    age_seconds=fresh.age.total_seconds() if fresh.age is not None else None,
                    cadence_seconds=dataset.cadence.total_seconds(),
                    freshness_target_seconds=(
                        fresh.target.total_seconds() if fresh.target is not None else None
                    ),
                    units=UnitCounts(
                        queued=unit_counts.get("queued", 0),
                        waiting=unit_counts.get("waiting", 0),
                        running=unit_counts.get("running", 0),
                        failed=unit_counts.get("failed", 0),
                        paused=unit_counts.get("paused", 0),
                    ),
                    last_error=last_error,
                    last_unit_requests=state_row.last_unit_requests if state_row else None,
                    rate_budget=budget,
                    report_version=_report_version(dataset, versions),
                )
            )
    return entries


async def availability(
    session: AsyncSession,
    registry: DatasetRegistry,
    account: AscAccount,
    dataset_name: str,
    start: dt.date,
    end: dt.date,
) -> Availability:
    dataset = dataset_or_422(registry, dataset_name, "query.dataset")
    unit_date, backfill = dataset.unit_date, dataset.backfill
    has_dates = dataset.dated and unit_date is not None and backfill is not None
    if not has_dates and dataset.availability is None:
        raise ValidationFailed.single(
            "query.dataset", f"{dataset.name} has no report dates", "not_dated"
        )
    if start > end:
        raise ValidationFailed.single("query.from", "must not be after 'to'", "out_of_range")
    if (end - start).days >= MAX_AVAILABILITY_DAYS:
        raise ValidationFailed.single(
            "query.to", f"at most {MAX_AVAILABILITY_DAYS} days per request", "out_of_range"
        )
    if dataset.availability is not None:
        listed = await dataset.availability(session, account.id, start, end)
        return Availability(
            account_id=account.id,
            dataset=dataset.name,
            items=[
                AvailabilityEntry(
                    report_date=e.report_date,
                    state=DateAvailabilityState(e.state),
                    fetched_at=e.fetched_at,
                    row_count=e.row_count,
                    detail=e.detail,
                    app_id=e.app_id,
                    report=e.report,
                    processing_date=e.processing_date,
                    vintages=e.vintages,
                )
                for e in listed
            ],
        )
    if unit_date is None or backfill is None:
        raise ValidationFailed.single(
            "query.dataset", f"{dataset.name} has no report dates", "not_dated"
        )
    rows = await records.availability_range(session, account.id, dataset.name, start, end)
    now = dt.datetime.now(dt.UTC)
    items = []
    keys = dataset.unit_keys(start, end) if dataset.unit_keys else backfill(start, end, now)
    for unit_key in sorted(keys):
        day = unit_date(unit_key)
        row = rows.get(day)
        if row is None:
            items.append(
                AvailabilityEntry(
                    report_date=day,
                    state=DateAvailabilityState.NOT_FETCHED,
                    fetched_at=None,
                    row_count=None,
                    detail=None,
                )
            )
        else:
            items.append(
                AvailabilityEntry(
                    report_date=day,
                    state=DateAvailabilityState(row.state),
                    fetched_at=row.fetched_at,
                    row_count=row.row_count,
                    detail=row.detail,
                )
            )
    return Availability(account_id=account.id, dataset=dataset.name, items=items)


def _public_state(
    dataset: PublicDataset, counts: dict[str, Any], state_row: Any, now: dt.datetime
) -> tuple[DatasetState, str | None]:
    if not dataset.enabled:
        return DatasetState.DISABLED_MISSING_CAPABILITY, dataset.disabled_reason or "switched off"
    if counts.get("running"):
        return DatasetState.RUNNING, None
    last_success = state_row.last_success_at if state_row is not None else None
    last_error_at = state_row.last_error_at if state_row is not None else None
    if counts.get("failed") and (
        last_success is None or (last_error_at and last_error_at > last_success)
    ):
        message = state_row.last_error_message if state_row is not None else None
        return DatasetState.FAILING, message or "units failed after retries"
    if last_success is None:
        return DatasetState.LAGGING, "nothing fetched yet"
    if now - last_success > 2 * dataset.cadence:
        return DatasetState.LAGGING, "not refreshed within twice its cadence"
    return DatasetState.OK, None


async def public_sync_status(
    session: AsyncSession, registry: DatasetRegistry, workspace_id: uuid.UUID, now: dt.datetime
) -> list[PublicSyncStatusEntry]:
    """Every public dataset, with the sources the workspace's data comes from (one statement:
    the datasets' counts and states with every dataset's source query)."""
    datasets = registry.public()
    queries = {
        dataset.name: dataset.sources(workspace_id)
        for dataset in datasets
        if dataset.sources is not None
    }
    facts = await records.public_status_facts(
        session, [(query.sql, query.params) for query in queries.values()]
    )
    rows = dict(zip(queries, facts.sources, strict=True))
    entries = []
    for dataset in datasets:
        unit_counts = facts.counts.get(dataset.name, {})
        state_row = facts.states.get(dataset.name)
        state, reason = _public_state(dataset, unit_counts, state_row, now)
        query = queries.get(dataset.name)
        sources = query.read(rows[dataset.name], now, dataset.cadence) if query is not None else []
        last_error = None
        if state_row is not None and state_row.last_error_code:
            last_error = LastError(
                code=state_row.last_error_code,
                message=state_row.last_error_message or "",
                at=state_row.last_error_at,
            )
        entries.append(
            PublicSyncStatusEntry(
                dataset=dataset.name,
                state=state,
                reason=reason,
                last_success_at=state_row.last_success_at if state_row else None,
                last_attempt_at=state_row.last_attempt_at if state_row else None,
                next_run_at=unit_counts.get("next_run"),
                units=UnitCounts(
                    queued=unit_counts.get("queued", 0),
                    waiting=unit_counts.get("waiting", 0),
                    running=unit_counts.get("running", 0),
                    failed=unit_counts.get("failed", 0),
                    paused=unit_counts.get("paused", 0),
                ),
                last_error=last_error,
                sources=[
                    SourceState(
                        key=source.key,
                        state=source.state,
                        detail=source.detail,
                        checked_at=source.checked_at,
                        last_ok_at=source.last_ok_at,
                    )
                    for source in sources
                ],
            )
        )
    return entries


async def data_ages(
    session: AsyncSession, registry: DatasetRegistry, now: dt.datetime
) -> dict[str, float]:
    """Per dataset, the age of the stalest linked account's data (for a ``/metrics`` gauge:
    one series per dataset, whatever the number of accounts; the detail is in the API)."""
    newest = await records.stalest_per_dataset(session)
    ages: dict[str, float] = {}
    for dataset in registry.all():
        last_success, newest_date = newest.get(dataset.name, (None, None))
        age = freshness(dataset, last_success, newest_date, now).age
        if age is not None:
            ages[dataset.name] = age.total_seconds()
    return ages
