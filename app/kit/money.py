"""Money as every domain serves it: a decimal string and its currency, never floats."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Money(BaseModel):
    """An amount in one currency, never converted."""

    amount: str = Field(description="Decimal string, e.g. `12.34`.", examples=["12.34"])
    currency: str | None = Field(
        description="ISO 4217 code as Apple reports it; null when Apple left it empty.",
        examples=["EUR"],
    )
