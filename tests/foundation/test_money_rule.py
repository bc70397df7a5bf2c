"""Money's one rule (issue 15, item 7): the currency's ISO 4217 minor units, zero included, and
a currency on every money object. Minor units per ISO 4217 (list one): JPY 0, USD 2, KWD 3."""

import json
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.kit.money import Money, amount_text, minor_units, money_entry

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("179.00", "JPY", "179"),
        ("0.7", "USD", "0.70"),
        ("0", "USD", "0.00"),
        ("0", "JPY", "0"),
        ("1.25", "KWD", "1.250"),
        ("-0.001", "USD", "0.00"),  # never `-0.00`
        ("2.345", "EUR", "2.34"),  # half-even
        ("2.355", "EUR", "2.36"),
        ("12.5", "JPY", "12"),
        (Decimal("0E-8"), "GBP", "0.00"),  # never an exponent
    ],
)
def test_amounts_have_their_currency_minor_units(
    amount: object, currency: str, written: str
) -> None:
    assert Money(amount=str(amount), currency=currency).amount == written
    assert money_entry(amount, currency) == {"amount": written, "currency": currency}  # type: ignore[arg-type]


def test_a_zero_without_currency_is_no_money_and_other_amounts_keep_theirs() -> None:
    assert Money.of(Decimal("0.00"), None) is None
    assert money_entry("0", None) is None
    assert Money.of(None, "USD") is None
    kept = Money.of(Decimal("1.00"), None)
    assert kept is not None and (kept.amount, kept.currency) == ("1.00", "XXX")
    with pytest.raises(ValidationError):
        Money(amount="0", currency=None)  # type: ignore[arg-type]


def test_the_spec_says_so() -> None:
    money = json.loads(SPEC.read_text())["components"]["schemas"]["Money"]
    assert set(money["required"]) == {"amount", "currency"}
    assert money["properties"]["currency"] == {
        **money["properties"]["currency"],
        "type": "string",
        "pattern": "^[A-Z]{3}$",
    }
    assert money["properties"]["amount"]["pattern"] == r"^-?[0-9]+(\.[0-9]{2,3})?$"


@given(
    st.one_of(
        st.decimals(
            allow_nan=False, allow_infinity=False, places=6, max_value=10**15, min_value=-(10**15)
        ).map(str),
        st.from_regex(r"\A-?[0-9]{1,22}(\.[0-9]{0,8})?\Z"),
        st.text(alphabet="-0123456789.eE+_ ٣", max_size=12),
    ),
    st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
)
def test_decimal_text_without_decimal_is_the_decimal_rule(text: str, currency: str) -> None:
    """``amount_text`` formats plain decimal text (report sums as PostgreSQL writes them)
    without a Decimal when nothing needs rounding: exactly what the Decimal path writes."""
    try:
        expected: str | None = _decimal_rule(text, currency)
    except (InvalidOperation, ValueError):
        expected = None
    if expected is None:
        with pytest.raises((InvalidOperation, ValueError)):
            amount_text(text, currency)
    else:
        assert amount_text(text, currency) == expected


def _decimal_rule(text: str, currency: str) -> str:
    step = Decimal(1).scaleb(-minor_units(currency))
    number = Decimal(text).quantize(step, rounding=ROUND_HALF_EVEN)
    return format(abs(number) if number.is_zero() else number, "f")
