"""The sandbox's SUBSCRIPTION, SUBSCRIPTION_EVENT and SUBSCRIBER reports, over HTTP."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState, create_sandbox_app
from app.sandbox.subscriptions import (
    EVENT_HEADER,
    SUBSCRIBER_HEADER,
    SUBSCRIPTION_HEADER,
    event_rows,
    snapshot_rows,
    subscriber_rows,
)
from tests.sandbox.helpers import assert_error, bearer, mint, parse_tsv

NOW = datetime(2025, 6, 10, 18, 0, tzinfo=UTC)  # 11:00 in Cupertino: June 9 is published
DAY = date(2025, 6, 8)
DURATIONS = {"7 Days", "1 Month", "2 Months", "3 Months", "6 Months", "1 Year"}  # FACTS §5.3
# Events that charge the customer (a free offer's start or reactivation does not).
CHARGING = {
    "Subscribe",
    "Start Introductory Offer",
    "Start Offer Code",
    "Paid Subscription from Introductory Offer",
    "Paid Subscription from Offer Code",
    "Renew",
    "Renewal from Billing Retry",
    "Upgrade",
    "Downgrade",
    "Crossgrade",
    "Reactivate",
    "Reactivate with Upgrade",
    "Reactivate with Downgrade",
    "Reactivate with Crossgrade",
}
FREE_STARTS = {
    "Start Introductory Offer",
    "Start Offer Code",
    *(e for e in CHARGING if "Reactivate" in e),
}


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(seed=42, clock=lambda: NOW)


@pytest.fixture
async def http(state: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_sandbox_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="https://sandbox.test") as client:
        yield client


async def _get(
    http: httpx.AsyncClient, key: SandboxKey, report: str, sub: str, day: str, **extra: str
) -> httpx.Response:
    params = {
        "filter[vendorNumber]": key.vendor_number,
        "filter[reportType]": report,
        "filter[reportSubType]": sub,
        "filter[frequency]": "DAILY",
        "filter[reportDate]": day,
        "filter[version]": "1_3",
        **extra,
    }
    return await http.get("/v1/salesReports", params=params, headers=bearer(mint(key, NOW)))


async def test_subscription_report(http: httpx.AsyncClient, state: SandboxState) -> None:
    key = state.add_key(roles=("SALES",))
    response = await _get(http, key, "SUBSCRIPTION", "SUMMARY", DAY.isoformat())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/a-gzip"
    assert response.headers["x-reports-download-version"] == "1_3"
    filename = f"Subscription_{key.vendor_number}_20250608_V1_3.txt.gz"
    assert response.headers["x-reports-filename"] == filename
    header, rows, footer = parse_tsv(response.content)
    assert tuple(header) == SUBSCRIPTION_HEADER and not footer
    assert "Subscription Offer Name" in header and "Event Date" not in header  # 1_3, no date
    assert rows == snapshot_rows(state, key.team, DAY)
    assert len(rows) > 10
    durations = {row["Standard Subscription Duration"] for row in rows}
    assert durations == DURATIONS
    retained = [row for row in rows if row["Proceeds Reason"] == "Rate After One Year"]
    assert retained and all(
        Decimal(row["Developer Proceeds"]) < Decimal(row["Customer Price"]) for row in retained
    )
    assert any(int(row["Active Free Trial Introductory Offer Subscriptions"]) for row in rows)
    assert any(int(row["Active Pay As You Go Introductory Offer Subscriptions"]) for row in rows)
    # Apple fills Subscribers only for records of more than three subscriptions.
    for row in rows:
        active = sum(int(row[name]) for name in header if name.endswith("Subscriptions"))
        assert row["Subscribers"] == (str(active) if active > 3 else "")


async def test_events_and_subscribers_agree_with_the_snapshot(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    key = state.add_key(roles=("FINANCE",))
    team = key.team
    response = await _get(http, key, "SUBSCRIPTION_EVENT", "SUMMARY", DAY.isoformat())
    header, rows, _ = parse_tsv(response.content)
    assert tuple(header) == EVENT_HEADER
    assert header.index("Device") < header.index("Client")  # 1_3 order, unlike the 1_2 sample
    assert rows == event_rows(state, team, DAY)
    # A day's file also carries the late events of the two days before (FACTS §8).
    assert {row["Event Date"] for row in rows} == {"2025-06-08", "2025-06-07", "2025-06-06"}
    sold = {row["Subscription Apple ID"] for row in snapshot_rows(state, team, DAY)}
    assert {row["Subscription Apple ID"] for row in rows} <= sold
    assert all(int(row["Quantity"]) > 0 for row in rows)
    names = {row["Event"] for row in rows}
    assert {"Renew", "Start Introductory Offer", "Paid Subscription from Introductory Offer"} <= (
        names
    )

    subscriber = await _get(http, key, "SUBSCRIBER", "DETAILED", DAY.isoformat())
    assert subscriber.headers["x-reports-filename"].startswith("Subscriber_")
    header, transactions, _ = parse_tsv(subscriber.content)
    assert tuple(header) == SUBSCRIBER_HEADER
    assert transactions == subscriber_rows(state, team, DAY)
    # One subscriber row per paying event of the same file, one per refund event.
    paid = sum(
        int(row["Quantity"])
        for row in rows
        if row["Event"] in CHARGING
        and not (row["Event"] in FREE_STARTS and row["Subscription Offer Type"] == "Free Trial")
    )
    charges = [row for row in transactions if row["Refund"] != "Yes"]
    assert len(charges) == paid > 0
    assert all(len(row["Subscriber ID"]) == 13 for row in transactions)
    refunds = [row for row in transactions if row["Refund"] == "Yes"]
    assert len(refunds) == sum(int(r["Quantity"]) for r in rows if r["Event"] == "Refund")

    # Refunds are rare: take the latest day of the week before with some.
    refund_day = next(
        day
        for day in (DAY - timedelta(days=n) for n in range(7))
        if any(row["Refund"] == "Yes" for row in subscriber_rows(state, team, day))
    )
    subscriber = await _get(http, key, "SUBSCRIBER", "DETAILED", refund_day.isoformat())
    _, transactions, _ = parse_tsv(subscriber.content)
    refunds = [row for row in transactions if row["Refund"] == "Yes"]
    assert refunds
    for row in refunds:
        assert Decimal(row["Customer Price"]) < 0 < Decimal(row["Developer Proceeds"])
        assert row["Units"] == "0"  # as the sample's refund row
        assert date.fromisoformat(row["Purchase Date"]) < refund_day


async def test_team_without_auto_renewables_gets_invalid_vendor_number(
    http: httpx.AsyncClient, state: SandboxState
) -> None:
    state.add_team("No Subs Inc", apps=0)
    key = state.add_key("No Subs Inc", roles=("ADMIN",))
    for report, sub in (
        ("SUBSCRIPTION", "SUMMARY"),
        ("SUBSCRIPTION_EVENT", "SUMMARY"),
        ("SUBSCRIBER", "DETAILED"),
    ):
        error = assert_error(
            await _get(http, key, report, sub, DAY.isoformat()), 400, "PARAMETER_ERROR.INVALID"
        )
        assert error["detail"] == "Invalid vendor number"
        assert error["source"] == {"parameter": "filter[vendorNumber]"}
    # …while SALES works with the same vendor number (it simply has no sales).
    sales = await _get(http, key, "SALES", "SUMMARY", DAY.isoformat(), **{"filter[version]": "1_0"})
    assert_error(sales, 404, "NOT_FOUND")


async def test_unpublished_days_and_versions(http: httpx.AsyncClient, state: SandboxState) -> None:
    key = state.add_key(roles=("ADMIN",))
    today = await _get(http, key, "SUBSCRIPTION", "SUMMARY", "2025-06-10")
    assert "not available yet" in assert_error(today, 404, "NOT_FOUND")["detail"]
    old = await _get(http, key, "SUBSCRIBER", "DETAILED", "2024-05-01")
    assert_error(old, 410, "GONE")
    stale = await _get(
        http, key, "SUBSCRIPTION", "SUMMARY", "2025-06-08", **{"filter[version]": "1_2"}
    )
    assert (
        "latest version for this report is 1_3"
        in assert_error(stale, 400, "PARAMETER_ERROR.INVALID")["detail"]
    )
