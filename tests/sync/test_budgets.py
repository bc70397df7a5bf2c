"""Apple's per-key budget figures: a figure below the reserve is written at once (other workers
stop claiming the key), one with room to spare waits for the runner's next claim transaction
(no transaction of its own per Apple response), and an older figure never overwrites a newer."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from app.asc.ratelimit import RateLimitInfo
from app.sync.budget import KeyBudgets


async def _stored(db: asyncpg.Connection, key: str) -> tuple[int, bool] | None:
    row = await db.fetchrow(
        "SELECT remaining, blocked_until IS NOT NULL AS blocked FROM asc_key_budgets "
        "WHERE key_id = $1",
        key,
    )
    return None if row is None else (row["remaining"], row["blocked"])


async def test_budget_figures_are_written_at_once_only_below_the_reserve(
    app: FastAPI, db: asyncpg.Connection
) -> None:
    budgets = KeyBudgets(app.state.sessionmaker, reserve=3)

    async def flush(into: KeyBudgets) -> None:
        async with app.state.sessionmaker() as session, session.begin():
            await into.flush(session)

    await budgets.record("KEYA", RateLimitInfo(limit=3600, remaining=3500))
    assert await _stored(db, "KEYA") is None  # waits for the next claim
    await budgets.record("KEYA", RateLimitInfo(limit=3600, remaining=2))
    assert await _stored(db, "KEYA") == (2, True)  # below the reserve: blocked now
    await flush(budgets)  # the earlier figure was superseded, not written after it
    assert await _stored(db, "KEYA") == (2, True)
    await budgets.record("KEYA", RateLimitInfo(limit=3600, remaining=3400))
    await flush(budgets)
    assert await _stored(db, "KEYA") == (3400, True)  # the block stays until it ends

    # Another worker's older figure, flushed after this one's newer: the newer stays.
    other = KeyBudgets(app.state.sessionmaker, reserve=3)
    await other.record("KEYB", RateLimitInfo(limit=3600, remaining=900))
    await budgets.record("KEYB", RateLimitInfo(limit=3600, remaining=1))
    await flush(other)
    assert await _stored(db, "KEYB") == (1, True)
    await flush(other)  # nothing pending: writes nothing
    assert await _stored(db, "KEYB") == (1, True)
