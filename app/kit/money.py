"""Money as every domain serves it: a decimal string and its currency, never floats."""

from __future__ import annotations

from pydantic import BaseModel, Field

#: What every amount Orchard serves looks like (JSON Schema ``pattern``, checked on build).
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


class Money(BaseModel):
    """An amount in one currency, never converted."""

    amount: str = Field(
        description="Decimal string: an optional minus, digits, and an optional fraction "
        "(never an exponent, never a float), e.g. `12.34`, `-0.70`, `179`. As precise as "
        "Apple's report: the fraction is not rounded to the currency's minor units.",
        examples=["12.34"],
        pattern=AMOUNT_PATTERN,
    )
    currency: str | None = Field(
        description="ISO 4217 code as Apple reports it; null when Apple left it empty.",
        examples=["EUR"],
    )
