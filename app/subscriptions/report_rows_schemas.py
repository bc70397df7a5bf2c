"""API shapes of the offer-code redemption and win-back eligibility rows Orchard stores."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.subscriptions.schemas import REPORT_DATE

NUMBER = "A decimal string as stored from Apple's number column (Orchard does not round it)."
EXTRA = "Columns of Apple's file Orchard does not model, by Apple's header name."


class OfferCodeRedemptionRead(BaseModel):
    """One line of Apple's SUBSCRIPTION_OFFER_CODE_REDEMPTION daily report: redemptions of one
    subscription offer code per subscription and territory."""

    id: int
    account_id: uuid.UUID
    report_date: dt.date = Field(description=REPORT_DATE + " The report the line came from.")
    event_date: dt.date | None = Field(description="Apple's `Date`: the day of the redemptions.")
    app_name: str | None
    app_apple_id: str | None
    subscription_name: str | None
    subscription_apple_id: str | None
    offer_reference_name: str | None = Field(description="The offer's reference name.")
    offer_code: str | None = Field(
        description="The custom code; null for one-time-use codes (Apple leaves it blank)."
    )
    territory: str | None = Field(description="Apple's `Territory`, as Apple writes it.")
    redemptions: str | None = Field(description="Redemptions. " + NUMBER)
    extra: dict[str, Any] = Field(description=EXTRA)


class WinBackEligibilityRead(BaseModel):
    """One line of Apple's WIN_BACK_ELIGIBILITY daily report: churned subscriptions as of the
    report date with the same subscription, tenure, time since churn and territory (Apple
    lists only groups of 5 or more; months are rounded down)."""

    id: int
    account_id: uuid.UUID
    report_date: dt.date = Field(description=REPORT_DATE)
    app_name: str | None
    app_apple_id: str | None
    subscription_name: str | None
    subscription_apple_id: str | None
    subscription_group_id: str | None
    standard_duration: str | None = Field(description="`Standard Subscription Duration`.")
    paid_tenure_months: str | None = Field(description="`Paid Subscription Tenure`. " + NUMBER)
    months_since_subscribed: str | None = Field(
        description="`Time Since Last Subscribed`, in months. " + NUMBER
    )
    redeemed_win_back: bool | None = Field(
        description="`Has Previously Redeemed Win-Back Offer`: true for `Yes`, false for `No`, "
        "null where Apple left it blank."
    )
    months_since_win_back: str | None = Field(
        description="`Time Since Last Win-Back Offer`, in months. " + NUMBER
    )
    territory: str | None = Field(description="Apple's `Territory`, as Apple writes it.")
    churned_count: str | None = Field(description="`Churned Subscription Count`. " + NUMBER)
    extra: dict[str, Any] = Field(description=EXTRA)
