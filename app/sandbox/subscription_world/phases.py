"""The phases of a stint: an offer, paid service, billing retry. Each returns how it ended.

Apple's rules followed (FACTS §5.4 and Apple's event definitions): a ``Cancel`` is recorded at
the end of the paid period, not when auto-renew is turned off; billing retry lasts up to 60
days; with Billing Grace Period enabled the first 6 (weekly) or 16 days keep the service on and
a recovery there keeps the renewal date; a later recovery starts a new renewal date. Upgrades
take effect at once (new renewal date); downgrades and crossgrades to another duration at the
next renewal. A refund revokes the subscription.
"""

from __future__ import annotations

from bisect import bisect
from typing import NamedTuple

from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.calendar import Anchor, add_duration, anchor, boundary
from app.sandbox.subscription_world.journeys import (
    BILLING,
    CANCEL,
    DOWNGRADE,
    OPEN,
    REFUND,
    UPGRADE,
    Draws,
    JourneyBase,
    Outcome,
    Stinting,
)
from app.sandbox.subscription_world.ledger import CHARGE, NEVER, NO_CHARGE, REFUND_ROW
from app.sandbox.subscription_world.products import (
    CODE,
    FREE_TRIAL,
    INTRO,
    PAY_AS_YOU_GO,
    Offer,
)

_CONVERSION_EVENT = {INTRO: m.CONVERT_INTRO, CODE: m.CONVERT_CODE}
_WEEKLY_GRACE, _GRACE = 6, 16


class Retry(NamedTuple):
    day: int
    churn: str | None  # None: recovered on ``day``
    in_grace: bool


