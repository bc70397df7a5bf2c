"""The metrics' money lists (``analytics.money_list``, and ``money_entries``: the same as plain
data) are exactly ``ConvertibleMoney.of`` of each non-zero total, in currency order: the same
amounts, currencies and set fields for any amount and currency (minor units 0, 2 and 3, no
currency, a code the pattern refuses)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.fx.schemas import ConvertibleMoney
from app.subscriptions.analytics import money_entries, money_list

CURRENCIES = st.sampled_from(["USD", "JPY", "KWD", "EUR", "XXX", None])
AMOUNTS = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=None
) | st.sampled_from([Decimal("0.005"), Decimal("-0.005"), Decimal("0.0050"), Decimal("-0"),
                     Decimal("2.5"), Decimal("1E+3"), Decimal("0E-10")])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(CURRENCIES, AMOUNTS, max_size=6))
def test_the_list_is_money_of_each_non_zero_total(totals: dict[str | None, Decimal]) -> None:
    listed = money_list(totals)
    ordered = sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or ""))
    expected = [ConvertibleMoney.of(a, c) for c, a in ordered if a]
    expected = [m for m in expected if m is not None]
    assert [m.model_dump() for m in listed] == [m.model_dump() for m in expected]
    assert [m.model_fields_set for m in listed] == [m.model_fields_set for m in expected]
    assert [m.model_dump_json(exclude_unset=True) for m in listed] == [
        m.model_dump_json(exclude_unset=True) for m in expected
    ]
    # What the metrics document holds: the model's dump without its unset fields.
    assert money_entries(totals) == [m.model_dump(exclude_unset=True) for m in expected]


def test_a_currency_the_pattern_refuses_still_fails() -> None:
    with pytest.raises(ValidationError):
        ConvertibleMoney.of(Decimal("1"), "usd")
    for refused in ("usd", "USD\n", "EURO"):
        with pytest.raises(ValidationError):
            money_list({refused: Decimal("1")})
        with pytest.raises(ValidationError):
            money_entries({refused: Decimal("1")})
