"""The ``fx_ecb`` dataset against the ECB simulator: first-run history backfill, the 90-day
refresh, idempotent re-syncs, late publications and revisions (never overwritten silently)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import FastAPI

from app.fx import ecb
from app.sandbox.fx import FxState, FxVariants
from tests.fixtures.engine import drain
from tests.fx.helpers import FakeClock, public_jobs, run_public_unit, stored_rates


async def test_first_run_backfills_the_full_history_then_reads_90_days(
    app: FastAPI, fx: FxState
) -> None:
    await drain(app, plan=True)
    jobs = {row.unit_key: row.state for row in await public_jobs(app, "fx_ecb")}
    assert jobs == {
        "history": "succeeded",
        "recent": "succeeded",
    }  # planned once history was stored
    rates = await stored_rates(app)
    published = fx.published_dates()
    assert {day for day, _ in rates} == set(published)
    # Every stored rate is the simulator's published one (1 EUR = rate units), as decimals.
    for day in (published[0], published[len(published) // 2], published[-1]):
        for code in ("USD", "JPY", "GBP", "ISK"):
            assert rates[(day, code)].rate == fx.rate(day, code)
    # No rate for a TARGET closing day (Good Friday 2025-04-18) or a weekend.
    assert not any(day == dt.date(2025, 4, 18) for day, _ in rates)
    assert not any(day.weekday() >= 5 for day, _ in rates)
    paths = [r.path for r in fx.requests]
    assert paths == [
        "/stats/eurofxref/eurofxref-hist.xml",
        "/stats/eurofxref/eurofxref-hist-90d.xml",
    ]


async def test_resync_is_idempotent(app: FastAPI, fx: FxState) -> None:
    await run_public_unit(app, "fx_ecb", "history")
    before = await stored_rates(app)
    await run_public_unit(app, "fx_ecb", "history")
    await run_public_unit(app, "fx_ecb", "recent")
    after = await stored_rates(app)
    assert after.keys() == before.keys()
    assert all(after[k].rate == before[k].rate and after[k].revised_at is None for k in after)


async def test_history_numbers_without_trailing_zeros_are_the_same_rates(
    app: FastAPI, fx: FxState
) -> None:
    await run_public_unit(app, "fx_ecb", "history")
    fx.variants = FxVariants(history_numbers="trimmed", xml_quotes="double")
    await run_public_unit(app, "fx_ecb", "recent")
    assert all(r.revised_at is None for r in (await stored_rates(app)).values())


async def test_a_late_publication_is_picked_up_by_the_next_run(
    app: FastAPI, fx: FxState, fx_clock: FakeClock
) -> None:
    late = dt.date(2025, 6, 10)
    fx.delay_publication(late, dt.timedelta(hours=20))
    await run_public_unit(app, "fx_ecb", "history")
    assert (late, "USD") not in await stored_rates(app)
    fx_clock.advance(hours=20)
    await run_public_unit(app, "fx_ecb", "recent")
    assert (await stored_rates(app))[(late, "USD")].rate == fx.rate(late, "USD")


async def test_a_revised_rate_is_kept_with_the_previous_one(
    app: FastAPI, fx: FxState, fx_clock: FakeClock
) -> None:
    day = dt.date(2025, 6, 6)
    await run_public_unit(app, "fx_ecb", "history")
    original = (await stored_rates(app))[(day, "USD")].rate
    fx.revise(day, "USD", Decimal("1.2345"))
    await run_public_unit(app, "fx_ecb", "recent")
    row = (await stored_rates(app))[(day, "USD")]
    assert row.rate == Decimal("1.2345")
    assert row.previous_rate == original
    assert row.revised_at is not None


async def test_a_server_error_fails_the_unit_and_keeps_nothing(app: FastAPI, fx: FxState) -> None:
    fx.fail_next(1, "503", "/stats/")
    await run_public_unit(app, "fx_ecb", "history")
    jobs = {row.unit_key: row for row in await public_jobs(app, "fx_ecb")}
    assert jobs["history"].state in ("queued", "waiting")
    assert jobs["history"].attempts == 1
    assert await stored_rates(app) == {}


def test_parse_reads_the_real_2022_capture_shape() -> None:
    # SOURCE: FACTS fx §2 [R-XPT] — xpt-nl/ecb eurofxref-daily.xml (2022-07-08), abridged.
    content = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        b'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n'
        b"\t<gesmes:subject>Reference rates</gesmes:subject>\n"
        b"\t<gesmes:Sender>\n\t\t<gesmes:name>European Central Bank</gesmes:name>\n"
        b"\t</gesmes:Sender>\n\t<Cube>\n\t\t<Cube time='2022-07-08'>\n"
        b"\t\t\t<Cube currency='USD' rate='1.0163'/>\n"
        b"\t\t\t<Cube currency='JPY' rate='138.05'/>\n"
        b"\t\t</Cube>\n\t</Cube>\n</gesmes:Envelope>"
    )
    rates = ecb.parse(content)
    assert [(r.day, r.currency, r.rate) for r in rates] == [
        (dt.date(2022, 7, 8), "USD", Decimal("1.0163")),
        (dt.date(2022, 7, 8), "JPY", Decimal("138.05")),
    ]
