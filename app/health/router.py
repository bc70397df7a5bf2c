"""Liveness, readiness and Prometheus metrics for ops. No authentication."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from fastapi import APIRouter, Response

from app.errors import ServiceUnavailable
from app.health.schemas import Check, Liveness, Readiness
from app.health.service import readiness
from app.kit.deps import AppMetrics, AppSettings, Engine, Sessions
from app.kit.problems import problem_responses
from app.sync.deps import Registry
from app.sync.records import queue_depth
from app.sync.status import data_ages

router = APIRouter(tags=["health"])
log = logging.getLogger("orchard.health")


@router.get("/health", response_model=Liveness, operation_id="get_liveness")
async def get_liveness() -> Liveness:
    """Liveness: the process is up and serving. Touches nothing else; use it for restarts."""
    return Liveness()


@router.get(
    "/health/ready",
    responses=problem_responses(503),
)
async def get_readiness(settings: AppSettings, engine: Engine) -> Readiness:
    """Readiness: the database answers and its schema is at the code's migration head.

    On failure the 503 problem lists every check in `checks`, naming the one that failed.
    With no live sync worker (and `ORCHARD_EXPECT_WORKER` true) it answers 200 with
    `status: degraded`: requests are served, but data is not being refreshed.
    """
    required, advisory = await readiness(
        engine,
        expect_worker=settings.expect_worker,
        worker_stale_after=dt.timedelta(seconds=settings.worker_stale_seconds),
    )
    checks = [Check(name=r.name, ok=r.ok, detail=r.detail) for r in required + advisory]
    failed = [r for r in required if not r.ok]
    if failed:
        raise ServiceUnavailable(
            "not ready: " + "; ".join(f"{c.name}: {c.detail}" for c in failed),
            extensions={"checks": [c.model_dump() for c in checks]},
        )
    degraded = any(not r.ok for r in advisory)
    return Readiness(status="degraded" if degraded else "ready", checks=checks)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def get_metrics(metrics: AppMetrics, sessions: Sessions, registry: Registry) -> Response:
    """Prometheus metrics in the text exposition format."""
    try:
        async with asyncio.timeout(2), sessions() as session:
            depth = await queue_depth(session)
            ages = await data_ages(session, registry, dt.datetime.now(dt.UTC))
        for state in ("queued", "waiting", "running", "paused", "failed"):
            metrics.queue_depth.labels(state).set(depth.get(state, 0))
        for dataset, age in ages.items():
            metrics.data_age.labels(dataset).set(age)
    except Exception:  # the database being down must not hide the other metrics
        log.warning("queue depth unavailable for /metrics")
    return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
