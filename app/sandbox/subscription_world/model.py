"""Vocabulary of the subscription world: subscription states, Apple's event names, behaviour.

States are the count columns of the SUBSCRIPTION report (FACTS §5.3). A subscription is in
exactly one state on a day; ``Billing Retry`` and ``Grace Period`` are separate from the
``Active …`` columns (a subscription in grace is counted under ``Grace Period`` only).

Event names come from Apple's "Subscription events" page and the 1_2 sample (FACTS §5.4:
Subscribe, Start Introductory Offer, Start Offer Code, Cancel, Canceled from Billing Retry,
Canceled from Billing Grace Period, Paid Subscription from Introductory Offer, Renew, Upgrade,
Billing Retry from Paid Subscription / from Introductory Offer, Renewal from Billing Retry).
``Downgrade``, ``Crossgrade``, ``Reactivate`` (``with Upgrade/Downgrade/Crossgrade``) and
``Refund`` are the names third-party integrators' queries over real event files use
(unconfirmed by Apple's page as read). ``Paid Subscription from Offer Code`` is
**unconfirmed** (no source found); it is the conversion of a free or discounted offer code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.sandbox.subscription_world.products import (
    CODE,
    FREE_TRIAL,
    INTRO,
    PAY_AS_YOU_GO,
    PAY_UP_FRONT,
    PROMO,
)

# --- states (SUBSCRIPTION report columns) -------------------------------------------------
STANDARD = 0
INTRO_FREE, INTRO_PUF, INTRO_PAYG = 1, 2, 3
PROMO_FREE, PROMO_PUF, PROMO_PAYG = 4, 5, 6
CODE_FREE, CODE_PUF, CODE_PAYG = 7, 8, 9
OPT_IN = 10  # an extra count on top of the state: the subscriber opted in to marketing
RETRY, GRACE = 11, 12
STATE_COUNT = 13

STATE_COLUMNS: tuple[str, ...] = (
    "Active Standard Price Subscriptions",
    "Active Free Trial Introductory Offer Subscriptions",
    "Active Pay Up Front Introductory Offer Subscriptions",
    "Active Pay As You Go Introductory Offer Subscriptions",
    "Free Trial Promotional Offer Subscriptions",
    "Pay Up Front Promotional Offer Subscriptions",
    "Pay As You Go Promotional Offer Subscriptions",
    "Free Trial Offer Code Subscriptions",
    "Pay Up Front Offer Code Subscriptions",
    "Pay As You Go Offer Code Subscriptions",
    "Marketing Opt-Ins",
    "Billing Retry",
    "Grace Period",
)
STATE_NAMES: tuple[str, ...] = (
    "standard",
    "free_trial_introductory",
    "pay_up_front_introductory",
    "pay_as_you_go_introductory",
    "free_trial_promotional",
    "pay_up_front_promotional",
    "pay_as_you_go_promotional",
    "free_trial_offer_code",
    "pay_up_front_offer_code",
    "pay_as_you_go_offer_code",
    "marketing_opt_ins",
    "billing_retry",
    "grace_period",
)
ACTIVE_STATES = tuple(range(OPT_IN))  # the ten "Active/… Subscriptions" columns
FREE_STATES = (INTRO_FREE, PROMO_FREE, CODE_FREE)
_OFFER_STATE = {
    (INTRO, FREE_TRIAL): INTRO_FREE,
    (INTRO, PAY_UP_FRONT): INTRO_PUF,
    (INTRO, PAY_AS_YOU_GO): INTRO_PAYG,
    (PROMO, FREE_TRIAL): PROMO_FREE,
    (PROMO, PAY_UP_FRONT): PROMO_PUF,
    (PROMO, PAY_AS_YOU_GO): PROMO_PAYG,
    (CODE, FREE_TRIAL): CODE_FREE,
    (CODE, PAY_UP_FRONT): CODE_PUF,
    (CODE, PAY_AS_YOU_GO): CODE_PAYG,
}


def offer_state(family: str, mode: str) -> int:
    return _OFFER_STATE[(family, mode)]


# --- events -------------------------------------------------------------------------------
EVENT_NAMES: tuple[str, ...] = (
    "Subscribe",
    "Start Introductory Offer",
    "Start Offer Code",
    "Paid Subscription from Introductory Offer",
    "Paid Subscription from Offer Code",
    "Renew",
    "Cancel",
    "Canceled from Billing Retry",
    "Canceled from Billing Grace Period",
    "Billing Retry from Paid Subscription",
    "Billing Retry from Introductory Offer",
    "Renewal from Billing Retry",
    "Upgrade",
    "Downgrade",
    "Crossgrade",
    "Reactivate",
    "Reactivate with Upgrade",
    "Reactivate with Downgrade",
    "Reactivate with Crossgrade",
    "Refund",
)
(
    SUBSCRIBE,
    START_INTRO,
    START_CODE,
    CONVERT_INTRO,
    CONVERT_CODE,
    RENEW,
    CANCEL,
    CANCEL_RETRY,
    CANCEL_GRACE,
    RETRY_PAID,
    RETRY_INTRO,
    RECOVER,
    UPGRADE,
    DOWNGRADE,
    CROSSGRADE,
    REACTIVATE,
    REACTIVATE_UP,
    REACTIVATE_DOWN,
    REACTIVATE_CROSS,
    REFUND,
) = range(len(EVENT_NAMES))
ACTIVATIONS = (SUBSCRIBE, START_INTRO, START_CODE)
REACTIVATIONS = (REACTIVATE, REACTIVATE_UP, REACTIVATE_DOWN, REACTIVATE_CROSS)
CANCELED = "Canceled"  # the sample's reason for a subscriber's own cancellation
BILLING_ISSUE = "Billing issue"  # the sample's reason for a failed billing retry

# Churn kinds (how a stint ended), kept for the truth and the win-back report.
VOLUNTARY, INVOLUNTARY, REFUNDED, TRIAL_LAPSE = "voluntary", "involuntary", "refunded", "lapse"


@dataclass(frozen=True)
class Behaviour:
    """Probabilities of the subscriber model. Per-renewal hazards apply at each period end."""

    acquisition_intro: float = 0.65  # new subscriber starts with the product's intro offer
    acquisition_code: float = 0.05  # … or redeems an offer code
    conversion: dict[str, float] = field(
        default_factory=lambda: {FREE_TRIAL: 0.5, PAY_AS_YOU_GO: 0.65, PAY_UP_FRONT: 0.6}
    )
    conversion_billing_failure: float = 0.06
    offer_period_cancel: float = 0.08  # pay as you go: cancel at each discounted period end
    cancel: dict[str, float] = field(
        default_factory=lambda: {
            "7 Days": 0.09,
            "1 Month": 0.065,
            "2 Months": 0.09,
            "3 Months": 0.11,
            "6 Months": 0.16,
            "1 Year": 0.28,
        }
    )
    billing_failure: float = 0.025
    upgrade: float = 0.006
    downgrade: float = 0.02
    crossgrade: float = 0.008
    refund: float = 0.01  # a renewal is refunded (and the subscription revoked)
    first_charge_refund: float = 0.03
    refund_full_share: float = 0.8  # the rest are prorated (the sample's refund is partial)
    recovery: float = 0.5  # billing retry ends in a renewal
    recovery_in_grace: float = 0.6  # of recoveries, when the app enabled Billing Grace Period
    cancel_in_grace: float = 0.05
    retry_days: int = 60  # Apple retries for up to 60 days
    return_after: dict[str, float] = field(
        default_factory=lambda: {
            VOLUNTARY: 0.22,
            INVOLUNTARY: 0.3,
            REFUNDED: 0.1,
            TRIAL_LAPSE: 0.08,
        }
    )
    return_gap_mean_days: float = 110.0
    return_win_back: float = 0.35  # of returns after ≥ 31 days, via a win-back offer
    return_promotional: float = 0.12
    return_plan: tuple[float, float, float] = (0.1, 0.1, 0.2)  # upgrade, downgrade, crossgrade
    marketing_opt_in: float = 0.06
    devices: tuple[tuple[str, float], ...] = (("iPhone", 0.78), ("iPad", 0.17), ("Desktop", 0.05))
    max_stints: int = 5
    yearly_growth: float = 0.12  # arrivals grow this much per year…
    seasonality: float = 0.08  # … with this yearly wave


DEFAULT_BEHAVIOUR = Behaviour()
