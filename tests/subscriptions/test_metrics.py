"""The documented formulas, checked against figures computed by hand."""

from datetime import date
from decimal import Decimal

import pytest

from app.sales.schemas import Money
from app.subscriptions.metrics import EventGroup, estimated_mrr, event_group, monthly_factor
from app.subscriptions.repository import KindRow
from app.subscriptions.service import Tally


@pytest.mark.parametrize(
    ("duration", "factor"),
    [
        ("7 Days", Decimal("30.4375") / 7),  # 4.348214285…
        ("1 Week", Decimal("30.4375") / 7),
        ("1 Month", Decimal(1)),
        ("2 Months", Decimal(1) / 2),
        ("3 Months", Decimal(1) / 3),
        ("6 Months", Decimal(1) / 6),
        ("1 Year", Decimal(1) / 12),
        ("14 days", Decimal("30.4375") / 14),
    ],
)
def test_monthly_factor(duration: str, factor: Decimal) -> None:
    assert monthly_factor(duration) == factor


@pytest.mark.parametrize("duration", [None, "", " ", "Lifetime", "0 Months", "1 Fortnight"])
def test_unrecognised_durations_have_no_factor(duration: str | None) -> None:
    assert monthly_factor(duration) is None


@pytest.mark.parametrize(
    ("duration", "proceeds", "count", "mrr"),
    [
        # 10 × 3.50 × 30.4375 / 7 = 35 × 4.348214… = 152.1875 → 152.19
        ("7 Days", "3.50", 10, "152.19"),
        # 4 × 6.12 × 1 = 24.48
        ("1 Month", "6.12", 4, "24.48"),
        # 3 × 10.00 / 2 = 15.00
        ("2 Months", "10.00", 3, "15.00"),
        # 5 × 12.00 / 3 = 20.00 ; 1 × 10.00 / 3 = 3.333… → 3.33
        ("3 Months", "12.00", 5, "20.00"),
        ("3 Months", "10.00", 1, "3.33"),
        # 2 × 30.00 / 6 = 10.00 ; 1 × 25.00 / 6 = 4.1666… → 4.17
        ("6 Months", "30.00", 2, "10.00"),
        ("6 Months", "25.00", 1, "4.17"),
        # 20 × 2065.00 / 12 = 41300 / 12 = 3441.666… → 3441.67
        ("1 Year", "2065.00", 20, "3441.67"),
    ],
)
def test_mrr_per_duration(duration: str, proceeds: str, count: int, mrr: str) -> None:
    assert estimated_mrr([("USD", duration, Decimal(proceeds), count)]) == [("USD", Decimal(mrr))]


def test_mrr_sums_per_currency_and_rounds_once() -> None:
    rows = [
        ("USD", "7 Days", Decimal("3.50"), 10),  # 152.1875
        ("USD", "1 Month", Decimal("6.12"), 4),  # 24.48
        ("USD", "1 Year", Decimal("8.39"), 1),  # 0.699166…
        ("RUB", "1 Year", Decimal("2065.00"), 20),  # 3441.666…
        ("RUB", "7 Days", Decimal("419.30"), 1),  # 419.30 × 4.348214… = 1823.206…
        ("EUR", "1 Month", Decimal("0.00"), 7),  # zero proceeds: 0
    ]
    # USD: 152.1875 + 24.48 + 0.6991666… = 177.3666… → 177.37 (rounding each first would
    # give 152.19 + 24.48 + 0.70 = 177.37 too, but only by luck; the sum is rounded once).
    # RUB: 3441.6666… + 1823.2062… = 5264.8729… → 5264.87
    assert estimated_mrr(rows) == [
        ("EUR", Decimal("0.00")),
        ("RUB", Decimal("5264.87")),
        ("USD", Decimal("177.37")),
    ]


def test_rows_without_a_usable_duration_or_proceeds_are_left_out() -> None:
    assert estimated_mrr([("USD", "Lifetime", Decimal("5"), 3), ("USD", "1 Month", None, 2)]) == []


@pytest.mark.parametrize(
    ("event", "group"),
    [
        ("Subscribe", EventGroup.ACTIVATION),
        ("Start Introductory Offer", EventGroup.ACTIVATION),
        ("Start Offer Code", EventGroup.ACTIVATION),
        ("Opt-In", EventGroup.ACTIVATION),
        ("Reactivate", EventGroup.ACTIVATION),
        ("Reactivate with Crossgrade", EventGroup.ACTIVATION),
        ("Cancel", EventGroup.CANCELLATION),
        ("Canceled from Billing Retry", EventGroup.CANCELLATION),
        ("Canceled from Billing Grace Period", EventGroup.CANCELLATION),
        ("Paid Subscription from Introductory Offer", EventGroup.CONVERSION),
        ("Crossgrade from Introductory Offer", EventGroup.CONVERSION),
        ("Renew", EventGroup.RENEWAL),
        ("Renewal from Billing Retry", EventGroup.RENEWAL),
        ("Billing Retry from Paid Subscription", EventGroup.BILLING),
        ("Billing Retry from Introductory Offer", EventGroup.BILLING),
        ("Grace Period from Paid Subscription", EventGroup.BILLING),
        ("Upgrade", EventGroup.OTHER),
        ("Refund", EventGroup.OTHER),
        ("Something Apple Adds Next Year", EventGroup.OTHER),
        (None, EventGroup.OTHER),
    ],
)
def test_event_groups(event: str | None, group: EventGroup) -> None:
    assert event_group(event) is group


def _kind(kind: str, count: int, proceeds: str | None, duration: str = "1 Month") -> KindRow:
    total = None if proceeds is None else Decimal(proceeds) * count
    return KindRow(
        report_date=date(2025, 6, 8),
        group=(),
        subscription_name=None,
        app_apple_id=None,
        kind=kind,
        currency="EUR",
        duration=duration,
        count=count,
        proceeds=total,
        unpriced=count if proceeds is None else 0,
    )


def test_measures_and_which_offers_count_towards_mrr() -> None:
    tally = Tally()
    for row in (
        _kind("standard", 10, "3.00"),  # MRR 30.00
        _kind("pay_as_you_go_introductory", 4, "1.50"),  # MRR 6.00 (billed monthly, discounted)
        _kind("pay_up_front_introductory", 5, "9.00"),  # paid once for the offer: not MRR
        _kind("free_trial_introductory", 7, "3.00"),  # free: not MRR
        _kind("free_trial_offer_code", 2, "3.00"),
        _kind("pay_as_you_go_promotional", 3, "2.00", "3 Months"),  # 3 × 2.00 / 3 = 2.00
        _kind("standard", 6, None),  # no proceeds: left out, and said so
        _kind("billing_retry", 9, "3.00"),  # Apple's statistic, not an active subscription
        _kind("grace_period", 1, "3.00"),
    ):
        tally.add(row)
    measures = tally.measures()
    assert measures["active"] == 10 + 4 + 5 + 7 + 2 + 3 + 6 == 37
    assert measures["paying"] == 10 + 4 + 5 + 3 + 6 == 28
    assert measures["free_trial"] == 7 + 2 == 9
    assert measures["introductory"] == 4 + 5 + 7 == 16
    assert (measures["promotional"], measures["offer_code"], measures["win_back"]) == (3, 2, 0)
    assert (measures["billing_retry"], measures["grace_period"]) == (9, 1)
    assert measures["estimated_mrr"] == [Money(amount="38.00", currency="EUR")]
    assert measures["mrr_excluded_subscriptions"] == 6
    assert tally.measures(statistics=False)["billing_retry"] is None
