"""The files agree with each other and with the simulation's truth."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from app.sandbox import SandboxState
from app.sandbox.subscription_world import SubscriptionTruth, configure
from app.sandbox.subscriptions import (
    offer_code_rows,
    rows_for,
    snapshot_rows,
    win_back_rows,
)
from tests.sandbox.subscriptions.conftest import DAY

STATE_COLUMNS = {
    "standard": "Active Standard Price Subscriptions",
    "free_trial_introductory": "Active Free Trial Introductory Offer Subscriptions",
    "pay_up_front_introductory": "Active Pay Up Front Introductory Offer Subscriptions",
    "pay_as_you_go_introductory": "Active Pay As You Go Introductory Offer Subscriptions",
    "free_trial_promotional": "Free Trial Promotional Offer Subscriptions",
    "pay_up_front_promotional": "Pay Up Front Promotional Offer Subscriptions",
    "pay_as_you_go_promotional": "Pay As You Go Promotional Offer Subscriptions",
    "free_trial_offer_code": "Free Trial Offer Code Subscriptions",
    "pay_up_front_offer_code": "Pay Up Front Offer Code Subscriptions",
    "pay_as_you_go_offer_code": "Pay As You Go Offer Code Subscriptions",
    "marketing_opt_ins": "Marketing Opt-Ins",
    "billing_retry": "Billing Retry",
    "grace_period": "Grace Period",
}
STARTS = {"Subscribe", "Start Introductory Offer", "Start Offer Code", "Reactivate",
          "Reactivate with Upgrade", "Reactivate with Downgrade", "Reactivate with Crossgrade"}  # fmt: skip
ENDS = {"Cancel", "Canceled from Billing Retry", "Canceled from Billing Grace Period", "Refund"}
MONTHLY = {"7 Days": Fraction("30.4375") / 7, "1 Month": Fraction(1), "2 Months": Fraction(1, 2),
           "3 Months": Fraction(1, 3), "6 Months": Fraction(1, 6), "1 Year": Fraction(1, 12)}  # fmt: skip
IN_MRR = ["standard", "pay_as_you_go_introductory", "pay_as_you_go_promotional",
          "pay_as_you_go_offer_code"]  # fmt: skip
WEEK = [DAY - timedelta(days=n) for n in range(7)]


@pytest.fixture(scope="module")
def truth(shared: SandboxState) -> SubscriptionTruth:
    return SubscriptionTruth(shared, shared.default_team())


def _happened(state: SandboxState, day: date, report_type: str) -> list[dict[str, str]]:
    """Rows about ``day`` in the files of that day and the next two (FACTS §8)."""
    team = state.default_team()
    return [
        row
        for file_day in (day, day + timedelta(days=1), day + timedelta(days=2))
        for row in rows_for(state, team, report_type, file_day)
        if row["Event Date"] == day.isoformat()
    ]


def test_snapshot_is_the_truths_actives(shared: SandboxState, truth: SubscriptionTruth) -> None:
    for day in (date(2024, 7, 1), date(2025, 1, 15), DAY):
        rows = snapshot_rows(shared, shared.default_team(), day)
        actives = truth.actives(day)
        for state, column in STATE_COLUMNS.items():
            assert sum(int(row[column]) for row in rows) == actives[state], (day, state)
        assert actives["active"] > 1000 and actives["billing_retry"] and actives["grace_period"]
        by_place: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for row in rows:
            for state, column in STATE_COLUMNS.items():
                by_place[(row["Subscription Apple ID"], row["Country"])][state] += int(row[column])
        expected = truth.actives_by_subscription(day)
        assert {k: +v for k, v in by_place.items()} == {k: +Counter(v) for k, v in expected.items()}


def test_event_files_sum_to_the_truth(shared: SandboxState, truth: SubscriptionTruth) -> None:
    for day in WEEK:
        rows = _happened(shared, day, "SUBSCRIPTION_EVENT")
        found: Counter[str] = Counter()
        for row in rows:
            found[row["Event"]] += int(row["Quantity"])
        assert found == truth.flows(day, day).events
    # …and each file is the truth's file content.
    rows = rows_for(shared, shared.default_team(), "SUBSCRIPTION_EVENT", DAY)
    in_file: Counter[str] = Counter()
    for row in rows:
        in_file[row["Event"]] += int(row["Quantity"])
    assert in_file == truth.file_events(DAY)


def test_transitions_are_conserved(shared: SandboxState, truth: SubscriptionTruth) -> None:
    """Subscriptions (active, in billing retry or grace) change only by starts and ends."""
    for day in WEEK:
        before = truth.actives(day - timedelta(days=1))["subscriptions"]
        after = truth.actives(day)["subscriptions"]
        events = truth.flows(day, day).events
        starts = sum(events[name] for name in STARTS)
        ends = sum(events[name] for name in ENDS)
        assert after - before == starts - ends, day


def test_subscriber_rows_are_the_truths_transactions(
    shared: SandboxState, truth: SubscriptionTruth
) -> None:
    for day in WEEK:
        rows = _happened(shared, day, "SUBSCRIBER")
        flows = truth.flows(day, day)
        charges = [row for row in rows if row["Refund"] == ""]
        refunds = [row for row in rows if row["Refund"] == "Yes"]
        assert len(charges) == flows.transactions and len(refunds) == flows.refunds
        assert _sum(charges, "Customer Price") == flows.sales
        assert _sum(charges, "Developer Proceeds") == flows.proceeds
        assert _sum(refunds, "Customer Price", -1) == flows.refunded
        assert _sum(refunds, "Developer Proceeds") == flows.refunded_proceeds


def _sum(rows: list[dict[str, str]], column: str, sign: int = 1) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[row["Customer Currency"]] += sign * Decimal(row[column])
    return dict(totals)


def test_mrr_from_the_snapshot_is_the_truths(
    shared: SandboxState, truth: SubscriptionTruth
) -> None:
    rows = snapshot_rows(shared, shared.default_team(), DAY)
    totals: dict[str, Fraction] = defaultdict(Fraction)
    for row in rows:
        count = sum(int(row[STATE_COLUMNS[state]]) for state in IN_MRR)
        factor = MONTHLY[row["Standard Subscription Duration"]]
        totals[row["Proceeds Currency"]] += count * Fraction(row["Developer Proceeds"]) * factor
    mrr = truth.mrr(DAY)
    assert set(mrr) == {c for c, v in totals.items() if v}
    for currency, amount in mrr.items():
        assert abs(Fraction(amount) - totals[currency]) < Fraction(1, 10**12), currency


def test_offer_codes_and_win_back_sum_to_the_truth(
    state: SandboxState,
) -> None:
    configure(state, win_back_min_count=1)
    team, truth = state.default_team(), SubscriptionTruth(state, state.default_team())
    for day in WEEK:
        codes = offer_code_rows(state, team, day)
        assert (
            sum(int(r["Redemptions"]) for r in codes)
            == truth.flows(day, day).offer_code_redemptions
        )
    churned = win_back_rows(state, team, DAY)
    eligible = truth.win_back_eligible(DAY)
    assert sum(int(r["Churned Subscription Count"]) for r in churned) == eligible["churned"] > 0
    redeemed = [r for r in churned if r["Has Previously Redeemed Win-Back Offer"] == "Yes"]
    assert (
        sum(int(r["Churned Subscription Count"]) for r in redeemed) == eligible["redeemed_win_back"]
    )


def test_a_month_has_every_kind_of_flow(truth: SubscriptionTruth) -> None:
    flows = truth.flows(date(2025, 5, 1), date(2025, 5, 31))
    for name in ("new_subscriptions", "subscribes", "trial_starts", "trial_conversions",
                 "trial_lapses", "conversions", "renewals", "cancellations_voluntary",
                 "cancellations_involuntary", "billing_retries", "recoveries",
                 "recoveries_in_grace", "reactivations", "win_back_redemptions",
                 "promotional_redemptions", "offer_code_redemptions", "upgrades", "downgrades",
                 "crossgrades", "refunds"):  # fmt: skip
        assert getattr(flows, name) > 0, name
    assert flows.trial_conversions < flows.trial_starts
    assert flows.recoveries_in_grace <= flows.recoveries <= flows.billing_retries
    assert flows.events["Renew"] == flows.renewals
    assert set(flows.sales) == set(flows.proceeds) and all(
        flows.proceeds[c] < flows.sales[c] for c in flows.sales
    )
    churns = truth.churns(date(2025, 5, 1), date(2025, 5, 31))
    assert churns["involuntary"] == flows.cancellations_involuntary
    assert churns["voluntary"] + churns["lapse"] == flows.cancellations_voluntary
    assert churns["refunded"] == flows.refunds


def test_cohorts(truth: SubscriptionTruth) -> None:
    cohorts = truth.cohorts(date(2024, 9, 1), date(2024, 11, 1), 6)
    assert [c.month for c in cohorts] == ["2024-09", "2024-10", "2024-11"]
    for cohort in cohorts:
        first = date.fromisoformat(cohort.month + "-01")
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        assert cohort.customers == truth.flows(first, last).new_subscriptions > 0
        assert all(
            p <= a <= cohort.customers for p, a in zip(cohort.paying, cohort.active, strict=True)
        )
        assert cohort.active[6] < cohort.active[0]
        assert sum(cohort.proceeds[6].values()) > sum(cohort.proceeds[0].values()) > 0
