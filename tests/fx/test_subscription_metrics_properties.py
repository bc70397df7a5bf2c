"""Converted subscription metrics, property-based: a week or month bucket's converted money
(each Event Date at its own rate) equals the sum of its days converted one by one, and a
converted ratio (arppu) is that exact converted sum ÷ the bucket's payers, rounded once."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.fx.convert import convert_measure, exact_sum
from app.subscriptions.analytics import Cell, Sources, convert_ratio
from app.subscriptions.analytics_repository import TransactionBucket
from tests.fx.test_conversion_properties import START, _book, amounts, rates

CURRENCIES = ["USD", "EUR", "JPY", "KZT"]  # KZT never has a rate here
day_money = st.lists(
    st.tuples(st.integers(0, 13), st.sampled_from(CURRENCIES), amounts), max_size=30
)


def _cell(
    proceeds: list[tuple[int, str, Decimal]], refunds: list[tuple[int, str, Decimal]]
) -> Cell:
    """One two-week bucket whose transactions were read by day."""
    key = (START, ())
    bucket = TransactionBucket(bucket=START, group=())
    for name, rows in (("proceeds", proceeds), ("refunded_proceeds", refunds)):
        bucket.daily[name] = [(START + dt.timedelta(days=d), c, a) for d, c, a in rows]
    return Cell(key, Sources(transactions={key: bucket}))


@settings(max_examples=60, deadline=None)
@given(
    day_money,
    day_money,
    st.dictionaries(st.tuples(st.integers(0, 13), st.sampled_from(["EUR", "JPY"])), rates),
)
def test_a_bucket_converts_as_the_sum_of_its_days(
    proceeds: list[tuple[int, str, Decimal]],
    refunds: list[tuple[int, str, Decimal]],
    table: dict[tuple[int, str], Decimal],
) -> None:
    book = _book("USD", table)
    cell = _cell(proceeds, refunds)
    last = START + dt.timedelta(days=13)
    triples = cell.money_days("net_proceeds", last)
    listed = [{"amount": "0", "currency": c} for c in sorted({c for _, c, _ in triples})]
    total = convert_measure(book, listed, triples)
    # Day by day: each day's net proceeds converted on their own, then summed.
    by_day, missing = Decimal(0), Decimal(0)
    for n in range(14):
        day = START + dt.timedelta(days=n)
        one = [t for t in triples if t[0] == day]
        exact, _ = exact_sum(book, one)
        by_day += exact
        missing += sum((a for d, c, a in one if not exact_sum(book, [(d, c, a)])[1]), Decimal(0))
    assert total["amount"] == str(by_day.quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    assert sum((Decimal(u["amount"]) for u in total["unconverted"]), Decimal(0)) == missing
    assert total["partial"] == bool(total["unconverted"])
    # Refunds subtract at their own day's rate.
    assert total["amount"] == book.present(
        exact_sum(book, [(START + dt.timedelta(days=d), c, a) for d, c, a in proceeds])[0]
        - exact_sum(book, [(START + dt.timedelta(days=d), c, a) for d, c, a in refunds])[0]
    )


@settings(max_examples=40, deadline=None)
@given(
    day_money,
    st.dictionaries(st.tuples(st.integers(0, 13), st.sampled_from(["EUR", "JPY"])), rates),
    st.integers(1, 500),
)
def test_a_converted_ratio_divides_the_exact_converted_sum_once(
    proceeds: list[tuple[int, str, Decimal]],
    table: dict[tuple[int, str], Decimal],
    payers: int,
) -> None:
    book = _book("USD", table)
    triples = _cell(proceeds, []).money_days("arppu", START)
    currencies = sorted({c for _, c, _ in triples})
    listed = [{"amount": "1.00", "currency": c} for c in currencies]
    total = convert_ratio(book, listed, triples, dict.fromkeys(currencies, payers), payers)
    assert total is not None
    exact, complete = exact_sum(book, triples)
    assert total["amount"] == book.present(exact / payers)
    assert total["partial"] is (not complete)
    for entry in listed:
        if entry["converted"] is not None:
            mine = [t for t in triples if t[1] == entry["currency"]]
            assert entry["converted"]["amount"] == book.present(exact_sum(book, mine)[0] / payers)
