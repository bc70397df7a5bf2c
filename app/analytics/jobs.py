"""The analytics datasets (ANALYTICS.md, FACTS §4.7).

* ``analytics_requests`` — one unit per app: make sure Apple has an ``ONGOING`` report request
  (reuse the listed one; create it when missing or stopped for inactivity, which needs an Admin
  key), optionally one ``ONE_TIME_SNAPSHOT`` for history (processed once), then list the
  requests' report instances and record the new ones.
* ``analytics_instances`` — one unit per report instance (report, granularity, processing
  date): every segment downloaded at once, checked and loaded; a re-run replaces only that
  instance's rows (its vintage).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.analytics import apple, rollups
from app.analytics import sync_repository as repo
from app.analytics.availability import list_availability
from app.analytics.catalog import BY_REPORT, Report
from app.analytics.segments import TABLE, InstanceTarget, load_segment
from app.asc.errors import AscConflict, AscForbidden
from app.config import Settings
from app.credentials.states import Capability, set_capability
from app.reports import partitions
from app.resources.units import plan_per_listed_app
from app.sync.contract import (
    Dataset,
    Outcome,
    PlanBatchContext,
    PlannedUnit,
    UnitContext,
    UnitResult,
    account_planner,
)

REQUESTS_DATASET = "analytics_requests"
INSTANCES_DATASET = "analytics_instances"
ONGOING, SNAPSHOT = "ONGOING", "ONE_TIME_SNAPSHOT"

ADMIN_REQUIRED = (
    "an Admin must create the report request once: App Store Connect lets only Admin keys "
    "create analytics report requests (after that, Sales and Reports or Finance keys can read "
    "them). Link an Admin key once, or create the request with one."
)
STOPPED_NEEDS_ADMIN = (
    "Apple stopped this app's report request for inactivity (stoppedDueToInactivity); only an "
    "Admin key can replace it with a new one."
)
NO_READ = "needs the Admin, Sales and Reports or Finance role to read analytics reports"


async def plan_instances(ctx: PlanBatchContext) -> dict[uuid.UUID, list[PlannedUnit]]:
    pending = await repo.pending_instances(
        ctx.session, [a.id for a in ctx.accounts], skip_kept_of=ctx.skip_kept_of, now=ctx.now
    )
    return {account_id: [PlannedUnit(key) for key in keys] for account_id, keys in pending.items()}


# --- requests ------------------------------------------------------------------------------


def requests_unit(settings: Settings) -> Any:
    async def run(ctx: UnitContext) -> UnitResult:
        app = await repo.listed_app(ctx.session, ctx.account.id, ctx.unit_key)
        if app is None:
            return UnitResult(detail="App Store Connect no longer lists this app")
        try:
            ongoing = await _ensure(ctx, app, ONGOING)
        except AscForbidden as error:
            await set_capability(
                ctx.session,
                ctx.account.id,
                Capability.ANALYTICS,
                available=False,
                reason=f"App Store Connect refused ({error.code}): {NO_READ}",
            )
            return UnitResult(detail=NO_READ)
        await _record_capability(ctx)
        notes: dict[str, Any] = {"ongoing": ongoing}
        discovered = 0
        if ongoing["state"] == "active":
            discovered += await _discover(ctx, app, ONGOING, ongoing["id"], notes)
        if settings.analytics_snapshot:
            snapshot = await _snapshot(ctx, app)
            notes["snapshot"] = snapshot
            if snapshot["state"] == "active":
                found = await _discover(ctx, app, SNAPSHOT, snapshot["id"], notes)
                discovered += found
                if found:  # a snapshot publishes its history once: it is processed now
                    await _record(ctx, app, SNAPSHOT, snapshot["id"], "processed", None)
        return UnitResult(Outcome.DONE, rows=discovered, notes=notes)

    return run


async def _record(
    ctx: UnitContext,
    app: repo.ListedApp,
    access: str,
    request_id: str | None,
    state: str,
    detail: str | None,
    *,
    mine: bool = False,
) -> dict[str, Any]:
    await repo.record_request(
        ctx.session,
        workspace_id=ctx.account.workspace_id,
        account_id=ctx.account.id,
        app_id=app.id,
        access_type=access,
        apple_request_id=request_id,
        state=state,
        detail=detail,
        created_by_orchard=mine,
        now=ctx.now,
    )
    return {"id": request_id, "state": state, "detail": detail}


async def _ensure(ctx: UnitContext, app: repo.ListedApp, access: str) -> dict[str, Any]:
    """Reuse Apple's live request, else create one (replacing a stopped one)."""
    listed = await apple.list_requests(ctx.client, app.apple_id, access)
    live = [r for r in listed if not r.stopped]
    if live:
        return await _record(ctx, app, access, live[0].id, "active", None)
    stopped = [r for r in listed if r.stopped]
    try:
        for request in stopped:
            # A stopped request still blocks a new one (409): Apple's recovery is DELETE + POST.
            await apple.delete_request(ctx.client, request.id)
        created = await apple.create_request(ctx.client, app.apple_id, access)
    except AscForbidden:
        if stopped:
            return await _record(ctx, app, access, stopped[0].id, "stopped", STOPPED_NEEDS_ADMIN)
        return await _record(ctx, app, access, None, "admin_required", ADMIN_REQUIRED)
    except AscConflict:
        # Created meanwhile: most often by this very POST, whose first answer was lost and
        # whose retry met its own request (or another process, a person): list and reuse.
        again = await apple.list_requests(ctx.client, app.apple_id, access)
        usable = [r for r in again if not r.stopped]
        if usable:
            return await _record(ctx, app, access, usable[0].id, "active", None, mine=True)
        conflict = "App Store Connect says a request exists (409) but lists none"
        return await _record(ctx, app, access, None, "unavailable", conflict)
    replaced = "replaced a request Apple had stopped for inactivity" if stopped else None
    return await _record(ctx, app, access, created.id, "active", replaced, mine=True)


