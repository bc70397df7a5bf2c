"""Publication rules (FACTS §2): working days only, out around 16:00 CET, roster changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx

from app.sandbox.fx import FxState, FxVariants
from tests.sandbox.fx.conftest import FakeClock
from tests.sandbox.fx.helpers import parse_ecb_xml, parse_history_csv, unzip_one

DAILY = "/stats/eurofxref/eurofxref-daily.xml"
HIST = "/stats/eurofxref/eurofxref-hist.xml"


async def daily_day(client: httpx.AsyncClient) -> date:
    return next(iter(parse_ecb_xml((await client.get(DAILY)).content)))


async def test_today_appears_only_after_four_pm_frankfurt_time(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 6, 10, 13, 59, tzinfo=UTC)  # 15:59 CEST
    assert await daily_day(client) == date(2025, 6, 9)
    clock.now = datetime(2025, 6, 10, 14, 0, tzinfo=UTC)  # 16:00 CEST
    assert await daily_day(client) == date(2025, 6, 10)


async def test_winter_publication_is_at_fifteen_utc(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 1, 15, 14, 59, tzinfo=UTC)
    assert await daily_day(client) == date(2025, 1, 14)
    clock.advance(minutes=1)
    assert await daily_day(client) == date(2025, 1, 15)


async def test_variant_fixed_cet_publishes_an_hour_later_in_summer(
    client: httpx.AsyncClient, clock: FakeClock, state: FxState
) -> None:
    state.variants = FxVariants(publish_clock="cet")
    clock.now = datetime(2025, 6, 10, 14, 30, tzinfo=UTC)  # 16:30 CEST, 15:30 CET
    assert await daily_day(client) == date(2025, 6, 9)
    clock.now = datetime(2025, 6, 10, 15, 0, tzinfo=UTC)
    assert await daily_day(client) == date(2025, 6, 10)


async def test_weekend_and_holidays_show_the_last_working_day(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 6, 8, 12, tzinfo=UTC)  # Sunday
    assert await daily_day(client) == date(2025, 6, 6)
    clock.now = datetime(2025, 4, 21, 18, tzinfo=UTC)  # Easter Monday evening
    assert await daily_day(client) == date(2025, 4, 17)  # Maundy Thursday
    clock.now = datetime(2025, 5, 1, 18, tzinfo=UTC)
    assert await daily_day(client) == date(2025, 4, 30)


async def test_publish_time_is_a_constructor_knob(clock: FakeClock) -> None:
    early = FxState(seed=7, clock=clock, history_start=date(2025, 1, 2))
    early.publish_time = early.publish_time.replace(hour=14, minute=15)
    clock.now = datetime(2025, 6, 10, 12, 20, tzinfo=UTC)  # 14:20 CEST
    assert early.published_dates(date(2025, 6, 10)) == [date(2025, 6, 10)]


async def test_a_day_published_late(
    client: httpx.AsyncClient, clock: FakeClock, state: FxState
) -> None:
    state.delay_publication(date(2025, 6, 9), timedelta(days=1))
    clock.now = datetime(2025, 6, 9, 18, tzinfo=UTC)
    assert await daily_day(client) == date(2025, 6, 6)
    clock.now = datetime(2025, 6, 10, 13, tzinfo=UTC)  # before both 16:00s
    hist = parse_ecb_xml((await client.get(HIST)).content)
    used = state.quote(date(2025, 6, 9), "USD")
    assert date(2025, 6, 9) not in hist and used is not None
    assert used.date_used == date(2025, 6, 6)
    clock.now = datetime(2025, 6, 10, 14, tzinfo=UTC)
    hist = parse_ecb_xml((await client.get(HIST)).content)
    assert date(2025, 6, 9) in hist and date(2025, 6, 10) in hist


async def test_a_day_skipped_entirely(client: httpx.AsyncClient, state: FxState) -> None:
    state.skip_day(date(2025, 6, 10))
    assert await daily_day(client) == date(2025, 6, 9)
    hist = parse_ecb_xml((await client.get(HIST)).content)
    assert date(2025, 6, 10) not in hist
    assert state.rate(date(2025, 6, 10), "USD") is None


async def test_a_revised_rate(client: httpx.AsyncClient, clock: FakeClock, state: FxState) -> None:
    day = date(2025, 6, 9)
    original = state.rate(day, "USD")
    state.revise(day, "USD", "1.2345", at=clock.now + timedelta(hours=1))
    assert parse_ecb_xml((await client.get(HIST)).content)[day]["USD"] == str(original)
    clock.advance(hours=1)
    assert parse_ecb_xml((await client.get(HIST)).content)[day]["USD"] == "1.2345"
    assert state.rate(day, "USD") == Decimal("1.2345")
    state.revise(day, "JPY", "170.1")  # now; written with the ECB's two decimals
    assert parse_ecb_xml((await client.get(HIST)).content)[day]["JPY"] == "170.10"


async def test_roster_changes(make_client: Callable[[FxState], httpx.AsyncClient]) -> None:
    """RUB last 2022-03-01 [ECB-MIRROR]; HRK last 2022-12-30 [BCL]; BGN last 2025-12-31."""
    cases = [
        (date(2022, 2, 24), datetime(2022, 3, 4, 18, tzinfo=UTC), "RUB", date(2022, 3, 1)),
        (date(2022, 12, 23), datetime(2023, 1, 4, 18, tzinfo=UTC), "HRK", date(2022, 12, 30)),
        (date(2025, 12, 22), datetime(2026, 1, 6, 18, tzinfo=UTC), "BGN", date(2025, 12, 31)),
    ]
    for start, now, code, last in cases:
        state = FxState(seed=3, clock=lambda now=now: now, history_start=start)  # type: ignore[misc]
        async with make_client(state) as client:
            days = parse_ecb_xml((await client.get(HIST)).content)
            _, content = unzip_one(
                (await client.get("/stats/eurofxref/eurofxref-hist.zip")).content
            )
        assert all((code in rates) == (day <= last) for day, rates in days.items()), code
        header, rows = parse_history_csv(content.decode())
        index = header.index(code)
        for row in rows:
            after = date.fromisoformat(row[0]) > last
            assert (row[index] == "N/A") == after, (code, row[0])
        assert state.rate(last + timedelta(days=7), code) != state.rate(last, code)
    assert days[date(2025, 12, 31)]["BGN"] == "1.9558"
    assert "ISK" in days[date(2025, 12, 31)]
