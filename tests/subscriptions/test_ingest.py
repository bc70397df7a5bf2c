"""The real subscription, event and subscriber samples, loaded through the engine row for row."""

import csv
import datetime as dt
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.apple_files import SAMPLES
from tests.fixtures.engine import run_unit
from tests.subscriptions.apple import FakeApple, app_with, apple_error

SUBSCRIPTION = SAMPLES / "subscription_daily_v1_2__kachit.tsv"
EVENTS = SAMPLES / "subscription_event_daily_v1_2__kachit.tsv"
SUBSCRIBERS = SAMPLES / "subscriber_detailed_daily_v1_2__kachit.tsv"
DAY = "2020-10-05"
INVALID_VENDOR = apple_error(
    400, "PARAMETER_ERROR.INVALID", "Invalid vendor number", "filter[vendorNumber]"
)


def _sample_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _int(cell: str) -> int:
    return int(cell.strip() or 0)


@pytest.fixture
def apple() -> FakeApple:
    return FakeApple()


@pytest.fixture
async def fake_app(settings: Settings, apple: FakeApple) -> AsyncIterator[FastAPI]:
    async with app_with(settings, apple) as application:
        yield application


async def test_subscription_sample_row_for_row(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    apple.set_text("SUBSCRIPTION", SUBSCRIPTION.read_bytes())
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "subscriptions_daily", DAY)

    sent = apple.requests[-1].url.params
    assert (sent["filter[reportType]"], sent["filter[reportSubType]"]) == (
        "SUBSCRIPTION",
        "SUMMARY",
    )
    assert (sent["filter[frequency]"], sent["filter[version]"]) == ("DAILY", "1_3")
    assert sent["filter[reportDate]"] == DAY

    rows = await db.fetch("SELECT * FROM subscription_snapshot_rows ORDER BY id")
    expected = _sample_rows(SUBSCRIPTION)
    assert len(rows) == len(expected) == 49
    # The file has no date column: every row carries the day that was asked for.
    assert {row["report_date"] for row in rows} == {dt.date(2020, 10, 5)}
    for row, cells in zip(rows, expected, strict=True):
        assert row["subscription_apple_id"] == cells["Subscription Apple ID"]
        assert row["country"] == cells["Country"]
        assert row["standard_duration"] == cells["Standard Subscription Duration"]
        assert row["customer_price"] == Decimal(cells["Customer Price"])
        assert row["developer_proceeds"] == Decimal(cells["Developer Proceeds"])
        assert row["proceeds_currency"] == cells["Proceeds Currency"].strip()
        assert row["active_standard"] == _int(cells["Active Standard Price Subscriptions"])
        assert row["billing_retry"] == _int(cells["Billing Retry"])
        assert row["pay_as_you_go_introductory"] == _int(
            cells["Active Pay As You Go Introductory Offer Subscriptions"]
        )
        assert row["workspace_id"] == tenant.workspace_id
        assert json.loads(row["extra"]) == {}
    first = rows[0]
    assert (first["app_name"], first["app_apple_id"], first["subscription_name"]) == (
        "FooBarApp",
        "1234567890",
        "foo.bar.baz",
    )
    assert first["proceeds_currency"] == "RUB"  # the file's "RUB      " trimmed
    assert first["offer_name"] is None and first["promotional_offer_id"] is None  # " " cells
    assert first["active_standard"] == 20
    assert rows[4]["preserved_pricing"] == "Yes" and rows[4]["state"] == "AAO"
    intro = rows[31]  # UA, 7 Days, 4.99 USD: 2 pay-as-you-go intro offers, 3 in billing retry
    assert (intro["pay_as_you_go_introductory"], intro["billing_retry"]) == (2, 3)
    # 1_2's "Promotional Offer Name" is 1_3's "Subscription Offer Name"; the 1_3-only
    # columns are simply absent (null), not zero.
    assert first["free_trial_offer_code"] is None and first["subscribers"] is None

    # Running the day again leaves exactly the same rows.
    await run_unit(fake_app, account_id, "subscriptions_daily", DAY)
    assert await db.fetchval("SELECT count(*) FROM subscription_snapshot_rows") == 49
    availability = await db.fetchrow(
        "SELECT state, row_count, report_version FROM dataset_availability "
        "WHERE dataset = 'subscriptions_daily' AND report_date = $1",
        dt.date(2020, 10, 5),
    )
    assert dict(availability) == {"state": "published", "row_count": 49, "report_version": "1_3"}


