"""Subscription measures and Orchard's derived metrics, with their formulas in one place.

Active subscriptions come from the Subscription Report's count columns. Each column is a
*kind* (the offer mode the subscriptions are in); the measures add kinds up:

* ``active`` — every kind below (standard price and every offer mode);
* ``paying`` — standard price plus every pay-up-front and pay-as-you-go mode;
* ``free_trial`` — every free-trial mode (introductory, promotional, offer code, win-back);
* ``introductory`` / ``promotional`` / ``offer_code`` / ``win_back`` — that offer's three modes;
* ``billing_retry``, ``grace_period``, ``marketing_opt_ins``, ``subscribers`` — Apple's own
  columns, not part of ``active``. ``subscribers`` counts people with access (family members
  included) and Apple fills it only for records of more than three subscriptions.

**Estimated MRR**, per proceeds currency (never converted or mixed)::

    MRR(currency) = Σ rows in that currency of
                    (standard + pay-as-you-go subscriptions) × developer proceeds × monthly factor

where the monthly factor normalises the row's standard subscription duration to a month of
30.4375 days (365.25 / 12):

=================  ======================
duration           monthly factor
=================  ======================
``N Days``         30.4375 / N  (7 days → 4.348214…)
``N Week(s)``      30.4375 / (7 × N)
``N Month(s)``     1 / N  (1 → 1, 2 → 1/2, 3 → 1/3, 6 → 1/6)
``N Year(s)``      1 / (12 × N)  (1 year → 1/12)
=================  ======================

Developer proceeds are per billing period, so a pay-as-you-go subscription counts at its
(discounted) row price. Pay-up-front subscriptions are left out: their proceeds were collected
once for an offer period the Subscription Report does not state. Free trials contribute
nothing. Rows with an unrecognised duration or no proceeds are left out and counted in
``mrr_excluded_subscriptions``. The total per currency is rounded once, to the currency's
minor units (half-even: Money's rule).

Events (the Subscription Event Report) get a stable ``event_group`` derived from Apple's
open-ended event name (``event_group``); **churned subscriptions** = Σ quantity of
``cancellation`` events, **trial starts** = Σ quantity of ``activation`` events whose offer
type is Free Trial, **trial conversions** = Σ quantity of ``conversion`` events whose offer
type is Free Trial — all counted by event date.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from app.kit.money import amount_text

DAYS_PER_MONTH = Decimal("30.4375")


class OfferType(StrEnum):
    """The offer mode of active subscriptions: one count column of the Subscription Report."""

    STANDARD = "standard"
    FREE_TRIAL_INTRODUCTORY = "free_trial_introductory"
    PAY_UP_FRONT_INTRODUCTORY = "pay_up_front_introductory"
    PAY_AS_YOU_GO_INTRODUCTORY = "pay_as_you_go_introductory"
    FREE_TRIAL_PROMOTIONAL = "free_trial_promotional"
    PAY_UP_FRONT_PROMOTIONAL = "pay_up_front_promotional"
    PAY_AS_YOU_GO_PROMOTIONAL = "pay_as_you_go_promotional"
    FREE_TRIAL_OFFER_CODE = "free_trial_offer_code"
    PAY_UP_FRONT_OFFER_CODE = "pay_up_front_offer_code"
    PAY_AS_YOU_GO_OFFER_CODE = "pay_as_you_go_offer_code"
    FREE_TRIAL_WIN_BACK = "free_trial_win_back"
    PAY_UP_FRONT_WIN_BACK = "pay_up_front_win_back"
    PAY_AS_YOU_GO_WIN_BACK = "pay_as_you_go_win_back"

    @property
    def column(self) -> str:
        return "active_standard" if self is OfferType.STANDARD else self.value

    @property
    def program(self) -> str:
        """``standard``, ``introductory``, ``promotional``, ``offer_code`` or ``win_back``."""
        for program in ("introductory", "promotional", "offer_code", "win_back"):
            if self.value.endswith(program):
                return program
        return "standard"

    @property
    def paying(self) -> bool:
        return not self.value.startswith("free_trial")

    @property
    def in_mrr(self) -> bool:
        return self is OfferType.STANDARD or self.value.startswith("pay_as_you_go")


OFFER_KINDS = frozenset(kind.value for kind in OfferType)
#: Apple's columns that are not offer modes (and not part of ``active``).
STATISTICS = ("billing_retry", "grace_period", "marketing_opt_ins", "subscribers")

_DURATION = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s*$", re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def monthly_factor(duration: str | None) -> Decimal | None:
    """How many billing periods of ``duration`` fit in a month of 30.4375 days (see the module
    docstring); None for a duration Orchard does not recognise. Cached: a year of MRR asks for
    the same few durations thousands of times."""
    found = _DURATION.match(duration or "")
    if not found or int(found[1]) == 0:
        return None
    count, unit = Decimal(found[1]), found[2].lower()
    if unit == "day":
        return DAYS_PER_MONTH / count
    if unit == "week":
        return DAYS_PER_MONTH / (7 * count)
    if unit == "month":
        return 1 / count
    return 1 / (12 * count)


@dataclass
class MrrTotal:
    """MRR per currency: the proceeds are added up per currency and monthly factor first and
    multiplied once, so the total is the same however the proceeds were split into parts
    (per kind, per row, already summed): Decimal adds money exactly, but rounds products."""

    bases: dict[tuple[str, Decimal], Decimal] = field(default_factory=dict)
    excluded: int = 0

    def add(
        self,
        currency: str | None,
        duration: str | None,
        proceeds: Decimal | None,
        subscriptions: int,
    ) -> None:
        """Add ``subscriptions`` whose developer proceeds add up to ``proceeds`` (Σ count ×
        per-period proceeds) in ``currency``, billed every ``duration``."""
        factor = monthly_factor(duration)
        if factor is None or proceeds is None or not currency:
            self.excluded += subscriptions
            return
        key = (currency, factor)
        self.bases[key] = self.bases.get(key, Decimal(0)) + proceeds

    @property
    def amounts(self) -> dict[str, Decimal]:
        """Currency → Σ proceeds × monthly factor (unrounded)."""
        found: dict[str, Decimal] = {}
        for (currency, factor), base in sorted(self.bases.items()):
            found[currency] = found.get(currency, Decimal(0)) + base * factor
        return found

    def rounded(self) -> list[tuple[str, Decimal]]:
        """(currency, amount rounded to its minor units, half-even), sorted by currency."""
        return [
            (currency, Decimal(amount_text(amount, currency)))
            for currency, amount in sorted(self.amounts.items())
        ]


def estimated_mrr(
    rows: Iterable[tuple[str | None, str | None, Decimal | None, int]],
) -> list[tuple[str, Decimal]]:
    """MRR per currency from (proceeds currency, standard duration, developer proceeds per
    period, MRR-counted subscriptions) rows — the formula of the module docstring."""
    total = MrrTotal()
    for currency, duration, proceeds, count in rows:
        total.add(currency, duration, None if proceeds is None else proceeds * count, count)
    return total.rounded()


class EventGroup(StrEnum):
    ACTIVATION = "activation"
    CANCELLATION = "cancellation"
    CONVERSION = "conversion"
    RENEWAL = "renewal"
    BILLING = "billing"
    OTHER = "other"


# Ordered: the first pattern that matches wins ("Billing Retry from Introductory Offer" is
# billing, not a conversion; "Canceled from Billing Retry" is a cancellation).
_EVENT_RULES: tuple[tuple[EventGroup, re.Pattern[str]], ...] = tuple(
    (group, re.compile(pattern, re.IGNORECASE))
    for group, pattern in (
        (EventGroup.CANCELLATION, r"^cancel"),
        (EventGroup.RENEWAL, r"^renew"),
        (EventGroup.BILLING, r"^(billing|grace period|enter billing|billing grace)"),
        (EventGroup.BILLING, r"grace period from"),
        (EventGroup.CONVERSION, r"^paid subscription from"),
        (
            EventGroup.CONVERSION,
            r"from (introductory offer|free trial|promotional offer|offer code|win-back offer)$",
        ),
        (EventGroup.ACTIVATION, r"^(subscribe|start |opt-in|opt in|reactivat|resubscribe)"),
    )
)


def event_group(event: str | None) -> EventGroup:
    """Orchard's stable group of one of Apple's (open-ended) subscription event names:
    cancellations (``Cancel``, ``Canceled from Billing Retry``, …), renewals (``Renew``,
    ``Renewal from Billing Retry``, …), billing (``Billing Retry from …``, grace periods),
    conversions to a paid price (``Paid Subscription from Introductory Offer``, ``Crossgrade
    from Introductory Offer``, …), activations (``Subscribe``, ``Start Introductory Offer``,
    ``Start Offer Code``, ``Opt-In``, ``Reactivate…``) and everything else (upgrades,
    downgrades, crossgrades, refunds, events Apple adds later)."""
    name = (event or "").strip()
    for group, pattern in _EVENT_RULES:
        if pattern.search(name):
            return group
    return EventGroup.OTHER


def is_free_trial(offer_type: str | None) -> bool:
    return (offer_type or "").strip().lower() == "free trial"
