"""API shapes for subscriptions: active counts for a day, daily series, events."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit.money import Money
from app.reports.schemas import IncompleteDate
from app.subscriptions.metrics import EventGroup, OfferType

REPORT_DATE = "Apple's reporting day (a Pacific-time calendar day)."
MRR_DESCRIPTION = (
    "Estimated monthly recurring revenue per proceeds currency (never converted or mixed): "
    "Σ (standard-price + pay-as-you-go subscriptions) × developer proceeds × monthly factor of "
    "the standard subscription duration, where the factor normalises to a month of 30.4375 "
    "days: N days → 30.4375/N (7 days → 4.348214…), N weeks → 30.4375/(7N), N months → 1/N "
    "(1 → 1, 2 → 1/2, 3 → 1/3, 6 → 1/6), N years → 1/(12N) (1 year → 1/12). Pay-up-front "
    "offers (paid once for an offer period the report does not state) and free trials add "
    "nothing. Rounded once per currency to its minor units (half-even); sorted by currency."
)


class SummaryDimension(StrEnum):
    """What `/v1/subscriptions/summary` can group by, in the order groups are sorted."""

    SUBSCRIPTION = "subscription"
    COUNTRY = "country"
    OFFER_TYPE = "offer_type"


class EventDimension(StrEnum):
    """What `/v1/subscriptions/events` can group by, in the order groups are sorted."""

    EVENT = "event"
    EVENT_GROUP = "event_group"
    SUBSCRIPTION = "subscription"
    COUNTRY = "country"


class Metric(StrEnum):
    ACTIVE = "active"
    PAYING = "paying"
    FREE_TRIAL = "free_trial"
    INTRODUCTORY = "introductory"
    PROMOTIONAL = "promotional"
    OFFER_CODE = "offer_code"
    WIN_BACK = "win_back"
    BILLING_RETRY = "billing_retry"
    GRACE_PERIOD = "grace_period"
    MARKETING_OPT_INS = "marketing_opt_ins"
    SUBSCRIBERS = "subscribers"
    ESTIMATED_MRR = "estimated_mrr"
    CHURNED = "churned"
    TRIAL_STARTS = "trial_starts"
    TRIAL_CONVERSIONS = "trial_conversions"


EVENT_METRICS = frozenset({Metric.CHURNED, Metric.TRIAL_STARTS, Metric.TRIAL_CONVERSIONS})


class SubscriptionMeasures(BaseModel):
    """Active subscriptions from Apple's Subscription Report for one day."""

    active: int = Field(
        description="Σ of every active-count column: standard price and every introductory, "
        "promotional, offer-code and win-back mode (billing retry and grace period excluded)."
    )
    paying: int = Field(
        description="Standard price plus every pay-up-front and pay-as-you-go offer mode."
    )
    free_trial: int = Field(
        description="Every free-trial mode (introductory, promotional, offer code, win-back)."
    )
    introductory: int = Field(description="Introductory offers, all three modes.")
    promotional: int = Field(description="Promotional offers, all three modes.")
    offer_code: int = Field(description="Offer codes, all three modes.")
    win_back: int = Field(description="Win-back offers, all three modes.")
    billing_retry: int | None = Field(
        description="Subscriptions in Apple's billing retry state; null when grouped by offer "
        "type (Apple does not split it by offer)."
    )
    grace_period: int | None = Field(
        description="Subscriptions in the billing grace period; null when grouped by offer type."
    )
    marketing_opt_ins: int | None = Field(
        description="Marketing opt-ins; null when grouped by offer type."
    )
    subscribers: int | None = Field(
        description="People with access, family members included, as Apple reports it (only "
        "for records of more than three subscriptions); null when grouped by offer type."
    )
    estimated_mrr: list[ConvertibleMoney] = Field(description=MRR_DESCRIPTION)

    @field_validator("estimated_mrr", mode="before")
    @classmethod
    def _convertible(cls, value: Any) -> Any:
        """Plain `Money` (as the measures are computed) becomes convertible money."""
        if not isinstance(value, list):
            return value
        return [
            m.model_dump() if isinstance(m, Money) and not isinstance(m, ConvertibleMoney) else m
            for m in value
        ]

    estimated_mrr_total_converted: ConvertedTotal | None = Field(
        default=None,
        description="With a reporting currency (`currency=`): `estimated_mrr` in it, at the "
        "report date's rate, with what had no rate.",
    )
    mrr_excluded_subscriptions: int = Field(
        description="Standard-price and pay-as-you-go subscriptions left out of "
        "`estimated_mrr` because their duration is unrecognised or their proceeds are missing."
    )


class SummaryGroup(SubscriptionMeasures):
    subscription_apple_id: str | None = Field(
        description="Grouped by `subscription`: Apple's subscription id."
    )
    subscription_name: str | None = Field(description="Grouped by `subscription`: its name.")
    app_apple_id: str | None = Field(
        description="Grouped by `subscription`: Apple's id of its app."
    )
    country: str | None = Field(description="Grouped by `country`: the storefront (alpha-2).")
    offer_type: OfferType | None = Field(
        description="Grouped by `offer_type`: the offer mode of the subscriptions counted."
    )


class SubscriptionSummary(BaseModel):
    """Active subscriptions, trials and estimated MRR for one report date."""

    currency: str | None = Field(
        default=None, description="The reporting currency money was converted into."
    )
    report_date: dt.date | None = Field(
        description=REPORT_DATE + " Null when nothing was ever published for the scope."
    )
    group_by: list[SummaryDimension]
    totals: SubscriptionMeasures
    groups: list[SummaryGroup] = Field(
        description="With `group_by`: one entry per group with subscriptions, sorted by each "
        "group value (nulls last). Empty without `group_by`."
    )
    incomplete_dates: list[IncompleteDate] = Field(
        description="The date, per linked account in scope, when its Subscription Report is "
        "not stored: only `published` and `no_data` are complete, so the totals of an "
        "incomplete date can still change."
    )


