"""Who is in a subscription group: the customers already there when the world starts, and the
new arrivals of every day after.

The world starts on ``first`` with a stationary population: paying subscribers in the middle
of their tenure, and customers who churned in the two years before (some of whom come back;
they also fill the win-back eligibility report from the first day). From then on, new
customers arrive every day (a Poisson number around a slowly growing, seasonal rate). Rates
are calibrated by a small pilot so that the group holds about ``target`` subscriptions (active,
in billing retry or in grace) when the world starts; growing arrivals add a few percent a year.

Each arrival day seeds its own random stream, and each customer a private one from it, so the
customers of a day never depend on how far the world is simulated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.sandbox.seeding import poisson, rng
from app.sandbox.state import SandboxTeam
from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.calendar import anchor, boundary
from app.sandbox.subscription_world.journeys import Draws, Stinting
from app.sandbox.subscription_world.ledger import NEVER, Ledger, Stint
from app.sandbox.subscription_world.phases import Simulator
from app.sandbox.subscription_world.products import Group

PILOT_CUSTOMERS = 2000
PILOT_DAY = 730_000  # any day will do (1999-09-03)
MAX_TENURE_DAYS = 12 * 365
PILOT_YEARS = 10  # long enough for the stock of yearly subscribers, short enough to be cheap
CHURN_HISTORY_DAYS = 730
_COUNTED = frozenset((*m.ACTIVE_STATES, m.RETRY, m.GRACE))


@dataclass(frozen=True, slots=True)
class Calibration:
    daily_arrivals: float  # at the reference day
    standard_stock: float  # subscriptions in a paid standard state per unit of target
    product_stock: tuple[float, ...]  # share of the paid stock per product
    paid_churns_per_arrival: float


_PILOTS: dict[tuple[int, str, str], Calibration] = {}  # per unit target; pure, so shared


def calibrate(group: Group, behaviour: m.Behaviour, target: int, seed: int) -> Calibration:
    """Simulate a pilot cohort and size the daily arrivals so the group holds ``target``."""
    key = (seed, group.app.id, repr(behaviour))
    if key not in _PILOTS:
        if len(_PILOTS) > 256:
            _PILOTS.clear()
        _PILOTS[key] = _pilot(group, behaviour, seed)
    unit = _PILOTS[key]
    return Calibration(
        unit.daily_arrivals * target,
        unit.standard_stock,
        unit.product_stock,
        unit.paid_churns_per_arrival,
    )


def _pilot(group: Group, behaviour: m.Behaviour, seed: int) -> Calibration:
    ledger = Ledger(PILOT_DAY, PILOT_DAY + PILOT_YEARS * 365)
    simulator = Simulator(group, behaviour, ledger)
    for n in range(PILOT_CUSTOMERS):
        simulator.arrive(Draws(seed + n), PILOT_DAY, n)
    counted = sum(s.end - s.start for s in ledger.spans if s.state in _COUNTED)
    standard = [0.0] * len(group.products)
    for s in ledger.spans:
        if s.state == m.STANDARD:
            standard[s.product] += s.end - s.start
    total_standard = sum(standard) or 1.0
    paid_churns = sum(1 for s in ledger.stints if s.paid_days > 0)
    return Calibration(
        daily_arrivals=PILOT_CUSTOMERS / max(counted, 1),
        standard_stock=total_standard / max(counted, 1),
        product_stock=tuple(x / total_standard for x in standard),
        paid_churns_per_arrival=paid_churns / PILOT_CUSTOMERS,
    )


def growth(day: int, reference: int, behaviour: m.Behaviour) -> float:
    """Arrival-rate factor: yearly growth and a yearly wave, 1.0 on ``reference``."""
    years = (day - reference) / 365.25
    wave = 1 + behaviour.seasonality * math.sin(2 * math.pi * day / 365.25)
    return float((1 + behaviour.yearly_growth) ** years) * wave


def _pick(r: Draws, shares: tuple[float, ...]) -> int:
    u, total = r.random(), 0.0
    for index, share in enumerate(shares):
        total += share
        if u < total:
            return index
    return len(shares) - 1


class PopulationBuilder:
    def __init__(
        self,
        team: SandboxTeam,
        group: Group,
        behaviour: m.Behaviour,
        target: int,
        ledger: Ledger,
        reference: int,
    ) -> None:
        self.team = team
        self.group = group
        self.behaviour = behaviour
        self.ledger = ledger
        self.reference = reference
        self.target = target
        self.simulator = Simulator(group, behaviour, ledger)
        seed = rng(team.seed, "subscription-pilot", group.app.id).getrandbits(64)
        self.calibration = calibrate(group, behaviour, target, seed)

    def build(self) -> Ledger:
        first, last = self.ledger.first, self.ledger.last
        start = max(first, self.group.app.launch_date.toordinal())
        if start == first:
            self.settled_customers()
        for day in range(start, last + 1):
            self.arrivals(day)
        return self.ledger

    def arrivals(self, day: int) -> None:
        r = rng(self.team.seed, "subscription-arrivals", self.group.app.id, day)
        rate = self.calibration.daily_arrivals * growth(day, self.reference, self.behaviour)
        for n in range(poisson(r, rate)):
            self.simulator.arrive(Draws(r.getrandbits(64)), day, day * 100_000 + n)

    def settled_customers(self) -> None:
        """Customers who were already subscribed, or had churned, when the world starts."""
        first = self.ledger.first
        r = rng(self.team.seed, "subscription-settled", self.group.app.id, first)
        level = growth(first, self.reference, self.behaviour)
        paying = round(level * self.target * self.calibration.standard_stock)
        for n in range(paying):
            self._paying(Draws(r.getrandbits(64)), first, -(n + 1))
        daily = level * self.calibration.daily_arrivals
        churned = round(daily * self.calibration.paid_churns_per_arrival * CHURN_HISTORY_DAYS)
        for n in range(churned):
            self._churned(Draws(r.getrandbits(64)), first, -(paying + n + 1))

    def _paying(self, r: Draws, first: int, id_seed: int) -> None:
        product = _pick(r, self.calibration.product_stock)
        duration = self.group.products[product].duration
        hazard = self.simulator.hazards[product][-1]
        periods = 1 + min(r.geometric(hazard), int(MAX_TENURE_DAYS / duration.approx_days))
        current = first - int(r.random() * duration.approx_days)
        a = anchor(current, duration)
        original = boundary(a, 1 - periods)
        customer = self.simulator.new_customer(r, original, id_seed)
        st = Stinting(customer, 0, False, -1)
        st.cpp = periods
        st.paid_since = original
        outcome = self.simulator.paid_phase(r, st, product, a, 0, current, fresh=False)
        self.simulator.live_on(r, st, original, outcome)

    def _churned(self, r: Draws, first: int, id_seed: int) -> None:
        product = _pick(r, self.calibration.product_stock)
        churn = first - 1 - int(r.random() * CHURN_HISTORY_DAYS)
        duration = self.group.products[product].duration
        paid_days = max(1, round(duration.approx_days * (1 + r.geometric(0.15))))
        kind = m.VOLUNTARY if r.random() < 0.7 else m.INVOLUNTARY
        returned = NEVER
        if r.random() < self.behaviour.return_after[kind]:
            returned = churn + 1 + int(r.exponential(self.behaviour.return_gap_mean_days))
            if returned < first:
                return  # back before the world starts: among the paying customers already
        customer = self.simulator.new_customer(r, churn - paid_days, id_seed)
        self.ledger.stints.append(
            Stint(customer, churn - paid_days, churn, kind, product, paid_days, -1, returned)
        )
        if returned > self.ledger.last:
            return
        gap = returned - churn
        st = Stinting(customer, int(gap > 180), gap > 180, -1)
        outcome = self.simulator.come_back(r, st, returned, product, gap)
        self.simulator.live_on(r, st, returned, outcome)
