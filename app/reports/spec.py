"""A report dataset is a spec: one declarative description per Apple report drives its
planning, backfill, unit and registration.

:class:`ReportSpec` says which report (type, subtype, period), how its file is laid out, where
its rows go and what to rebuild after a load; :func:`report_dataset` turns it into the sync
engine's :class:`~app.sync.contract.Dataset`. Reports that need more than one file per unit
(finance) use :func:`dated_dataset` with their own unit and still share the period logic.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.client import Params
from app.asc.errors import AscInvalidParameter
from app.asc.report_download import SALES_REPORTS_PATH, sales_report_params
from app.reports import calendar, partitions
from app.reports.ingest import Layout, Streamed, delete_partition
from app.reports.periods import Period
from app.reports.units import ReportRequest, fetch_report_unit
from app.reports.versions import report_version
from app.resources import app_links
from app.sync import records
from app.sync.contract import (
    AvailableHook,
    Dataset,
    Outcome,
    PlanBatchContext,
    PlannedUnit,
    ReportIdentity,
    UnitContext,
    UnitResult,
    UnitRunner,
    account_planner,
)

#: Re-fetch the newest period once more a day later: Apple's late files (FACTS §5.7).
LATE_FILE_REFRESH = dt.timedelta(hours=20)

#: Runs in the unit's transaction after a file was loaded (or found empty): rebuilds what is
#: derived from the period's rows (a rollup), so it is never stale.
AfterLoad = Callable[[AsyncSession, uuid.UUID, dt.date], Awaitable[object]]
#: Apple refused a parameter: a result to record instead (e.g. "no data"), or None to fail.
OnRefusal = Callable[[UnitContext, AscInvalidParameter], UnitResult | None]
#: Builds, in the unit's transaction (after the app-list lock), the Python-side columns of a
#: streamed load (``app.reports.ingest.Streamed``) for one account and report date.
StreamedColumns = Callable[[AsyncSession, uuid.UUID, dt.date], Awaitable[Streamed]]


@dataclass(frozen=True)
class ReportSpec:
    """One Apple report read through ``GET /v1/salesReports`` into one table."""

    dataset: str
    report_type: str
    report_subtype: str
    period: Period
    layout: Layout
    table: str
    capability: str = "sales"
    #: Columns computed in SQL while loading (``target → expression`` over ``typed.*``).
    derived: Mapping[str, str] = field(default_factory=dict)
    #: Join the rows to the account's apps while loading (see :mod:`app.resources.app_links`).
    links_apps: bool = False
    #: Partition columns beyond account and report date, with their value for this report.
    partition_extra: Mapping[str, Any] = field(default_factory=dict)
    #: Derive columns in Python while streaming straight into ``table`` (instead of
    #: ``derived`` and the app joins in SQL over a staging table): one pass over the rows.
    streamed: StreamedColumns | None = None
    after_load: AfterLoad | None = None
    on_refusal: OnRefusal | None = None
    #: A report date became available for the first time (see ``Dataset.on_available``).
    on_available: AvailableHook | None = None

    @property
    def version(self) -> str:
        return report_version(self.report_type, self.report_subtype)


def dated_dataset(
    name: str,
    period: Period,
    run: UnitRunner,
    *,
    capability: str,
    needs_vendor_number: bool = True,
    late_refresh: dt.timedelta = LATE_FILE_REFRESH,
    on_available: AvailableHook | None = None,
    report: ReportIdentity | None = None,
) -> Dataset:
    """A dataset with one unit per report period of ``period``; the newest period is fetched
    again ``late_refresh`` after it was (Apple's late files)."""

    async def plan_many(ctx: PlanBatchContext) -> dict[uuid.UUID, list[PlannedUnit]]:
        newest, *older = period.routine(ctx.now)
        if ctx.skip_kept_of is not None:
            return await _due(ctx, name, period, [newest, *older], late_refresh)
        provisional = await _provisional(ctx, name, period, [newest, *older])
        return {
            account.id: [
                PlannedUnit(
                    period.unit_key(day),
                    refresh_after=provisional.get(
                        (account.id, day), late_refresh if day == newest else None
                    ),
                )
                for day in [newest, *older]
            ]
            for account in ctx.accounts
        }

    def backfill(start: dt.date, end: dt.date, now: dt.datetime) -> list[str]:
        # Periods Apple has not published yet are left to the routine plan.
        newest = period.latest(now)
        return [period.unit_key(day) for day in period.periods(start, end) if day <= newest]

    def unit_keys(start: dt.date, end: dt.date) -> list[str]:
        return [period.unit_key(day) for day in period.periods(start, end)]

    return Dataset(
        name=name,
        capability=capability,
        cadence=period.cadence,
        plan=account_planner(plan_many),
        plan_many=plan_many,
        run=run,
        dated=True,
        needs_vendor_number=needs_vendor_number,
        retention=period.retention,
        backfill=backfill,
        unit_keys=unit_keys,
        unit_date=period.unit_date,
        latest_expected=period.latest,
        on_available=on_available,
        report=report,
    )


async def _provisional(
    ctx: PlanBatchContext, dataset: str, period: Period, days: list[dt.date]
) -> dict[tuple[uuid.UUID, dt.date], dt.timedelta]:
    """Routine periods whose "no sales" answer is still provisional (FACTS §8): asked again
    once after each of Apple's daily batches until one answer comes after the window closes.

    The refresh is "finished before Apple's latest batch": a unit re-runs once a day, after
    Apple's 08:00 PT publication, never in the hours before it (a re-check then would only
    hear the same answer again). A day that gets its file becomes ``published`` (the change
    is kept in ``dataset_availability_changes``); a ``no_data`` answered after the window is
    final and is not asked again.
    """
    accounts = [account.id for account in ctx.accounts]
    fetched = await records.no_data_fetches(ctx.session, accounts, dataset, days)
    since_batch = ctx.now - calendar.latest_batch(ctx.now)
    return {
        (account_id, day): since_batch
        for (account_id, day), at in fetched.items()
        if at < period.available_at(day) + calendar.PROVISIONAL
    }


async def _due(
    ctx: PlanBatchContext,
    dataset: str,
    period: Period,
    days: list[dt.date],
    late_refresh: dt.timedelta,
) -> dict[uuid.UUID, list[PlannedUnit]]:
    """``plan_many``'s units for a planning round, kept ones left out: the same refresh for
    each (the newest period's late refresh, a provisional period's daily one), decided in
    the one statement that leaves the kept out."""
    since_batch = ctx.now - calendar.latest_batch(ctx.now)
    periods = [
        (
            day,
            period.unit_key(day),
            late_refresh if day == days[0] else None,
            period.available_at(day) + calendar.PROVISIONAL,
        )
        for day in days
    ]
    due = await records.due_periods(
        ctx.session, [a.id for a in ctx.accounts], dataset, periods, since_batch, ctx.now
    )
    planned: dict[uuid.UUID, list[PlannedUnit]] = {}
    for account_id, day, provisional in due:
        refresh = since_batch if provisional else (late_refresh if day == days[0] else None)
        planned.setdefault(account_id, []).append(
            PlannedUnit(period.unit_key(day), refresh_after=refresh)
        )
    return planned


def report_dataset(spec: ReportSpec) -> Dataset:
    return dated_dataset(
        spec.dataset,
        spec.period,
        _unit(spec),
        capability=spec.capability,
        on_available=spec.on_available,
        report=ReportIdentity(
            spec.report_type, spec.report_subtype, spec.period.frequency, spec.version
        ),
    )


def _unit(spec: ReportSpec) -> UnitRunner:
    async def run(ctx: UnitContext) -> UnitResult:
        vendor = ctx.account.vendor_number
        if vendor is None:  # the planner never plans this; a manual request could
            return UnitResult(Outcome.FAILED, detail="the account has no vendor number")
        report_date = spec.period.unit_date(ctx.unit_key)
        partition = {"account_id": ctx.account.id, **spec.partition_extra}
        partition["report_date"] = report_date
        # The day is deleted by its workspace too: a report table's workspace index finds it
        # (``sales_rows`` has no index on its account and day; migration 21_sales_rows_one_index).
        replace = {"workspace_id": ctx.account.workspace_id, **partition}
        # Before the unit writes anything: a new leaf is created in its own short transaction.
        await partitions.ensure_leaf(ctx.session, spec.table, spec.period.frequency, report_date)
        await partitions.analyze_stale(ctx.session, spec.table)
        if spec.links_apps:
            await app_links.lock_for_report(ctx.session, ctx.account.id)

        def params(version: str | None) -> Params:
            return sales_report_params(
                vendor,
                spec.report_type,
                spec.report_subtype,
                spec.period.frequency,
                ctx.unit_key,
                version,
            )

        identity = (spec.report_type, spec.report_subtype, spec.period.frequency)
        # Apple named a newer version before: ask with it at once (FACTS §8).
        asked = await records.learned_report_version(ctx.session, *identity) or spec.version
        derived = dict(spec.derived)
        streamed = None
        if spec.streamed is not None:
            streamed = await spec.streamed(ctx.session, ctx.account.id, report_date)
        elif spec.links_apps:
            derived["app_id"] = app_links.APP_ID_SQL
        try:
            result, _ = await fetch_report_unit(
                ctx,
                ReportRequest(
                    path=SALES_REPORTS_PATH,
                    params=params,
                    version=asked,
                    available_at=spec.period.available_at(report_date),
                    expired=spec.period.expired(
                        report_date,
                        ctx.now,
                        newest_known=(
                            await records.newest_available(ctx.session, [ctx.account.id])
                        ).get((ctx.account.id, ctx.dataset)),
                    ),
                ),
                spec.layout,
                table=spec.table,
                constants={"workspace_id": ctx.account.workspace_id, **partition},
                replace=replace,
                derived=None if streamed is not None else derived or None,
                joins=app_links.APP_JOINS if spec.links_apps and streamed is None else "",
                streamed=streamed,
            )
        except AscInvalidParameter as error:
            instead = spec.on_refusal(ctx, error) if spec.on_refusal is not None else None
            if instead is None:
                raise
            await delete_partition(ctx.session, spec.table, replace)
            result = instead
        drift = result.notes.get("version_drift")
        if drift is not None:
            await records.learn_report_version(
                ctx.session, *identity, version=drift["latest"], previous=drift["requested"]
            )
        loaded = result.outcome is Outcome.PUBLISHED
        if loaded and streamed is not None and streamed.after is not None:
            await streamed.after(ctx.session)  # what the stream counted on the way
        elif spec.after_load is not None and result.outcome in (Outcome.PUBLISHED, Outcome.NO_DATA):
            await spec.after_load(ctx.session, ctx.account.id, report_date)
        return result

    return run
