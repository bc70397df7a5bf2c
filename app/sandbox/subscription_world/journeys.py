"""One customer's life in a subscription group, written into a :class:`Ledger`.

A customer arrives, starts a stint (introductory offer, offer code or a plain ``Subscribe``),
pays period after period, and leaves: a voluntary ``Cancel`` at a period end, a failed
billing retry (involuntary), or a refund that revokes the subscription. Some come back later
(``Reactivate…``), possibly with a promotional or win-back offer; after more than 180 days
away they get a new Subscriber ID (FACTS §5.5).

Quiet renewals are not simulated one by one: the number of clean renewals before the next
incident (cancel, billing failure, plan change, refund) is one geometric draw, and the run of
renewals is stored as a :class:`Run` whose charges are enumerated only when a day is asked
for. Every customer draws from a private stream (:class:`Draws`, seeded from the arrival
day's stream), so a journey can stop at the end of the simulated window without changing any
other journey; simulating further later reproduces the same world.
"""

from __future__ import annotations

import math
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.calendar import Anchor, Duration, boundary, first_boundary_from
from app.sandbox.subscription_world.ledger import (
    CHARGE,
    NEVER,
    NO_CHARGE,
    Customer,
    Happening,
    Ledger,
    Run,
    Span,
    Stint,
)
from app.sandbox.subscription_world.products import CODE, FREE_TRIAL, PROMO, Group, Offer

ONE_YEAR = 365
ID_RESET_DAYS = 180  # FACTS §5.5: a new Subscriber ID after 180 days without a subscription
CANCEL, BILLING, UPGRADE, DOWNGRADE, CROSSGRADE, REFUND = range(6)
OPEN = "open"  # the stint goes on past the simulated window
Outcome = tuple[int, str, int]  # (churn day, churn kind, last product)
_MASK64 = (1 << 64) - 1
_T = TypeVar("_T")
_new = tuple.__new__  # builds the NamedTuple records below without their Python-level __new__


class Draws:
    """A 64-bit linear congruential stream (top 53 bits used): cheap to seed, one per customer."""

    __slots__ = ("_x",)

    def __init__(self, seed: int) -> None:
        z = (seed + 0x9E3779B97F4A7C15) & _MASK64  # splitmix64: nearby seeds, unrelated streams
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        self._x = z ^ (z >> 31)

    def random(self) -> float:
        self._x = x = (self._x * 6364136223846793005 + 1442695040888963407) & _MASK64
        return (x >> 11) * 1.1102230246251565e-16

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def choice(self, items: Sequence[_T]) -> _T:
        return items[int(self.random() * len(items))]

    def exponential(self, mean: float) -> float:
        return -math.log(1.0 - self.random()) * mean

    def geometric(self, hazard: float) -> int:
        """Clean periods before the first incident of per-period probability ``hazard``."""
        if hazard <= 0:
            return 10**6
        return int(math.log(1.0 - self.random()) / math.log(1.0 - hazard))


class Stinting:
    """Mutable bookkeeping of the current stint of one customer."""

    __slots__ = ("cpp", "customer", "epoch", "paid_days", "paid_since", "reset", "win_back_day")

    def __init__(self, customer: int, epoch: int, reset: bool, win_back_day: int) -> None:
        self.customer = customer
        self.epoch = epoch
        self.reset = reset
        self.cpp = 0
        self.paid_since = -1
        self.paid_days = 0
        self.win_back_day = win_back_day

    def start_paying(self, day: int) -> None:
        if self.paid_since < 0:
            self.paid_since = day

    def retained_on(self, day: int) -> bool:
        return self.paid_since >= 0 and day >= self.paid_since + ONE_YEAR