async def _snapshot(ctx: UnitContext, app: repo.ListedApp) -> dict[str, Any]:
    """One ONE_TIME_SNAPSHOT per app, made once (Apple allows one a month)."""
    stored = await repo.stored_request(ctx.session, ctx.account.id, app.id, SNAPSHOT)
    if stored is not None and stored.state == "processed":
        return {"id": stored.apple_request_id, "state": "processed", "detail": None}
    if stored is not None and stored.state == "active" and stored.apple_request_id:
        return {"id": stored.apple_request_id, "state": "active", "detail": None}
    listed = await apple.list_requests(ctx.client, app.apple_id, SNAPSHOT)
    if listed:
        return await _record(ctx, app, SNAPSHOT, listed[0].id, "active", None)
    try:
        created = await apple.create_request(ctx.client, app.apple_id, SNAPSHOT)
    except AscForbidden:
        return await _record(ctx, app, SNAPSHOT, None, "admin_required", ADMIN_REQUIRED)
    except AscConflict:
        # Our own POST's retry meeting its request, or F-ASC's "ghost" snapshot (not listed,
        # yet a POST answers 409): list once more; a ghost has nothing to read.
        again = await apple.list_requests(ctx.client, app.apple_id, SNAPSHOT)
        if again:
            return await _record(ctx, app, SNAPSHOT, again[0].id, "active", None, mine=True)
        detail = "App Store Connect says a snapshot request exists (409) but does not list it"
        return await _record(ctx, app, SNAPSHOT, None, "unavailable", detail)
    return await _record(ctx, app, SNAPSHOT, created.id, "active", None, mine=True)


