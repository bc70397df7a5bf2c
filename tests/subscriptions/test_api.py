"""The subscription API end to end: the sandbox's reports synced by the engine, then read back
and checked against the raw files."""

import datetime as dt
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from fractions import Fraction
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.state import SandboxState, SandboxTeam, utc_now
from app.sandbox.subscriptions import SUBSCRIPTION_HEADER, events, snapshot_rows, subscriber_rows
from app.subscriptions.schemas import MoneySeries
from tests.fixtures.accounts import Tenant, link
from tests.fixtures.engine import run_unit

NOW = dt.datetime(2025, 6, 10, 18, 0, tzinfo=dt.UTC)  # June 9 is Apple's newest day
DAY = dt.date(2025, 6, 8)
ACTIVE = [name for name in SUBSCRIPTION_HEADER if name.endswith("Subscriptions")]
FREE_TRIAL = [name for name in ACTIVE if "Free Trial" in name]
IN_MRR = [
    "Active Standard Price Subscriptions",
    "Active Pay As You Go Introductory Offer Subscriptions",
    "Pay As You Go Promotional Offer Subscriptions",
    "Pay As You Go Offer Code Subscriptions",
]
# The documented normalisation, written out independently of app.subscriptions.metrics, in
# exact fractions (amounts like 113.43 / 6 = 18.905 must round half up, to 18.91).
MONTHLY = {
    "7 Days": Fraction("30.4375") / 7,
    "1 Month": Fraction(1),
    "2 Months": Fraction(1, 2),
    "3 Months": Fraction(1, 3),
    "6 Months": Fraction(1, 6),
    "1 Year": Fraction(1, 12),
}


@pytest.fixture
def sandbox() -> SandboxState:
    state = SandboxState(seed=7, clock=lambda: NOW)
    state.token_clock = utc_now  # Orchard signs its tokens with the real clock
    return state


def _count(rows: list[dict[str, str]], columns: list[str]) -> int:
    return sum(int(row[name] or 0) for row in rows for name in columns)


