"""API shapes for currency rates and converted money."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from app.fx.convert import RULE
from app.kit.money import Money


class RateSource(StrEnum):
    ECB = "ecb"
    FRANKFURTER = "frankfurter"
    MANUAL = "manual"


class RateRead(BaseModel):
    """One stored rate: 1 `base` = `rate` `quote` on `date`."""

    date: dt.date = Field(description="The day the rate is for (the ECB's fix date).")
    base: str = Field(examples=["EUR"])
    quote: str = Field(examples=["USD"])
    rate: str = Field(description="Decimal string, as published.", examples=["1.0822"])
    source: RateSource
    provider: str | None = Field(
        description="Frankfurter: the provider(s) it said it used (`CBR`, `IMF`, `peg` for a "
        "currency peg); null for other sources."
    )
    fetched_at: dt.datetime = Field(description="When Orchard stored (or a manual upload set) it.")


class RatesPage(BaseModel):
    items: list[RateRead] = Field(description="Ordered by date, base, quote, source, provider.")
    next_cursor: str | None = Field(description="Opaque cursor for the next page; null at the end.")
    currencies_without_rate: list[str] = Field(
        description="Apple's report currencies (FACTS: 45 codes) with no rate of any source "
        "(the workspace's manual rates included) in the range: amounts in them cannot be "
        "converted. BGN and HRK never appear (fixed euro rates), nor EUR."
    )


class ManualRateWrite(BaseModel):
    date: dt.date = Field(description="The day the rate is for; not in the future (UTC).")
    base: str = Field(min_length=3, max_length=3, examples=["EUR"])
    quote: str = Field(min_length=3, max_length=3, examples=["KZT"])
    rate: str = Field(
        max_length=40, description="1 `base` = `rate` `quote`; a positive decimal string."
    )
    note: str | None = Field(default=None, max_length=500)


class ManualRatesWrite(BaseModel):
    rates: list[ManualRateWrite] = Field(min_length=1, max_length=10000)


class ManualRatesWritten(BaseModel):
    written: int = Field(description="Rates inserted or replaced (all of the upload).")


class FxSettingsRead(BaseModel):
    reporting_currency: str | None = Field(
        description="Default `currency` of the revenue routes when a request gives none; null: "
        "no conversion unless asked."
    )


class FxSettingsWrite(BaseModel):
    reporting_currency: str | None = Field(
        min_length=3, max_length=3, description="An ISO 4217 code, or null to unset."
    )


class RateUsed(BaseModel):
    rate: str = Field(description="Target units per one unit of the original currency.")
    rate_date: dt.date = Field(
        description="The rate's date: the report date's own fix, or the latest earlier one "
        "(weekend, holiday, not yet published). For a cross rate, the older of its two legs."
    )
    source: str = Field(
        description="`ecb`, `manual`, `frankfurter:<provider>`, `euro-fixed` (BGN, HRK), "
        "`identity`; two sources of a cross rate joined by `+`."
    )
    method: str = Field(description="`identity`, `direct` (to or from EUR) or `cross-EUR`.")


class ConvertedAmount(BaseModel):
    """The original amount in the reporting currency, with the rates used (see the measure's
    converted total for the rule)."""

    amount: str = Field(description="Rounded half-even to the currency's minor units.")
    currency: str
    rate: str | None = Field(
        description="The rate, when one rate converted the whole amount (a day's amount); "
        "null when several did (see `rates`)."
    )
    rate_date: dt.date | None = Field(description="That rate's date (null: several, see `rates`).")
    source: str = Field(description="Source(s) of the rates used, joined by `+`.")
    complete: bool = Field(
        description="False when part of the original amount (some report dates) had no rate: "
        "that part is in the measure's `unconverted` list."
    )
    # Absent, never null: ``SkipJsonSchema`` keeps ``None`` (the default) out of the spec.
    rates: list[RateUsed] | SkipJsonSchema[None] = Field(
        default=None,
        description="Every rate used, by date, when several were (`rate` is null: an amount "
        "summed over several report dates). Absent when one rate converted the whole amount: "
        "`rate`, `rate_date` and `source` name it, and its method follows from the two "
        "currencies (`identity` when they are equal, `direct` when one is EUR, else "
        "`cross-EUR`).",
    )
    estimated: bool = Field(
        default=False,
        description="True for payments: Apple's own rate (at the time of payment) is not in "
        "its API, so the reference rate of the fiscal period's end date is used.",
    )


class ConvertibleMoney(Money):
    converted: ConvertedAmount | None = Field(
        default=None,
        description="Present when a reporting currency is asked for (`currency=` or the "
        "workspace's default); null when no part of the amount could be converted.",
    )


class UnconvertedAmount(BaseModel):
    amount: str = Field(description="Original amount (decimal string) that has no rate.")
    currency: str | None
    reason: str = Field(
        description="`no_rate` (no rate of any source within the allowed age), `no_currency` "
        "(Apple left the currency empty) or `unknown_currency`."
    )
    detail: str


class ConvertedTotal(BaseModel):
    """A measure's total in the reporting currency, with what could not be converted."""

    amount: str = Field(description="Σ of the converted amounts, rounded at the end. " + RULE)
    currency: str
    partial: bool = Field(description="True when `unconverted` is not empty.")
    unconverted: list[UnconvertedAmount] = Field(
        description="What is not in `amount`, per currency and reason; never counted as zero."
    )
