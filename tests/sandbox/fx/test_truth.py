"""The simulator's own truth: what Orchard's conversions must agree with (FACTS §5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.sandbox.fx import FxState
from app.sandbox.fx.currencies import ECB_BY_CODE, GAP_BY_CODE
from tests.sandbox.fx.conftest import FakeClock
from tests.sandbox.fx.helpers import APPLE


def test_every_apple_currency_has_a_rate_on_a_month_end(state: FxState) -> None:
    day = date(2025, 5, 30)  # a Friday and the monthly providers' observation day
    assert len(APPLE) == 45
    for code in APPLE:
        assert state.rate(day, code) is not None, code


def test_sources(state: FxState) -> None:
    day = date(2025, 6, 10)
    sources = {code: state.quote(day, code).source for code in APPLE}  # type: ignore[union-attr]
    assert sources["EUR"] == "eur" and sources["HRK"] == "euro-fixed"
    assert sources["USD"] == sources["BGN"] == "ecb"
    assert sources["AED"] == sources["SAR"] == sources["QAR"] == "peg"
    assert sources["RUB"] == "frankfurter:CBR" and sources["PKR"] == "frankfurter:SBP"
    assert sources["VND"] == "frankfurter:MAS" and sources["PEN"] == "frankfurter:IMF"


def test_levels_are_plausible(state: FxState) -> None:
    for day in (date(2025, 1, 2), date(2025, 6, 10)):
        for code, currency in ECB_BY_CODE.items():
            rate = state.rate(day, code)
            if rate is not None:
                assert 0.7 < float(rate) / currency.level < 1.3, (code, rate)
        for code, gap in GAP_BY_CODE.items():
            found = state.quote(day, code)
            assert found is not None and 0.7 < float(found.rate) / gap.level < 1.3, code
    assert state.rate(date(2025, 6, 10), "BGN") == Decimal("1.9558")


def test_pegs_are_exact_multiples_of_the_ecb_dollar(state: FxState) -> None:
    day = date(2025, 6, 10)
    usd = state.rate(day, "USD")
    assert usd is not None
    assert state.rate(day, "SAR") == usd * Decimal("3.75")
    assert state.rate(day, "QAR") == usd * Decimal("3.64")


def test_euro_fixed_legacy_currencies(clock: FakeClock) -> None:
    clock.now = datetime(2026, 1, 8, 18, tzinfo=UTC)
    state = FxState(seed=1, clock=clock, history_start=date(2025, 12, 1))
    assert state.rate(date(2025, 12, 31), "BGN") == Decimal("1.9558")  # the ECB's last fix
    assert state.rate(date(2026, 1, 2), "BGN") == Decimal("1.95583")
    assert state.quote(date(2026, 1, 2), "BGN").source == "euro-fixed"  # type: ignore[union-attr]
    assert state.rate(date(2025, 12, 31), "HRK") == Decimal("7.53450")


def test_quote_uses_the_latest_published_fix(state: FxState, clock: FakeClock) -> None:
    clock.now = datetime(2025, 6, 10, 9, tzinfo=UTC)  # before 16:00 in Frankfurt
    today = state.quote(date(2025, 6, 10), "USD")
    assert today is not None and today.date_used == date(2025, 6, 9)
    assert state.rate(date(2025, 6, 10), "USD") is not None  # known, not yet published
    weekend = state.quote(date(2025, 6, 8), "JPY")
    assert weekend is not None and weekend.date_used == date(2025, 6, 6)
    assert weekend.rate == state.rate(date(2025, 6, 6), "JPY")
    assert state.rate(date(2025, 6, 8), "JPY") is None
    assert state.quote(date(2025, 1, 1), "USD") is None  # before the first fix


@pytest.mark.parametrize("code", ["RUB", "USD"])
def test_frankfurter_truth_before_the_rub_suspension(code: str) -> None:
    now = datetime(2022, 3, 10, 18, tzinfo=UTC)
    state = FxState(seed=2, clock=lambda: now, history_start=date(2022, 2, 1))
    day = date(2022, 2, 28)
    ecb = state.rate(day, code)
    assert ecb is not None and state.quote(day, code).source == "ecb"  # type: ignore[union-attr]
    blended = state.truth.frankfurter_rate(day, code)
    assert blended is not None and abs(blended - ecb) / ecb < Decimal("0.001")
    after = state.quote(date(2022, 3, 2), code)
    assert after is not None
    assert after.source == ("frankfurter:CBR" if code == "RUB" else "ecb")
    assert state.truth.frankfurter_rate(date(2022, 3, 5), code) is None  # a Saturday
