"""Marketing Tools RSS v2 charts (FACTS §2a, example in §6)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from app.sandbox.store import StoreState
from tests.sandbox.conftest import FakeClock

RESULT_FIELDS = {"artistName", "id", "name", "releaseDate", "kind", "artworkUrl100", "genres",
                 "url"}  # fmt: skip
UPDATED = re.compile(r"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000$")


def feed_ids(body: dict) -> list[int]:
    return [int(result["id"]) for result in body["feed"]["results"]]


async def test_feed_shape(store: StoreState, store_client: httpx.AsyncClient) -> None:
    response = await store_client.get("/api/v2/us/apps/top-free/25/apps.json")
    assert response.status_code == 200
    feed = response.json()["feed"]
    url = "https://rss.applemarketingtools.com/api/v2/us/apps/top-free/25/apps.json"
    assert feed["id"] == url and feed["links"] == [{"self": url}]
    assert feed["title"] == "Top Free Apps" and feed["country"] == "us"
    assert feed["author"] == {"name": "Apple", "url": "https://www.apple.com/"}
    assert UPDATED.match(feed["updated"]), feed["updated"]
    assert len(feed["results"]) == 25
    for result in feed["results"]:
        assert set(result) == RESULT_FIELDS
        assert isinstance(result["id"], str) and result["kind"] == "apps"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", result["releaseDate"])
        assert result["genres"] == []  # FACTS §2a: may be []
        assert result["url"].endswith(f"/id{result['id']}")
        assert "rank" not in result  # rank = index + 1


async def test_ranks_equal_truth_per_storefront(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    for country, chart in (("us", "top-free"), ("de", "top-paid"), ("jp", "top-free")):
        body = (await store_client.get(f"/api/v2/{country}/apps/{chart}/100/apps.json")).json()
        assert feed_ids(body) == store.chart(country, chart, limit=100)
    us = store.chart("us", "top-free", limit=100)
    assert us != store.chart("gb", "top-free", limit=100)
    notes = store.known("Example Notes")
    assert store.rank(notes.app_id, "us", "top-free") == us.index(notes.app_id) + 1 <= 10


async def test_paid_chart_holds_paid_apps(store: StoreState, store_client: httpx.AsyncClient):
    ids = feed_ids((await store_client.get("/api/v2/us/apps/top-paid/50/apps.json")).json())
    lookup = (await store_client.get(f"/lookup?id={','.join(map(str, ids))}")).json()
    assert all(record["price"] > 0 for record in lookup["results"])
    assert store.known("Night Sky Pro").app_id in ids


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v2/us/apps/top-free/100/apps.json", 200),
        ("/api/v2/us/apps/top-free/101/apps.json", 500),  # FACTS §2a (2023)
        ("/api/v2/us/apps/top-free/0/apps.json", 404),
        ("/api/v2/us/apps/top-free/ten/apps.json", 404),
        ("/api/v2/us/apps/top-grossing/10/apps.json", 404),  # only with v2_extras
        ("/api/v2/us/apps/new-apps-we-love/10/apps.json", 404),
        ("/api/v2/us/music/top-free/10/apps.json", 404),
        ("/api/v2/us/apps/top-free/10/apps.rss", 404),
        ("/api/v2/zz/apps/top-free/10/apps.json", 404),
    ],
)
async def test_limits_and_unknown_paths(
    store_client: httpx.AsyncClient, path: str, status: int
) -> None:
    assert (await store_client.get(path)).status_code == status


async def test_extras_variant_grossing_and_genre(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    """A third-party doc claims top-grossing and ?genre= (FACTS §2a, unconfirmed)."""
    ignored = await store_client.get("/api/v2/us/apps/top-free/50/apps.json?genre=6007")
    assert feed_ids(ignored.json()) == store.chart("us", "top-free", limit=50)
    store.settings.v2_extras = True
    grossing = await store_client.get("/api/v2/us/apps/top-grossing/50/apps.json")
    assert grossing.json()["feed"]["title"] == "Top Grossing Apps"
    assert feed_ids(grossing.json()) == store.chart("us", "top-grossing", limit=50)
    genre = await store_client.get("/api/v2/us/apps/top-free/50/apps.json?genre=6007")
    assert feed_ids(genre.json()) == store.chart("us", "top-free", 6007, limit=50)
    assert feed_ids(genre.json())[0] == store.known("Example Notes").app_id


async def test_host_and_genre_object_variants(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    store.settings.update({"v2_host": "rss.marketingtools.apple.com", "v2_genres": "objects"})
    feed = (await store_client.get("/api/v2/gb/apps/top-free/5/apps.json")).json()["feed"]
    assert feed["id"].startswith("https://rss.marketingtools.apple.com/api/v2/gb/")
    genres = feed["results"][0]["genres"]
    assert genres and set(genres[0]) == {"genreId", "name", "url"}


async def test_ranks_move_and_updated_follows_the_period(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    path = "/api/v2/us/apps/top-free/100/apps.json"
    first = (await store_client.get(path)).json()["feed"]
    clock.advance(minutes=1)
    same = (await store_client.get(path)).json()["feed"]
    assert same == first  # one snapshot per period (one hour by default)
    clock.advance(hours=6)
    later = (await store_client.get(path)).json()["feed"]
    assert later["updated"] != first["updated"]
    before, after = feed_ids({"feed": first}), feed_ids({"feed": later})
    assert before != after and len(set(before) & set(after)) > 80  # moves, some churn
    assert set(after) - set(before)  # apps entered the top 100


def test_known_app_leaves_and_reenters_the_top_100(store: StoreState, clock: FakeClock) -> None:
    """Puzzle Harbor hovers around rank 96 and drifts in and out of the top 100."""
    puzzle = store.known("Puzzle Harbor")
    ranks = [
        store.rank(puzzle.app_id, "us", "top-free", at=clock.now + timedelta(hours=h))
        for h in range(0, 72, 3)
    ]
    inside = [r is not None and r <= 100 for r in ranks]
    assert any(inside) and not all(inside)


async def test_pinned_app_leaves_the_feed(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    notes = store.known("Example Notes")
    path = "/api/v2/us/apps/top-free/100/apps.json"
    assert notes.app_id in feed_ids((await store_client.get(path)).json())
    store.set_rank(notes.app_id, None, chart="top-free", since=clock.now)
    assert notes.app_id in feed_ids((await store_client.get(path)).json())  # same snapshot
    clock.advance(hours=1)
    assert notes.app_id not in feed_ids((await store_client.get(path)).json())
    store.set_rank(notes.app_id, 60, country="us", since=clock.now - timedelta(hours=3))
    assert feed_ids((await store_client.get(path)).json())[59] == notes.app_id


def test_period_is_a_knob(store: StoreState, clock: FakeClock) -> None:
    store.settings.chart_period_seconds = 24 * 3600  # daily charts
    today = store.chart("us", "top-free", limit=50)
    assert store.chart("us", "top-free", at=clock.now + timedelta(hours=3), limit=50) == today