async def _record_capability(ctx: UnitContext) -> None:
    """``analytics`` is unavailable while no app of the account has a usable ONGOING request
    because the key may not create one."""
    if await repo.active_ongoing_count(ctx.session, ctx.account.id):
        await set_capability(
            ctx.session, ctx.account.id, Capability.ANALYTICS, available=True, reason=None
        )
    else:
        if await repo.blocked_ongoing_count(ctx.session, ctx.account.id):
            await set_capability(
                ctx.session,
                ctx.account.id,
                Capability.ANALYTICS,
                available=False,
                reason=ADMIN_REQUIRED,
                code="admin_required",
            )


async def _discover(
    ctx: UnitContext, app: repo.ListedApp, access: str, request_id: str, notes: dict[str, Any]
) -> int:
    reports = await apple.wanted_reports(ctx.client, request_id)
    missing = sorted({r.name for r in BY_REPORT.values()} - {r.name for r in reports.values()})
    if missing:
        # A wrong name silently returns nothing (ANALYTICS §9): say so instead.
        notes.setdefault("missing_reports", {})[access] = missing
        ctx.log.warning("analytics reports missing", extra={"missing": missing})
    found: list[repo.NewInstance] = []
    for report_id, report in reports.items():
        for instance in await apple.list_instances(ctx.client, report_id, report.granularities):
            found.append(
                repo.NewInstance(
                    instance.id,
                    report.report.value,
                    report.name,
                    instance.granularity,
                    instance.processing_date,
                )
            )
    return await repo.add_instances(
        ctx.session,
        workspace_id=ctx.account.workspace_id,
        account_id=ctx.account.id,
        app_id=app.id,
        access_type=access,
        instances=found,
    )


# --- instances -----------------------------------------------------------------------------


async def run_instance(ctx: UnitContext) -> UnitResult:
    stored = await repo.find_instance(ctx.session, ctx.account.id, ctx.unit_key)
    if stored is None:
        return UnitResult(detail="Orchard never discovered this instance")
    report = BY_REPORT[Report(stored.report)]
    # The instance's leaf, before the unit writes (a new one in its own short transaction).
    await partitions.ensure_leaf(ctx.session, TABLE, stored.granularity, stored.processing_date)
    segments = await apple.list_segments(ctx.client, ctx.unit_key)
    await repo.delete_instance_rows(ctx.session, stored)
    target = InstanceTarget(
        stored.workspace_id,
        stored.app_id,
        stored.id,
        report,
        stored.granularity,
        stored.processing_date,
    )
    rows, header, loaded = 0, None, 0
    notes: dict[str, Any] = {}
    for index, segment in enumerate(segments):
        if segment.size == 0:
            continue  # nothing in it (Airbyte skips these too)
        result = await load_segment(ctx.session, ctx.client, target, index, segment, header)
        header = header or result.header or None
        rows += result.rows
        loaded += 1
        if result.unknown_columns:
            notes["unknown_columns"] = result.unknown_columns
    dates = await repo.replace_vintages(ctx.session, stored, ctx.account.id)
    await rollups.rebuild(
        ctx.session,
        app_id=stored.app_id,
        report=stored.report,
        granularity=stored.granularity,
        dates=dates,
    )
    await repo.mark_loaded(ctx.session, stored.id, rows=rows, segments=loaded, now=ctx.now)
    return UnitResult(Outcome.DONE, rows=rows, notes=notes)


def datasets(settings: Settings) -> list[Dataset]:
    return [
        Dataset(
            name=REQUESTS_DATASET,
            # Runs whatever the verification probe said: it records why not itself (and an
            # Admin may create the request in App Store Connect meanwhile).
            capability=None,
            cadence=dt.timedelta(hours=6),
            plan=account_planner(plan_per_listed_app),
            plan_many=plan_per_listed_app,
            run=requests_unit(settings),
        ),
        Dataset(
            name=INSTANCES_DATASET,
            capability=None,
            cadence=dt.timedelta(minutes=15),
            plan=account_planner(plan_instances),
            plan_many=plan_instances,
            run=run_instance,
            availability=list_availability,
        ),
    ]
