"""A "no sales" answer is provisional until D+3 08:00 PT (FACTS §8; issue 13, item 3).

The sandbox's late-publication variant answers "There were no sales for the date specified."
for a day from its usual time until 26 hours later, then serves its file. Orchard must ask
again once after each of Apple's daily batches — not in the hours before one — and store the
day as ``published`` with its rows when the file comes, keeping the change in the history.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.config import Settings
from app.main import create_app
from app.models import AscAccount
from app.reports.calendar import PACIFIC
from app.sandbox.app import create_sandbox_app
from app.sandbox.sales import generate_sales_rows
from app.sandbox.state import SandboxState, utc_now
from app.sync import records
from app.sync.contract import Outcome, PlanContext
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import INSTANT_RETRY, call_unit

DAY = dt.date(2025, 6, 2)
DATASET = "sales_daily"


def pacific(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PACIFIC).astimezone(dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = pacific(DAY + dt.timedelta(days=1), 9)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> SandboxState:
    state = SandboxState(seed=7, clock=clock)
    state.token_clock = utc_now
    return state


@pytest.fixture
async def app(settings: Settings, sandbox: SandboxState) -> AsyncIterator[FastAPI]:
    application = create_app(
        settings,
        asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
        asc_retry=INSTANT_RETRY,
    )
    async with application.router.lifespan_context(application):
        yield application


async def _fetch(app: FastAPI, account_id: uuid.UUID, clock: Clock, at: dt.datetime) -> str:
    """What the engine does for one unit at ``at``: run it, record what Apple said."""
    clock.now = at
    result = await call_unit(app, account_id, DATASET, DAY.isoformat(), at)
    async with app.state.sessionmaker() as session, session.begin():
        await records.record_availability(
            session,
            account_id,
            DATASET,
            DAY,
            state=result.outcome.value,
            row_count=result.rows,
            detail=result.detail,
            report_version=result.report_version,
        )
        await session.execute(
            text(
                "UPDATE dataset_availability SET fetched_at = :at "
                "WHERE account_id = :a AND dataset = :d AND report_date = :day"
            ),
            {"at": at, "a": account_id, "d": DATASET, "day": DAY},
        )
    return result.outcome.value


async def _due(app: FastAPI, account_id: uuid.UUID, fetched: dt.datetime, now: dt.datetime) -> bool:
    """Whether the routine plan at ``now`` re-queues DAY's unit last finished at ``fetched``
    (the queue's rule: finished longer ago than the unit's ``refresh_after``)."""
    dataset = app.state.registry.get(DATASET)
    async with app.state.sessionmaker() as session:
        account = await session.get(AscAccount, account_id)
        assert account is not None
        units = await dataset.plan(PlanContext(session, account, now, dataset.cadence))
    [unit] = [unit for unit in units if unit.unit_key == DAY.isoformat()]
    return unit.refresh_after is not None and fetched < now - unit.refresh_after


async def test_a_late_file_replaces_a_provisional_no_sales_day(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, clock: Clock
) -> None:
    account_id, _ = await link_new_key(app, tenant, sandbox)
    sandbox.fidelity.set_team("acme", late_publication_hours=26, late_days=[DAY.isoformat()])
    truth = generate_sales_rows(sandbox.team("acme"), "DAILY", DAY)
    assert truth, "the sandbox sold something that day"
    d1, d2, d3 = (DAY + dt.timedelta(days=n) for n in (1, 2, 3))

    assert await _fetch(app, account_id, clock, pacific(d1, 9)) == Outcome.NO_DATA
    assert not await _due(app, account_id, pacific(d1, 9), pacific(d1, 18))
    # The next morning, after Apple's batch: asked again (before it: not yet).
    assert not await _due(app, account_id, pacific(d1, 9), pacific(d2, 7))
    assert await _due(app, account_id, pacific(d1, 9), pacific(d2, 9))
    assert await _fetch(app, account_id, clock, pacific(d2, 9)) == Outcome.NO_DATA  # still late
    assert not await _due(app, account_id, pacific(d2, 9), pacific(d2, 20))
    assert await _due(app, account_id, pacific(d2, 9), pacific(d3, 9))
    assert await _fetch(app, account_id, clock, pacific(d3, 9)) == Outcome.PUBLISHED

    async with app.state.sessionmaker() as session:
        stored = await session.scalar(
            text("SELECT count(*) FROM sales_rows WHERE account_id = :a AND report_date = :day"),
            {"a": account_id, "day": DAY},
        )
        changes = await records.availability_changes(session, account_id, DATASET, DAY)
    assert stored == len(truth)
    assert [(old, new) for old, new, _ in changes] == [("no_data", "published")]
    # Published and no longer the newest day: left alone.
    assert not await _due(app, account_id, pacific(d3, 9), pacific(d3 + dt.timedelta(days=1), 9))


async def test_no_sales_after_the_window_is_final(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, clock: Clock
) -> None:
    account_id, _ = await link_new_key(app, tenant, sandbox)
    sandbox.fidelity.set_team("acme", late_publication_hours=100, late_days=[DAY.isoformat()])
    d3 = DAY + dt.timedelta(days=3)
    assert await _fetch(app, account_id, clock, pacific(d3, 9)) == Outcome.NO_DATA
    assert not await _due(app, account_id, pacific(d3, 9), pacific(d3 + dt.timedelta(days=1), 9))
