"""The subscription metric catalogue: every metric Orchard computes, defined once.

Each metric names its *family* — where its value comes from and how it is computed — and the
catalogue entry is both the documentation (``GET /v1/subscriptions/metrics/catalog``) and the
switch the query service uses, so a definition cannot drift from the code computing it:

* ``snapshot`` — a stock read from Apple's daily Subscription Report (FACTS §5.3) on one report
  date: for a bucket, the newest stored report date inside it (the bucket's ``as_of``);
* ``events`` — Σ ``Quantity`` of Subscription Event Report rows (FACTS §5.4) by ``Event Date``;
* ``transactions`` — SUBSCRIBER rows (FACTS §5.5), one per charge or refund, by ``Event Date``;
* ``movements`` — MRR movements per Subscriber ID from the SUBSCRIBER rows (see below);
* ``ratio`` — a quotient of other metrics of the same bucket and group, computed for the
  bucket (never an average or sum of daily rates);
* ``cohort`` — served by ``GET /v1/subscriptions/cohorts``, not ``/metrics``.

Event names are Apple's, matched case-insensitively (the list is open-ended, FACTS §5.4); the
predicates below are the SQL the event family runs (``n`` = the trimmed, lower-cased event
name, ``free`` = the offer type is ``Free Trial``, ``reason`` = the lower-cased cancellation
reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    SNAPSHOT = "snapshot"
    EVENTS = "events"
    TRANSACTIONS = "transactions"
    RATIO = "ratio"
    MOVEMENTS = "movements"
    COHORT = "cohort"


class Unit(StrEnum):
    SUBSCRIPTIONS = "subscriptions"
    EVENTS = "events"
    TRANSACTIONS = "transactions"
    SUBSCRIBERS = "subscribers"
    MONEY = "money"
    MONEY_PER_SUBSCRIBER = "money_per_subscriber"
    RATIO = "ratio"
    PERIODS = "periods"


SUBSCRIPTION = "SUBSCRIPTION/SUMMARY (subscription_snapshot_rows)"
EVENT = "SUBSCRIPTION_EVENT/SUMMARY (subscription_event_rows)"
SUBSCRIBER = "SUBSCRIBER/DETAILED (subscriber_transaction_rows)"

SNAPSHOT_DAY = (
    "A stock: over a week or month it is the value on the newest stored report date of the "
    "bucket (`as_of`), never a sum of days."
)
LATE_EVENTS = (
    "Counted by Event Date: a day's file also carries events of the two days before (FACTS §8), "
    "so a date is final only when the files of the two following days are stored too "
    "(`incomplete_dates`)."
)
RESET = (
    "Subscriber IDs are per developer and reset after 180 days without a subscription "
    "(`Subscriber ID Reset` = Yes): a returning customer after a reset is a new subscriber."
)
PRIVACY = (
    "Apple aggregates event rows and may withhold small counts for privacy; Orchard counts "
    "what Apple delivered."
)
PER_CURRENCY = (
    "Money per currency as Apple reports it, never mixed. With a reporting currency "
    "(`currency=`, or the workspace's default) each amount is also converted and the bucket "
    "gains a converted total: flows each Event Date at that day's rate then summed, stocks "
    "at the rate of the day they are read on (see `currency_conversion`)."
)
REFUND_PROCEEDS = (
    "Apple writes refund rows with a negative Customer Price and (in the only real sample) a "
    "positive Developer Proceeds: Orchard takes the absolute value of both on refund rows."
)


@dataclass(frozen=True)
class MetricDef:
    name: str
    title: str
    family: Family
    unit: Unit
    definition: str
    sources: tuple[str, ...]
    columns: tuple[str, ...]
    additive_over_time: bool
    additive_over_groups: bool
    caveats: tuple[str, ...] = ()
    #: ``events``: the SQL predicate over the event row (see the module docstring);
    #: ``ratio``: (numerator, denominator) metric names; ``snapshot``: the count columns.
    sql: str = ""
    parts: tuple[str, str] = ("", "")
    snapshot_columns: tuple[str, ...] = ()


_STANDARD = ("active_standard",)
_FREE = (
    "free_trial_introductory",
    "free_trial_promotional",
    "free_trial_offer_code",
    "free_trial_win_back",
)
_PAID_OFFERS = tuple(
    f"{mode}_{program}"
    for program in ("introductory", "promotional", "offer_code", "win_back")
    for mode in ("pay_up_front", "pay_as_you_go")
)
_PROGRAM = {
    program: tuple(f"{mode}_{program}" for mode in ("free_trial", "pay_up_front", "pay_as_you_go"))
    for program in ("introductory", "promotional", "offer_code", "win_back")
}
ACTIVE_COLUMNS = _STANDARD + _FREE + _PAID_OFFERS
IN_MRR_COLUMNS = _STANDARD + tuple(c for c in _PAID_OFFERS if c.startswith("pay_as_you_go"))


def _active(name: str, title: str, definition: str, columns: tuple[str, ...]) -> MetricDef:
    return MetricDef(
        name=name,
        title=title,
        family=Family.SNAPSHOT,
        unit=Unit.SUBSCRIPTIONS,
        definition=definition,
        sources=(SUBSCRIPTION,),
        columns=tuple(columns),
        additive_over_time=False,
        additive_over_groups=True,
        caveats=(
            SNAPSHOT_DAY,
            "The Subscription Report has no date column: Orchard stores "
            "each file under the report date it asked for.",
        ),
        snapshot_columns=columns,
    )


def _event(
    name: str,
    title: str,
    definition: str,
    sql: str,
    *,
    columns: tuple[str, ...] = ("Event Date", "Event", "Quantity"),
    caveats: tuple[str, ...] = (),
) -> MetricDef:
    return MetricDef(
        name=name,
        title=title,
        family=Family.EVENTS,
        unit=Unit.EVENTS,
        definition=definition,
        sources=(EVENT,),
        columns=columns,
        additive_over_time=True,
        additive_over_groups=True,
        caveats=(LATE_EVENTS, PRIVACY, *caveats),
        sql=sql,
    )


def _ratio(
    name: str,
    title: str,
    definition: str,
    parts: tuple[str, str],
    sources: tuple[str, ...],
    *,
    unit: Unit = Unit.RATIO,
    caveats: tuple[str, ...] = (),
) -> MetricDef:
    return MetricDef(
        name=name,
        title=title,
        family=Family.RATIO,
        unit=unit,
        definition=definition + " Null when the denominator is zero or not known.",
        sources=sources,
        columns=(),
        additive_over_time=False,
        additive_over_groups=False,
        caveats=(
            "Computed for the requested bucket and group from its own numerator and "
            "denominator: never averaged or summed across days or groups.",
            *caveats,
        ),
        parts=parts,
    )


def _money(name: str, title: str, definition: str, columns: tuple[str, ...]) -> MetricDef:
    return MetricDef(
        name=name,
        title=title,
        family=Family.TRANSACTIONS,
        unit=Unit.MONEY,
        definition=definition + " In a reporting currency each Event Date converts at that "
        "day's rate, then sums (never one rate for a week or month).",
        sources=(SUBSCRIBER,),
        columns=("Event Date", "Refund", *columns),
        additive_over_time=True,
        additive_over_groups=True,
        caveats=(PER_CURRENCY, LATE_EVENTS, REFUND_PROCEEDS),
    )


MOVEMENT_BASIS = (
    "Per subscriber — a Subscriber ID of one app (an ID with charges in two apps of one "
    "developer is a subscriber of each) — its monthly proceeds on a day are those of its "
    "newest charge (a SUBSCRIBER row that is not a refund and was not refunded) whose period — "
    "Event Date + Standard Subscription Duration — covers the day, × the monthly factor of "
    "that duration (as for mrr). Between the end of the day before the bucket (a) and the "
    "bucket's last day in range (z; a partial bucket at either end of the range runs from its "
    "first to its last day in range): "
)
MOVEMENT_CAVEATS = (
    RESET,
    PER_CURRENCY,
    "Each subscriber's change from a to z is classified once and counted in the group (and "
    "proceeds currency) of its charge at z, else at a: a plan change between groups is "
    "expansion or contraction in the new group, and the groups add up to the total. A "
    "storefront filter (`country`) keeps the subscribers whose charge there is in one of the "
    "storefronts, as `group_by=country` splits them.",
    "A pay-up-front offer charge is taken to cover one standard period.",
    "From charges, not from the Subscription Report: it can differ from `mrr` by "
    "subscriptions in billing retry or grace (still in the snapshot) and by late rows.",
)


def _movement(name: str, title: str, rule: str, *, additive_over_time: bool = True) -> MetricDef:
    return MetricDef(
        name=name,
        title=title,
        family=Family.MOVEMENTS,
        unit=Unit.MONEY,
        definition=MOVEMENT_BASIS
        + rule
        + " Per proceeds currency, rounded to its minor units. Converted at the rate of the "
        "bucket's last day in range (a difference of two MRR states, not a sum of days).",
        sources=(SUBSCRIBER,),
        columns=(
            "Subscriber ID",
            "Event Date",
            "Standard Subscription Duration",
            "Developer Proceeds",
            "Proceeds Currency",
            "Refund",
            "Purchase Date",
        ),
        additive_over_time=additive_over_time,
        additive_over_groups=True,
        caveats=MOVEMENT_CAVEATS,
    )


# Predicates of the event family (see the module docstring).
NEW = "n IN ('subscribe', 'start introductory offer', 'start offer code')"
TRIAL_START = "n = 'start introductory offer' AND free"
CONVERSION = (
    "(n LIKE 'paid subscription from %' OR n LIKE '%from introductory offer' "
    "OR n LIKE '%from offer code') AND n NOT LIKE 'billing retry%'"
)
TRIAL_CONVERSION = f"({CONVERSION}) AND n LIKE '%introductory offer' AND free"
CANCELLATION = "n LIKE 'cancel%'"
INVOLUNTARY = f"{CANCELLATION} AND (n = 'canceled from billing retry' OR reason LIKE '%billing%')"
VOLUNTARY = f"{CANCELLATION} AND NOT (n = 'canceled from billing retry' OR reason LIKE '%billing%')"

METRICS: tuple[MetricDef, ...] = (
    # --- stocks (Subscription Report) -----------------------------------------------------
    _active(
        "active",
        "Active subscriptions",
        "Σ of every active-count column: standard price plus every introductory, promotional, "
        "offer-code and win-back mode (free, pay up front, pay as you go). Billing retry and "
        "grace period are not active.",
        ACTIVE_COLUMNS,
    ),
    _active(
        "paying_active",
        "Paying subscriptions",
        "Active subscriptions not in a free mode: standard price + pay up front + pay as you go.",
        _STANDARD + _PAID_OFFERS,
    ),
    _active(
        "standard_price_active",
        "Standard-price subscriptions",
        "Active Standard Price Subscriptions.",
        _STANDARD,
    ),
    _active(
        "free_trial_active",
        "Subscriptions in a free trial",
        "Σ of the free-trial columns: introductory, promotional, offer-code and win-back.",
        _FREE,
    ),
    _active(
        "introductory_offer_active",
        "Subscriptions in an introductory offer",
        "Active introductory offer subscriptions, free trial + pay up front + pay as you go.",
        _PROGRAM["introductory"],
    ),
    _active(
        "promotional_offer_active",
        "Subscriptions in a promotional offer",
        "Promotional offer subscriptions, all three modes.",
        _PROGRAM["promotional"],
    ),
    _active(
        "offer_code_active",
        "Subscriptions in an offer code",
        "Offer code subscriptions, all three modes.",
        _PROGRAM["offer_code"],
    ),
    _active(
        "billing_retry",
        "Subscriptions in billing retry",
        "Apple's Billing Retry column: renewals that failed and that Apple is still retrying "
        "(up to 60 days); no access, not active.",
        ("billing_retry",),
    ),
    _active(
        "grace_period",
        "Subscriptions in billing grace period",
        "Apple's Grace Period column: failed renewals during the developer's billing grace "
        "period (access kept); not counted as active.",
        ("grace_period",),
    ),
    _active(
        "marketing_opt_ins",
        "Marketing opt-ins",
        "Apple's Marketing Opt-Ins column: subscriptions whose customer agreed to share their "
        "contact for marketing.",
        ("marketing_opt_ins",),
    ),
    MetricDef(
        name="mrr",
        title="Monthly recurring revenue (estimated)",
        family=Family.SNAPSHOT,
        unit=Unit.MONEY,
        definition="Per proceeds currency: Σ (standard-price + pay-as-you-go subscriptions) × "
        "Developer Proceeds × monthly factor of the Standard Subscription Duration, where the "
        "factor normalises to a month of 30.4375 days (N days → 30.4375/N, N weeks → "
        "30.4375/(7N), N months → 1/N, N years → 1/(12N)). Free and pay-up-front offers add "
        "nothing. Rounded per currency to its minor units (half-even). Converted (a stock): "
        "at the rate of the `as_of` date, the day it is read on.",
        sources=(SUBSCRIPTION,),
        columns=(
            "Active Standard Price Subscriptions",
            "Active Pay As You Go … Subscriptions",
            "Developer Proceeds",
            "Proceeds Currency",
            "Standard Subscription Duration",
        ),
        additive_over_time=False,
        additive_over_groups=True,
        caveats=(
            SNAPSHOT_DAY,
            PER_CURRENCY,
            "Rows with an unknown duration or no proceeds are left out.",
        ),
        snapshot_columns=IN_MRR_COLUMNS,
    ),
    MetricDef(
        name="arr",
        title="Annual recurring revenue (estimated)",
        family=Family.SNAPSHOT,
        unit=Unit.MONEY,
        definition="MRR × 12 per proceeds currency (computed from the unrounded MRR); "
        "converted at the `as_of` date's rate, like mrr.",
        sources=(SUBSCRIPTION,),
        columns=("as for mrr",),
        additive_over_time=False,
        additive_over_groups=True,
        caveats=(SNAPSHOT_DAY, PER_CURRENCY),
        snapshot_columns=IN_MRR_COLUMNS,
    ),
    # --- flows (Subscription Event Report) ------------------------------------------------
    _event(
        "new_subscriptions",
        "New subscriptions",
        "Σ Quantity of activation events: Subscribe, Start Introductory Offer, Start Offer Code.",
        NEW,
        caveats=("Reactivations are counted separately (`reactivations`).",),
    ),
    _event(
        "trial_starts",
        "Free trial starts",
        "Σ Quantity of Start Introductory Offer events whose Subscription Offer Type is Free "
        "Trial.",
        TRIAL_START,
        columns=("Event Date", "Event", "Subscription Offer Type", "Quantity"),
    ),
    _event(
        "trial_conversions",
        "Free trial conversions",
        "Σ Quantity of conversion events from an introductory offer (Paid Subscription from "
        "Introductory Offer, Crossgrade from Introductory Offer, …) whose offer type is Free "
        "Trial, by the date of conversion.",
        TRIAL_CONVERSION,
        columns=("Event Date", "Event", "Subscription Offer Type", "Quantity"),
    ),
    _event(
        "offer_conversions",
        "Offer conversions",
        "Σ Quantity of conversions to a paid price from any introductory offer or offer code "
        "(free or discounted): Paid Subscription from …, … from Introductory Offer, … from "
        "Offer Code; Billing Retry from … is not a conversion.",
        CONVERSION,
    ),
    _event(
        "offer_code_redemptions",
        "Offer code redemptions",
        "Σ Quantity of Start Offer Code events (group by `offer` for each code's performance).",
        "n = 'start offer code'",
    ),
    _event(
        "offer_starts",
        "Offer starts",
        "Σ Quantity of events starting an offer: Start Introductory Offer, Start Offer Code, "
        "and reactivations with an offer (promotional and win-back offers). Group by `offer`.",
        "(n IN ('start introductory offer', 'start offer code') OR "
        "(n LIKE 'reactivat%' AND offer <> ''))",
        columns=("Event Date", "Event", "Subscription Offer Name", "Quantity"),
    ),
    _event(
        "renewals",
        "Renewals",
        "Σ Quantity of Renew events (a paid period renewed on time).",
        "n = 'renew'",
        caveats=("Recoveries from billing retry are `billing_recoveries`.",),
    ),
    _event(
        "billing_recoveries",
        "Billing retry recoveries",
        "Σ Quantity of Renewal from Billing Retry events.",
        "n = 'renewal from billing retry'",
    ),
    _event(
        "billing_retry_entries",
        "Billing retry entries",
        "Σ Quantity of Billing Retry from … events (Paid Subscription, Introductory Offer, …).",
        "n LIKE 'billing retry from%'",
    ),
    _event(
        "cancellations",
        "Cancellations",
        "Σ Quantity of every cancellation event (Cancel, Canceled from Billing Retry, Canceled "
        "from Billing Grace Period, Canceled After Renewal Extension, …). Group by "
        "`cancellation_reason` for Apple's reasons.",
        CANCELLATION,
        columns=("Event Date", "Event", "Cancellation Reason", "Quantity"),
    ),
    _event(
        "voluntary_cancellations",
        "Voluntary cancellations",
        "Cancellations that are not billing failures: every cancellation event except Canceled "
        "from Billing Retry and those whose Cancellation Reason mentions billing.",
        VOLUNTARY,
        columns=("Event Date", "Event", "Cancellation Reason", "Quantity"),
    ),
    _event(
        "involuntary_cancellations",
        "Involuntary cancellations (billing)",
        "Canceled from Billing Retry events and cancellations whose Cancellation Reason "
        'mentions billing ("Billing issue").',
        INVOLUNTARY,
        columns=("Event Date", "Event", "Cancellation Reason", "Quantity"),
    ),
    _event(
        "reactivations",
        "Reactivations",
        "Σ Quantity of Reactivate events (with or without an upgrade, downgrade or crossgrade).",
        "n LIKE 'reactivat%'",
    ),
    _event("upgrades", "Upgrades", "Σ Quantity of Upgrade events.", "n = 'upgrade'"),
    _event("downgrades", "Downgrades", "Σ Quantity of Downgrade events.", "n = 'downgrade'"),
    _event("crossgrades", "Crossgrades", "Σ Quantity of Crossgrade events.", "n = 'crossgrade'"),
    MetricDef(
        name="paid_periods_before_cancel",
        title="Average paid periods before cancelling",
        family=Family.EVENTS,
        unit=Unit.PERIODS,
        definition="Σ (Consecutive Paid Periods × Quantity) ÷ Σ Quantity over cancellation "
        "events that state Consecutive Paid Periods.",
        sources=(EVENT,),
        columns=("Event", "Consecutive Paid Periods", "Quantity"),
        additive_over_time=False,
        additive_over_groups=False,
        caveats=(LATE_EVENTS, "An average: computed for the bucket, never summed."),
        sql=CANCELLATION,
    ),
    # --- transactions (Subscriber Report) -------------------------------------------------
    MetricDef(
        name="transactions",
        title="Charges",
        family=Family.TRANSACTIONS,
        unit=Unit.TRANSACTIONS,
        definition="SUBSCRIBER rows that are not refunds (Refund ≠ Yes and Customer Price ≥ 0): "
        "one per charge (new period, renewal, conversion, plan change).",
        sources=(SUBSCRIBER,),
        columns=("Event Date", "Refund", "Customer Price"),
        additive_over_time=True,
        additive_over_groups=True,
        caveats=(LATE_EVENTS,),
    ),
    MetricDef(
        name="refunds",
        title="Refunds",
        family=Family.TRANSACTIONS,
        unit=Unit.TRANSACTIONS,
        definition="SUBSCRIBER rows with Refund = Yes (or a negative Customer Price), by the "
        "refund's Event Date (Purchase Date is the refunded charge's day).",
        sources=(SUBSCRIBER,),
        columns=("Event Date", "Refund", "Customer Price", "Purchase Date"),
        additive_over_time=True,
        additive_over_groups=True,
        caveats=(LATE_EVENTS, "Partial refunds are one refund each (Units 0 in Apple's sample)."),
    ),
    _money(
        "gross_sales",
        "Gross sales",
        "Σ Customer Price of charges per Customer Currency (what customers paid, tax included).",
        ("Customer Price", "Customer Currency"),
    ),
    _money(
        "proceeds",
        "Proceeds",
        "Σ Developer Proceeds of charges per Proceeds Currency (before refunds).",
        ("Developer Proceeds", "Proceeds Currency"),
    ),
    _money(
        "refunded_amount",
        "Refunded amount",
        "Σ |Customer Price| of refund rows per Customer Currency.",
        ("Customer Price", "Customer Currency"),
    ),
    _money(
        "refunded_proceeds",
        "Refunded proceeds",
        "Σ |Developer Proceeds| of refund rows per Proceeds Currency: the proceeds Apple takes "
        "back.",
        ("Developer Proceeds", "Proceeds Currency"),
    ),
    _money(
        "net_proceeds",
        "Net proceeds",
        "proceeds − refunded_proceeds, per Proceeds Currency.",
        ("Developer Proceeds", "Proceeds Currency"),
    ),
    MetricDef(
        name="paying_subscribers",
        title="Paying subscribers",
        family=Family.TRANSACTIONS,
        unit=Unit.SUBSCRIBERS,
        definition="Distinct Subscriber IDs with at least one charge in the bucket.",
        sources=(SUBSCRIBER,),
        columns=("Subscriber ID", "Refund"),
        additive_over_time=False,
        additive_over_groups=False,
        caveats=(RESET, "A distinct count: computed for the bucket, never summed over days."),
    ),
    # --- MRR movements (Subscriber Report) -------------------------------------------------
    _movement(
        "subscriber_mrr",
        "Subscriber MRR",
        "Σ z: the monthly proceeds of every Subscriber ID covered at the bucket's last day.",
        additive_over_time=False,
    ),
    _movement(
        "mrr_new",
        "New MRR",
        "Σ z of subscribers without a: first charge ever (of that Subscriber ID) in the bucket.",
    ),
    _movement(
        "mrr_reactivation",
        "Reactivation MRR",
        "Σ z of subscribers without a whose first charge is older than the bucket (they came "
        "back under the same Subscriber ID).",
    ),
    _movement("mrr_expansion", "Expansion MRR", "Σ (z − a) where z > a (upgrades, price rises)."),
    _movement(
        "mrr_contraction",
        "Contraction MRR",
        "Σ (a − z) where 0 < z < a, as a positive amount (downgrades, cheaper offers).",
    ),
    _movement(
        "mrr_churned",
        "Churned MRR",
        "Σ a of subscribers covered at the start and not at the end, as a positive amount. "
        "subscriber_mrr(end) − subscriber_mrr(start) = new + reactivation + expansion − "
        "contraction − churned.",
    ),
    # --- ratios ---------------------------------------------------------------------------
    _ratio(
        "trial_conversion_rate",
        "Trial conversion rate (flow)",
        "trial_conversions ÷ trial_starts of the same bucket. A flow ratio: trials converting "
        "in the bucket may have started earlier — for conversion by trial-start cohort use "
        "/v1/subscriptions/cohorts?by=trial_start_month&metric=trial_conversion.",
        ("trial_conversions", "trial_starts"),
        (EVENT,),
    ),
    _ratio(
        "churn_rate",
        "Churn rate",
        "cancellations in the bucket ÷ paying_active at the end of the day before the bucket "
        "starts (the opening paying base).",
        ("cancellations", "opening_paying_active"),
        (EVENT, SUBSCRIPTION),
        caveats=(
            "Free trial cancellations (lapses) are cancellations too, so the rate can "
            "exceed the paying churn of a trial-heavy app.",
        ),
    ),
    _ratio(
        "voluntary_churn_rate",
        "Voluntary churn rate",
        "voluntary_cancellations ÷ opening paying_active (see churn_rate).",
        ("voluntary_cancellations", "opening_paying_active"),
        (EVENT, SUBSCRIPTION),
    ),
    _ratio(
        "involuntary_churn_rate",
        "Involuntary churn rate",
        "involuntary_cancellations ÷ opening paying_active (see churn_rate).",
        ("involuntary_cancellations", "opening_paying_active"),
        (EVENT, SUBSCRIPTION),
    ),
    _ratio(
        "billing_recovery_rate",
        "Billing retry recovery rate",
        "billing_recoveries ÷ (billing_recoveries + involuntary_cancellations): of the billing "
        "retries resolved in the bucket, the share that renewed.",
        ("billing_recoveries", "billing_resolutions"),
        (EVENT,),
    ),
    _ratio(
        "refund_rate",
        "Refund rate",
        "refunds ÷ transactions (charges) of the same bucket.",
        ("refunds", "transactions"),
        (SUBSCRIBER,),
        caveats=("A refund may refund a charge of an earlier bucket (see Purchase Date).",),
    ),
    _ratio(
        "arppu",
        "Average revenue per paying subscriber",
        "Per proceeds currency: net_proceeds ÷ distinct Subscriber IDs charged in that currency "
        "in the bucket. In a reporting currency: the converted net_proceeds (each Event Date "
        "at its rate) ÷ the same count; the total: every currency's converted net_proceeds ÷ "
        "all distinct paying Subscriber IDs of the bucket.",
        ("net_proceeds", "paying_subscribers"),
        (SUBSCRIBER,),
        unit=Unit.MONEY_PER_SUBSCRIBER,
        caveats=(RESET, PER_CURRENCY),
    ),
    _ratio(
        "arpu",
        "Average revenue per active subscription",
        "Per proceeds currency: net_proceeds ÷ active subscriptions (free trials included) on "
        "Subscription Report rows of that proceeds currency on the bucket's `as_of` date. In a "
        "reporting currency: the converted net_proceeds (each Event Date at its rate) ÷ the "
        "same count; the total: every currency's converted net_proceeds ÷ all active "
        "subscriptions on `as_of`.",
        ("net_proceeds", "active"),
        (SUBSCRIBER, SUBSCRIPTION),
        unit=Unit.MONEY_PER_SUBSCRIBER,
        caveats=(PER_CURRENCY,),
    ),
    # --- cohorts (served by /v1/subscriptions/cohorts) -------------------------------------
    MetricDef(
        name="trial_conversion",
        title="Trial → paid conversion by trial-start cohort",
        family=Family.COHORT,
        unit=Unit.RATIO,
        definition="For trial-start month M: conversions (as trial_conversions) whose Original "
        "Start Date is in M ÷ trial_starts whose Event Date is in M; per month after M "
        "(by conversion Event Date) and cumulative.",
        sources=(EVENT,),
        columns=(
            "Event Date",
            "Event",
            "Subscription Offer Type",
            "Original Start Date",
            "Quantity",
        ),
        additive_over_time=False,
        additive_over_groups=False,
        caveats=(
            LATE_EVENTS,
            "Introductory offers are once per subscription group, so a "
            "converting trial's Original Start Date is its trial start.",
        ),
    ),
    MetricDef(
        name="retention",
        title="Paid retention by start month",
        family=Family.COHORT,
        unit=Unit.SUBSCRIBERS,
        definition="Cohort: Subscriber IDs by the month of their first charge. Retained in "
        "month k: subscribers with a charge whose period (Event Date + Standard Subscription "
        "Duration) covers the last day of cohort month + k, net of refunded charges.",
        sources=(SUBSCRIBER,),
        columns=("Subscriber ID", "Event Date", "Standard Subscription Duration", "Refund"),
        additive_over_time=False,
        additive_over_groups=False,
        caveats=(
            RESET,
            "Cohorts start with the stored history: a subscriber whose first "
            "charge predates it joins the cohort of its first stored charge.",
        ),
    ),
    MetricDef(
        name="revenue",
        title="Realised LTV by start month",
        family=Family.COHORT,
        unit=Unit.MONEY_PER_SUBSCRIBER,
        definition="Cohort as for retention. Cumulative net proceeds (charges − refunds) of "
        "the cohort's subscribers up to the end of cohort month + k, per proceeds currency, "
        "and divided by the cohort size (realised LTV per subscriber). In a reporting "
        "currency each Event Date converts at its own rate, then sums; per subscriber = that "
        "converted sum ÷ the cohort size.",
        sources=(SUBSCRIBER,),
        columns=(
            "Subscriber ID",
            "Event Date",
            "Developer Proceeds",
            "Proceeds Currency",
            "Refund",
        ),
        additive_over_time=False,
        additive_over_groups=False,
        caveats=(RESET, PER_CURRENCY, REFUND_PROCEEDS),
    ),
    MetricDef(
        name="renewal_by_period",
        title="Renewal rate by period number",
        family=Family.COHORT,
        unit=Unit.RATIO,
        definition="For paid period n of a Subscriber ID (its n-th charge, in order): the "
        "share of subscribers with an n-th charge that also have an (n+1)-th. Only "
        "subscribers whose n-th period ended before the newest stored date count.",
        sources=(SUBSCRIBER,),
        columns=("Subscriber ID", "Event Date", "Standard Subscription Duration", "Refund"),
        additive_over_time=False,
        additive_over_groups=False,
        caveats=(RESET, "Plan changes charge again: an upgrade mid-period counts as a period."),
    ),
)

BY_NAME = {metric.name: metric for metric in METRICS}
QUERYABLE = tuple(m.name for m in METRICS if m.family is not Family.COHORT)
#: Helper denominators of ratios that are not metrics of their own.
HELPERS = {"opening_paying_active", "billing_resolutions"}
