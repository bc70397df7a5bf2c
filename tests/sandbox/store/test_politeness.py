"""Throttling and the User-Agent record (FACTS §1 "Rate limit", §5 "Politeness")."""

from __future__ import annotations

import httpx
import pytest

from app.sandbox.store import StoreState
from tests.sandbox.conftest import FakeClock
from tests.sandbox.store.conftest import USER_AGENT, client_from

LOOKUP = "/lookup?id=1400000001"
FEED = "/api/v2/us/apps/top-free/10/apps.json"


async def _statuses(client: httpx.AsyncClient, path: str, count: int) -> list[int]:
    return [(await client.get(path)).status_code for _ in range(count)]


async def test_twenty_calls_a_minute_then_403_with_an_empty_body(
    store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    assert await _statuses(store_client, LOOKUP, 20) == [200] * 20
    refused = await store_client.get(LOOKUP)
    assert refused.status_code == 403 and refused.content == b""
    assert "retry-after" not in refused.headers  # FACTS §1: no Retry-After, no limit header
    assert not any(name.startswith("x-rate") for name in refused.headers)
    clock.advance(seconds=30)
    assert (await store_client.get(LOOKUP)).status_code == 403
    clock.advance(seconds=31)  # the first calls have left the rolling minute
    assert (await store_client.get(LOOKUP)).status_code == 200


async def test_paced_client_is_never_throttled(
    store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(60):  # one call every three seconds (FACTS §5 (b))
        assert (await store_client.get(LOOKUP)).status_code == 200
        clock.advance(seconds=3)


@pytest.mark.parametrize(
    ("variant", "status", "body"),
    [
        ("403_empty_results", 403, {"resultCount": 0, "results": []}),
        ("200_empty_results", 200, {"resultCount": 0, "results": []}),
        ("429", 429, None),
    ],
)
async def test_refusal_variants(
    store: StoreState, store_client: httpx.AsyncClient, variant: str, status: int, body: object
) -> None:
    """One report: an empty result list [G7] (403, or 200 on the other reading); some
    clients see 429 [G20]."""
    store.settings.update({"throttle_response": variant, "throttle_per_minute": 2})
    await _statuses(store_client, LOOKUP, 2)
    refused = await store_client.get(LOOKUP)
    assert refused.status_code == status
    assert (refused.json() if body is not None else refused.content) == (body or b"")


async def test_limit_per_client_or_global(store: StoreState) -> None:
    """Whether the limit is per IP is unconfirmed (FACTS §1)."""
    store.settings.throttle_per_minute = 3
    async with client_from(store, "10.0.0.1") as one, client_from(store, "10.0.0.2") as two:
        assert await _statuses(one, LOOKUP, 4) == [200, 200, 200, 403]
        assert (await two.get(LOOKUP)).status_code == 200
        store.throttle.clear()
        store.settings.throttle_scope = "global"
        assert await _statuses(one, LOOKUP, 3) == [200] * 3
        assert (await two.get(LOOKUP)).status_code == 403


async def test_feeds_are_throttled_only_when_asked(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    store.settings.throttle_per_minute = 2
    assert await _statuses(store_client, FEED, 4) == [200] * 4
    store.settings.throttle_endpoints = "all"
    assert await _statuses(store_client, FEED, 3) == [200, 200, 403]
    assert (await store_client.get(LOOKUP)).status_code == 403  # one shared budget
    store.settings.throttle_per_minute = 0  # off
    assert await _statuses(store_client, LOOKUP, 30) == [200] * 30


@pytest.mark.parametrize("counted", [False, True])
async def test_refused_calls_can_count_against_the_budget(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock, counted: bool
) -> None:
    """Not in the facts: whether refused calls use up the budget. If they do, a client that
    keeps calling every 20 s while refused is never let back in."""
    store.settings.update({"throttle_per_minute": 2, "throttle_counts_rejected": counted})
    assert await _statuses(store_client, LOOKUP, 3) == [200, 200, 403]
    later = []
    for _ in range(9):
        clock.advance(seconds=20)
        later.append((await store_client.get(LOOKUP)).status_code)
    assert later == ([403] * 9 if counted else [403, 403, 200, 200, 403, 200, 200, 403, 200])


async def test_user_agent_of_every_request_is_recorded(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    await store_client.get(LOOKUP + "&country=de")
    await store_client.get(FEED)
    await store_client.get("/us/rss/topfreeapplications/limit=5/json")
    await store_client.get(LOOKUP, headers={"User-Agent": ""})
    await store_client.get("/sandbox/requests")  # admin calls are not recorded
    assert store.user_agents() == [USER_AGENT, USER_AGENT, USER_AGENT, ""]
    assert store.user_agents("rss_legacy") == [USER_AGENT]
    first = store.requests[0]
    assert (first.endpoint, first.path) == ("lookup", "/lookup")
    assert first.query == "id=1400000001&country=de"
    assert first.client == "127.0.0.1" and first.status == 200 and not first.throttled
    store.clear_requests()
    assert store.requests == []
