"""Stale chart feeds: frozen snapshots, skipped publications, which ``updated`` they show
(FACTS §2a "Use feed.updated", §2c cadence unconfirmed, §5 "Skip the write")."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.sandbox.store import StoreState
from tests.sandbox.conftest import FakeClock

V2 = "/api/v2/us/apps/top-free/100/apps.json"
LEGACY = "/us/rss/topfreeapplications/limit=100/json"


async def _feed(client: httpx.AsyncClient, path: str = V2) -> dict:
    return (await client.get(path)).json()["feed"]


async def test_frozen_feed_serves_the_old_snapshot_until_the_freeze_ends(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    start = clock.now
    store.freeze_feeds(start, start + timedelta(hours=5), chart="top-free")
    first = await _feed(store_client)
    legacy_first = await _feed(store_client, LEGACY)
    clock.advance(hours=4)
    assert await _feed(store_client) == first  # same ids, same updated
    assert await _feed(store_client, LEGACY) == legacy_first
    paid = store.snapshot("us", "top-paid")
    assert paid.content_period > store.snapshot("us", "top-paid", start).content_period
    clock.advance(hours=1)
    fresh = await _feed(store_client)
    assert fresh["updated"] != first["updated"] and fresh["results"] != first["results"]


async def test_stale_content_with_a_current_updated_variant(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    store.settings.stale_updated = "current"
    store.freeze_feeds(clock.now, clock.now + timedelta(days=1), country="us")
    first = await _feed(store_client)
    clock.advance(hours=3)
    later = await _feed(store_client)
    assert later["results"] == first["results"] and later["updated"] != first["updated"]


def test_skipped_publications_leave_the_previous_snapshot_up(
    store: StoreState, clock: FakeClock
) -> None:
    store.settings.feed_skip_rate = 0.5
    moments = [clock.now + timedelta(hours=h) for h in range(48)]
    snapshots = [store.snapshot("us", "top-free", m) for m in moments]
    periods = [s.content_period for s in snapshots]
    assert periods == sorted(periods)
    assert len(set(periods)) < 40  # about half the hours brought nothing new
    assert any(s.updated < m - timedelta(hours=1) for s, m in zip(snapshots, moments))


def test_snapshot_goes_up_a_little_into_its_period(store: StoreState, clock: FakeClock) -> None:
    hour = clock.now.replace(minute=0, second=0, microsecond=0)
    snapshot = store.snapshot("us", "top-free", hour + timedelta(hours=1))
    assert snapshot.published_at < hour + timedelta(hours=1)  # not out yet at :00
    published = store.snapshot("us", "top-free", hour + timedelta(hours=1, minutes=10))
    assert (
        hour + timedelta(hours=1) <= published.published_at < hour + timedelta(hours=1, minutes=10)
    )


@pytest.mark.parametrize("chart", ["free", "top-paid", "topgrossingapplications"])
def test_freeze_selectors(store: StoreState, clock: FakeClock, chart: str) -> None:
    store.freeze_feeds(clock.now, clock.now + timedelta(hours=3), country="gb", chart=chart)
    later = clock.now + timedelta(hours=2)
    frozen = store.snapshot("gb", chart if chart != "free" else "top-free", later)
    assert frozen == store.snapshot("gb", chart if chart != "free" else "top-free", clock.now)
    other = store.snapshot("us", chart if chart != "free" else "top-free", later)
    assert other.content_period > frozen.content_period
