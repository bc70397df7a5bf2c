"""Apple's Pre-Order report as a report spec (FACTS §4.5; issue 13, item 12): loaded by
header name from the sandbox's ``pre_orders`` variant; without it Apple's "no sales" 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import asyncpg
import pytest
from fastapi import FastAPI

from app.reports import calendar
from app.sandbox.periods import Frequency
from app.sandbox.pre_orders import pre_order_rows
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit


@pytest.mark.parametrize("served", [True, False])
async def test_pre_order_days_load_by_header_name(
    app: FastAPI, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection, served: bool
) -> None:
    account_id, key = await link_new_key(app, tenant, sandbox)
    sandbox.fidelity.set_team(key.team.name, pre_orders=served)
    newest = calendar.latest_daily(dt.datetime.now(dt.UTC))
    day = next(
        newest - dt.timedelta(days=n)
        for n in range(1, 200)
        if pre_order_rows(key.team, Frequency.DAILY, newest - dt.timedelta(days=n))
    )
    truth = pre_order_rows(key.team, Frequency.DAILY, day) if served else []
    await run_unit(app, account_id, "pre_orders_daily", day.isoformat())
    await run_unit(app, account_id, "pre_orders_daily", day.isoformat())  # a re-sync: same rows
    state = await db.fetchval(
        "SELECT state FROM dataset_availability WHERE dataset = 'pre_orders_daily' "
        "AND report_date = $1",
        day,
    )
    assert state == ("published" if served else "no_data")
    stored = await db.fetch(
        "SELECT * FROM pre_order_rows WHERE account_id = $1 AND report_date = $2 ORDER BY id",
        account_id,
        day,
    )
    assert len(stored) == len(truth)
    for got, want in zip(stored, truth, strict=True):
        assert (got["apple_identifier"], got["country_code"], got["title"]) == (
            want["Apple Identifier"],
            want["Country Code"],
            want["Title"],
        )
        assert got["ordered"] == Decimal(want["Ordered"])
        assert got["cumulative_canceled"] == Decimal(want["Cumulative Canceled"])
        assert (
            got["pre_order_end"]
            == dt.datetime.strptime(want["Pre-Order End Date"], "%m/%d/%Y").date()
        )
        assert got["begin_date"] == got["end_date"] == day