class Simulator(JourneyBase):
    """Customers' lives: :meth:`arrive` for a new customer, :meth:`come_back` for a return."""

    def arrive(self, r: Draws, day: int, id_seed: int) -> None:
        st = Stinting(self.new_customer(r, day, id_seed), 0, False, -1)
        product = self.pick(r, self._product_cum)
        intro = self.group.products[product].intro
        u = r.random()
        if intro is not None and u < self.b.acquisition_intro:
            outcome = self.offer_phase(r, st, self.group.offers[intro], day, m.START_INTRO)
        elif u < self.b.acquisition_intro + self.b.acquisition_code and self._codes:
            outcome = self.offer_phase(r, st, r.choice(self._codes), day, m.START_CODE)
        else:
            st.cpp = 1
            st.start_paying(day)
            self.emit(st, day, m.SUBSCRIBE, product, charge=CHARGE)
            outcome = self.paid_phase(r, st, product, anchor(day, self.durations[product]), 0, day)
        self.live_on(r, st, day, outcome)

    def come_back(self, r: Draws, st: Stinting, day: int, previous: int, gap: int) -> Outcome:
        up, down, cross = self.b.return_plan
        u = r.random()
        target = -1
        if u < up:
            target = self._upgrade[previous]
        elif u < up + down:
            target = self._downgrade[previous]
        elif u < up + down + cross and self._crossgrade[previous]:
            target = r.choice(self._crossgrade[previous])
        target = previous if target < 0 else target
        offer = self._return_offer(r, gap)
        if offer is not None:
            target = offer.product
            if offer.win_back:
                st.win_back_day = day
        event = self._reactivation(previous, target)
        changed = previous if target != previous else -1
        if offer is not None:
            return self.offer_phase(r, st, offer, day, event, changed, gap)
        st.cpp = 1
        st.start_paying(day)
        self.emit(st, day, event, target, charge=CHARGE, previous=changed, number=gap)
        return self.paid_phase(r, st, target, anchor(day, self.durations[target]), 0, day)

    def _return_offer(self, r: Draws, gap: int) -> Offer | None:
        u = r.random()
        if gap >= 31 and self._win_back and u < self.b.return_win_back:
            return r.choice(self._win_back)
        if self._promotional and u < self.b.return_win_back + self.b.return_promotional:
            return r.choice(self._promotional)
        return None

    def _reactivation(self, previous: int, target: int) -> int:
        before, after = self.group.products[previous], self.group.products[target]
        if after.level < before.level:
            return m.REACTIVATE_UP
        if after.level > before.level:
            return m.REACTIVATE_DOWN
        if after.duration != before.duration:
            return m.REACTIVATE_CROSS
        return m.REACTIVATE

    def _refund_share(self, r: Draws, day: int, purchase: int, length: int) -> int:
        if r.random() < self.b.refund_full_share:
            return 100
        return max(1, min(99, round(100 * (purchase + length - day) / length)))

    def _refund(
        self, r: Draws, st: Stinting, product: int, paid_at: int, day: int, length: int
    ) -> Outcome:
        share = self._refund_share(r, day, paid_at, length)
        self.emit(st, day, m.REFUND, product, charge=REFUND_ROW, purchase=paid_at, share=share)
        return day, m.REFUNDED, product

    def paid_phase(
        self,
        r: Draws,
        st: Stinting,
        product: int,
        a: Anchor,
        n0: int,
        start: int,
        *,
        fresh: bool = True,
    ) -> Outcome:
        """Paid service from ``start``; the charge of boundary ``n0`` was already written."""
        while True:
            paid_at = boundary(a, n0)
            if start > self.last:
                return NEVER, OPEN, product
            if fresh and r.random() < self.b.first_charge_refund:
                length = boundary(a, n0 + 1) - paid_at
                day = paid_at + 1 + r.below(max(1, min(14, length - 1)))
                self.paid_run(st, product, a, n0 + 1, start, day)
                return self._refund(r, st, product, paid_at, day, length)
            cumulative = self.hazards[product]
            n = n0 + r.geometric(cumulative[-1]) + 1
            due = boundary(a, n)
            incident = bisect(cumulative, r.random() * cumulative[-1])
            if incident in (UPGRADE, REFUND):
                length = boundary(a, n + 1) - due
                day = due + 1 + r.below(max(1, length - 1))
                self.paid_run(st, product, a, n0 + 1, start, day)
                st.cpp += n - n0
                if incident == REFUND:
                    return self._refund(r, st, product, due, day, length)
                target = self._upgrade[product]
                st.cpp += 1
                self.emit(st, day, m.UPGRADE, target, charge=CHARGE, previous=product)
                product, a, n0, start, fresh = (
                    target,
                    anchor(day, self.durations[target]),
                    0,
                    day,
                    True,
                )
                continue
            self.paid_run(st, product, a, n0 + 1, start, due)
            st.cpp += n - 1 - n0
            if incident == CANCEL:
                self.emit(st, due, m.CANCEL, product)
                return due, m.VOLUNTARY, product
            if incident == BILLING:
                self.emit(st, due, m.RETRY_PAID, product)
                retry = self.retry_phase(r, st, product, due, -1, from_intro=False)
                if retry.churn is not None:
                    return retry.day, retry.churn, product
                if retry.in_grace:  # the renewal date is kept
                    n0, start, fresh = n, retry.day, False
                else:
                    a = anchor(retry.day, self.durations[product])
                    n0, start, fresh = 0, retry.day, False
                continue
            if incident == DOWNGRADE:
                target, event = self._downgrade[product], m.DOWNGRADE
            else:
                target, event = r.choice(self._crossgrade[product]), m.CROSSGRADE
            st.cpp += 1
            self.emit(st, due, event, target, charge=CHARGE, previous=product)
            product, a, n0, start, fresh = target, anchor(due, self.durations[target]), 0, due, True

    def retry_phase(
        self, r: Draws, st: Stinting, product: int, due: int, offer: int, *, from_intro: bool
    ) -> Retry:
        b = self.b
        grace = 0
        if self.group.grace_days_enabled and not from_intro:
            grace = _WEEKLY_GRACE if self.durations[product].days else _GRACE
        u = r.random()
        cancel_in_grace = b.cancel_in_grace if grace else 0.0
        if u < cancel_in_grace:
            day = due + 1 + r.below(grace - 1)
            self.span(st, due, day, product, m.GRACE)
            self.emit(st, day, m.CANCEL_GRACE, product, offer)
            return Retry(day, m.VOLUNTARY, False)
        if u < cancel_in_grace + b.recovery:
            in_grace = grace > 0 and r.random() < b.recovery_in_grace
            if in_grace:
                day = due + 1 + r.below(grace - 1)
            else:
                day = due + grace + 1 + r.below(b.retry_days - grace - 1)
            self._retry_spans(st, product, due, day, grace)
            st.cpp += 1
            st.start_paying(day)
            recovered = day - due if in_grace else -1
            self.emit(st, day, m.RECOVER, product, offer, charge=CHARGE, number=recovered)
            return Retry(day, None, in_grace)
        end = due + b.retry_days
        self._retry_spans(st, product, due, end, grace)
        self.emit(st, end, m.CANCEL_RETRY, product, offer)
        return Retry(end, m.INVOLUNTARY, False)

    def _retry_spans(self, st: Stinting, product: int, due: int, end: int, grace: int) -> None:
        self.span(st, due, min(end, due + grace), product, m.GRACE)
        self.span(st, due + grace, end, product, m.RETRY)

    def offer_phase(
        self,
        r: Draws,
        st: Stinting,
        offer: Offer,
        day: int,
        event: int,
        previous: int = -1,
        number: int = -1,
    ) -> Outcome:
        product = offer.product
        state = m.offer_state(offer.family, offer.mode)
        a = anchor(day, self.durations[product])
        charged = offer.mode != FREE_TRIAL
        # The sample shows Start Introductory Offer (pay as you go) with 0 paid periods.
        counted = charged and event not in (m.START_INTRO, m.START_CODE)
        if counted:
            st.cpp += 1
        if charged:
            st.start_paying(day)
        self.emit(
            st,
            day,
            event,
            product,
            offer.index,
            charge=CHARGE if charged else NO_CHARGE,
            previous=previous,
            number=number,
        )
        if charged and not counted:
            st.cpp += 1
        if offer.mode == PAY_AS_YOU_GO:
            periods = offer.periods
            for period in range(1, offer.periods + 1):
                if r.random() < self.b.offer_period_cancel:
                    periods = period
                    break
            end = boundary(a, periods)
            self.offer_run(st, offer, a, day, end, state)
            st.cpp += periods - 1
            if periods < offer.periods:
                before = r.below(end - day)
                self.emit(st, end, m.CANCEL, product, offer.index, number=before)
                return end, m.VOLUNTARY, product
        else:
            end = add_duration(day, offer.duration)
            self.offer_run(st, offer, a, day, end, state)
        if end > self.last:
            return NEVER, OPEN, product
        return self._offer_end(r, st, offer, day, end)

    def _offer_end(self, r: Draws, st: Stinting, offer: Offer, start: int, end: int) -> Outcome:
        product = offer.product
        u = r.random()
        converts = self.b.conversion[offer.mode]
        if u < converts:
            st.cpp += 1
            st.start_paying(end)
            event = _CONVERSION_EVENT.get(offer.family, m.RENEW)
            shown = -1 if event == m.RENEW else offer.index  # a promotion simply ends
            self.emit(st, end, event, product, shown, charge=CHARGE)
            return self.paid_phase(r, st, product, anchor(end, self.durations[product]), 0, end)
        if offer.family == INTRO and u < converts + self.b.conversion_billing_failure:
            self.emit(st, end, m.RETRY_INTRO, product, offer.index)
            retry = self.retry_phase(r, st, product, end, offer.index, from_intro=True)
            if retry.churn is not None:
                return retry.day, retry.churn, product
            a = anchor(retry.day, self.durations[product])
            return self.paid_phase(r, st, product, a, 0, retry.day, fresh=False)
        before = r.below(end - start)
        self.emit(st, end, m.CANCEL, product, offer.index, number=before)
        kind = m.TRIAL_LAPSE if offer.mode == FREE_TRIAL else m.VOLUNTARY
        return end, kind, product
