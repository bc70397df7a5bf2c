"""Subscription-family daily reports (FACTS §5.3–5.5), version 1_3, generated per team and day.

Every auto-renewable product of a team's selling apps is sold in a few storefronts (its
*markets*, fixed per product). On each day a market has a smooth, seeded number of active
subscriptions: standard price (a quarter of them at the 85 % "Rate After One Year" proceeds),
free trials (monthly and yearly products), pay-as-you-go introductory offers (weekly and
monthly) and offer-code trials (yearly), plus billing retry and grace period counts. The three
reports agree where it is cheap:

* ``SUBSCRIPTION`` — the day's snapshot, no date column, one row per market and price point;
* ``SUBSCRIPTION_EVENT`` — events drawn from that snapshot (renewals ≈ actives / period days,
  trial starts and conversions ≈ trials / 7, cancellations, billing retries and recoveries);
  nine tenths of a day's events are in its own file, the rest arrive in the next day's file,
  so a file holds two event dates;
* ``SUBSCRIBER`` — one row per paid event of the event file (subscribe, renewal, conversion,
  recovery, pay-as-you-go start) plus a few refunds (``Refund`` = ``Yes``, negative customer
  price, positive proceeds, ``Purchase Date`` = the original purchase).

A team whose selling apps have no auto-renewable subscription gets Apple's 400 "Invalid vendor
number" for all three (FACTS §7), while its SALES reports work.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from app.sandbox.catalog import Product, SandboxApp, team_apps
from app.sandbox.errors import invalid_parameter, no_sales
from app.sandbox.markets import COUNTRIES, Country, format_amount, local_price, proceeds
from app.sandbox.sales import MAX_SELLING_APPS, RETAINED_RATE, STANDARD_RATE, rows_to_tsv
from app.sandbox.seeding import numeric_id, poisson, rng
from app.sandbox.state import SandboxTeam

SUBSCRIPTION_HEADER: tuple[str, ...] = (
    "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "State",
    "Country", "Active Standard Price Subscriptions",
    "Active Free Trial Introductory Offer Subscriptions",
    "Active Pay Up Front Introductory Offer Subscriptions",
    "Active Pay As You Go Introductory Offer Subscriptions",
    "Free Trial Promotional Offer Subscriptions", "Pay Up Front Promotional Offer Subscriptions",
    "Pay As You Go Promotional Offer Subscriptions", "Free Trial Offer Code Subscriptions",
    "Pay Up Front Offer Code Subscriptions", "Pay As You Go Offer Code Subscriptions",
    "Marketing Opt-Ins", "Billing Retry", "Grace Period", "Subscribers",
)  # fmt: skip
# 1_3 order: Device before Client (the 1_2 sample has them the other way round).
EVENT_HEADER: tuple[str, ...] = (
    "Event Date", "Event", "App Name", "App Apple ID", "Subscription Name",
    "Subscription Apple ID", "Subscription Group ID", "Standard Subscription Duration",
    "Subscription Offer Type", "Subscription Offer Duration", "Marketing Opt-In",
    "Marketing Opt-In Duration", "Preserved Pricing", "Proceeds Reason",
    "Subscription Offer Name", "Promotional Offer ID", "Consecutive Paid Periods",
    "Original Start Date", "Device", "Client", "State", "Country", "Previous Subscription Name",
    "Previous Subscription Apple ID", "Days Before Canceling", "Cancellation Reason",
    "Days Canceled", "Quantity", "Paid Service Days Recovered",
)  # fmt: skip
SUBSCRIBER_HEADER: tuple[str, ...] = (
    "Event Date", "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Subscription Offer Type", "Subscription Offer Duration",
    "Marketing Opt-In Duration", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "Country",
    "Subscriber ID", "Subscriber ID Reset", "Refund", "Purchase Date", "Units",
)  # fmt: skip
REPORTS = {
    ("SUBSCRIPTION", "SUMMARY"): ("Subscription", SUBSCRIPTION_HEADER),
    ("SUBSCRIPTION_EVENT", "SUMMARY"): ("Subscription_Event", EVENT_HEADER),
    ("SUBSCRIBER", "DETAILED"): ("Subscriber", SUBSCRIBER_HEADER),
}
PERIOD_DAYS = {"7 Days": 7, "1 Month": 30, "1 Year": 365}
_SCALE = {"7 Days": 0.8, "1 Month": 2.0, "1 Year": 1.5}
TRIAL_DAYS = 7
RETAINED = "Rate After One Year"
INTRO_OFFER = "Intro Offer"
CODE_OFFER = "Comeback Code"
LATE_SHARE = 0.1  # of a day's events that only arrive in the next day's file
PAID_EVENTS = frozenset(
    {
        "Subscribe",
        "Renew",
        "Paid Subscription from Introductory Offer",
        "Renewal from Billing Retry",
    }
)
B = " "  # Apple writes many empty cells as a single space


@dataclass(frozen=True, slots=True)
class Market:
    app: SandboxApp
    product: Product
    country: Country
    group_id: str
    device: str
    price: Decimal
    intro_price: Decimal | None  # pay-as-you-go introductory offer, when the product has one

    def proceeds(self, price: Decimal, retained: bool = False) -> Decimal:
        return proceeds(price, self.country, RETAINED_RATE if retained else STANDARD_RATE)


class Counts(NamedTuple):
    standard: int
    retained: int  # standard-price subscriptions past their first year (85 % proceeds)
    trial: int
    intro: int
    code_trial: int
    billing_retry: int
    grace: int
    opt_ins: int


class Event(NamedTuple):
    day: date
    name: str
    market: Market
    quantity: int
    offer_type: str = B
    offer_duration: str = B
    proceeds_reason: str = ""
    cancellation_reason: str = B
    price: Decimal | None = None  # per transaction, for paid events


def has_auto_renewables(team: SandboxTeam) -> bool:
    return any(app.subscriptions for app in team_apps(team)[:MAX_SELLING_APPS])


@lru_cache(maxsize=64)
def markets(team: SandboxTeam) -> tuple[Market, ...]:
    found = []
    for app in team_apps(team)[:MAX_SELLING_APPS]:
        group_id = numeric_id(10, 2, team.seed, "subscription-group", app.id)
        for product in app.subscriptions:
            r = rng(team.seed, "subscription-markets", product.apple_id)
            keyed = sorted(COUNTRIES, key=lambda c: r.random() ** (1.0 / c.weight), reverse=True)
            for country in keyed[: 3 + r.randrange(4)]:
                price = local_price(product.usd_price, country.currency)
                intro = product.period in ("7 Days", "1 Month") and r.random() < 0.6
                intro_price = Decimal(format_amount(price / 2, country.currency))
                found.append(
                    Market(
                        app=app,
                        product=product,
                        country=country,
                        group_id=group_id,
                        device="iPad" if r.random() < 0.2 else "iPhone",
                        price=price,
                        intro_price=intro_price if intro and intro_price > 0 else None,
                    )
                )
    return tuple(found)


def counts_for(team: SandboxTeam, market: Market, day: date) -> Counts:
    """Active subscriptions of one market at the end of ``day`` (smooth, seeded)."""
    if market.app.launch_date > day:
        return Counts(0, 0, 0, 0, 0, 0, 0, 0)
    r = rng(team.seed, "subscription-day", market.product.apple_id, market.country.alpha2, day)
    phase = int(market.product.apple_id) % 97
    level = (
        market.app.popularity
        * market.country.weight
        * _SCALE.get(market.product.period, 1.0)
        * (1 + 0.1 * math.sin(day.toordinal() / 45 + phase))
        * r.uniform(0.98, 1.02)
    )
    period = market.product.period
    return Counts(
        standard=round(level * 0.75),
        retained=round(level * 0.25),
        trial=round(level * 0.06) if period in ("1 Month", "1 Year") else 0,
        intro=round(level * 0.05) if market.intro_price is not None else 0,
        code_trial=round(level * 0.02) if period == "1 Year" else 0,
        billing_retry=round(level * 0.02),
        grace=round(level * 0.01),
        opt_ins=round(level * 0.005),
    )


def _amount(market: Market, value: Decimal) -> str:
    return format_amount(value, market.country.currency)


def _product_cells(market: Market) -> dict[str, str]:
    return {
        "App Name": market.app.name,
        "App Apple ID": market.app.id,
        "Subscription Name": market.product.name,
        "Subscription Apple ID": market.product.apple_id,
        "Subscription Group ID": market.group_id,
        "Standard Subscription Duration": market.product.period,
        "Promotional Offer ID": B,
        "Customer Currency": market.country.currency,
        "Proceeds Currency": market.country.currency,
        "Preserved Pricing": "",
        "Client": "",
        "Device": market.device,
        "State": B,
        "Country": market.country.alpha2,
    }


def _snapshot_row(
    market: Market,
    price: Decimal,
    counts: dict[str, int],
    *,
    retained: bool = False,
    offer: str = B,
) -> dict[str, str]:
    row = dict.fromkeys(SUBSCRIPTION_HEADER[18:], "0")
    row.update(_product_cells(market))
    row.update(
        {
            "Subscription Offer Name": offer,
            "Customer Price": _amount(market, price),
            "Developer Proceeds": _amount(market, market.proceeds(price, retained)),
            "Proceeds Reason": RETAINED if retained else "",
        }
    )
    row.update({header: str(value) for header, value in counts.items()})
    total = sum(value for header, value in counts.items() if header.endswith("Subscriptions"))
    # Apple only fills Subscribers for records of more than three subscriptions.
    row["Subscribers"] = str(total) if total > 3 else ""
    return row


def snapshot_rows(team: SandboxTeam, day: date) -> list[dict[str, str]]:
    """The SUBSCRIPTION/SUMMARY rows for ``day`` (header name → cell)."""
    rows = []
    for market in markets(team):
        c = counts_for(team, market, day)
        standard = {
            "Active Standard Price Subscriptions": c.standard,
            "Active Free Trial Introductory Offer Subscriptions": c.trial,
            "Marketing Opt-Ins": c.opt_ins,
            "Billing Retry": c.billing_retry,
            "Grace Period": c.grace,
        }
        if any(standard.values()):
            rows.append(_snapshot_row(market, market.price, standard))
        if c.retained:
            counts = {"Active Standard Price Subscriptions": c.retained}
            rows.append(_snapshot_row(market, market.price, counts, retained=True))
        if c.intro and market.intro_price is not None:
            counts = {"Active Pay As You Go Introductory Offer Subscriptions": c.intro}
            rows.append(_snapshot_row(market, market.intro_price, counts, offer=INTRO_OFFER))
        if c.code_trial:
            counts = {"Free Trial Offer Code Subscriptions": c.code_trial}
            rows.append(_snapshot_row(market, market.price, counts, offer=CODE_OFFER))
    return rows


def _day_events(team: SandboxTeam, day: date, share: float, salt: str) -> Iterator[Event]:
    for market in markets(team):
        c = counts_for(team, market, day)
        if not any(c):
            continue
        r = rng(
            team.seed,
            "subscription-events",
            salt,
            market.product.apple_id,
            market.country.alpha2,
            day,
        )
        days = PERIOD_DAYS.get(market.product.period, 30)

        def draw(mean: float, r: random.Random = r) -> int:
            return poisson(r, mean * share)

        price = market.price
        yield Event(day, "Renew", market, draw(c.standard / days), price=price)
        yield Event(
            day, "Renew", market, draw(c.retained / days), proceeds_reason=RETAINED, price=price
        )
        yield Event(day, "Subscribe", market, draw(c.standard * 0.004), price=price)
        if c.trial:
            trial = ("Free Trial", "1 Week")
            yield Event(day, "Start Introductory Offer", market, draw(c.trial / TRIAL_DAYS), *trial)
            yield Event(
                day,
                "Paid Subscription from Introductory Offer",
                market,
                draw(0.55 * c.trial / TRIAL_DAYS),
                *trial,
                price=price,
            )
        if c.intro:
            yield Event(
                day,
                "Start Introductory Offer",
                market,
                draw(c.intro / 30),
                "Pay as you go",
                "3 Months",
                price=market.intro_price,
            )
        yield Event(day, "Cancel", market, draw(c.standard * 0.002), cancellation_reason="Canceled")
        yield Event(day, "Billing Retry from Paid Subscription", market, draw(c.billing_retry / 10))
        yield Event(
            day, "Renewal from Billing Retry", market, draw(c.billing_retry / 20), price=price
        )
        yield Event(
            day,
            "Canceled from Billing Retry",
            market,
            draw(c.billing_retry / 25),
            cancellation_reason="Billing issue",
        )


@lru_cache(maxsize=256)
def events(team: SandboxTeam, day: date) -> tuple[Event, ...]:
    """The events of ``day``'s file: most of ``day``'s own, the late rest of the day before."""
    own = _day_events(team, day, 1 - LATE_SHARE, "own")
    late = _day_events(team, day - timedelta(days=1), LATE_SHARE, "late")
    return tuple(e for e in (*own, *late) if e.quantity > 0)


def _event_row(team: SandboxTeam, event: Event) -> dict[str, str]:
    market = event.market
    r = rng(
        team.seed,
        "event-row",
        market.product.apple_id,
        market.country.alpha2,
        event.day,
        event.name,
        event.proceeds_reason,
        event.offer_type,
    )
    days = PERIOD_DAYS.get(market.product.period, 30)
    periods = 0 if event.name.startswith("Start") else 1 + r.randrange(max(1, 730 // days))
    canceling = str(r.randrange(days)) if event.cancellation_reason == "Canceled" else B
    row = _product_cells(market)
    del row["Customer Currency"], row["Proceeds Currency"]
    row.update(
        {
            "Event Date": event.day.isoformat(),
            "Event": event.name,
            "Subscription Offer Type": event.offer_type,
            "Subscription Offer Duration": event.offer_duration,
            "Marketing Opt-In": B,
            "Marketing Opt-In Duration": B,
            "Proceeds Reason": event.proceeds_reason,
            "Subscription Offer Name": INTRO_OFFER if event.offer_type == "Pay as you go" else B,
            "Consecutive Paid Periods": str(periods),
            "Original Start Date": (event.day - timedelta(days=periods * days)).isoformat(),
            "Previous Subscription Name": B,
            "Previous Subscription Apple ID": B,
            "Days Before Canceling": canceling,
            "Cancellation Reason": event.cancellation_reason,
            "Days Canceled": B,
            "Quantity": str(event.quantity),
            "Paid Service Days Recovered": B,
        }
    )
    return row


def event_rows(team: SandboxTeam, day: date) -> list[dict[str, str]]:
    return [_event_row(team, event) for event in events(team, day)]


def is_paid(event: Event) -> bool:
    return event.price is not None and (
        event.name in PAID_EVENTS or event.offer_type == "Pay as you go"
    )


def _subscriber_row(
    team: SandboxTeam, event: Event, index: int, *, refund_of: date | None = None
) -> dict[str, str]:
    market = event.market
    assert event.price is not None
    retained = event.proceeds_reason == RETAINED
    sign = -1 if refund_of else 1
    row = _product_cells(market)
    del row["State"]
    row.update(
        {
            "Event Date": event.day.isoformat(),
            "Subscription Offer Name": INTRO_OFFER if event.offer_type == "Pay as you go" else B,
            "Subscription Offer Type": event.offer_type,
            "Subscription Offer Duration": event.offer_duration,
            "Marketing Opt-In Duration": "",
            "Customer Price": _amount(market, sign * event.price),
            "Developer Proceeds": _amount(market, market.proceeds(event.price, retained)),
            "Proceeds Reason": event.proceeds_reason or B,
            "Subscriber ID": numeric_id(
                13,
                1,
                team.seed,
                "subscriber",
                market.product.apple_id,
                market.country.alpha2,
                event.day,
                event.name,
                event.offer_type,
                event.proceeds_reason,
                index,
                refund_of,
            ),
            "Subscriber ID Reset": "",
            "Refund": "Yes" if refund_of else "",
            "Purchase Date": refund_of.isoformat() if refund_of else "",
            "Units": str(sign),
        }
    )
    return row


def subscriber_rows(team: SandboxTeam, day: date) -> list[dict[str, str]]:
    """One row per paid transaction of ``day``'s event file, then the day's refunds."""
    rows: list[dict[str, str]] = []
    for event in events(team, day):
        if is_paid(event):
            rows.extend(_subscriber_row(team, event, n) for n in range(event.quantity))
    for market in markets(team):
        c = counts_for(team, market, day)
        r = rng(
            team.seed, "subscription-refunds", market.product.apple_id, market.country.alpha2, day
        )
        if c.standard and r.random() < min(0.5, c.standard / 400):
            days = PERIOD_DAYS.get(market.product.period, 30)
            refunded = Event(day, "Refund", market, 1, price=market.price)
            purchase = day - timedelta(days=1 + r.randrange(days))
            rows.append(_subscriber_row(team, refunded, 0, refund_of=purchase))
    return rows


_GENERATORS = {
    "SUBSCRIPTION": snapshot_rows,
    "SUBSCRIPTION_EVENT": event_rows,
    "SUBSCRIBER": subscriber_rows,
}


def daily_report(team: SandboxTeam, report_type: str, day: date) -> tuple[str, str]:
    """(TSV text, file name) of one subscription-family daily report; raises Apple's errors."""
    if not has_auto_renewables(team):
        raise invalid_parameter("filter[vendorNumber]", "Invalid vendor number")
    rows = _GENERATORS[report_type](team, day)
    if not rows:
        raise no_sales()
    prefix, header = next(v for k, v in REPORTS.items() if k[0] == report_type)
    filename = f"{prefix}_{team.vendor_number}_{day:%Y%m%d}_V1_3.txt.gz"
    return rows_to_tsv(header, rows), filename
