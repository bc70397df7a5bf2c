"""File layouts of the five subscription-family reports against FACTS (and Apple's help pages
for the two that FACTS does not describe), over HTTP."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal

from app.sandbox import SandboxState
from app.sandbox.markets import COUNTRY_BY_ALPHA2
from app.sandbox.subscription_world import configure
from app.sandbox.subscription_world.model import DEFAULT_BEHAVIOUR
from tests.sandbox.helpers import assert_error, parse_tsv
from tests.sandbox.subscriptions.conftest import DAY, Reports

# FACTS §5.3 (1_3 start from Apple's help page, the tail from the 1_2 sample and R-MATIS).
SUBSCRIPTION = [
    "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "State",
    "Country", "Active Standard Price Subscriptions",
    "Active Free Trial Introductory Offer Subscriptions",
    "Active Pay Up Front Introductory Offer Subscriptions",
    "Active Pay As You Go Introductory Offer Subscriptions",
    "Free Trial Promotional Offer Subscriptions", "Pay Up Front Promotional Offer Subscriptions",
    "Pay As You Go Promotional Offer Subscriptions", "Free Trial Offer Code Subscriptions",
    "Pay Up Front Offer Code Subscriptions", "Pay As You Go Offer Code Subscriptions",
    "Marketing Opt-Ins", "Billing Retry", "Grace Period", "Subscribers",
]  # fmt: skip
# FACTS §5.4 (1_3: Device before Client; trailing Paid Service Days Recovered).
EVENT = [
    "Event Date", "Event", "App Name", "App Apple ID", "Subscription Name",
    "Subscription Apple ID", "Subscription Group ID", "Standard Subscription Duration",
    "Subscription Offer Type", "Subscription Offer Duration", "Marketing Opt-In",
    "Marketing Opt-In Duration", "Preserved Pricing", "Proceeds Reason",
    "Subscription Offer Name", "Promotional Offer ID", "Consecutive Paid Periods",
    "Original Start Date", "Device", "Client", "State", "Country", "Previous Subscription Name",
    "Previous Subscription Apple ID", "Days Before Canceling", "Cancellation Reason",
    "Days Canceled", "Quantity", "Paid Service Days Recovered",
]  # fmt: skip
# FACTS §5.5.
SUBSCRIBER = [
    "Event Date", "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Subscription Offer Type", "Subscription Offer Duration",
    "Marketing Opt-In Duration", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "Country",
    "Subscriber ID", "Subscriber ID Reset", "Refund", "Purchase Date", "Units",
]  # fmt: skip
# Apple's help page "Subscription Offer Redemption Report" (version 1_0).
OFFER_CODES = [
    "Date", "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Offer Reference Name", "Offer Code", "Territory", "Redemptions",
]  # fmt: skip
# Apple's help page "Win-back eligibility report".
WIN_BACK = [
    "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Paid Subscription Tenure",
    "Time Since Last Subscribed", "Has Previously Redeemed Win-Back Offer",
    "Time Since Last Win-Back Offer", "Territory", "Churned Subscription Count",
]  # fmt: skip
DURATIONS = {"7 Days", "1 Month", "2 Months", "3 Months", "6 Months", "1 Year"}
OFFER_TYPES = {"", "Free Trial", "Pay as you go", "Pay up front"}
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


async def test_headers_versions_and_file_names(shared_reports: Reports) -> None:
    vendor = shared_reports.key.vendor_number
    expected = {
        "SUBSCRIPTION": (SUBSCRIPTION, "1_3", "Subscription"),
        "SUBSCRIPTION_EVENT": (EVENT, "1_3", "Subscription_Event"),
        "SUBSCRIBER": (SUBSCRIBER, "1_3", "Subscriber"),
        "SUBSCRIPTION_OFFER_CODE_REDEMPTION": (OFFER_CODES, "1_0", "Subscription_Offer_Redemption"),
        "WIN_BACK_ELIGIBILITY": (WIN_BACK, "1_0", "Win_Back_Eligibility"),
    }
    for report_type, (header, version, prefix) in expected.items():
        response = await shared_reports.get(report_type, DAY)
        assert response.status_code == 200, (report_type, response.text)
        assert response.headers["content-type"] == "application/a-gzip"
        assert response.headers["content-encoding"] == "agzip"
        assert response.headers["x-reports-download-version"] == version
        filename = f"{prefix}_{vendor}_20250608_V{version}.txt.gz"
        assert response.headers["x-reports-filename"] == filename
        got, rows, footer = parse_tsv(response.content)
        assert got == header and rows and not footer, report_type


async def test_snapshot_cells(shared_reports: Reports) -> None:
    _, rows = await shared_reports.rows("SUBSCRIPTION", DAY)
    assert {row["Standard Subscription Duration"] for row in rows} == DURATIONS
    counts = [name for name in SUBSCRIPTION if name.endswith("Subscriptions")]
    for row in rows:
        assert row["Country"] in COUNTRY_BY_ALPHA2
        assert row["Customer Currency"] == row["Proceeds Currency"]
        assert row["Device"] in {"iPhone", "iPad", "Desktop"}
        assert row["Proceeds Reason"] in {"", "Rate After One Year"}
        active = sum(int(row[name]) for name in counts)
        # Apple fills Subscribers only for records of more than three subscriptions.
        assert row["Subscribers"] == (str(active) if active > 3 else "")
        _check_amounts(row)
    offers = {row["Subscription Offer Name"] for row in rows}
    assert {"Spring Campaign", "Win-Back 50%"} <= offers and " " in offers
    assert any(int(row["Grace Period"]) for row in rows)
    assert any(int(row["Billing Retry"]) for row in rows)
    assert any(int(row["Pay As You Go Promotional Offer Subscriptions"]) for row in rows)


def _check_amounts(row: dict[str, str]) -> None:
    """JPY and KRW amounts have no decimals; the others two (FACTS §5.6)."""
    for name in ("Customer Price", "Developer Proceeds"):
        if row["Customer Currency"] in {"JPY", "KRW"}:
            assert re.fullmatch(r"-?\d+", row[name]), row
        else:
            assert re.fullmatch(r"-?\d+\.\d{2}", row[name]), row


async def test_retained_rate_pays_85_percent(shared_reports: Reports) -> None:
    _, rows = await shared_reports.rows("SUBSCRIPTION", DAY)
    by_price: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
    for row in rows:
        key = (row["Subscription Apple ID"], row["Country"], row["Customer Price"])
        by_price[key].add((row["Proceeds Reason"], row["Developer Proceeds"]))
    pairs = [sorted(v) for v in by_price.values() if len({r for r, _ in v}) == 2]
    assert pairs
    for (_, standard), (_, retained) in pairs:
        assert abs(Decimal(retained) / Decimal(standard) - Decimal(85) / 70) < Decimal("0.02")


async def test_event_and_subscriber_cells(shared_reports: Reports) -> None:
    _, events = await shared_reports.rows("SUBSCRIPTION_EVENT", DAY)
    for row in events:
        assert ISO.fullmatch(row["Event Date"]) and ISO.fullmatch(row["Original Start Date"])
        assert row["Original Start Date"] <= row["Event Date"]
        assert row["Subscription Offer Type"] in OFFER_TYPES
        assert int(row["Quantity"]) > 0 and int(row["Consecutive Paid Periods"]) >= 0
        if row["Event"] in {"Upgrade", "Downgrade", "Crossgrade"}:
            assert row["Previous Subscription Apple ID"].isdigit()
        if row["Event"] == "Canceled from Billing Retry":
            assert row["Cancellation Reason"] == "Billing issue"
        if row["Event"] == "Start Introductory Offer":
            assert row["Consecutive Paid Periods"] == "0"  # as in the sample
    _, transactions = await shared_reports.rows("SUBSCRIBER", DAY)
    for row in transactions:
        assert ISO.fullmatch(row["Event Date"])
        assert re.fullmatch(r"\d{13}", row["Subscriber ID"])
        assert row["Subscription Offer Type"] in OFFER_TYPES - {"Free Trial"}
        assert row["Units"] in {"1", "0"} and row["Refund"] in {"", "Yes"}
        _check_amounts(row)


async def test_offer_code_and_win_back_reports(shared_reports: Reports) -> None:
    _, codes = await shared_reports.rows("SUBSCRIPTION_OFFER_CODE_REDEMPTION", DAY)
    for row in codes:
        assert row["Date"] == DAY.isoformat() and int(row["Redemptions"]) > 0
        assert row["Territory"] in COUNTRY_BY_ALPHA2
        # One-time-use codes have no code text (Apple's help page); custom codes do.
        if row["Offer Reference Name"] == "Partner One-Time Codes":
            assert row["Offer Code"] == ""
        else:
            assert re.fullmatch(r"[A-Z0-9]+", row["Offer Code"])
    _, churned = await shared_reports.rows("WIN_BACK_ELIGIBILITY", DAY)
    for row in churned:
        assert int(row["Churned Subscription Count"]) >= 5  # Apple: rows only for 5 or more
        assert 0 <= int(row["Time Since Last Subscribed"]) <= 24
        assert int(row["Paid Subscription Tenure"]) >= 0
        redeemed = row["Has Previously Redeemed Win-Back Offer"]
        assert redeemed in {"", "Yes"}
        assert (row["Time Since Last Win-Back Offer"] == "") == (redeemed == "")


async def test_layout_variants_of_the_unconfirmed_reports(
    reports: Reports, state: SandboxState
) -> None:
    configure(
        state,
        offer_code_layout="extended",
        offer_code_dates="mdy",
        win_back_layout="dated",
        win_back_min_count=1,
    )
    header, codes = await reports.rows("SUBSCRIPTION_OFFER_CODE_REDEMPTION", DAY)
    assert header == [*OFFER_CODES[:5], "Subscription Group ID", "Standard Subscription Duration",
                      "Offer Reference Name", "Offer Code", "Subscription Offer Type",
                      "Subscription Offer Duration", "Territory", "Redemptions"]  # fmt: skip
    assert {row["Date"] for row in codes} == {"06/08/2025"}
    assert {row["Subscription Offer Type"] for row in codes} <= {
        "Free Trial", "Pay As You Go", "Pay Up Front"
    }  # fmt: skip
    header, churned = await reports.rows("WIN_BACK_ELIGIBILITY", DAY)
    assert header == ["Date", *WIN_BACK]
    assert {row["Date"] for row in churned} == {"2025-06-08"}
    assert min(int(row["Churned Subscription Count"]) for row in churned) == 1


async def test_versions_and_errors(reports: Reports, state: SandboxState) -> None:
    stale = await reports.get("SUBSCRIPTION", DAY, **{"filter[version]": "1_2"})
    detail = assert_error(stale, 400, "PARAMETER_ERROR.INVALID")["detail"]
    assert detail.endswith("The latest version for this report is 1_3.")
    # 1_0 reports need no version parameter; a wrong one names the latest.
    assert (
        await reports.get("WIN_BACK_ELIGIBILITY", DAY, **{"filter[version]": ""})
    ).status_code == 200
    wrong = await reports.get(
        "SUBSCRIPTION_OFFER_CODE_REDEMPTION", DAY, **{"filter[version]": "1_1"}
    )
    assert assert_error(wrong, 400, "PARAMETER_ERROR.INVALID")["detail"].endswith("is 1_0.")
    state.report_versions[("SUBSCRIPTION_EVENT", "SUMMARY")] = "1_4"  # Apple moved on
    drifted = await reports.get("SUBSCRIPTION_EVENT", DAY)
    assert assert_error(drifted, 400, "PARAMETER_ERROR.INVALID")["detail"].endswith("is 1_4.")
    ok = await reports.get("SUBSCRIPTION_EVENT", DAY, **{"filter[version]": "1_4"})
    assert ok.headers["x-reports-download-version"] == "1_4"
    future = await reports.get("SUBSCRIBER", "2025-06-10")
    assert "not available yet" in assert_error(future, 404, "NOT_FOUND")["detail"]
    assert_error(await reports.get("WIN_BACK_ELIGIBILITY", "2024-05-01"), 410, "GONE")
    weekly = await reports.get(
        "SUBSCRIPTION_OFFER_CODE_REDEMPTION", DAY, **{"filter[frequency]": "WEEKLY"}
    )
    assert_error(weekly, 400, "PARAMETER_ERROR.INVALID.INVALID_COMBINATION")


async def test_team_without_auto_renewables(reports: Reports, state: SandboxState) -> None:
    state.add_team("Paid Apps Only", apps=0)
    reports.key = state.add_key("Paid Apps Only", roles=("FINANCE",))
    for report_type in ("SUBSCRIPTION_OFFER_CODE_REDEMPTION", "WIN_BACK_ELIGIBILITY", "SUBSCRIBER"):
        error = assert_error(await reports.get(report_type, DAY), 400, "PARAMETER_ERROR.INVALID")
        assert error["detail"] == "Invalid vendor number"


async def test_a_day_without_redemptions_is_no_sales(reports: Reports, state: SandboxState) -> None:
    configure(state, behaviour=replace(DEFAULT_BEHAVIOUR, acquisition_code=0.0))
    response = await reports.get("SUBSCRIPTION_OFFER_CODE_REDEMPTION", date(2025, 6, 1))
    detail = assert_error(response, 404, "NOT_FOUND")["detail"]
    assert detail == "There were no sales for the date specified."


async def test_offer_name_column_variant(reports: Reports, state: SandboxState) -> None:
    configure(state, offer_name_column="Promotional Offer Name")
    for report_type in ("SUBSCRIPTION", "SUBSCRIPTION_EVENT", "SUBSCRIBER"):
        header, rows = await reports.rows(report_type, DAY)
        assert "Promotional Offer Name" in header and "Subscription Offer Name" not in header
        assert header.index("Promotional Offer Name") == {
            "SUBSCRIPTION": SUBSCRIPTION, "SUBSCRIPTION_EVENT": EVENT, "SUBSCRIBER": SUBSCRIBER
        }[report_type].index("Subscription Offer Name")  # fmt: skip
        if report_type == "SUBSCRIPTION":
            assert any(row["Promotional Offer Name"] == "Win-Back 50%" for row in rows)
