"""Every metric reconciles with Apple's rows: a small fixture of Subscription, Subscription Event
and Subscriber files (written from FACTS §5.3–5.5: a late event date, a partial refund with
positive proceeds, a Subscriber ID reset, two currencies), synced through the engine; each
metric is then computed here by hand, from the same rows, following the catalogue's words."""

import gzip
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_new_key
from tests.fixtures.engine import run_unit
from tests.subscriptions.apple import RATE, FakeApple, app_with

# Headers as FACTS §5.3–5.5 list them (1_3; the count columns of the 1_2 sample and later).
SNAPSHOT_HEADER = [
    "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "State",
    "Country", "Active Standard Price Subscriptions",
    "Active Free Trial Introductory Offer Subscriptions",
    "Active Pay Up Front Introductory Offer Subscriptions",
    "Active Pay As You Go Introductory Offer Subscriptions",
    "Free Trial Promotional Offer Subscriptions", "Pay Up Front Promotional Offer Subscriptions",
    "Pay As You Go Promotional Offer Subscriptions", "Marketing Opt-Ins", "Billing Retry",
    "Grace Period", "Free Trial Offer Code Subscriptions", "Pay Up Front Offer Code Subscriptions",
    "Pay As You Go Offer Code Subscriptions", "Subscribers",
]  # fmt: skip
EVENT_HEADER = [
    "Event Date", "Event", "App Name", "App Apple ID", "Subscription Name",
    "Subscription Apple ID", "Subscription Group ID", "Standard Subscription Duration",
    "Subscription Offer Type", "Subscription Offer Duration", "Marketing Opt-In",
    "Marketing Opt-In Duration", "Preserved Pricing", "Proceeds Reason",
    "Subscription Offer Name", "Promotional Offer ID", "Consecutive Paid Periods",
    "Original Start Date", "Client", "Device", "State", "Country", "Previous Subscription Name",
    "Previous Subscription Apple ID", "Days Before Canceling", "Cancellation Reason",
    "Days Canceled", "Quantity",
]  # fmt: skip
SUBSCRIBER_HEADER = [
    "Event Date", "App Name", "App Apple ID", "Subscription Name", "Subscription Apple ID",
    "Subscription Group ID", "Standard Subscription Duration", "Subscription Offer Name",
    "Promotional Offer ID", "Subscription Offer Type", "Subscription Offer Duration",
    "Marketing Opt-In Duration", "Customer Price", "Customer Currency", "Developer Proceeds",
    "Proceeds Currency", "Preserved Pricing", "Proceeds Reason", "Client", "Device", "Country",
    "Subscriber ID", "Subscriber ID Reset", "Refund", "Purchase Date", "Units",
]  # fmt: skip

APP = {"App Name": "Pocket Orchard", "App Apple ID": "1500000001", "Subscription Group ID": "9"}
MONTHLY = {**APP, "Subscription Name": "Pro Monthly", "Subscription Apple ID": "1500000101",
           "Standard Subscription Duration": "1 Month"}  # fmt: skip
YEARLY = {**APP, "Subscription Name": "Pro Yearly", "Subscription Apple ID": "1500000102",
          "Standard Subscription Duration": "1 Year"}  # fmt: skip
US = {"Country": "US", "Customer Currency": "USD", "Proceeds Currency": "USD"}
DE = {"Country": "DE", "Customer Currency": "EUR", "Proceeds Currency": "EUR"}


def _snap(product: dict[str, str], place: dict[str, str], price: str, proceeds: str,
          **counts: int) -> dict[str, str]:  # fmt: skip
    columns = {
        "standard": "Active Standard Price Subscriptions",
        "trial": "Active Free Trial Introductory Offer Subscriptions",
        "payg": "Active Pay As You Go Introductory Offer Subscriptions",
        "code_trial": "Free Trial Offer Code Subscriptions",
        "promo": "Pay Up Front Promotional Offer Subscriptions",
        "retry": "Billing Retry",
        "grace": "Grace Period",
        "opt_in": "Marketing Opt-Ins",
    }
    row = {**product, **place, "Customer Price": price, "Developer Proceeds": proceeds}
    row.update({columns[name]: str(n) for name, n in counts.items()})
    return row


def _event(day: str, event: str, product: dict[str, str], qty: int, **cells: str) -> dict[str, str]:
    return {**product, **US, "Event Date": day, "Event": event, "Quantity": str(qty), **cells}


TRIAL = {"Subscription Offer Type": "Free Trial", "Subscription Offer Duration": "1 Week"}


