"""Subscription event totals are complete only once every file that can still change them is
in (FACTS §5.4, §8; issue 13, item 7): a real event file for 2020-10-05 holds event dates
10-04 … 10-06, and late events arrive for about two report days. Event date E needs the files
of E−1 … E+2."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.state import SandboxState, utc_now
from app.sandbox.subscriptions import events
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit

NOW = dt.datetime(2025, 6, 14, 18, 0, tzinfo=dt.UTC)  # June 13 is Apple's newest day
DAY = dt.date(2025, 6, 8)


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now
    return state


async def _get(client: httpx.AsyncClient, tenant: Tenant, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()


async def test_event_dates_wait_for_their_late_files(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState
) -> None:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    account_id = uuid.UUID(response.json()["id"])
    span = {"from": DAY.isoformat(), "to": DAY.isoformat()}

    team = sandbox.team("acme")
    # The sandbox's event files hold event dates up to two days before their report date.
    by_file = {
        offset: sum(
            e.quantity
            for e in events(sandbox, team, DAY + dt.timedelta(days=offset))
            if e.day == DAY
        )
        for offset in (-1, 0, 1, 2)
    }
    assert by_file[2] > 0, "some events of the day arrive two files late"
    totals: list[int] = []

    async def state() -> tuple[list[str], bool]:
        body = await _get(client, tenant, "/v1/subscriptions/events", **span)
        totals.append(sum(g["quantity"] for g in body["groups"]))
        series = await _get(
            client, tenant, "/v1/subscriptions/summary/series", metric="churned", **span
        )
        [point] = series["points"]
        assert series["incomplete_dates"] == body["incomplete_dates"]
        return [d["report_date"] for d in body["incomplete_dates"]], point["complete"]

    for offset in (0, 1):  # the day's own file and the next: not enough any more
        day = DAY + dt.timedelta(days=offset)
        await run_unit(app, account_id, "subscription_events_daily", day.isoformat())
    assert await state() == (["2025-06-07", "2025-06-10"], False)
    await run_unit(app, account_id, "subscription_events_daily", "2025-06-10")
    assert await state() == (["2025-06-07"], False)
    await run_unit(app, account_id, "subscription_events_daily", "2025-06-07")
    assert await state() == ([], True)
    # Until the second late file was in, the day's totals were short of the truth.
    assert totals == [by_file[0] + by_file[1], sum(by_file.values()), sum(by_file.values())]
