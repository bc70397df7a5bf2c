"""Money as every domain serves it: a decimal string and its currency, never floats.

One rule for decimals: an amount is written with exactly its currency's ISO 4217 minor units
(JPY `179`, USD `12.30`, KWD `1.250`), zero included, rounded half-even when a source or a
computation is more precise. A money object always names its currency: a zero with no currency
is no money at all (`null`, or left out of a list); a non-zero amount Apple wrote without a
currency is kept (never dropped) under ISO 4217's `XXX`.
"""

from __future__ import annotations

from contextlib import suppress
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Self

from pydantic import BaseModel, Field, model_validator

#: What every amount Orchard serves looks like (JSON Schema ``pattern``, checked on build).
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]{2,3})?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
#: ISO 4217's code for "no currency": a non-zero amount Apple reported without its currency.
NO_CURRENCY = "XXX"

# ISO 4217 minor units (FACTS fx §1): 2 unless listed here. XXX has none defined; 2 keeps
# whatever cents Apple wrote.
_ZERO_DECIMALS = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
_THREE_DECIMALS = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])


def minor_units(code: str) -> int:
    """ISO 4217 minor units of ``code``: how many decimals its amounts are written with."""
    if code in _ZERO_DECIMALS:
        return 0
    if code in _THREE_DECIMALS:
        return 3
    return 2


def minor_units_sql(currency: str) -> str:
    """SQL for ``minor_units`` of the SQL text expression ``currency``."""
    zero = ", ".join(f"'{code}'" for code in sorted(_ZERO_DECIMALS))
    three = ", ".join(f"'{code}'" for code in sorted(_THREE_DECIMALS))
    cases = f"WHEN {currency} IN ({zero}) THEN 0 WHEN {currency} IN ({three}) THEN 3"
    return f"(CASE {cases} ELSE 2 END)"


def amount_sql(value: str, decimals: str) -> str:
    """SQL for ``amount_text``: the numeric ``value`` with exactly ``decimals`` decimals
    (``minor_units_sql``), rounded half-even, as text — ``amount_text``'s digits (a numeric
    has no negative zero; rounding to ``d`` decimals sets its scale to ``d``). ``value`` and
    ``decimals`` are SQL expressions (column names: each is used several times). A value of
    at most ``decimals`` decimals (the usual sum of prices) is only padded."""
    cut = f"trunc({value}, {decimals})"
    return (
        f"CAST(CASE WHEN scale({value}) <= {decimals} THEN round({value}, {decimals}) "
        f"WHEN abs({value} - {cut}) = 0.5 * power(CAST(10 AS numeric), -{decimals}) "
        f"AND mod({cut} * power(CAST(10 AS numeric), {decimals}), 2) = 0 THEN {cut} "
        f"ELSE round({value}, {decimals}) END AS text)"
    )


def amount_text(value: Decimal | str | int, currency: str) -> str:
    """``value`` with exactly ``currency``'s minor units (half-even), as decimal text."""
    if type(value) is str:
        # PostgreSQL's numeric text (what report sums arrive as) rarely needs rounding: then
        # the digits are padded or cut as text, without a Decimal (a 90-day report has
        # thousands of amounts). Anything else takes the exact path below.
        fast = _plain_text(value, minor_units(currency))
        if fast is not None:
            return fast
    step = Decimal(1).scaleb(-minor_units(currency))
    number = Decimal(value).quantize(step, rounding=ROUND_HALF_EVEN)
    if number.is_zero():
        number = abs(number)  # never `-0.00`
    return format(number, "f")


def _plain_text(text: str, decimals: int) -> str | None:
    """``amount_text`` of plain decimal text (``-``, digits, ``.``, digits) that needs no
    rounding (only zeros past ``decimals``); None for anything else."""
    negative = text.startswith("-")
    whole, dot, fraction = (text[1:] if negative else text).partition(".")
    if not (whole.isascii() and whole.isdigit()) or len(whole) > 20:
        return None
    if dot and not (fraction.isascii() and fraction.isdigit()):
        return None
    if len(fraction) > decimals:
        if fraction[decimals:].strip("0"):
            return None  # to be rounded (half-even): the Decimal path
        fraction = fraction[:decimals]
    else:
        fraction += "0" * (decimals - len(fraction))
    whole = whole.lstrip("0") or "0"
    if negative and whole == "0" and not fraction.strip("0"):
        negative = False  # never `-0.00`
    return ("-" if negative else "") + whole + ("." + fraction if decimals else "")


def number_text(value: Decimal | None) -> str | None:
    """A stored number as decimal text as written (never exponent notation); None stays None."""
    if value is None:
        return None
    text = str(value)
    return format(value, "f") if "E" in text else text


def _is_zero(value: Any) -> bool:
    try:
        return Decimal(str(value)).is_zero()
    except InvalidOperation:
        return False


def money_entry(value: Decimal | str | int, currency: str | None) -> dict[str, str] | None:
    """A money object as plain data (for documents built without models); None for a zero
    with no currency."""
    if currency is None:
        if _is_zero(value):
            return None
        currency = NO_CURRENCY
    return {"amount": amount_text(value, currency), "currency": currency}


class Money(BaseModel):
    """An amount in one currency, never converted."""

    amount: str = Field(
        description="Decimal string with exactly the currency's ISO 4217 minor units (JPY "
        "`179`, USD `12.30`, `0.00`, KWD `1.250`): an optional minus, digits, and the "
        "fraction — never an exponent, never a float. Rounded half-even where Apple's report "
        "or a computation is more precise.",
        examples=["12.34"],
        pattern=AMOUNT_PATTERN,
    )
    currency: str = Field(
        description="ISO 4217 code as Apple reports it; never null (a zero with no currency "
        "is no money: `null`). `XXX` (ISO 4217: no currency) only for a non-zero amount "
        "Apple wrote without its currency, so it is never dropped.",
        examples=["EUR"],
        pattern=CURRENCY_PATTERN,
    )

    @model_validator(mode="before")
    @classmethod
    def _one_rule(cls, data: Any) -> Any:
        if isinstance(data, dict) and "amount" in data:
            currency = data.get("currency")
            if currency is None:
                if _is_zero(data["amount"]):
                    raise ValueError("a zero with no currency is no money: use None")
                currency = NO_CURRENCY
            data = {**data, "currency": currency}
            with suppress(InvalidOperation):  # not a number: the pattern reports it
                data["amount"] = amount_text(str(data["amount"]), currency)
        return data

    @classmethod
    def of(cls, value: Decimal | str | int | None, currency: str | None) -> Self | None:
        """The money, or None when there is none (no amount, or a zero with no currency)."""
        if value is None:
            return None
        entry = money_entry(value, currency)
        return None if entry is None else cls(**entry)
