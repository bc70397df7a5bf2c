"""Readiness checks. Each check names itself so ops can see which one failed."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.migrate import current_revisions, head_revisions

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


async def check_database(engine: AsyncEngine) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means not ready
        return CheckResult("database", False, f"database unreachable ({type(exc).__name__})")
    return CheckResult("database", True, "reachable")


async def check_migrations(engine: AsyncEngine, heads: set[str]) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            current = await current_revisions(engine)
    except Exception as exc:
        return CheckResult("migrations", False, f"cannot read revision ({type(exc).__name__})")
    if current != heads:
        return CheckResult(
            "migrations",
            False,
            f"schema at {sorted(current) or 'nothing'}, code expects {sorted(heads)}: "
            "run `orchard migrate`",
        )
    return CheckResult("migrations", True, f"at head {sorted(heads)}")


async def check_workers(engine: AsyncEngine, stale_after: dt.timedelta) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as conn:
            alive = await conn.scalar(
                text(
                    "SELECT count(*) FROM sync_workers WHERE stopped_at IS NULL "
                    "AND last_beat_at > now() - make_interval(secs => :s)"
                ),
                {"s": stale_after.total_seconds()},
            )
    except Exception as exc:
        return CheckResult("workers", False, f"cannot read heartbeats ({type(exc).__name__})")
    if not alive:
        return CheckResult(
            "workers",
            False,
            f"no sync worker has sent a heartbeat in {stale_after.total_seconds():.0f}s: "
            "data is not being refreshed (run `orchard worker`, or serve without --no-worker)",
        )
    return CheckResult("workers", True, f"{alive} alive")


async def readiness(
    engine: AsyncEngine, *, expect_worker: bool, worker_stale_after: dt.timedelta
) -> tuple[list[CheckResult], list[CheckResult]]:
    """The checks that decide readiness, and advisory ones that only degrade it."""
    database = await check_database(engine)
    if not database.ok:
        return [database, CheckResult("migrations", False, "skipped: database unreachable")], []
    required = [database, await check_migrations(engine, head_revisions())]
    advisory = [await check_workers(engine, worker_stale_after)] if expect_worker else []
    return required, advisory