async def test_event_sample_row_for_row(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    apple.set_text("SUBSCRIPTION_EVENT", EVENTS.read_bytes())
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "subscription_events_daily", DAY)
    assert apple.requests[-1].url.params["filter[reportType]"] == "SUBSCRIPTION_EVENT"

    rows = await db.fetch("SELECT * FROM subscription_event_rows ORDER BY id")
    expected = _sample_rows(EVENTS)
    assert len(rows) == len(expected) == 49
    for row, cells in zip(rows, expected, strict=True):
        assert row["event_date"] == dt.date.fromisoformat(cells["Event Date"])
        assert row["event"] == cells["Event"]
        assert row["quantity"] == int(cells["Quantity"])
        assert row["original_start_date"] == dt.date.fromisoformat(cells["Original Start Date"])
        assert row["report_date"] == dt.date(2020, 10, 5)
    # One daily file, three event dates.
    assert {row["event_date"] for row in rows} == {
        dt.date(2020, 10, 4),
        dt.date(2020, 10, 5),
        dt.date(2020, 10, 6),
    }
    assert sum(row["quantity"] for row in rows) == sum(int(c["Quantity"]) for c in expected)
    upgrade = next(row for row in rows if row["event"] == "Upgrade")
    assert (upgrade["previous_subscription_name"], upgrade["previous_subscription_apple_id"]) == (
        "mentor.promo.week",
        "1526299572",
    )
    assert (upgrade["offer_type"], upgrade["offer_duration"]) == ("Pay as you go", "2 Weeks")
    cancel = rows[18]
    assert (cancel["event"], cancel["days_before_canceling"], cancel["cancellation_reason"]) == (
        "Cancel",
        9,
        "Canceled",
    )
    assert cancel["state"] == "AAO" and cancel["country"] == "KZ"
    renew = rows[20]
    assert (renew["preserved_pricing"], renew["consecutive_paid_periods"]) == ("Yes", 37)


async def test_subscriber_sample_row_for_row(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    apple.set_text("SUBSCRIBER", SUBSCRIBERS.read_bytes())
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "subscribers_daily", DAY)
    sent = apple.requests[-1].url.params
    assert (sent["filter[reportType]"], sent["filter[reportSubType]"]) == ("SUBSCRIBER", "DETAILED")

    rows = await db.fetch("SELECT * FROM subscriber_transaction_rows ORDER BY id")
    expected = _sample_rows(SUBSCRIBERS)
    assert len(rows) == len(expected) == 48
    for row, cells in zip(rows, expected, strict=True):
        assert row["subscriber_id"] == cells["Subscriber ID"]  # stored as Apple gives it
        assert row["event_date"] == dt.date.fromisoformat(cells["Event Date"])
        assert row["customer_price"] == Decimal(cells["Customer Price"])
        assert row["units"] == Decimal(cells["Units"])
    refunds = [row for row in rows if row["refund"]]
    assert len(refunds) == 1
    refund = refunds[0]
    assert refund["subscriber_id"] == "1234567890044"
    assert (refund["customer_price"], refund["developer_proceeds"]) == (
        Decimal("-85.43"),
        Decimal("59.80"),
    )
    assert refund["purchase_date"] == dt.date(2020, 9, 30)
    assert refund["units"] == Decimal(0)
    assert (refund["offer_type"], refund["offer_duration"]) == ("Pay as you go", "2 Weeks")
    assert rows[9]["preserved_pricing"] == "Yes"