def _mrr(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    totals: dict[str, Fraction] = defaultdict(Fraction)
    for row in rows:
        subscriptions = sum(int(row[name]) for name in IN_MRR)
        factor = MONTHLY[row["Standard Subscription Duration"]]
        totals[row["Proceeds Currency"]] += (
            subscriptions * Fraction(row["Developer Proceeds"]) * factor
        )
    return [
        {"amount": _rounded(amount, currency), "currency": currency}
        for currency, amount in sorted(totals.items())
        if amount
    ]


def _minor(amount: Decimal, currency: str) -> str:
    """As Orchard writes money: the currency's ISO 4217 minor units (JPY none; issue 15)."""
    zero_decimals = {"CLP", "ISK", "JPY", "KRW", "VND"}
    return format(
        amount.quantize(Decimal(1) if currency in zero_decimals else Decimal("0.01")), "f"
    )


def _rounded(amount: Fraction, currency: str) -> str:
    """The exact ``amount`` rounded once to the currency's minor units, half-even (Python's
    ``round`` of a Fraction is half-even), as Orchard writes money."""
    places = 0 if currency in {"CLP", "ISK", "JPY", "KRW", "VND"} else 2
    return _minor(Decimal(round(amount * 10**places)).scaleb(-places), currency)


def _expected_totals(rows: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "active": _count(rows, ACTIVE),
        "free_trial": _count(rows, FREE_TRIAL),
        "paying": _count(rows, ACTIVE) - _count(rows, FREE_TRIAL),
        "introductory": _count(rows, [n for n in ACTIVE if "Introductory" in n]),
        "offer_code": _count(rows, [n for n in ACTIVE if "Offer Code" in n]),
        "billing_retry": _count(rows, ["Billing Retry"]),
        "grace_period": _count(rows, ["Grace Period"]),
        "estimated_mrr": _mrr(rows),
    }


async def _linked(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxState) -> uuid.UUID:
    response = await link(client, tenant, sandbox.add_key("acme", roles=("ADMIN",)))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["capabilities"]["sales"]["available"] is True
    return uuid.UUID(body["id"])


async def _get(client: httpx.AsyncClient, tenant: Tenant, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return response.json()


async def test_summary_series_and_events_match_the_raw_files(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    account_id = await _linked(client, tenant, sandbox)
    team: SandboxTeam = sandbox.team("acme")
    for day in ("2025-06-07", "2025-06-08"):
        await run_unit(app, account_id, "subscriptions_daily", day)
    for day in ("2025-06-07", "2025-06-08", "2025-06-09"):
        await run_unit(app, account_id, "subscription_events_daily", day)
    await run_unit(app, account_id, "subscribers_daily", "2025-06-08")
    assert await db.fetchval("SELECT count(*) FROM subscriber_transaction_rows") == len(
        subscriber_rows(sandbox, team, DAY)
    )

    raw = snapshot_rows(sandbox, team, DAY)
    summary = await _get(client, tenant, "/v1/subscriptions/summary", date="2025-06-08")
    assert summary["report_date"] == "2025-06-08"
    assert summary["incomplete_dates"] == []
    totals = summary["totals"]
    assert {key: totals[key] for key in _expected_totals(raw)} == _expected_totals(raw)
    assert totals["active"] > 100 and totals["free_trial"] > 0 and totals["estimated_mrr"]
    assert totals["mrr_excluded_subscriptions"] == 0
    assert summary["groups"] == []
    # Without a date: the newest day stored.
    assert (await _get(client, tenant, "/v1/subscriptions/summary"))["report_date"] == "2025-06-08"

    by_place = await _get(
        client,
        tenant,
        "/v1/subscriptions/summary",
        date="2025-06-08",
        group_by="country,subscription",
    )
    assert by_place["group_by"] == ["subscription", "country"]
    groups = by_place["groups"]
    keys = [(g["subscription_apple_id"], g["country"]) for g in groups]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert sum(g["active"] for g in groups) == totals["active"]
    for group in groups:
        rows = [
            r
            for r in raw
            if (r["Subscription Apple ID"], r["Country"])
            == (group["subscription_apple_id"], group["country"])
        ]
        assert group["subscription_name"] == rows[0]["Subscription Name"]
        assert group["app_apple_id"] == rows[0]["App Apple ID"]
        assert group["estimated_mrr"] == _mrr(rows)
        assert group["billing_retry"] == _count(rows, ["Billing Retry"])

    by_offer = await _get(
        client, tenant, "/v1/subscriptions/summary", date="2025-06-08", group_by="offer_type"
    )
    offers = {g["offer_type"]: g for g in by_offer["groups"]}
    assert offers["standard"]["active"] == _count(raw, ["Active Standard Price Subscriptions"])
    assert offers["free_trial_introductory"]["free_trial"] == _count(
        raw, ["Active Free Trial Introductory Offer Subscriptions"]
    )
    assert offers["free_trial_introductory"]["estimated_mrr"] == []
    assert offers["standard"]["billing_retry"] is None  # Apple does not split it by offer
    assert sum(g["active"] for g in offers.values()) == totals["active"]

    # A daily series: the 6th was never fetched (null, not zero), the others match the files.
    series = await _get(
        client,
        tenant,
        "/v1/subscriptions/summary/series",
        **{"from": "2025-06-06", "to": "2025-06-08", "metric": "paying"},
    )
    assert [(p["report_date"], p["value"], p["complete"]) for p in series["points"]] == [
        ("2025-06-06", None, False),
        (
            "2025-06-07",
            _expected_totals(snapshot_rows(sandbox, team, dt.date(2025, 6, 7)))["paying"],
            True,
        ),
        ("2025-06-08", totals["paying"], True),
    ]
    assert series["incomplete_dates"] == [
        {"report_date": "2025-06-06", "account_id": str(account_id), "state": "not_fetched"}
    ]
    mrr = await _get(
        client,
        tenant,
        "/v1/subscriptions/summary/series",
        **{"from": "2025-06-08", "to": "2025-06-08", "metric": "estimated_mrr"},
    )
    assert mrr["points"][0]["amounts"] == totals["estimated_mrr"]
    # Each series says what its points carry (issue 15, item 6): never both members.
    assert series["kind"] == "count" and mrr["kind"] == "money"
    assert all(set(p) == {"report_date", "value", "complete"} for p in series["points"])
    assert set(mrr["points"][0]) == {"report_date", "amounts", "complete"}
    # The money series is built as plain data (no model on the way out): the documented shape.
    document = MoneySeries.model_validate({**mrr, "from_date": mrr["from"], "to_date": mrr["to"]})
    assert document.model_dump(mode="json", by_alias=True, exclude_unset=True) == mrr

    # Events of the 8th: most in the 8th's file, the late rest in the 9th's.
    happened = [
        e
        for file_day in (DAY, DAY + dt.timedelta(days=1))
        for e in events(sandbox, team, file_day)
        if e.day == DAY
    ]
    by_name = Counter[str]()
    for event in happened:
        by_name[event.name] += event.quantity
    body = await _get(
        client, tenant, "/v1/subscriptions/events", **{"from": "2025-06-08", "to": "2025-06-08"}
    )
    # The 10th's file can still bring late events of the 8th (FACTS §8): not complete yet.
    assert body["incomplete_dates"] == [
        {"report_date": "2025-06-10", "account_id": str(account_id), "state": "not_fetched"}
    ]
    assert {g["event"]: g["quantity"] for g in body["groups"]} == dict(by_name)
    groups_of = {g["event"]: g["event_group"] for g in body["groups"]}
    assert groups_of["Renew"] == "renewal" and groups_of["Subscribe"] == "activation"
    assert groups_of["Paid Subscription from Introductory Offer"] == "conversion"
    assert groups_of["Billing Retry from Paid Subscription"] == "billing"
    churned = by_name["Cancel"] + by_name["Canceled from Billing Retry"]
    assert body["churned"] == body["totals"]["cancellation"] == churned
    trials = [e for e in happened if e.offer_type == "Free Trial"]
    assert body["trial_starts"] == sum(e.quantity for e in trials if e.name.startswith("Start"))
    assert body["trial_conversions"] == sum(
        e.quantity for e in trials if e.name.startswith("Paid Subscription")
    )
    assert sum(body["totals"].values()) == sum(by_name.values())
    churn_series = await _get(
        client,
        tenant,
        "/v1/subscriptions/summary/series",
        **{"from": "2025-06-08", "to": "2025-06-09", "metric": "churned"},
    )
    first, second = churn_series["points"]
    assert (first["value"], first["complete"]) == (churned, False)  # the 10th's file is not in
    assert second["complete"] is False

    by_group = await _get(
        client,
        tenant,
        "/v1/subscriptions/events",
        **{"from": "2025-06-08", "to": "2025-06-08", "group_by": "event_group,country"},
    )
    assert {g["event"] for g in by_group["groups"]} == {None}
    assert sum(g["quantity"] for g in by_group["groups"]) == sum(by_name.values())


async def test_scope_and_validation(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    account_id = await _linked(client, tenant, sandbox)
    team = sandbox.team("acme")
    await run_unit(app, account_id, "apps", "all")
    await run_unit(app, account_id, "subscriptions_daily", "2025-06-08")
    raw = snapshot_rows(sandbox, team, DAY)
    apple_id = raw[0]["App Apple ID"]
    apps = (await _get(client, tenant, "/v1/apps"))["items"]
    [app_id] = [a["id"] for a in apps if a["apple_id"] == apple_id]

    mine = await _get(client, tenant, "/v1/subscriptions/summary", app_id=app_id)
    only_app = [r for r in raw if r["App Apple ID"] == apple_id]
    assert len(only_app) < len(raw)
    assert mine["totals"]["active"] == _expected_totals(only_app)["active"]
    assert mine["totals"]["estimated_mrr"] == _mrr(only_app)
    by_account = await _get(client, tenant, "/v1/subscriptions/summary", account_id=str(account_id))
    assert by_account["totals"]["active"] == _expected_totals(raw)["active"]

    # Another workspace sees nothing of it, and the app and account are not found there.
    theirs = await _get(client, other_tenant, "/v1/subscriptions/summary")
    assert theirs["report_date"] is None and theirs["totals"]["active"] == 0
    for params in ({"app_id": app_id}, {"account_id": str(account_id)}):
        response = await client.get(
            "/v1/subscriptions/summary", params=params, headers=other_tenant.headers()
        )
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    events = await client.get(
        "/v1/subscriptions/events",
        params={"from": "2025-06-08", "to": "2025-06-08", "app_id": app_id},
        headers=other_tenant.headers(),
    )
    assert events.status_code == 404

    bad = await client.get(
        "/v1/subscriptions/summary", params={"group_by": "planet"}, headers=tenant.headers()
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.group_by"
    backwards = await client.get(
        "/v1/subscriptions/events",
        params={"from": "2025-06-09", "to": "2025-06-08"},
        headers=tenant.headers(),
    )
    assert backwards.status_code == 422
    too_long = await client.get(
        "/v1/subscriptions/summary/series",
        params={"from": "2024-01-01", "to": "2025-06-08"},
        headers=tenant.headers(),
    )
    assert too_long.status_code == 422
    unknown_metric = await client.get(
        "/v1/subscriptions/summary/series",
        params={"from": "2025-06-08", "to": "2025-06-08", "metric": "vibes"},
        headers=tenant.headers(),
    )
    assert unknown_metric.status_code == 422
    anonymous = await client.get("/v1/subscriptions/summary")
    assert anonymous.status_code == 401


async def test_account_without_auto_renewables_has_no_data_days(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
) -> None:
    sandbox.add_team("Paid Apps Only", apps=0)
    response = await link(client, tenant, sandbox.add_key("Paid Apps Only", roles=("SALES",)))
    assert response.status_code == 201, response.text
    # SALES answers with the vendor number; the subscription reports call it invalid.
    assert response.json()["capabilities"]["sales"]["available"] is True
    account_id = uuid.UUID(response.json()["id"])
    for dataset in ("subscriptions_daily", "subscription_events_daily", "subscribers_daily"):
        await run_unit(app, account_id, dataset, "2025-06-08")
    states = await db.fetch(
        "SELECT dataset, state FROM dataset_availability WHERE account_id = $1 ORDER BY dataset",
        account_id,
    )
    assert [tuple(row) for row in states] == [
        ("subscribers_daily", "no_data"),
        ("subscription_events_daily", "no_data"),
        ("subscriptions_daily", "no_data"),
    ]
    account = await _get(client, tenant, f"/v1/accounts/{account_id}")
    assert account["credential_status"] == "active"
    summary = await _get(client, tenant, "/v1/subscriptions/summary", date="2025-06-08")
    assert summary["incomplete_dates"] == [] and summary["totals"]["active"] == 0
