"""Expired reports are decided by Apple's retention, not by a 410 (FACTS §5.7, §8; issue 13,
item 11). Spec 4.4.1 declares no 404/410 for report downloads; the sandbox answers a period
past retention with a 410, a "no sales" 404 or a 400 on ``filter[reportDate]``. Each must be
``expired`` — never a zero day, never a failure."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest
from fastapi import FastAPI

from app.reports import calendar, periods
from app.sandbox.sales import generate_sales_rows
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit


@pytest.mark.parametrize("answer", ["gone_410", "not_found_404", "bad_request_400"])
async def test_a_day_past_retention_is_expired_whatever_apple_answers(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection, answer: str
) -> None:
    account_id, _ = await link_new_key(app, tenant, sandbox)
    sandbox.fidelity.set_team("acme", expiry=answer)
    now = dt.datetime.now(dt.UTC)
    old = calendar.pacific_today(now) - dt.timedelta(days=400)
    recent = calendar.latest_daily(now) - dt.timedelta(days=2)
    assert periods.DAILY.expired(old, now) and not periods.DAILY.expired(recent, now)

    for day in (old, recent):
        await run_unit(app, account_id, "sales_daily", day.isoformat())
    rows = await db.fetch(
        "SELECT a.report_date, a.state, j.state AS job FROM dataset_availability a "
        "JOIN sync_jobs j ON j.account_id = a.account_id AND j.dataset = a.dataset "
        "AND j.unit_key = to_char(a.report_date, 'YYYY-MM-DD') "
        "WHERE a.dataset = 'sales_daily' ORDER BY a.report_date"
    )
    assert len(rows) == 2
    assert (rows[0]["report_date"], rows[0]["state"], rows[0]["job"]) == (
        old,
        "expired",
        "succeeded",
    )
    # A day within retention is still a fact (the sandbox's own answer decides which).
    expected = (
        "published" if generate_sales_rows(sandbox.team("acme"), "DAILY", recent) else ("no_data")
    )
    assert (rows[1]["report_date"], rows[1]["state"]) == (recent, expected)
    assert await db.fetchval("SELECT count(*) FROM sales_rows WHERE report_date = $1", old) == 0


def test_retention_per_frequency() -> None:
    now = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)  # June 10 in Pacific time
    assert not periods.DAILY.expired(dt.date(2024, 6, 10), now)
    assert periods.DAILY.expired(dt.date(2024, 6, 9), now)
    assert not periods.WEEKLY.expired(dt.date(2024, 6, 16), now)  # a Sunday, its week's end
    assert not periods.MONTHLY.expired(dt.date(2024, 6, 1), now)  # ends June 30
    assert periods.MONTHLY.expired(dt.date(2024, 5, 1), now)
    assert not periods.YEARLY.expired(dt.date(2016, 1, 1), now)  # kept 10 years
    assert periods.YEARLY.expired(dt.date(2014, 1, 1), now)
    assert not periods.FISCAL_MONTH.expired(dt.date(2010, 1, 1), now)  # not documented


async def test_an_expired_answer_keeps_a_day_already_stored(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> None:
    """A day stored while Apple kept it stays ``published`` (with its rows) when a later ask
    finds it past retention."""
    account_id, _ = await link_new_key(app, tenant, sandbox)
    now = dt.datetime.now(dt.UTC)
    old = calendar.pacific_today(now) - dt.timedelta(days=400)
    # What a sync of that day a year ago left behind.
    await db.execute(
        "INSERT INTO dataset_availability (account_id, dataset, report_date, state, row_count) "
        "VALUES ($1, 'sales_daily', $2, 'published', 3)",
        account_id,
        old,
    )
    await run_unit(app, account_id, "sales_daily", old.isoformat())
    row = await db.fetchrow(
        "SELECT state, row_count FROM dataset_availability WHERE account_id = $1 "
        "AND dataset = 'sales_daily' AND report_date = $2",
        account_id,
        old,
    )
    assert dict(row) == {"state": "published", "row_count": 3}
    job = await db.fetchval(
        "SELECT state FROM sync_jobs WHERE dataset = 'sales_daily' AND unit_key = $1",
        old.isoformat(),
    )
    assert job == "succeeded"
