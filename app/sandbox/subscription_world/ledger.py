"""What the simulation writes down: customers, state spans, renewal runs, explicit events, stints.

Everything is plain tuples of ints (fast to build, small in memory). Day values are ordinals.
Only what touches the stored window ``[first, last]`` is kept; a journey is still simulated to
its end so that the random stream, and therefore every other journey, does not depend on the
window (extending the window reproduces the same world).
"""

from __future__ import annotations

from typing import NamedTuple

from app.sandbox.subscription_world.calendar import Anchor

NEVER = 10**9  # "no such day" (a churned customer who never returns)


class Customer(NamedTuple):
    country: int  # index into Group.countries
    device: int  # index into Behaviour.devices
    opt_in: bool
    original_start: int  # first activation in the group ("Original Start Date")
    id_seed: int  # with the ID epoch, determines the anonymous Subscriber ID


class Span(NamedTuple):
    """One subscription in one state over ``[start, end)`` (counted at the end of each day)."""

    start: int
    end: int
    customer: int
    product: int
    state: int
    offer: int  # -1: standard price
    retained: bool  # "Rate After One Year" proceeds


class Run(NamedTuple):
    """Quiet ``Renew`` charges: boundaries ``n >= n_first`` of the anchor in ``[start, end)``."""

    start: int
    end: int
    customer: int
    product: int
    offer: int
    retained: bool
    anchor: Anchor  # (day, period days, period months, month index, day of month)
    n_first: int
    cpp_offset: int  # Consecutive Paid Periods of the charge at boundary n = cpp_offset + n
    epoch: int


class Happening(NamedTuple):
    """An explicit event (and its transaction when ``charge`` is set)."""

    day: int
    event: int
    customer: int
    product: int
    offer: int
    retained: bool
    cpp: int
    previous: int  # previous product (plan changes, reactivations with a change) or -1
    number: int  # Days Before Canceling / Days Canceled / Paid Service Days Recovered, or -1
    charge: int  # NO_CHARGE, CHARGE or REFUND_ROW
    epoch: int
    reset: bool  # first transaction under a new Subscriber ID
    purchase: int  # refunds: day of the refunded charge
    share: int  # refunds: refunded percent of the charge


NO_CHARGE, CHARGE, REFUND_ROW = 0, 1, 2


class Stint(NamedTuple):
    """A continuous subscription of one customer, from activation to churn."""

    customer: int
    start: int
    churn: int
    kind: str  # VOLUNTARY, INVOLUNTARY, REFUNDED, TRIAL_LAPSE
    product: int  # last product
    paid_days: int
    win_back_day: int  # last win-back offer redeemed up to this stint, or -1
    returned: int  # day the customer came back, or NEVER


class Ledger:
    def __init__(self, first: int, last: int) -> None:
        self.first = first
        self.last = last
        self.customers: list[Customer] = []
        self.spans: list[Span] = []
        self.runs: list[Run] = []
        self.happenings: list[Happening] = []
        self.stints: list[Stint] = []

    def keeps(self, start: int, end: int) -> bool:
        return end > self.first and start <= self.last
