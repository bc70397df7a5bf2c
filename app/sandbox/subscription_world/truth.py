"""The simulation's truth: what a subscription-metrics test compares Orchard's numbers with.

Everything here is computed from the same population the files are written from, so the files
sum to it exactly: the snapshot's counts are :meth:`SubscriptionTruth.actives`; the events of
a day, summed over the files of that day and the next two, are :meth:`SubscriptionTruth.flows`
``.events``; every SUBSCRIBER row is one of ``flows.transactions`` / ``flows.refunds``.
Amounts are ``Decimal`` in the customer's currency (never converted), unrounded.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.cells import Cells
from app.sandbox.subscription_world.products import selling_groups
from app.sandbox.subscription_world.registry import churn_index, group_world, window
from app.sandbox.subscription_world.truth_parts import (
    Cohort,
    Flows,
    Money,
    cohorts_of,
    count_happening,
    count_renewal,
    monthly_factor,
    win_back_of,
)
from app.sandbox.subscription_world.world import GroupWorld

__all__ = ["MRR_STATES", "Cohort", "Flows", "SubscriptionTruth"]

#: States whose subscriptions pay every period (what MRR counts; pay up front and free offers
#: do not recur).
MRR_STATES = (m.STANDARD, m.INTRO_PAYG, m.PROMO_PAYG, m.CODE_PAYG)


class SubscriptionTruth:
    """Truth for one team, or one of its apps (``app_id``)."""

    def __init__(self, state: SandboxState, team: SandboxTeam, app_id: str | None = None) -> None:
        self.state = state
        self.team = team
        self.groups = [g for g in selling_groups(team) if app_id in (None, g.app.id)]

    def worlds(self, day: date) -> list[GroupWorld]:
        return [group_world(self.state, self.team, group, day) for group in self.groups]

    # --- stocks -----------------------------------------------------------------------------
    def actives(self, day: date) -> dict[str, int]:
        """Subscriptions at the end of ``day`` by state (the SUBSCRIPTION columns), plus
        ``active`` (the ten Active/… columns), ``paying`` (active minus free offers) and
        ``subscriptions`` (active + billing retry + grace period)."""
        counts = dict.fromkeys(m.STATE_NAMES, 0)
        for world in self.worlds(day):
            for code, count in world.snapshot(day.toordinal()).items():
                counts[m.STATE_NAMES[world.decode(code)[1]]] += count
        active = sum(counts[m.STATE_NAMES[s]] for s in m.ACTIVE_STATES)
        counts["active"] = active
        counts["paying"] = active - sum(counts[m.STATE_NAMES[s]] for s in m.FREE_STATES)
        counts["subscriptions"] = active + counts["billing_retry"] + counts["grace_period"]
        return counts

    def actives_by_subscription(self, day: date) -> dict[tuple[str, str], dict[str, int]]:
        """(Subscription Apple ID, country) → state → subscriptions at the end of ``day``."""
        found: dict[tuple[str, str], dict[str, int]] = defaultdict(Counter)
        for world in self.worlds(day):
            for code, count in world.snapshot(day.toordinal()).items():
                key, state = world.decode(code)
                place = (
                    world.group.products[key.product].apple_id,
                    world.group.countries[key.country].alpha2,
                )
                found[place][m.STATE_NAMES[state]] += count
        return dict(found)

    def mrr(self, day: date, *, customer_price: bool = False) -> Money:
        """Monthly recurring revenue at the end of ``day`` per currency: developer proceeds (or
        customer price) of every subscription in :data:`MRR_STATES`, normalised to a month
        (× 30.4375/7 for 7 days, ÷ months otherwise)."""
        total: Money = defaultdict(Decimal)
        for world in self.worlds(day):
            cells = Cells(world)
            for code, count in world.snapshot(day.toordinal()).items():
                key, state = world.decode(code)
                if state not in MRR_STATES:
                    continue
                country = world.group.countries[key.country]
                price = cells.price(key.product, key.offer, key.country)
                if not customer_price:
                    price = cells.proceeds(price, country, key.retained)
                duration = world.group.products[key.product].duration
                total[country.currency] += price * count * monthly_factor(duration)
        return dict(total)

    def win_back_eligible(self, day: date) -> dict[str, int]:
        """Churned subscriptions as of ``day`` (the WIN_BACK_ELIGIBILITY population before its
        5-or-more rule): ``churned``, ``redeemed_win_back`` and per subscription Apple ID."""
        found: Counter[str] = Counter()
        for world in self.worlds(day):
            win_back_of(world, churn_index(self.state, world), day, found)
        return dict(found)

    # --- flows ------------------------------------------------------------------------------
    def flows(self, first: date, last: date) -> Flows:
        """Events, transactions and money of ``[first, last]`` by event date."""
        flows = Flows(first, last)
        for world in self.worlds(last):
            cells = Cells(world)
            for ordinal in range(first.toordinal(), last.toordinal() + 1):
                for h in world.by_event_day.get(ordinal, ()):
                    count_happening(flows, cells, h)
                for renewal in world.renewals(ordinal):
                    count_renewal(flows, cells, renewal)
        return flows

    def file_events(self, file_day: date) -> Counter[str]:
        """Event name → quantity in the SUBSCRIPTION_EVENT file of ``file_day``."""
        found: Counter[str] = Counter()
        for world in self.worlds(file_day):
            for h in world.file_happenings(file_day.toordinal()):
                found[m.EVENT_NAMES[h.event]] += 1
            found["Renew"] += len(world.file_renewals(file_day.toordinal()))
        return +found

    def churns(self, first: date, last: date) -> dict[str, int]:
        """Stints ended in ``[first, last]`` by how: voluntary, involuntary, refunded, lapse."""
        found: Counter[str] = Counter()
        for world in self.worlds(last):
            for stint in world.ledger.stints:
                if first.toordinal() <= stint.churn <= last.toordinal():
                    found[stint.kind] += 1
        return dict(found)

    def cohorts(self, first_month: date, last_month: date, months: int) -> list[Cohort]:
        """Retention and LTV by the month of customers' first activation, for cohort months
        ``first_month`` … ``last_month`` and ``months`` months after each (past the simulated
        window, active counts are 0 and proceeds stop growing)."""
        last = date.fromordinal(window(self.state)[1])
        return cohorts_of(
            self.worlds(min(last, last_month + timedelta(days=31))), first_month, last_month, months
        )
