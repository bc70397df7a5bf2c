"""Money's one rule (issue 15, item 7): the currency's ISO 4217 minor units, zero included, and
a currency on every money object. Minor units per ISO 4217 (list one): JPY 0, USD 2, KWD 3."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.kit.money import Money, money_entry

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