async def test_unknown_columns_are_kept_in_extra(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    lines = SUBSCRIPTION.read_text().splitlines()
    lines = [lines[0] + "\tFree Trial Retention Offers"] + [line + "\t4" for line in lines[1:3]]
    apple.set_text("SUBSCRIPTION", "\n".join(lines) + "\n")
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "subscriptions_daily", DAY)
    extras = await db.fetch("SELECT extra FROM subscription_snapshot_rows ORDER BY id")
    assert [json.loads(row["extra"]) for row in extras] == [
        {"Free Trial Retention Offers": "4"}
    ] * 2
    notes = await db.fetchval(
        "SELECT notes FROM sync_dataset_states WHERE dataset = 'subscriptions_daily'"
    )
    assert json.loads(notes)["unknown_columns"] == ["Free Trial Retention Offers"]


async def test_invalid_vendor_number_is_no_data_when_sales_works(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await db.execute(
        "UPDATE asc_accounts SET capabilities = $1 WHERE id = $2",
        json.dumps({"sales": {"available": True, "reason": None}}),
        account_id,
    )
    apple.set_text("SUBSCRIPTION", SUBSCRIPTION.read_bytes())
    await run_unit(fake_app, account_id, "subscriptions_daily", DAY)
    assert await db.fetchval("SELECT count(*) FROM subscription_snapshot_rows") == 49

    # The account's last auto-renewable subscription is gone: Apple says "Invalid vendor
    # number" although the same number works for SALES. That is the day's no_data.
    apple.reports["SUBSCRIPTION"] = INVALID_VENDOR
    await run_unit(fake_app, account_id, "subscriptions_daily", DAY)
    assert await db.fetchval("SELECT count(*) FROM subscription_snapshot_rows") == 0
    state = await db.fetchrow(
        "SELECT state, detail FROM dataset_availability WHERE dataset = 'subscriptions_daily'"
    )
    assert state["state"] == "no_data"
    assert "no auto-renewable subscriptions" in state["detail"]
    account = await db.fetchrow(
        "SELECT credential_status FROM asc_accounts WHERE id = $1", account_id
    )
    assert account["credential_status"] != "invalid_vendor_number"


async def test_invalid_vendor_number_fails_when_sales_is_not_verified(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]  # capabilities unknown
    apple.reports["SUBSCRIPTION_EVENT"] = INVALID_VENDOR
    await run_unit(fake_app, account_id, "subscription_events_daily", DAY)
    job = await db.fetchrow(
        "SELECT state, last_error_code FROM sync_jobs WHERE dataset = 'subscription_events_daily'"
    )
    assert job["state"] == "failed"
    availability = await db.fetchval(
        "SELECT state FROM dataset_availability WHERE dataset = 'subscription_events_daily'"
    )
    assert availability == "failed"


async def test_a_file_that_cannot_be_read_keeps_the_stored_day(
    fake_app: FastAPI,
    apple: FakeApple,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    apple.set_text("SUBSCRIBER", SUBSCRIBERS.read_bytes())
    account_id = (await link_new_key(fake_app, tenant, sandbox))[0]
    await run_unit(fake_app, account_id, "subscribers_daily", DAY)
    broken = SUBSCRIBERS.read_text().replace("2020-09-30", "30/09/2020")
    apple.set_text("SUBSCRIBER", broken)
    await run_unit(fake_app, account_id, "subscribers_daily", DAY)
    assert await db.fetchval("SELECT count(*) FROM subscriber_transaction_rows") == 48
    state = await db.fetchrow(
        "SELECT last_error_code, last_error_message FROM sync_dataset_states "
        "WHERE dataset = 'subscribers_daily'"
    )
    assert state["last_error_code"] == "report_unreadable"
    assert "SUBSCRIBER/DETAILED" in state["last_error_message"]
    assert (
        await db.fetchval(
            "SELECT state FROM dataset_availability WHERE dataset = 'subscribers_daily'"
        )
        == "published"
    )  # a failed re-fetch does not hide the day already stored
