"""Building blocks of the truth: flow counting, monthly normalisation, cohorts, win-back."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.calendar import (
    FIRSTS,
    LENGTHS,
    Duration,
    first_boundary_from,
    month_index,
)
from app.sandbox.subscription_world.cells import OFFER_PRICED, Cells
from app.sandbox.subscription_world.extra_reports import ChurnIndex, eligibility
from app.sandbox.subscription_world.files import refund_amount
from app.sandbox.subscription_world.ledger import CHARGE, REFUND_ROW, Happening
from app.sandbox.subscription_world.products import CODE, FREE_TRIAL, INTRO, PROMO
from app.sandbox.subscription_world.world import GroupWorld, Renewal

Money = dict[str, Decimal]
DAYS_PER_MONTH = Decimal("30.4375")


def _money() -> Money:
    return defaultdict(Decimal)


@dataclass
class Flows:
    """What happened over ``[first, last]`` (by event date)."""

    first: date
    last: date
    events: Counter[str] = field(default_factory=Counter)  # Apple event name → quantity
    new_subscriptions: int = 0  # first activations: Subscribe, Start Introductory Offer/Offer Code
    subscribes: int = 0
    introductory_starts: int = 0
    trial_starts: int = 0  # introductory free trials started
    offer_code_redemptions: int = 0
    trial_conversions: int = 0  # Paid Subscription from Introductory Offer after a free trial
    conversions: int = 0  # from any introductory offer or offer code
    trial_lapses: int = 0  # free trials (introductory or offer code) ended without paying
    renewals: int = 0  # Renew: quiet renewals, discounted periods, promotions ending
    cancellations_voluntary: int = 0  # Cancel, Canceled from Billing Grace Period
    cancellations_involuntary: int = 0  # Canceled from Billing Retry
    billing_retries: int = 0  # entries into billing retry (incl. Billing Grace Period)
    recoveries: int = 0  # Renewal from Billing Retry
    recoveries_in_grace: int = 0
    reactivations: int = 0  # Reactivate, Reactivate with Upgrade/Downgrade/Crossgrade
    win_back_redemptions: int = 0
    promotional_redemptions: int = 0  # promotional offers other than win-back
    upgrades: int = 0  # plan changes of subscribed customers (reactivations not included)
    downgrades: int = 0
    crossgrades: int = 0
    refunds: int = 0
    refunded: Money = field(default_factory=_money)  # customer amounts, positive
    refunded_proceeds: Money = field(default_factory=_money)
    transactions: int = 0  # charges (SUBSCRIBER rows that are not refunds)
    sales: Money = field(default_factory=_money)  # customer price of the charges
    proceeds: Money = field(default_factory=_money)  # developer proceeds of the charges


_SIMPLE = {
    m.SUBSCRIBE: ("subscribes", "new_subscriptions"),
    m.START_INTRO: ("introductory_starts", "new_subscriptions"),
    m.START_CODE: ("offer_code_redemptions", "new_subscriptions"),
    m.CONVERT_INTRO: ("conversions",),
    m.CONVERT_CODE: ("conversions",),
    m.RENEW: ("renewals",),
    m.CANCEL_GRACE: ("cancellations_voluntary",),
    m.CANCEL_RETRY: ("cancellations_involuntary",),
    m.RETRY_PAID: ("billing_retries",),
    m.RETRY_INTRO: ("billing_retries",),
    m.RECOVER: ("recoveries",),
    m.UPGRADE: ("upgrades",),
    m.DOWNGRADE: ("downgrades",),
    m.CROSSGRADE: ("crossgrades",),
    **dict.fromkeys(m.REACTIVATIONS, ("reactivations",)),
    m.REFUND: ("refunds",),
}


def count_happening(flows: Flows, cells: Cells, h: Happening) -> None:
    flows.events[m.EVENT_NAMES[h.event]] += 1
    for name in _SIMPLE.get(h.event, ()):
        setattr(flows, name, getattr(flows, name) + 1)
    offer = cells.offer(h.offer)
    free = offer is not None and offer.mode == FREE_TRIAL
    if h.event == m.START_INTRO and free:
        flows.trial_starts += 1
    elif h.event == m.CONVERT_INTRO and free:
        flows.trial_conversions += 1
    elif h.event == m.CANCEL:
        flows.cancellations_voluntary += 1
        if free and offer is not None and offer.family in (INTRO, CODE):
            flows.trial_lapses += 1
    elif h.event == m.RECOVER and h.number >= 0:
        flows.recoveries_in_grace += 1
    if h.event in m.REACTIVATIONS and offer is not None and offer.family == PROMO:
        if offer.win_back:
            flows.win_back_redemptions += 1
        else:
            flows.promotional_redemptions += 1
    currency = cells.country(h.customer).currency
    if h.charge == REFUND_ROW:
        amount, proceeds = refund_amount(cells, h)
        flows.refunded[currency] += amount
        flows.refunded_proceeds[currency] += proceeds
    elif h.charge == CHARGE:
        offer_index = h.offer if h.event in OFFER_PRICED else -1
        _charge(flows, cells, h.customer, h.product, offer_index, h.retained)


def count_renewal(flows: Flows, cells: Cells, renewal: Renewal) -> None:
    run = renewal.run
    flows.events["Renew"] += 1
    flows.renewals += 1
    _charge(flows, cells, run.customer, run.product, run.offer, run.retained)


def _charge(
    flows: Flows, cells: Cells, customer: int, product: int, offer: int, retained: bool
) -> None:
    place = cells.world.customers[customer].country
    country = cells.group.countries[place]
    price = cells.price(product, offer, place)
    flows.transactions += 1
    flows.sales[country.currency] += price
    flows.proceeds[country.currency] += cells.proceeds(price, country, retained)


def monthly_factor(duration: Duration) -> Decimal:
    """How many of ``duration`` make a month: 30.4375/7 for 7 days, 1/months otherwise."""
    if duration.days:
        return DAYS_PER_MONTH / duration.days
    return Decimal(1) / duration.months


def win_back_of(world: GroupWorld, index: ChurnIndex, day: date, found: Counter[str]) -> None:
    for key, count in eligibility(world, index, day.toordinal()).items():
        found["churned"] += count
        found["redeemed_win_back"] += count if key.redeemed else 0
        found[world.group.products[key.product].apple_id] += count


# --- cohorts ------------------------------------------------------------------------------
@dataclass
class Cohort:
    """Customers whose first activation fell in ``month`` (``YYYY-MM``)."""

    month: str
    customers: int
    active: list[int]  # still in an Active/… state at the end of month k (k = 0 … months)
    paying: list[int]  # … in a paid state (standard, pay as you go, pay up front)
    proceeds: list[Money]  # cumulative developer proceeds net of refunds to month k's end (LTV)


def _month_end(index: int) -> int:
    return FIRSTS[index] + LENGTHS[index] - 1


def cohorts_of(
    worlds: list[GroupWorld], first_month: date, last_month: date, months: int
) -> list[Cohort]:
    low, high = month_index(first_month.toordinal()), month_index(last_month.toordinal())
    cohorts = {
        index: Cohort(
            date.fromordinal(FIRSTS[index]).strftime("%Y-%m"),
            0,
            [0] * (months + 1),
            [0] * (months + 1),
            [_money() for _ in range(months + 1)],
        )
        for index in range(low, high + 1)
    }
    for world in worlds:
        _fill_cohorts(world, cohorts, months)
    return [cohorts[index] for index in sorted(cohorts)]


def _cohort_of(world: GroupWorld, customer: int, cohorts: dict[int, Cohort]) -> int | None:
    start = world.customers[customer].original_start
    if start < world.first:
        return None
    index = month_index(start)
    return index if index in cohorts else None


def _fill_cohorts(world: GroupWorld, cohorts: dict[int, Cohort], months: int) -> None:
    cells = Cells(world)
    for number, _customer in enumerate(world.customers):
        index = _cohort_of(world, number, cohorts)
        if index is not None:
            cohorts[index].customers += 1
    paid = (
        m.STANDARD,
        m.INTRO_PUF,
        m.INTRO_PAYG,
        m.PROMO_PUF,
        m.PROMO_PAYG,
        m.CODE_PUF,
        m.CODE_PAYG,
    )
    for span in world.ledger.spans:
        index = _cohort_of(world, span.customer, cohorts)
        if index is None or span.state >= m.OPT_IN:
            continue
        for k in range(months + 1):
            end = _month_end(index + k)
            if span.start <= end < span.end and end <= world.last:
                cohorts[index].active[k] += 1
                cohorts[index].paying[k] += span.state in paid
    _fill_proceeds(world, cells, cohorts, months)


def _fill_proceeds(
    world: GroupWorld, cells: Cells, cohorts: dict[int, Cohort], months: int
) -> None:
    for h in world.ledger.happenings:
        index = _cohort_of(world, h.customer, cohorts)
        if index is None or h.charge == 0:
            continue
        country = cells.country(h.customer)
        if h.charge == REFUND_ROW:
            value = -refund_amount(cells, h)[1]
        else:
            offer = h.offer if h.event in OFFER_PRICED else -1
            price = cells.price(h.product, offer, world.customers[h.customer].country)
            value = cells.proceeds(price, country, h.retained)
        for k in range(months + 1):
            if h.day <= _month_end(index + k):
                cohorts[index].proceeds[k][country.currency] += value
    for run in world.ledger.runs:
        index = _cohort_of(world, run.customer, cohorts)
        if index is None:
            continue
        country = cells.country(run.customer)
        price = cells.price(run.product, run.offer, world.customers[run.customer].country)
        value = cells.proceeds(price, country, run.retained)
        a = run.anchor
        for k in range(months + 1):
            cutoff = min(_month_end(index + k), run.end - 1, world.last)
            count = first_boundary_from(a, cutoff + 1) - run.n_first
            if count > 0:
                cohorts[index].proceeds[k][country.currency] += value * count
