"""Readiness checks. Each check names itself so ops can see which one failed."""

from __future__ import annotations

import asyncio
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


async def readiness(engine: AsyncEngine) -> list[CheckResult]:
    database = await check_database(engine)
    if not database.ok:
        return [database, CheckResult("migrations", False, "skipped: database unreachable")]
    return [database, await check_migrations(engine, head_revisions())]
