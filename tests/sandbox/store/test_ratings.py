"""Ratings over time: growth, drift, resets, current-version variants, Lookup staleness
(FACTS §1 "Staleness", §4)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.sandbox.store import StoreState
from tests.sandbox.conftest import FakeClock


async def _record(client: httpx.AsyncClient, app_id: int, country: str = "us", extra: str = ""):
    body = (await client.get(f"/lookup?id={app_id}&country={country}{extra}")).json()
    return body["results"][0]


async def test_counts_grow_and_averages_drift(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    budget = store.known("Tidy Budget")
    seen = []
    for _ in range(6):
        seen.append(await _record(store_client, budget.app_id))
        clock.advance(days=3)
    counts = [r["userRatingCount"] for r in seen]
    assert counts == sorted(counts) and counts[-1] - counts[0] > 500  # ~150 a day in the US
    assert len({r["averageUserRating"] for r in seen}) == 6
    assert all(1.0 <= r["averageUserRating"] <= 5.0 for r in seen)


def test_counts_never_fall_hour_by_hour(store: StoreState, clock: FakeClock) -> None:
    sky = store.known("Night Sky Pro")
    counts = [store.rating(sky.app_id, "de", clock.now + timedelta(hours=h)) for h in range(200)]
    values = [truth.count for truth in counts if truth is not None]
    assert values == sorted(values) and values[-1] > values[0]


def test_same_seed_same_truth_other_seed_differs(clock: FakeClock) -> None:
    one, two, other = (StoreState(seed, clock) for seed in (7, 7, 8))
    first = one.known_apps[0]
    assert one.rating(first.app_id, "fr") == two.rating(first.app_id, "fr")
    assert other.known_apps[0].app_id != first.app_id


async def test_rating_reset_is_global_and_brings_a_version(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """FACTS §4 [A5]: a reset comes with a version release and applies to every storefront."""
    notes = store.known("Example Notes")
    before = {c: await _record(store_client, notes.app_id, c) for c in ("us", "de")}
    store.reset_rating(notes.app_id)
    clock.advance(hours=5)
    after = {c: await _record(store_client, notes.app_id, c) for c in ("us", "de")}
    for country in ("us", "de"):
        assert after[country]["userRatingCount"] < before[country]["userRatingCount"] / 100
        assert after[country]["version"] != before[country]["version"]
    truth = store.rating(notes.app_id, "us")
    assert truth is not None and truth.counting_since == clock.now - timedelta(hours=5)
    clock.advance(days=2)
    assert (await _record(store_client, notes.app_id))["userRatingCount"] > truth.count


async def test_reset_in_the_past_and_unknown_app(store: StoreState, clock: FakeClock) -> None:
    notes = store.known("Example Notes")
    old = store.rating(notes.app_id, "us", clock.now - timedelta(days=10))
    store.reset_rating(notes.app_id, at=clock.now - timedelta(days=2))
    assert old == store.rating(notes.app_id, "us", clock.now - timedelta(days=10))
    now = store.rating(notes.app_id, "us")
    assert now is not None and old is not None and now.count < old.count
    with pytest.raises(KeyError):
        store.reset_rating(1_400_000_001)


async def test_current_version_since_release_variant(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """FACTS §1: current == all-time in samples; ``since_release`` is the other reading."""
    notes = store.known("Example Notes")
    store.settings.current_version_ratings = "since_release"
    clock.advance(days=10)
    record = await _record(store_client, notes.app_id)
    truth = store.rating(notes.app_id, "us")
    assert truth is not None
    assert 0 < record["userRatingCountForCurrentVersion"] < record["userRatingCount"]
    assert record["userRatingCountForCurrentVersion"] == truth.current_count
    assert record["averageUserRatingForCurrentVersion"] == truth.current_average
    assert record["averageUserRatingForCurrentVersion"] != record["averageUserRating"]


async def test_versions_follow_the_release_cadence(store: StoreState, clock: FakeClock) -> None:
    budget = store.known("Tidy Budget")
    now = store.version(budget.app_id)
    later = store.version(budget.app_id, clock.now + timedelta(days=budget.release_cadence_days))
    assert now is not None and later is not None
    assert later.index == now.index + 1 and later.released_at > now.released_at


@pytest.mark.parametrize("mode", ["version", "all"])
async def test_lookup_cache_serves_stale_answers(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock, mode: str
) -> None:
    """FACTS §1 "Staleness": cached by the full query string for about a day; a throwaway
    parameter gets a fresh answer. Whether ratings lag too is unconfirmed (``all``)."""
    store.settings.update({"lookup_cache": mode})
    budget = store.known("Tidy Budget")
    version = store.version(budget.app_id)
    assert version is not None
    clock.now = version.released_at + timedelta(days=budget.release_cadence_days, hours=-2)
    first = await _record(store_client, budget.app_id)
    clock.advance(hours=4)  # a new version came out two hours ago
    cached = await _record(store_client, budget.app_id)
    fresh = await _record(store_client, budget.app_id, extra="&cb=1")
    assert cached["version"] == first["version"] != fresh["version"]
    if mode == "all":
        assert cached["userRatingCount"] == first["userRatingCount"]
    else:
        assert cached["userRatingCount"] == fresh["userRatingCount"] > first["userRatingCount"]
    clock.advance(hours=20)  # the cached copy (made 24 h ago) expires
    assert (await _record(store_client, budget.app_id))["version"] == fresh["version"]


async def test_no_cache_by_default(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    budget = store.known("Tidy Budget")
    first = await _record(store_client, budget.app_id)
    clock.advance(days=budget.release_cadence_days + 1)
    assert (await _record(store_client, budget.app_id))["version"] != first["version"]