def _charge(day: str, sid: str, product: dict[str, str] = MONTHLY, place: dict[str, str] = US,
            price: str = "9.99", proceeds: str = "6.99", **cells: str) -> dict[str, str]:  # fmt: skip
    row = {**product, **place, "Event Date": day, "Subscriber ID": sid, "Units": "1"}
    row.update({"Customer Price": price, "Developer Proceeds": proceeds, **cells})
    return row


# File (report date) → rows. Each day's file also carries late rows of the days before.
SNAPSHOTS = {
    "2025-01-31": [
        _snap(MONTHLY, US, "9.99", "6.99", standard=10, trial=3, payg=2, retry=1, opt_in=2),
        _snap(YEARLY, DE, "49.99", "35.00", standard=4, grace=1),
        _snap(MONTHLY, DE, "8.99", " ", standard=2),  # no proceeds: left out of MRR
    ],
    "2025-02-28": [
        _snap(MONTHLY, US, "9.99", "6.99", standard=12, trial=1, code_trial=2, retry=2),
        _snap(YEARLY, DE, "49.99", "35.00", standard=5, promo=1),  # paid up front: not in MRR
    ],
}
EVENTS = {
    "2025-01-06": [
        _event("2025-01-05", "Start Introductory Offer", MONTHLY, 3, **TRIAL,
               **{"Original Start Date": "2025-01-05"}),  # late by a day
        _event("2025-01-06", "Subscribe", YEARLY, 1, **DE),
    ],
    "2025-01-12": [
        _event("2025-01-12", "Paid Subscription from Introductory Offer", MONTHLY, 2, **TRIAL,
               **{"Consecutive Paid Periods": "1", "Original Start Date": "2025-01-05"}),
        _event("2025-01-12", "Start Offer Code", MONTHLY, 1,
               **{"Subscription Offer Name": "SPRING", "Subscription Offer Type": "Free Trial"}),
    ],
    "2025-02-12": [
        _event("2025-02-10", "Renew", MONTHLY, 5, **{"Consecutive Paid Periods": "2"}),
        _event("2025-02-12", "Cancel", MONTHLY, 2,
               **{"Consecutive Paid Periods": "2", "Cancellation Reason": "Canceled"}),
        _event("2025-02-12", "Canceled from Billing Retry", MONTHLY, 1,
               **{"Consecutive Paid Periods": "5", "Cancellation Reason": "Billing issue"}),
        _event("2025-02-12", "Renewal from Billing Retry", MONTHLY, 3),
        _event("2025-02-12", "Billing Retry from Paid Subscription", MONTHLY, 4),
        _event("2025-02-12", "Upgrade", YEARLY, 1),
        _event("2025-02-12", "Downgrade", MONTHLY, 2),
        _event("2025-02-12", "Crossgrade", MONTHLY, 1),
        _event("2025-02-12", "Reactivate", MONTHLY, 2),
    ],
    "2025-02-14": [
        _event("2025-02-12", "Paid Subscription from Introductory Offer", MONTHLY, 1, **TRIAL,
               **{"Original Start Date": "2025-01-05"}),  # two days late, a month later
        _event("2025-02-14", "Start Introductory Offer", MONTHLY, 4, **TRIAL),
        _event("2025-02-14", "Cancel", MONTHLY, 1, **TRIAL,
               **{"Consecutive Paid Periods": "0", "Cancellation Reason": "Canceled"}),
    ],
}  # fmt: skip
REFUND = {"Refund": "Yes", "Units": "0"}
SUBSCRIBERS = {
    "2025-01-12": [
        _charge("2025-01-10", "sub-A"),  # late by two days
        _charge("2025-01-12", "sub-B"),
    ],
    "2025-01-20": [_charge("2025-01-20", "sub-C", YEARLY, DE, "49.99", "35.00")],
    "2025-02-12": [
        _charge("2025-02-10", "sub-A"),
        _charge("2025-02-12", "sub-B"),
        _charge("2025-02-03", "sub-D"),  # a late row is still the 3rd's
    ],
    "2025-02-20": [
        # B's February charge refunded in part (FACTS §5.5: negative price, positive proceeds).
        _charge("2025-02-20", "sub-B", price="-5.00", proceeds="3.50",
                **REFUND, **{"Purchase Date": "2025-02-12"}),
    ],
    "2025-03-10": [
        _charge("2025-03-10", "sub-A"),
        _charge("2025-03-03", "sub-D"),
        # D's ID was reset after 180 days away: a new subscriber (FACTS §5.5).
        _charge("2025-03-10", "sub-E", **{"Subscriber ID Reset": "Yes"}),
    ],
}  # fmt: skip


