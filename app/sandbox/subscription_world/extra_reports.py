"""SUBSCRIPTION_OFFER_CODE_REDEMPTION and WIN_BACK_ELIGIBILITY (``SUMMARY``, ``DAILY``, 1_0).

Their layouts are not in FACTS; found with the search tools:

* Subscription Offer Redemption Report, version 1_0 — Apple, App Store Connect Help,
  developer.apple.com/help/app-store-connect/reference/subscription-offer-redemption-report
  (English and Japanese editions): ``Date, App Name, App Apple ID, Subscription Name,
  Subscription Apple ID, Offer Reference Name, Offer Code, Territory, Redemptions``; "Offer
  Code: the custom code you created … In the case of one-time use code redemptions, this field
  is blank"; "Date: the date the redemptions occurred"; Territory is a two-letter ISO code.
* Win-back eligibility report — Apple, App Store Connect Help,
  developer.apple.com/help/app-store-connect/reference/win-back-eligibility-report (English and
  Korean editions; also a mirror): "the total aggregated count of subscriptions in a churned
  state as of the reporting date": ``App Name, App Apple ID, Subscription Name, Subscription
  Apple ID, Subscription Group ID, Standard Subscription Duration, Paid Subscription Tenure``
  (months of paid service before cancelation, rounded down), ``Time Since Last Subscribed``
  (months since churn, rounded down), ``Has Previously Redeemed Win-Back Offer`` (``Yes`` or
  blank), ``Time Since Last Win-Back Offer`` (months, rounded down), ``Territory``,
  ``Churned Subscription Count`` ("Individual rows will appear only if there are 5 or more").

Unconfirmed, so offered as variants (:mod:`.options`): the date format of ``Date`` (ISO like
the other subscription reports, or MM/DD/YYYY), an ``extended`` redemption layout with group,
duration and offer type columns, and a ``dated`` win-back layout with a leading ``Date``. The
window of churn the win-back report looks at is taken as 24 months (Apple's win-back offers
target customers churned 1–24 months ago); customers who never paid are not counted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from datetime import date
from typing import NamedTuple

from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.calendar import FIRSTS, month_index
from app.sandbox.subscription_world.products import CODE, FREE_TRIAL, PAY_AS_YOU_GO, PAY_UP_FRONT
from app.sandbox.subscription_world.world import GroupWorld

OFFER_CODE_HEADERS: dict[str, tuple[str, ...]] = {
    "help": (
        "Date", "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
        "Offer Reference Name", "Offer Code", "Territory", "Redemptions",
    ),
    "extended": (
        "Date", "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
        "Subscription Group ID", "Standard Subscription Duration", "Offer Reference Name",
        "Offer Code", "Subscription Offer Type", "Subscription Offer Duration", "Territory",
        "Redemptions",
    ),
}  # fmt: skip
_WIN_BACK = (
    "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Paid Subscription Tenure",
    "Time Since Last Subscribed", "Has Previously Redeemed Win-Back Offer",
    "Time Since Last Win-Back Offer", "Territory", "Churned Subscription Count",
)  # fmt: skip
WIN_BACK_HEADERS: dict[str, tuple[str, ...]] = {"help": _WIN_BACK, "dated": ("Date", *_WIN_BACK)}
WIN_BACK_WINDOW_MONTHS = 24
_DAYS_PER_MONTH = 30.4375
_OFFER_TYPES = {
    FREE_TRIAL: "Free Trial",
    PAY_AS_YOU_GO: "Pay As You Go",
    PAY_UP_FRONT: "Pay Up Front",
}


def format_date(day: int, style: str) -> str:
    d = date.fromordinal(day)
    return d.strftime("%m/%d/%Y") if style == "mdy" else d.isoformat()


def redemptions(world: GroupWorld, day: int) -> Counter[tuple[int, int, int]]:
    """Offer codes redeemed on ``day``: (offer, product, country) → redemptions."""
    found: Counter[tuple[int, int, int]] = Counter()
    for h in world.by_event_day.get(day, ()):
        if h.event == m.START_CODE and world.group.offers[h.offer].family == CODE:
            found[(h.offer, h.product, world.customers[h.customer].country)] += 1
    return found


def offer_code_rows(world: GroupWorld, day: int) -> list[dict[str, str]]:
    group, options = world.group, world.options
    rows = []
    for (offer_index, product_index, country), count in sorted(redemptions(world, day).items()):
        offer, product = group.offers[offer_index], group.products[product_index]
        rows.append(
            {
                "Date": format_date(day, options.offer_code_dates),
                "App Name": group.app.name,
                "App Apple ID": group.app.id,
                "Subscription Name": product.name,
                "Subscription Apple ID": product.apple_id,
                "Subscription Group ID": group.group_id,
                "Standard Subscription Duration": product.duration.label,
                "Offer Reference Name": offer.name,
                "Offer Code": offer.code,
                "Subscription Offer Type": _OFFER_TYPES[offer.mode],
                "Subscription Offer Duration": offer.duration.label,
                "Territory": group.countries[country].alpha2,
                "Redemptions": str(count),
            }
        )
    return rows


class Churned(NamedTuple):
    """One WIN_BACK_ELIGIBILITY row's identity (months are whole months, rounded down)."""

    product: int
    tenure: int
    since: int
    redeemed: bool
    since_offer: int  # -1 when no win-back offer was redeemed
    country: int


