"""How rates are written: the ECB's fixed decimals, trimmed history values, Frankfurter rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

_STEPS = {
    0: Decimal(1),
    2: Decimal("0.01"),
    3: Decimal("0.001"),
    4: Decimal("0.0001"),
    5: Decimal("0.00001"),
    6: Decimal("0.000001"),
}


def quantize(value: float | Decimal, decimals: int) -> Decimal:
    step = _STEPS.get(decimals) or Decimal(1).scaleb(-decimals)
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_EVEN)


def fixed(value: Decimal, decimals: int) -> str:
    """``4.7630``, ``19900.00``: the XML and the daily CSV keep trailing zeros [R-XPT][R-SEB]."""
    return f"{value:.{decimals}f}"


def trimmed(value: Decimal) -> str:
    """``394.7``, ``17569``, ``1.08``: the history CSV drops trailing zeros [R-PYFIFO]."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def frankfurter_round(value: Decimal) -> Decimal:
    """Frankfurter's display rounding ([R-FRANK] ``Roundable``): above 5000 no decimals, above
    80 two, above 20 three, above 1 four, above 0.0001 five, else six."""
    if value > 5000:
        decimals = 0
    elif value > 80:
        decimals = 2
    elif value > 20:
        decimals = 3
    elif value > 1:
        decimals = 4
    elif value > Decimal("0.0001"):
        decimals = 5
    else:
        decimals = 6
    step = _STEPS[decimals]
    return value.quantize(step, rounding=ROUND_HALF_UP)


def json_number(value: Decimal) -> int | float:
    """A JSON number as Frankfurter writes it: an integer when rounded to units, else a float."""
    if value == value.to_integral_value() and value.as_tuple().exponent == 0:
        return int(value)
    return float(value)