def _tsv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    lines = ["\t".join(header)] + ["\t".join(row.get(h, "") for h in header) for row in rows]
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


class DatedApple(FakeApple):
    """Serves each report type's file by report date."""

    files: dict[tuple[str, str], bytes]

    def _answer(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path != "/v1/salesReports":
            return httpx.Response(200, json={"data": [], "links": {}}, headers=RATE)
        self.requests.append(request)
        body = self.files[(params["filter[reportType]"], params["filter[reportDate]"])]
        headers = {**RATE, "Content-Type": "application/a-gzip"}
        return httpx.Response(
            200, content=body, headers={**headers, "x-reports-download-version": "1_3"}
        )


@pytest.fixture
async def synced(
    settings: Settings, tenant: Tenant, sandbox: SandboxState
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    apple = DatedApple()
    apple.files = {}
    plan = (
        ("SUBSCRIPTION", "subscriptions_daily", SNAPSHOT_HEADER, SNAPSHOTS),
        ("SUBSCRIPTION_EVENT", "subscription_events_daily", EVENT_HEADER, EVENTS),
        ("SUBSCRIBER", "subscribers_daily", SUBSCRIBER_HEADER, SUBSCRIBERS),
    )
    for report, _, header, files in plan:
        for day, rows in files.items():
            apple.files[(report, day)] = _tsv(header, rows)
    async with app_with(settings, apple) as application:
        account_id = (await link_new_key(application, tenant, sandbox))[0]
        for _, dataset, _, files in plan:
            for day in files:
                await run_unit(application, account_id, dataset, day)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard") as client:
            yield application, client


async def _get(client: httpx.AsyncClient, tenant: Tenant, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()


# --- by hand ----------------------------------------------------------------------------------


def _all(files: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    return [row for rows in files.values() for row in rows]


def _month(day: str) -> str:
    return day[:7]


def _events(month: str, pick: Any) -> int:
    return sum(
        int(r["Quantity"]) for r in _all(EVENTS) if _month(r["Event Date"]) == month and pick(r)
    )


def _named(*names: str) -> Any:
    return lambda r: r["Event"] in names


def _trial(r: dict[str, str]) -> bool:
    return r.get("Subscription Offer Type") == "Free Trial"


def _is_refund(r: dict[str, str]) -> bool:
    return r.get("Refund") == "Yes"


def _sum_money(rows: list[dict[str, str]], amount: str, currency: str) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        totals[r[currency]] += abs(Decimal(r[amount]))
    return dict(totals)


def _served(money: list[dict[str, str]]) -> dict[str, Decimal]:
    return {m["currency"]: Decimal(m["amount"]) for m in money}


def _rate(numerator: int, denominator: int) -> str | None:
    if not denominator:
        return None
    return format((Decimal(numerator) / denominator).quantize(Decimal("0.000001")), "f")


def _counts(rows: list[dict[str, str]], *columns: str) -> int:
    return sum(int(r.get(c) or 0) for r in rows for c in columns)


ACTIVE = [c for c in SNAPSHOT_HEADER if c.endswith("Subscriptions")]
FREE = [c for c in ACTIVE if "Free Trial" in c]


async def test_month_metrics_equal_a_hand_computation(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant, db: asyncpg.Connection
) -> None:
    _, client = synced
    names = [
        "active", "paying_active", "free_trial_active", "offer_code_active", "billing_retry",
        "grace_period", "marketing_opt_ins", "mrr", "arr", "new_subscriptions", "trial_starts",
        "trial_conversions", "offer_code_redemptions", "renewals", "billing_recoveries",
        "billing_retry_entries", "cancellations", "voluntary_cancellations",
        "involuntary_cancellations", "reactivations", "upgrades", "downgrades", "crossgrades",
        "paid_periods_before_cancel", "transactions", "refunds", "gross_sales", "proceeds",
        "refunded_amount", "refunded_proceeds", "net_proceeds", "paying_subscribers",
        "trial_conversion_rate", "churn_rate", "voluntary_churn_rate",
        "involuntary_churn_rate", "billing_recovery_rate", "refund_rate", "arppu", "arpu",
    ]  # fmt: skip
    # At most 40 metrics a call: the rest of the catalogue's by a second one.
    more = ["standard_price_active", "introductory_offer_active", "promotional_offer_active",
            "offer_starts"]  # fmt: skip
    body = await _get(
        client, tenant, "/v1/subscriptions/metrics", metric=",".join(names),
        granularity="month", **{"from": "2025-01-01", "to": "2025-02-28"},
    )  # fmt: skip
    items = {i["period_start"][:7]: i for i in body["items"]}
    rest = await _get(
        client, tenant, "/v1/subscriptions/metrics", metric=",".join(more),
        granularity="month", **{"from": "2025-01-01", "to": "2025-02-28"},
    )  # fmt: skip
    for item in rest["items"]:
        items[item["period_start"][:7]]["values"].update(item["values"])
    assert list(items) == ["2025-01", "2025-02"]
    # Only the stored days are complete: the rest are listed, never taken as zero.
    missing = {(d["dataset"], d["report_date"]) for d in body["incomplete_dates"]}
    assert ("subscriptions_daily", "2025-01-15") in missing
    assert ("subscription_events_daily", "2025-03-02") in missing  # late events of Feb 28
    assert ("subscriptions_daily", "2025-01-31") not in missing

    opening = {"2025-01": None, "2025-02": SNAPSHOTS["2025-01-31"]}
    for month, as_of in (("2025-01", "2025-01-31"), ("2025-02", "2025-02-28")):
        item, snap = items[month], SNAPSHOTS[as_of]
        values = item["values"]
        assert item["as_of"] == as_of
        # Stocks on the bucket's newest stored report date.
        active = _counts(snap, *ACTIVE)
        assert values["active"] == active
        assert values["free_trial_active"] == _counts(snap, *FREE)
        assert values["paying_active"] == active - _counts(snap, *FREE)
        assert values["offer_code_active"] == _counts(snap, *[c for c in ACTIVE if "Code" in c])
        assert values["standard_price_active"] == _counts(
            snap, "Active Standard Price Subscriptions"
        )
        for metric, program in (("introductory_offer_active", "Introductory"),
                                ("promotional_offer_active", "Promotional")):  # fmt: skip
            assert values[metric] == _counts(snap, *[c for c in ACTIVE if program in c]), metric
        assert values["billing_retry"] == _counts(snap, "Billing Retry")
        assert values["grace_period"] == _counts(snap, "Grace Period")
        assert values["marketing_opt_ins"] == _counts(snap, "Marketing Opt-Ins")
        mrr: dict[str, Decimal] = defaultdict(Decimal)
        for r in snap:
            if not r["Developer Proceeds"].strip():
                continue  # no proceeds: left out
            recurring = _counts([r], "Active Standard Price Subscriptions",
                                "Active Pay As You Go Introductory Offer Subscriptions")  # fmt: skip
            per_month = Decimal(1) / (12 if r["Standard Subscription Duration"] == "1 Year" else 1)
            mrr[r["Proceeds Currency"]] += recurring * Decimal(r["Developer Proceeds"]) * per_month
        cents = Decimal("0.01")
        assert _served(values["mrr"]) == {
            c: a.quantize(cents, ROUND_HALF_UP) for c, a in mrr.items()
        }
        assert _served(values["arr"]) == {
            c: (a * 12).quantize(cents, ROUND_HALF_UP) for c, a in mrr.items()
        }

        # Flows by Event Date, whatever file they came in.
        cancel = _named("Cancel", "Canceled from Billing Retry")
        involuntary = _events(month, _named("Canceled from Billing Retry"))
        expected = {
            "new_subscriptions": _events(
                month, _named("Subscribe", "Start Introductory Offer", "Start Offer Code")
            ),
            "trial_starts": _events(
                month, lambda r: r["Event"] == "Start Introductory Offer" and _trial(r)
            ),
            "trial_conversions": _events(
                month,
                lambda r: r["Event"] == "Paid Subscription from Introductory Offer" and _trial(r),
            ),
            "offer_code_redemptions": _events(month, _named("Start Offer Code")),
            "offer_starts": _events(
                month,
                lambda r: (
                    r["Event"] in ("Start Introductory Offer", "Start Offer Code")
                    or (
                        r["Event"].startswith("Reactivat")
                        and (r.get("Subscription Offer Name") or "").strip()
                    )
                ),
            ),
            "renewals": _events(month, _named("Renew")),
            "billing_recoveries": _events(month, _named("Renewal from Billing Retry")),
            "billing_retry_entries": _events(month, _named("Billing Retry from Paid Subscription")),
            "cancellations": _events(month, cancel),
            "voluntary_cancellations": _events(month, _named("Cancel")),
            "involuntary_cancellations": involuntary,
            "reactivations": _events(month, _named("Reactivate")),
            "upgrades": _events(month, _named("Upgrade")),
            "downgrades": _events(month, _named("Downgrade")),
            "crossgrades": _events(month, _named("Crossgrade")),
        }
        assert {k: values[k] for k in expected} == expected
        periods = [
            (int(r["Consecutive Paid Periods"]), int(r["Quantity"]))
            for r in _all(EVENTS)
            if _month(r["Event Date"]) == month and cancel(r) and r.get("Consecutive Paid Periods")
        ]
        average = _rate(sum(p * q for p, q in periods), sum(q for _, q in periods))
        assert values["paid_periods_before_cancel"] == average

        # Transactions by Event Date; refunds by their own date, net of proceeds.
        rows = [r for r in _all(SUBSCRIBERS) if _month(r["Event Date"]) == month]
        charges = [r for r in rows if not _is_refund(r)]
        refunds = [r for r in rows if _is_refund(r)]
        assert values["transactions"] == len(charges)
        assert values["refunds"] == len(refunds)
        assert _served(values["gross_sales"]) == _sum_money(
            charges, "Customer Price", "Customer Currency"
        )
        proceeds = _sum_money(charges, "Developer Proceeds", "Proceeds Currency")
        refunded = _sum_money(refunds, "Developer Proceeds", "Proceeds Currency")
        assert _served(values["proceeds"]) == proceeds
        assert _served(values["refunded_amount"]) == _sum_money(
            refunds, "Customer Price", "Customer Currency"
        )
        assert _served(values["refunded_proceeds"]) == refunded
        net = {c: a - refunded.get(c, Decimal(0)) for c, a in proceeds.items()}
        assert _served(values["net_proceeds"]) == net
        payers = {r["Subscriber ID"] for r in charges}
        assert values["paying_subscribers"] == len(payers)

        # Ratios of the bucket's own numbers.
        assert values["trial_conversion_rate"] == _rate(
            expected["trial_conversions"], expected["trial_starts"]
        )
        assert values["refund_rate"] == _rate(len(refunds), len(charges))
        assert values["billing_recovery_rate"] == _rate(
            expected["billing_recoveries"], expected["billing_recoveries"] + involuntary
        )
        base = opening[month]
        opening_paying = None if base is None else _counts(base, *ACTIVE) - _counts(base, *FREE)
        for rate, part in (
            ("churn_rate", "cancellations"),
            ("voluntary_churn_rate", "voluntary_cancellations"),
            ("involuntary_churn_rate", "involuntary_cancellations"),
        ):
            assert values[rate] == (
                None if opening_paying is None else _rate(expected[part], opening_paying)
            ), rate
        per_currency_payers: dict[str, set[str]] = defaultdict(set)
        for r in charges:
            per_currency_payers[r["Proceeds Currency"]].add(r["Subscriber ID"])
        assert _served(values["arppu"]) == {
            c: (net[c] / len(s)).quantize(cents, ROUND_HALF_UP)
            for c, s in per_currency_payers.items()
        }
        active_by_currency: dict[str, int] = defaultdict(int)
        for r in snap:
            active_by_currency[r["Proceeds Currency"]] += _counts([r], *ACTIVE)
        assert _served(values["arpu"]) == {
            c: (net.get(c, Decimal(0)) / n).quantize(cents, ROUND_HALF_UP)
            for c, n in active_by_currency.items()
            if n and net.get(c)
        }
    # The fixture exercises what it claims to.
    assert items["2025-02"]["values"]["refunds"] == 1 and items["2025-02"]["values"]["churn_rate"]
    assert items["2025-02"]["values"]["promotional_offer_active"] == 1

    # Asked for the fixture's one account or one app, without arpu (actives per currency), the
    # stocks, MRR and their traces are read from the values stored per report date
    # (``series_days``) instead of the snapshot rollup: the same answers, by month and by day.
    [account] = await db.fetch(
        "SELECT id FROM asc_accounts WHERE workspace_id = $1", tenant.workspace_id
    )
    app_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, $4, 'Pocket Orchard', 'com.example.pocket', 'pocket')",
        app_id, tenant.workspace_id, account["id"], APP["App Apple ID"],
    )  # fmt: skip
    stored = ",".join(n for n in names if n != "arpu")
    for granularity in ("month", "day"):
        asked = {"metric": stored, "granularity": granularity,
                 "from": "2025-01-01", "to": "2025-02-28", "limit": 100}  # fmt: skip
        workspace = await _get(client, tenant, "/v1/subscriptions/metrics", **asked)
        assert any(i["values"]["mrr"] for i in workspace["items"])
        for scope in ({"account_id": str(account["id"])}, {"app_id": str(app_id)}):
            one = await _get(client, tenant, "/v1/subscriptions/metrics", **asked, **scope)
            assert one == workspace, (granularity, scope)


async def test_groups_and_pages(synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant) -> None:
    _, client = synced
    span = {"from": "2025-01-01", "to": "2025-02-28"}
    whole = await _get(client, tenant, "/v1/subscriptions/metrics", metric="active,renewals,churn_rate",
                       granularity="month", **span)  # fmt: skip
    grouped = await _get(client, tenant, "/v1/subscriptions/metrics",
                         metric="active,renewals,churn_rate", granularity="month",
                         group_by="country,subscription", **span)  # fmt: skip
    assert grouped["group_by"] == ["subscription", "country"]
    keys = [
        (i["period_start"], i["group"]["subscription"], i["group"]["country"])
        for i in grouped["items"]
    ]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for total in whole["items"]:
        parts = [i for i in grouped["items"] if i["period_start"] == total["period_start"]]
        # Additive metrics add up over groups …
        for name in ("active", "renewals"):
            assert sum(p["values"][name] or 0 for p in parts) == total["values"][name]
    # … a rate is computed per group from its own numbers, never summed.
    feb_us = next(
        i for i in grouped["items"]
        if i["period_start"] == "2025-02-01" and i["group"] == {"subscription": "1500000101", "country": "US"}
    )  # fmt: skip
    base = [
        r
        for r in SNAPSHOTS["2025-01-31"]
        if r["Subscription Apple ID"] == "1500000101" and r["Country"] == "US"
    ]
    cancelled = _events(
        "2025-02",
        lambda r: (
            r["Event"] in ("Cancel", "Canceled from Billing Retry")
            and r["Subscription Apple ID"] == "1500000101"
        ),
    )
    assert feb_us["values"]["churn_rate"] == _rate(cancelled, _counts(base, *ACTIVE) - _counts(base, *FREE))  # fmt: skip

    # Pages of one item: the same items, in the same order, then no cursor.
    seen, cursor = [], None
    while True:
        params = {"metric": "active,renewals", "granularity": "month", "group_by": "country,subscription", "limit": 1, **span}  # fmt: skip
        if cursor:
            params["cursor"] = cursor
        page = await _get(client, tenant, "/v1/subscriptions/metrics", **params)
        seen += [(i["period_start"], i["group"]) for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [(i["period_start"], i["group"]) for i in grouped["items"]]

    reasons = await _get(client, tenant, "/v1/subscriptions/metrics", metric="cancellations",
                         group_by="cancellation_reason", granularity="month", **span)  # fmt: skip
    feb = {i["group"]["cancellation_reason"]: i["values"]["cancellations"] for i in reasons["items"] if i["period_start"] == "2025-02-01"}  # fmt: skip
    # Rows of other events have no reason: their group is there, with no cancellation.
    assert feb == {"Canceled": 3, "Billing issue": 1, None: 0}
    offers = await _get(client, tenant, "/v1/subscriptions/metrics", metric="offer_code_redemptions",
                        group_by="offer", granularity="month", country="us", **span)  # fmt: skip
    assert [(i["group"]["offer"], i["values"]["offer_code_redemptions"]) for i in offers["items"] if i["values"]["offer_code_redemptions"]] == [("SPRING", 1)]  # fmt: skip
    daily = await _get(client, tenant, "/v1/subscriptions/metrics", metric="renewals",
                       **{"from": "2025-02-10", "to": "2025-02-10"})  # fmt: skip
    [day] = daily["items"]
    assert day["values"]["renewals"] == 5
    [trace] = day["trace"]
    # Renewals of the 10th came in the 12th's file (late): the trace says so.
    assert (trace["dataset"], trace["first_report_date"], trace["first_event_date"]) == (
        "subscription_events_daily", "2025-02-12", "2025-02-10",
    )  # fmt: skip


async def test_cohorts_equal_a_hand_computation(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant, db: asyncpg.Connection
) -> None:
    _, client = synced
    span = {"from": "2025-01-01", "to": "2025-03-31", "periods": "2"}
    # Cohorts by first charge: Jan = A, B, C; Feb = D; Mar = E (D's reset ID is new).
    retention = await _get(client, tenant, "/v1/subscriptions/cohorts", metric="retention", **span)
    assert retention["data_through"] == "2025-03-10"
    table = {c["cohort"]: c for c in retention["cohorts"]}
    assert {m: c["size"] for m, c in table.items()} == {"2025-01": 3, "2025-02": 1, "2025-03": 1}
    jan = [(p["period"], p["count"], p["rate"]) for p in table["2025-01"]["periods"]]
    # End of Jan: A (Jan 10 + 1 month), B (Jan 12 + 1 month), C (yearly) → 3.
    # End of Feb: A (Feb 10 – Mar 10), C; B's Feb charge was refunded → 2. March is not over.
    assert jan == [(0, 3, "1.000000"), (1, 2, "0.666667"), (2, None, None)]
    assert [(p["period"], p["count"]) for p in table["2025-02"]["periods"]] == [
        (0, 1), (1, None), (2, None),
    ]  # fmt: skip

    revenue = await _get(client, tenant, "/v1/subscriptions/cohorts", metric="revenue", **span)
    jan_money = [
        (p["period"], p["amounts"], p["per_subscriber"]) for p in revenue["cohorts"][0]["periods"]
    ]
    # Jan: A 6.99 + B 6.99 (USD), C 35.00 (EUR). Feb: + A 6.99 + B 6.99 − B's refund 3.50.
    assert jan_money[0] == (
        0,
        [{"amount": "35.00", "currency": "EUR"}, {"amount": "13.98", "currency": "USD"}],
        [{"amount": "11.67", "currency": "EUR"}, {"amount": "4.66", "currency": "USD"}],
    )
    assert jan_money[1][1] == [
        {"amount": "35.00", "currency": "EUR"}, {"amount": "24.46", "currency": "USD"},
    ]  # fmt: skip
    assert jan_money[2] == (2, None, None)

    renewal = await _get(
        client, tenant, "/v1/subscriptions/cohorts", metric="renewal_by_period", **span
    )
    jan_renewal = [(p["period"], p["count"], p["cumulative"], p["rate"]) for p in renewal["cohorts"][0]["periods"]]  # fmt: skip
    # Period 1 ended by Mar 10 for A and B (not the yearly C): A renewed; B's renewal was
    # refunded, so B has no 2nd paid period. Period 2: A's ended Mar 10 and A renewed.
    assert jan_renewal == [(1, 2, 1, "0.500000"), (2, 1, 1, "1.000000")]

    trials = await _get(client, tenant, "/v1/subscriptions/cohorts", by="trial_start_month",
                        metric="trial_conversion", **span)  # fmt: skip
    jan_trials = trials["cohorts"][0]
    # 3 trials started Jan 5: 2 converted in January, 1 more in February (reported late).
    assert jan_trials["size"] == 3
    assert [(p["count"], p["cumulative"], p["rate"]) for p in jan_trials["periods"]] == [
        (2, 2, "0.666667"), (1, 3, "1.000000"), (None, None, None),
    ]  # fmt: skip
    assert trials["cohorts"][1]["size"] == 4

    # The fixture is one app of one account: asked for that app, each table reads the sums
    # kept per subscriber (and per day) instead, and says the same.
    [account] = await db.fetch(
        "SELECT id FROM asc_accounts WHERE workspace_id = $1", tenant.workspace_id
    )
    app_id = str(uuid.uuid4())  # the catalogue's app (this fixture syncs no catalogue)
    await db.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, $4, 'Pocket Orchard', 'com.example.pocket', 'pocket')",
        uuid.UUID(app_id), tenant.workspace_id, account["id"], APP["App Apple ID"],
    )  # fmt: skip
    for asked, table in (("retention", retention), ("revenue", revenue),
                         ("renewal_by_period", renewal)):  # fmt: skip
        one_app = await _get(client, tenant, "/v1/subscriptions/cohorts", metric=asked,
                             app_id=app_id, **span)  # fmt: skip
        assert one_app == table, asked
    one_app = await _get(client, tenant, "/v1/subscriptions/cohorts", by="trial_start_month",
                         metric="trial_conversion", app_id=app_id, **span)  # fmt: skip
    assert one_app == trials

    bad = await client.get(
        "/v1/subscriptions/cohorts",
        params={"metric": "trial_conversion", **span},
        headers=tenant.headers(),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.by"


async def _all_rows(
    client: httpx.AsyncClient, tenant: Tenant, **params: Any
) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        page = await _get(client, tenant, "/v1/subscriptions/metrics/rows", limit=2,
                          **params, **({"cursor": cursor} if cursor else {}))  # fmt: skip
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def test_every_value_traces_to_its_rows(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant
) -> None:
    _, client = synced
    span = {"from": "2025-02-01", "to": "2025-02-28"}
    body = await _get(client, tenant, "/v1/subscriptions/metrics", granularity="month",
                      metric="cancellations,net_proceeds,refunds,active,mrr", **span)  # fmt: skip
    [bucket] = body["items"]
    values = bucket["values"]

    cancels = await _all_rows(client, tenant, metric="cancellations", **span)
    assert sum(r["count"] for r in cancels) == values["cancellations"]
    assert {r["detail"]["event"] for r in cancels} == {"Cancel", "Canceled from Billing Retry"}
    keys = [(r["report_date"], r["id"]) for r in cancels]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # pages neither skip nor repeat
    assert {r["report_date"] for r in cancels} == {"2025-02-12", "2025-02-14"}

    money = await _all_rows(client, tenant, metric="net_proceeds", **span)
    net: dict[str, Decimal] = defaultdict(Decimal)
    for r in money:
        net[r["amount"]["currency"]] += Decimal(r["amount"]["amount"])
    assert net == _served(values["net_proceeds"])
    [refund] = await _all_rows(client, tenant, metric="refunds", **span)
    assert refund["detail"]["purchase_date"] == "2025-02-12" and refund["detail"]["refund"] is True
    assert refund["report_date"] == "2025-02-20" and refund["count"] == 1

    # Snapshot metrics: the rows of the bucket's as_of date.
    actives = await _all_rows(client, tenant, metric="active", **span)
    assert {r["report_date"] for r in actives} == {bucket["as_of"]}
    assert sum(r["count"] for r in actives) == values["active"]
    mrr = await _all_rows(client, tenant, metric="mrr", **span)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in mrr:
        totals[r["amount"]["currency"]] += Decimal(r["amount"]["amount"])
    assert {c: a.quantize(Decimal("0.01"), ROUND_HALF_UP) for c, a in totals.items()} == _served(
        values["mrr"]
    )

    ratio = await client.get("/v1/subscriptions/metrics/rows",
                             params={"metric": "churn_rate", **span}, headers=tenant.headers())  # fmt: skip
    assert ratio.status_code == 422 and "cancellations" in ratio.json()["errors"][0]["message"]
    several = await client.get("/v1/subscriptions/metrics/rows",
                               params={"metric": "active,mrr", **span}, headers=tenant.headers())  # fmt: skip
    assert several.status_code == 422


async def test_mrr_movements_by_subscriber(
    synced: tuple[FastAPI, httpx.AsyncClient], tenant: Tenant
) -> None:
    _, client = synced
    names = "subscriber_mrr,mrr_new,mrr_reactivation,mrr_expansion,mrr_contraction,mrr_churned"
    body = await _get(client, tenant, "/v1/subscriptions/metrics", metric=names,
                      granularity="month", **{"from": "2025-01-01", "to": "2025-03-31"})  # fmt: skip
    months = {i["period_start"][:7]: i["values"] for i in body["items"]}
    usd = lambda amount: [{"amount": amount, "currency": "USD"}]  # noqa: E731
    # Covered at Jan 31: A and B (6.99 a month each), C (35.00 a year = 2.9166… a month).
    assert months["2025-01"]["mrr_new"] == [
        {"amount": "2.92", "currency": "EUR"}, {"amount": "13.98", "currency": "USD"},
    ]  # fmt: skip
    assert months["2025-01"]["mrr_churned"] == []
    # February: D is new; B's February charge was refunded, so B churned; A and C continue.
    feb = months["2025-02"]
    assert (feb["mrr_new"], feb["mrr_churned"], feb["mrr_expansion"]) == (
        usd("6.99"),
        usd("6.99"),
        [],
    )
    assert feb["subscriber_mrr"] == [
        {"amount": "2.92", "currency": "EUR"}, {"amount": "13.98", "currency": "USD"},
    ]  # fmt: skip
    # March (data through the 10th): E is new (its ID was reset: a new subscriber).
    assert months["2025-03"]["mrr_new"] == usd("6.99")
    assert months["2025-03"]["mrr_reactivation"] == []