def _month_and_day(day: int) -> tuple[int, int]:
    index = month_index(day)
    return index, day - FIRSTS[index] + 1


def _months(since: tuple[int, int], until: tuple[int, int]) -> int:
    """Whole calendar months from ``since`` to ``until`` ((month index, day of month) pairs)."""
    return max(0, until[0] - since[0] - (until[1] < since[1]))


class ChurnIndex:
    """Churned stints (of customers who had paid) sorted by churn day, with what the report
    needs precomputed: (returned day, churn month/day, tenure months, win-back
    day and month/day, product, country)."""

    def __init__(self, world: GroupWorld) -> None:
        paid = sorted((s for s in world.ledger.stints if s.paid_days > 0), key=lambda s: s.churn)
        customers = world.customers
        self.days = [s.churn for s in paid]
        self.rows = [
            (
                s.returned,
                _month_and_day(s.churn),
                int(s.paid_days / _DAYS_PER_MONTH),
                s.win_back_day,
                _month_and_day(s.win_back_day) if s.win_back_day >= 0 else (0, 0),
                s.product,
                customers[s.customer].country,
            )
            for s in paid
        ]

    def eligibility(self, day: int) -> Counter[Churned]:
        """Churned subscriptions on ``day`` by row identity (before the 5-or-more rule)."""
        today = _month_and_day(day)
        oldest = day - int(WIN_BACK_WINDOW_MONTHS * _DAYS_PER_MONTH) - 31
        low, high = bisect_left(self.days, oldest), bisect_right(self.days, day)
        found: Counter[Churned] = Counter()
        for returned, churned, tenure, offer_day, offered, product, country in self.rows[low:high]:
            since = _months(churned, today)
            if returned <= day or since > WIN_BACK_WINDOW_MONTHS:
                continue
            redeemed = 0 <= offer_day <= day
            since_offer = _months(offered, today) if redeemed else -1
            found[Churned(product, tenure, since, redeemed, since_offer, country)] += 1
        return found


def eligibility(world: GroupWorld, index: ChurnIndex, day: int) -> Counter[Churned]:
    """Churned subscriptions on ``day`` by row identity (before the 5-or-more rule)."""
    return index.eligibility(day)


def win_back_rows(world: GroupWorld, index: ChurnIndex, day: int) -> list[dict[str, str]]:
    group, options = world.group, world.options
    rows = []
    for key, count in sorted(eligibility(world, index, day).items()):
        if count < options.win_back_min_count:
            continue
        product = group.products[key.product]
        rows.append(
            {
                "Date": format_date(day, "iso"),
                "App Name": group.app.name,
                "App Apple ID": group.app.id,
                "Subscription Name": product.name,
                "Subscription Apple ID": product.apple_id,
                "Subscription Group ID": group.group_id,
                "Standard Subscription Duration": product.duration.label,
                "Paid Subscription Tenure": str(key.tenure),
                "Time Since Last Subscribed": str(key.since),
                "Has Previously Redeemed Win-Back Offer": "Yes" if key.redeemed else "",
                "Time Since Last Win-Back Offer": str(key.since_offer) if key.redeemed else "",
                "Territory": group.countries[key.country].alpha2,
                "Churned Subscription Count": str(count),
            }
        )
    return rows
