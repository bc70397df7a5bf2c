"""GET /v1/reviews (filters, search, sort, cursors), GET /v1/reviews/{id}, ratings, scoping."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from app.auth.tokens import Scope
from app.sandbox.catalog import SandboxApp
from app.sandbox.reviews import visible_reviews
from app.sandbox.state import SandboxKey, SandboxState
from tests.fixtures.accounts import Tenant, make_token
from tests.fixtures.pages import pages
from tests.reviews.helpers import FakeClock

PACIFIC = ZoneInfo("America/Los_Angeles")


async def all_pages(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any] | list[tuple[str, Any]]
) -> list[dict[str, Any]]:
    return [
        item
        for page in await pages(client, tenant, "/v1/reviews", params)
        for item in page["items"]
    ]


async def app_ids(db: asyncpg.Connection) -> dict[str, uuid.UUID]:
    return {r["apple_id"]: r["id"] for r in await db.fetch("SELECT apple_id, id FROM apps")}


async def test_list_is_newest_first_with_cursor_pages(
    client: httpx.AsyncClient, tenant: Tenant, synced: uuid.UUID, db: asyncpg.Connection
) -> None:
    total = await db.fetchval("SELECT count(*) FROM customer_reviews")
    items = await all_pages(client, tenant, {"limit": 37})
    assert len(items) == total and len({i["id"] for i in items}) == total
    keys = [(i["created_at"], i["id"]) for i in items]
    assert keys == sorted(keys, reverse=True)
    first = items[0]
    assert set(first) >= {"app_name", "apple_id", "territory", "country_code", "response"}
    assert first["account_id"] == str(synced)


@pytest.mark.parametrize("sort", ["created_at", "-rating", "rating"])
async def test_sort_orders_page_consistently(
    client: httpx.AsyncClient, tenant: Tenant, synced: uuid.UUID, sort: str
) -> None:
    paged = await all_pages(client, tenant, {"sort": sort, "limit": 23})
    whole = await all_pages(client, tenant, {"sort": sort, "limit": 200})
    assert [i["id"] for i in paged] == [i["id"] for i in whole]
    if sort == "created_at":
        keys = [(i["created_at"], i["id"]) for i in paged]
        assert keys == sorted(keys)
    else:
        ratings = [i["rating"] for i in paged]
        assert ratings == sorted(ratings, reverse=sort.startswith("-"))
        for stars in set(ratings):  # equal ratings: newest first
            same = [i["created_at"] for i in paged if i["rating"] == stars]
            assert same == sorted(same, reverse=True)


async def test_filters(
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    everything = [
        (a, r) for a in sandbox_apps for r in visible_reviews(sandbox, admin_key.team, a, clock.now)
    ]
    ids = await app_ids(db)

    low = await all_pages(client, tenant, [("rating", 1), ("rating", 2)])
    assert {i["apple_id"] for i in low} == {r.id for _, r in everything if r.rating <= 2}

    target = sandbox_apps[1]
    one_app = await all_pages(client, tenant, {"app_id": str(ids[target.id])})
    assert {i["apple_id"] for i in one_app} == {r.id for a, r in everything if a is target}

    for code in ("DE", "deu"):
        german = await all_pages(client, tenant, {"territory": code})
        assert german and {i["territory"] for i in german} == {"DEU"}
        assert {i["country_code"] for i in german} == {"DE"}
        assert len(german) == sum(r.territory == "DEU" for _, r in everything)

    answered = await all_pages(client, tenant, {"has_response": "true"})
    unanswered = await all_pages(client, tenant, {"has_response": "false"})
    replied = {r.id for _, r in everything if r.response_at(clock.now) is not None}
    assert {i["apple_id"] for i in answered} == replied
    assert all(i["response"] and i["response"]["body"] for i in answered)
    assert {i["apple_id"] for i in unanswered} == {r.id for _, r in everything} - replied

    start, end = clock.now - dt.timedelta(days=60), clock.now - dt.timedelta(days=30)
    window = await all_pages(
        client, tenant, {"from": start.isoformat(), "to": end.isoformat(), "rating": 5}
    )
    assert {i["apple_id"] for i in window} == {
        r.id for _, r in everything if start <= r.created < end and r.rating == 5
    }

    assert await all_pages(client, tenant, {"account_id": str(uuid.uuid4())}) == []


async def test_bad_inputs_are_422(
    client: httpx.AsyncClient, tenant: Tenant, synced: uuid.UUID
) -> None:
    page = (await client.get("/v1/reviews", params={"limit": 2}, headers=tenant.headers())).json()
    cases: list[dict[str, Any]] = [
        {"rating": 6},
        {"territory": "ZZ"},
        {"sort": "stars"},
        {"from": "2025-06-01T00:00:00Z", "to": "2025-05-01T00:00:00Z"},
        {"cursor": "nonsense"},
        {"cursor": page["next_cursor"], "sort": "rating"},  # a cursor of another order
    ]
    for params in cases:
        response = await client.get("/v1/reviews", params=params, headers=tenant.headers())
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_search_finds_words_in_title_and_body(
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    clock: FakeClock,
) -> None:
    everything = [
        r for a in sandbox_apps for r in visible_reviews(sandbox, admin_key.team, a, clock.now)
    ]

    def by_hand(predicate: Any) -> set[str]:
        return {r.id for r in everything if predicate(f"{r.title} {r.body}")}

    async def search(q: str) -> set[str]:
        return {i["apple_id"] for i in await all_pages(client, tenant, {"q": q})}

    # A word of a title ("Crashes on launch"), found by its stem as a prefix.
    crashes = await search("crash")
    assert crashes and crashes == by_hand(lambda t: "crash" in t.lower())
    # Words of bodies, several must all match, case-insensitively and in any order.
    assert await search("DARK mode") == by_hand(lambda t: "dark mode" in t.lower()) != set()
    # Other languages and scripts.
    assert await search("ständig") == by_hand(lambda t: "ständig" in t.lower()) != set()
    assert await search("起動") == by_hand(lambda t: "起動" in t) != set()
    assert await search("zzzqqq") == set()


async def test_get_review_and_cross_workspace_404(
    client: httpx.AsyncClient,
    tenant: Tenant,
    other_tenant: Tenant,
    synced: uuid.UUID,
    database_url: str,
) -> None:
    page = (await client.get("/v1/reviews", params={"limit": 1}, headers=tenant.headers())).json()
    review = page["items"][0]
    reader = await make_token(database_url, tenant, [Scope.READ])
    own = await client.get(f"/v1/reviews/{review['id']}", headers=tenant.headers(reader))
    assert own.status_code == 200 and own.json() == review

    other = other_tenant.headers()
    for path in (f"/v1/reviews/{review['id']}", f"/v1/apps/{review['app_id']}/ratings"):
        response = await client.get(path, headers=other)
        assert response.status_code == 404, path
        assert response.json()["type"] == "/problems/not_found"
    assert (await client.get("/v1/reviews", headers=other)).json()["items"] == []
    put = await client.put(
        f"/v1/reviews/{review['id']}/response", json={"body": "hi"}, headers=other
    )
    assert put.status_code == 404
    assert (
        await client.delete(f"/v1/reviews/{review['id']}/response", headers=other)
    ).status_code == 404


def hand_counts(
    reviews: list[Any], start: dt.date | None = None, end: dt.date | None = None
) -> tuple[Counter[int], dict[dt.date, list[int]]]:
    stars: Counter[int] = Counter()
    days: dict[dt.date, list[int]] = {}
    for review in reviews:
        day = review.created.astimezone(PACIFIC).date()
        if (start and day < start) or (end and day > end):
            continue
        stars[review.rating] += 1
        days.setdefault(day, []).append(review.rating)
    return stars, days


async def test_ratings_equal_hand_counts(
    client: httpx.AsyncClient,
    tenant: Tenant,
    synced: uuid.UUID,
    sandbox: SandboxState,
    admin_key: SandboxKey,
    sandbox_apps: tuple[SandboxApp, ...],
    clock: FakeClock,
    db: asyncpg.Connection,
) -> None:
    target = sandbox_apps[2]
    reviews = visible_reviews(sandbox, admin_key.team, target, clock.now)
    app_id = (await app_ids(db))[target.id]
    path = f"/v1/apps/{app_id}/ratings"

    body = (await client.get(path, headers=tenant.headers())).json()
    stars, days = hand_counts(reviews)
    assert body["basis"] == "written_reviews"
    assert body["count"] == len(reviews)
    assert body["histogram"] == [{"rating": r, "count": stars[r]} for r in range(1, 6)]
    mean = sum(r * n for r, n in stars.items()) / len(reviews)
    assert body["average"] == pytest.approx(round(mean, 2), abs=0.005)
    assert [d["report_date"] for d in body["daily"]] == [d.isoformat() for d in sorted(days)]
    for day in body["daily"]:
        ratings = days[dt.date.fromisoformat(day["report_date"])]
        assert day["count"] == len(ratings)
        assert day["average"] == pytest.approx(sum(ratings) / len(ratings), abs=0.005)

    start, end = (
        (clock.now - dt.timedelta(days=90)).date(),
        (clock.now - dt.timedelta(days=10)).date(),
    )
    window = (
        await client.get(
            path,
            params={"from": start.isoformat(), "to": end.isoformat(), "territory": "US"},
            headers=tenant.headers(),
        )
    ).json()
    us_stars, _ = hand_counts([r for r in reviews if r.territory == "USA"], start, end)
    assert window["territory"] == "USA" and window["count"] == sum(us_stars.values())
    assert [b["count"] for b in window["histogram"]] == [us_stars[r] for r in range(1, 6)]

    empty = (await client.get(path, params={"territory": "KE"}, headers=tenant.headers())).json()
    if not any(r.territory == "KEN" for r in reviews):
        assert empty["count"] == 0 and empty["average"] is None and empty["daily"] == []

    bad = await client.get(
        path, params={"from": "2025-06-02", "to": "2025-06-01"}, headers=tenant.headers()
    )
    assert bad.status_code == 422
    missing = await client.get(f"/v1/apps/{uuid.uuid4()}/ratings", headers=tenant.headers())
    assert missing.status_code == 404