COMPLETE = (
    "Every account in scope has the date as published or as Apple's no data. Event metrics "
    "need every file that can still change the date's events: the day before's and the two "
    "days after's (a daily event file holds neighbouring event dates; late events arrive for "
    "about two report days)."
)


class CountPoint(BaseModel):
    """A day of a count metric."""

    report_date: dt.date = Field(description=REPORT_DATE + " For event metrics: the event date.")
    value: int | None = Field(
        description="The count; null when no account in scope has the date yet (not zero)."
    )
    complete: bool = Field(description=COMPLETE)


class MoneyPoint(BaseModel):
    """A day of a money metric (`estimated_mrr`)."""

    report_date: dt.date = Field(description=REPORT_DATE)
    amounts: list[ConvertibleMoney] | None = Field(
        description="Per currency (never added up); null when no account in scope has the "
        "date yet (not zero). With a reporting currency each amount also has `converted`, at "
        "this report date's rate."
    )
    amounts_total_converted: ConvertedTotal | None = Field(
        default=None,
        description="With a reporting currency (`currency=`): the day's amounts in it, "
        "converted at this report date's rate (the latest published on or before it), with "
        "what had no rate; null when no account has the date yet.",
    )
    complete: bool = Field(description=COMPLETE)


class CountSeries(BaseModel):
    """A count metric per day over a range of report dates (`kind` is `count`)."""

    model_config = ConfigDict(populate_by_name=True)

    kind: Literal["count"] = Field(description="Says the points carry `value`.")
    metric: Metric
    from_date: dt.date = Field(serialization_alias="from")
    to_date: dt.date = Field(serialization_alias="to")
    points: list[CountPoint] = Field(description="One per day of the range, oldest first.")
    incomplete_dates: list[IncompleteDate]


class MoneySeries(BaseModel):
    """A money metric per day over a range of report dates (`kind` is `money`)."""

    model_config = ConfigDict(populate_by_name=True)

    kind: Literal["money"] = Field(description="Says the points carry `amounts`.")
    currency: str | None = Field(
        default=None,
        description="The reporting currency amounts were converted into (`currency=` or the "
        "workspace's default); absent without one.",
    )
    metric: Metric
    from_date: dt.date = Field(serialization_alias="from")
    to_date: dt.date = Field(serialization_alias="to")
    points: list[MoneyPoint] = Field(description="One per day of the range, oldest first.")
    incomplete_dates: list[IncompleteDate]


#: One metric per day: `kind` says whether its points carry `value` or `amounts`.
SubscriptionSeries = Annotated[CountSeries | MoneySeries, Field(discriminator="kind")]


class EventCount(BaseModel):
    event: str | None = Field(
        description="Grouped by `event`: Apple's event name, as written (open-ended)."
    )
    event_group: EventGroup | None = Field(
        description="Grouped by `event` or `event_group`: Orchard's stable group of the event."
    )
    subscription_apple_id: str | None = Field(description="Grouped by `subscription`.")
    subscription_name: str | None = Field(description="Grouped by `subscription`.")
    country: str | None = Field(description="Grouped by `country` (alpha-2 storefront).")
    quantity: int = Field(description="Σ Quantity of Apple's event rows.")


class EventGroupTotals(BaseModel):
    activation: int = Field(
        description="Subscribe, Start Introductory Offer / Promotional Offer / Offer Code, "
        "Opt-In, Reactivate…"
    )
    cancellation: int = Field(
        description="Cancel, Canceled from Billing Retry / Billing Grace Period, …"
    )
    conversion: int = Field(
        description="Paid Subscription from Introductory Offer, Crossgrade from Introductory "
        "Offer, … (to a paid price)."
    )
    renewal: int = Field(description="Renew, Renewal from Billing Retry, …")
    billing: int = Field(description="Billing Retry from …, grace period events.")
    other: int = Field(description="Upgrades, downgrades, crossgrades, refunds, new events.")


class SubscriptionEvents(BaseModel):
    """Subscription events counted by event date, and the metrics derived from them."""

    model_config = ConfigDict(populate_by_name=True)

    from_date: dt.date = Field(serialization_alias="from")
    to_date: dt.date = Field(serialization_alias="to")
    group_by: list[EventDimension]
    groups: list[EventCount] = Field(
        description="One entry per group with events, sorted by each group value (nulls last)."
    )
    totals: EventGroupTotals
    churned: int = Field(description="Churned subscriptions: Σ quantity of cancellation events.")
    trial_starts: int = Field(
        description="Σ quantity of activation events whose offer type is Free Trial."
    )
    trial_conversions: int = Field(
        description="Σ quantity of conversion events whose offer type is Free Trial."
    )
    incomplete_dates: list[IncompleteDate] = Field(
        description="Event report files (by report date, per linked account in scope) that "
        "are not stored among those that can hold events of the range: the day before it to "
        "two days after it (a daily file holds neighbouring event dates, and late events "
        "arrive for about two report days). Until they are in, the totals can still change."
    )


@dataclass(frozen=True)
class RowFilter:
    """Rows of one account, or of one app (its account and Apple id); None: the workspace."""

    account_id: uuid.UUID | None = None
    app_apple_id: str | None = None