class JourneyBase:
    def __init__(self, group: Group, behaviour: m.Behaviour, ledger: Ledger) -> None:
        self.group = group
        self.b = behaviour
        self.ledger = ledger
        self.first, self.last = ledger.first, ledger.last
        products = group.products
        self.durations: list[Duration] = [p.duration for p in products]
        self._product_cum = list(accumulate(p.flow_weight for p in products))
        self._country_cum = list(accumulate(c.weight for c in group.countries))
        self._device_cum = list(accumulate(w for _, w in behaviour.devices))
        self._upgrade = [self._other_level(i, -1) for i in range(len(products))]
        self._downgrade = [self._other_level(i, +1) for i in range(len(products))]
        self._crossgrade = [
            [p.index for p in products if p.level == q.level and p.duration != q.duration]
            for q in products
        ]
        self.hazards = [self._product_hazards(i) for i in range(len(products))]
        self._codes = group.offers_of(CODE)
        promos = group.offers_of(PROMO)
        self._win_back = [o for o in promos if o.win_back]
        self._promotional = [o for o in promos if not o.win_back]

    # --- choices ---------------------------------------------------------------------------
    @staticmethod
    def pick(r: Draws, cumulative: list[float]) -> int:
        return min(bisect(cumulative, r.random() * cumulative[-1]), len(cumulative) - 1)

    def _other_level(self, product: int, step: int) -> int:
        """A product one level up (step -1) or down (+1), same duration if any; -1 if none."""
        current = self.group.products[product]
        candidates = [p for p in self.group.products if p.level == current.level + step]
        same = [p for p in candidates if p.duration == current.duration]
        return (same or candidates)[0].index if candidates else -1

    def _product_hazards(self, product: int) -> list[float]:
        b = self.b
        hazards = [0.0] * 6
        hazards[CANCEL] = b.cancel.get(self.durations[product].label, 0.1)
        hazards[BILLING] = b.billing_failure
        hazards[UPGRADE] = b.upgrade if self._upgrade[product] >= 0 else 0.0
        hazards[DOWNGRADE] = b.downgrade if self._downgrade[product] >= 0 else 0.0
        hazards[CROSSGRADE] = b.crossgrade if self._crossgrade[product] else 0.0
        hazards[REFUND] = b.refund
        return list(accumulate(hazards))

    # --- writing ---------------------------------------------------------------------------
    def emit(
        self,
        st: Stinting,
        day: int,
        event: int,
        product: int,
        offer: int = -1,
        *,
        charge: int = NO_CHARGE,
        previous: int = -1,
        number: int = -1,
        purchase: int = 0,
        share: int = 100,
    ) -> None:
        reset = False
        if charge == CHARGE and st.reset:
            reset, st.reset = True, False
        if self.first <= day <= self.last:
            retained = offer < 0 and st.retained_on(purchase or day)
            self.ledger.happenings.append(
                _new(Happening, (day, event, st.customer, product, offer, retained, st.cpp,
                                 previous, number, charge, st.epoch, reset, purchase, share))
            )  # fmt: skip

    def span(
        self, st: Stinting, start: int, end: int, product: int, state: int, offer: int = -1
    ) -> None:
        if end > start and end > self.first and start <= self.last:
            retained = offer < 0 and st.retained_on(start)
            self.ledger.spans.append(
                _new(Span, (start, end, st.customer, product, state, offer, retained))
            )

    def paid_run(
        self, st: Stinting, product: int, a: Anchor, n_first: int, start: int, end: int
    ) -> None:
        """Standard-price service over [start, end) with renewals from boundary ``n_first``."""
        st.paid_days += end - start
        if end <= self.first or start > self.last or end <= start:
            return
        offset = st.cpp - n_first + 1
        split = end
        if st.paid_since >= 0 and start < st.paid_since + ONE_YEAR:
            n_split = max(n_first, first_boundary_from(a, st.paid_since + ONE_YEAR))
            split = boundary(a, n_split)
        spans, runs, customer = self.ledger.spans, self.ledger.runs, st.customer
        epoch = st.epoch
        if start < split < end:
            spans.append(_new(Span, (start, split, customer, product, m.STANDARD, -1, False)))
            runs.append(
                _new(Run, (start, split, customer, product, -1, False, a, n_first, offset, epoch))
            )
            spans.append(_new(Span, (split, end, customer, product, m.STANDARD, -1, True)))
            runs.append(
                _new(Run, (split, end, customer, product, -1, True, a, n_split, offset, epoch))
            )
            return
        retained = split <= start
        spans.append(_new(Span, (start, end, customer, product, m.STANDARD, -1, retained)))
        runs.append(
            _new(Run, (start, end, customer, product, -1, retained, a, n_first, offset, epoch))
        )

    def offer_run(
        self, st: Stinting, offer: Offer, a: Anchor, start: int, end: int, state: int
    ) -> None:
        self.span(st, start, end, offer.product, state, offer.index)
        if offer.mode != FREE_TRIAL:
            st.paid_days += end - start
        if offer.periods > 1 and end > self.first and start <= self.last:
            self.ledger.runs.append(
                Run(
                    start,
                    end,
                    st.customer,
                    offer.product,
                    offer.index,
                    False,
                    a,
                    1,
                    st.cpp,
                    st.epoch,
                )
            )

    # --- customers -------------------------------------------------------------------------
    def new_customer(self, r: Draws, day: int, id_seed: int) -> int:
        country = self.pick(r, self._country_cum)
        device = self.pick(r, self._device_cum)
        opt_in = r.random() < self.b.marketing_opt_in
        customer = _new(Customer, (country, device, opt_in, day, id_seed))
        self.ledger.customers.append(customer)
        return len(self.ledger.customers) - 1

    def live_on(self, r: Draws, st: Stinting, stint_start: int, outcome: Outcome) -> None:
        """Record the stint that just ended and, maybe, the customer's returns."""
        for _ in range(self.b.max_stints):
            churn, kind, product = outcome
            returned = NEVER
            if kind != OPEN and r.random() < self.b.return_after[kind]:
                returned = churn + 1 + int(r.exponential(self.b.return_gap_mean_days))
            if churn <= self.last:
                self.ledger.stints.append(
                    Stint(
                        st.customer,
                        stint_start,
                        churn,
                        kind,
                        product,
                        st.paid_days,
                        st.win_back_day,
                        returned,
                    )
                )
            if returned > self.last:
                return
            gap = returned - churn
            reset = gap > ID_RESET_DAYS
            st = Stinting(st.customer, st.epoch + reset, reset, st.win_back_day)
            stint_start = returned
            outcome = self.come_back(r, st, returned, product, gap)

    def come_back(self, r: Draws, st: Stinting, day: int, previous: int, gap: int) -> Outcome:
        raise NotImplementedError
