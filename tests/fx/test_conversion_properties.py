"""Conversion arithmetic, property-based: decimals end to end; converting each day then summing
equals summing the per-day converted values; fallback to the latest earlier rate within the
allowed age; cross rates through EUR equal the hand computation."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.fx.convert import convert_measure
from app.fx.rates import NoRate, Rate, RateBook, significant

START = dt.date(2025, 6, 2)


def _book(target: str, rates: dict[tuple[int, str], Decimal], max_age: int = 7) -> RateBook:
    book = RateBook(target, max_age)
    book._index(
        [
            (START + dt.timedelta(days=day), "EUR", code, rate, "ecb", "")
            for (day, code), rate in rates.items()
        ]
    )
    return book


amounts = st.decimals(min_value=-10000, max_value=10000, places=2, allow_nan=False)
rates = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(20000), places=4)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["USD", "JPY", "EUR"]), amounts)),
    st.dictionaries(st.tuples(st.integers(0, 9), st.sampled_from(["USD", "JPY"])), rates),
)
def test_converting_then_summing_equals_summing_converted_days(
    triples: list[tuple[int, str, Decimal]], table: dict[tuple[int, str], Decimal]
) -> None:
    book = _book("USD", table)
    dated = [(START + dt.timedelta(days=d), c, a) for d, c, a in triples]
    listed = [{"amount": "0", "currency": c} for c in sorted({c for _, c, _ in dated})]
    total = convert_measure(book, listed, dated)
    exact = Decimal(0)
    missing = Decimal(0)
    for day, currency, amount in dated:
        found = book.rate(currency, day)
        if isinstance(found, Rate):
            exact += amount * found.rate
        else:
            missing += amount
    assert total["amount"] == str(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
    unconverted = sum((Decimal(u["amount"]) for u in total["unconverted"]), Decimal(0))
    assert unconverted == missing
    assert total["partial"] == bool(total["unconverted"])


@given(st.integers(0, 20), rates, rates)
def test_fallback_and_cross_rate(day: int, usd: Decimal, jpy: Decimal) -> None:
    # Rates on day 0 only: days 0..7 use them, later days have none.
    book = _book("JPY", {(0, "USD"): usd, (0, "JPY"): jpy})
    found = book.rate("USD", START + dt.timedelta(days=day))
    if day > 7:
        assert isinstance(found, NoRate) and found.reason == "no_rate"
        return
    assert isinstance(found, Rate)
    assert found.rate_date == START
    assert found.rate == significant(jpy / usd)
    assert found.method == "cross-EUR" and found.source == "ecb"


def test_fixed_euro_rates_and_missing_currency() -> None:
    book = _book("EUR", {})
    bgn = book.rate("BGN", START)
    assert isinstance(bgn, Rate) and bgn.source == "euro-fixed"
    assert bgn.rate == significant(Decimal(1) / Decimal("1.95583"))
    none = book.rate(None, START)
    assert isinstance(none, NoRate) and none.reason == "no_currency"
