"""A 53-week fiscal year (FACTS §8; issue 13, item 8). Which period gets the extra week is not
documented consistently, so Orchard never decides it for data: a period's bounds and name come
from the file's own Start/End Date, and the computed calendar only schedules the asks — late
enough for every placement of the extra week."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.reports import fiscal
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.apple_files import SAMPLES
from tests.fixtures.engine import run_unit
from tests.subscriptions.apple import FakeApple, api, app_with

CH = (SAMPLES / "finance_financial_region_CH__fedoco.txt").read_text()
FY2023 = (dt.date(2022, 9, 25), dt.date(2023, 9, 30))  # 53 weeks, Sunday to Saturday


def _placements(number: int) -> set[tuple[dt.date, dt.date]]:
    """Period ``number``'s bounds for every placement of FY2023's extra week (5-4-4 base)."""
    found = set()
    for extra in range(12):
        weeks = [5, 4, 4] * 4
        weeks[extra] += 1
        start = FY2023[0] + dt.timedelta(weeks=sum(weeks[: number - 1]))
        found.add((start, start + dt.timedelta(weeks=weeks[number - 1], days=-1)))
    return found


def test_the_schedule_waits_for_every_placement_of_the_extra_week() -> None:
    assert (FY2023[1] - FY2023[0]).days + 1 == 53 * 7
    assert fiscal.year_bounds(2023) == FY2023
    for number in range(1, 13):
        period = fiscal.FiscalPeriod(2023, number)
        latest_end = max(end for _, end in _placements(number))
        assert period.available_at().date() >= latest_end + fiscal.AVAILABLE_AFTER
        assert period.month.month == (number + 8) % 12 + 1  # named months do not move


@pytest.fixture
def apple() -> FakeApple:
    return FakeApple()


@pytest.fixture
async def fake_app(settings: Settings, apple: FakeApple) -> AsyncIterator[FastAPI]:
    async with app_with(settings, apple) as application:
        yield application


@pytest.mark.parametrize(
    ("key", "start", "end", "name"),
    [
        # Extra week in the first quarter (Apple's Q1 FY2023 had 14 weeks): period 1 has 6.
        ("2023-01", dt.date(2022, 9, 25), dt.date(2022, 11, 5), "2022-10"),
        # The same period if the extra week sat elsewhere: 5 weeks.
        ("2023-01", dt.date(2022, 9, 25), dt.date(2022, 10, 29), "2022-10"),
        # Extra week at the year's end: period 12 has 6 weeks instead of 5.
        ("2023-12", dt.date(2023, 8, 20), dt.date(2023, 9, 30), "2023-09"),
        ("2023-12", dt.date(2023, 8, 27), dt.date(2023, 9, 30), "2023-09"),
    ],
)
async def test_bounds_come_from_the_file(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    key: str,
    start: dt.date,
    end: dt.date,
    name: str,
) -> None:
    text = CH.replace("08/31/2014", start.strftime("%m/%d/%Y")).replace(
        "09/27/2014", end.strftime("%m/%d/%Y")
    )
    apple.set_text("FINANCIAL/ZZ", text)
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "finance_monthly", key)
    rows = await db.fetch("SELECT period_start, period_end, fiscal_period FROM finance_report_rows")
    assert {tuple(r) for r in rows} == {(start, end, name)}
    async with api(fake_app) as client:
        response = await client.get(
            "/v1/payments",
            params={"from_period": name, "to_period": name},
            headers=tenant.headers(),
        )
    [item] = response.json()["items"]
    assert (item["period"], item["period_start"], item["period_end"]) == (
        name,
        start.isoformat(),
        end.isoformat(),
    )
