"""The ``beta_feedback`` dataset: TestFlight testers' crash and screenshot submissions.

Units: one per listed app, keyed by Apple's app id and planned from the database (like
``reviews``), so an App Store Connect webhook (``BETA_FEEDBACK_*_SUBMISSION_CREATED``) or an
on-demand refresh runs exactly that app's unit. A unit pages
``GET /v1/apps/{id}/betaFeedbackCrashSubmissions`` and ``…ScreenshotSubmissions`` newest first
and stops after the page that reaches a day before the newest submission already stored (the
overlap re-reads late arrivals); the first pass reads everything Apple lists. Screenshot URLs
are temporary: their metadata is stored (and refreshed each time a submission is re-read),
images are fetched on demand by whoever shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from app.asc.client import Params
from app.asc.jsonapi import Resource
from app.models import BetaFeedback
from app.resources.units import apple_datetime, int_or_none, plan_per_listed_app, text_or_none
from app.sync.contract import Dataset, UnitContext, UnitResult, account_planner

DATASET = "beta_feedback"
CADENCE = dt.timedelta(hours=1)
OVERLAP = dt.timedelta(days=1)
KINDS = {"crash": "betaFeedbackCrashSubmissions", "screenshot": "betaFeedbackScreenshotSubmissions"}
PARAMS: Params = {"sort": "-createdDate", "limit": 200}


def _screenshots(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [
        {
            "url": text_or_none(item.get("url")),
            "width": int_or_none(item.get("width")),
            "height": int_or_none(item.get("height")),
            "expires_at": text_or_none(item.get("expirationDate")),
        }
        for item in value
        if isinstance(item, dict)
    ]


def _crash_log_url(resource: Resource) -> str | None:
    relationship = resource.relationships.get("crashLog")
    links = relationship.get("links") if isinstance(relationship, dict) else None
    return text_or_none(links.get("related")) if isinstance(links, dict) else None


def parse(resource: Resource, kind: str) -> dict[str, Any] | None:
    a = resource.attributes
    submitted = apple_datetime(a.get("createdDate"))
    if submitted is None:
        return None
    builds, testers = resource.relationship_ids("build"), resource.relationship_ids("tester")
    return {
        "apple_id": resource.id,
        "kind": kind,
        "submitted_at": submitted,
        "comment": text_or_none(a.get("comment")),
        "tester_email": text_or_none(a.get("email")),
        "tester_apple_id": testers[0][1] if testers else None,
        "build_apple_id": builds[0][1] if builds else None,
        "device_model": text_or_none(a.get("deviceModel")),
        "device_family": text_or_none(a.get("deviceFamily")),
        "os_version": text_or_none(a.get("osVersion")),
        "app_platform": text_or_none(a.get("appPlatform")),
        "device_platform": text_or_none(a.get("devicePlatform")),
        "locale": text_or_none(a.get("locale")),
        "time_zone": text_or_none(a.get("timeZone")),
        "connection_type": text_or_none(a.get("connectionType")),
        "battery_percentage": int_or_none(a.get("batteryPercentage")),
        "app_uptime_ms": int_or_none(a.get("appUptimeInMilliseconds")),
        "crash_log_url": _crash_log_url(resource) if kind == "crash" else None,
        "screenshots": _screenshots(a.get("screenshots")) if kind == "screenshot" else [],
    }


async def run(ctx: UnitContext) -> UnitResult:
    session, account = ctx.session, ctx.account
    app = (
        await session.execute(
            text(
                "SELECT id FROM apps WHERE account_id = :a AND apple_id = :app "
                "AND removed_at IS NULL"
            ),
            {"a": account.id, "app": ctx.unit_key},
        )
    ).first()
    if app is None:
        return UnitResult(detail="App Store Connect no longer lists this app")
    stored = 0
    for kind, resource_type in KINDS.items():
        newest = await session.scalar(
            select(func.max(BetaFeedback.submitted_at)).where(
                BetaFeedback.app_id == app.id, BetaFeedback.kind == kind
            )
        )
        boundary = newest - OVERLAP if newest is not None else None
        records: dict[str, dict[str, Any]] = {}
        async for page in ctx.client.paginate(f"/v1/apps/{ctx.unit_key}/{resource_type}", PARAMS):
            parsed = [r for r in (parse(res, kind) for res in page.resources()) if r is not None]
            records.update((r["apple_id"], r) for r in parsed)
            if (
                boundary is not None
                and parsed
                and min(r["submitted_at"] for r in parsed) < boundary
            ):
                break
        stored += await _upsert(ctx, app.id, list(records.values()))
    return UnitResult(rows=stored)


async def _upsert(ctx: UnitContext, app_id: Any, records: list[dict[str, Any]]) -> int:
    if not records:
        return 0
    owned = {
        "workspace_id": ctx.account.workspace_id,
        "account_id": ctx.account.id,
        "app_id": app_id,
        "first_seen_at": ctx.now,
        "last_seen_at": ctx.now,
    }
    statement = insert(BetaFeedback).values([{**owned, **r} for r in records])
    refreshed = {
        name: statement.excluded[name]
        for name in ("comment", "screenshots", "crash_log_url", "last_seen_at")
    }
    await ctx.session.execute(
        statement.on_conflict_do_update(
            constraint="uq_beta_feedback_account_id_apple_id", set_=refreshed
        )
    )
    return len(records)


DATASET_SPEC = Dataset(
    name=DATASET,
    capability="testflight",
    cadence=CADENCE,
    plan=account_planner(plan_per_listed_app),
    plan_many=plan_per_listed_app,
    run=run,
)
