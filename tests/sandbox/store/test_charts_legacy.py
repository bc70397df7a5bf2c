"""Legacy iTunes RSS genre charts (FACTS §2b, example in §6) and their disappearance."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from app.sandbox.store import StoreState
from tests.sandbox.conftest import FakeClock

ITUNES = "/us/rss/topgrossingapplications/limit=50/genre=6007/json"
AX = "/WebObjects/MZStoreServices.woa/ws/RSS/topgrossingapplications/genre=6007/limit=50/json"


def entry_ids(body: dict) -> list[int]:
    entries = body["feed"].get("entry", [])
    entries = [entries] if isinstance(entries, dict) else entries
    return [int(e["id"]["attributes"]["im:id"]) for e in entries]


async def test_feed_shape(store: StoreState, store_client: httpx.AsyncClient) -> None:
    response = await store_client.get(ITUNES)
    assert response.status_code == 200
    feed = response.json()["feed"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[78]:00", feed["updated"]["label"])
    assert len(feed["entry"]) == 50
    for entry in feed["entry"]:
        assert set(entry["id"]["attributes"]) == {"im:id", "im:bundleId"}
        assert entry["id"]["label"].endswith(f"/id{entry['id']['attributes']['im:id']}?uo=2")
        assert isinstance(entry["im:name"]["label"], str)
        assert isinstance(entry["im:artist"]["label"], str)
        assert {"im:id", "term", "label"} <= set(entry["category"]["attributes"])
        assert entry["category"]["attributes"]["im:id"] == "6007"  # the genre chart
        assert {"amount", "currency"} == set(entry["im:price"]["attributes"])
        assert "label" in entry["im:releaseDate"]
    assert entry_ids(response.json()) == store.chart("us", "topgrossingapplications", 6007)[:50]


async def test_both_url_forms_and_storefront_selection(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    """FACTS §2b: ``/{cc}/rss/…`` and the ax form with ``s=`` or X-Apple-Store-Front."""
    itunes = entry_ids((await store_client.get(ITUNES.replace("/us/", "/de/"))).json())
    by_param = entry_ids((await store_client.get(f"{AX}?s=143443")).json())
    by_header = await store_client.get(AX, headers={"X-Apple-Store-Front": "143443-4,29"})
    assert itunes == by_param == entry_ids(by_header.json())
    assert itunes == store.chart("de", "topgrossingapplications", 6007, limit=50)
    us_default = entry_ids((await store_client.get(AX)).json())
    assert us_default == store.chart("us", "topgrossingapplications", 6007, limit=50)
    reordered = "/us/rss/topgrossingapplications/genre=6007/limit=50/json"
    assert entry_ids((await store_client.get(reordered)).json()) == us_default


async def test_limit_is_capped_at_200_and_genres_narrow(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    body = (await store_client.get("/us/rss/topfreeapplications/limit=500/genre=6014/json")).json()
    assert len(body["feed"]["entry"]) == 200
    assert {e["category"]["attributes"]["im:id"] for e in body["feed"]["entry"]} == {"6014"}
    overall = (await store_client.get("/us/rss/topfreeapplications/limit=100/json")).json()
    assert entry_ids(overall) == store.chart("us", "top-free", limit=100)  # genre 36 = all
    puzzle = await store_client.get("/us/rss/topfreeapplications/limit=200/genre=7012/json")
    assert store.known("Puzzle Harbor").app_id in entry_ids(puzzle.json())


async def test_paid_prices_are_local(store: StoreState, store_client: httpx.AsyncClient) -> None:
    body = (await store_client.get("/jp/rss/toppaidapplications/limit=10/genre=6006/json")).json()
    entry = next(e for e in body["feed"]["entry"] if e["im:name"]["label"] == "Night Sky Pro")
    assert entry["im:price"] == {
        "label": "¥500",
        "attributes": {"amount": "500.00", "currency": "JPY"},
    }


async def test_genre_chart_shows_an_app_missing_from_the_overall_chart(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    journal = store.known("Quiet Journal")
    overall = await store_client.get("/us/rss/topfreeapplications/limit=200/json")
    lifestyle = await store_client.get("/us/rss/topfreeapplications/limit=200/genre=6012/json")
    assert journal.app_id not in entry_ids(overall.json())
    assert journal.app_id in entry_ids(lifestyle.json())


async def test_known_app_leaves_a_genre_chart(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    """Pocket Tides swings around rank 185 of the paid chart and drops out of the top 200."""
    tides = store.known("Pocket Tides")
    moments = [clock.now + timedelta(hours=h) for h in range(0, 120, 3)]
    present = [store.rank(tides.app_id, "us", "toppaidapplications", at=m) for m in moments]
    assert None in present and any(present)
    weather = store.rank(tides.app_id, "us", "toppaidapplications", 6001)
    assert weather is not None and weather < 20
    store.set_rank(tides.app_id, None, genre=6001)  # pinned out of the Weather chart only
    assert store.rank(tides.app_id, "us", "toppaidapplications", 6001) is None
    store.set_rank(tides.app_id, 3, chart="paid", genre=6001)
    body = await store_client.get("/us/rss/toppaidapplications/limit=10/genre=6001/json")
    assert entry_ids(body.json())[2] == tides.app_id


@pytest.mark.parametrize("variant", ["array", "object"])
async def test_single_entry_variants(
    store: StoreState, store_client: httpx.AsyncClient, variant: str
) -> None:
    """FACTS §6: with one item ``entry`` may be an object (unconfirmed for charts)."""
    store.settings.update({"legacy_single_entry": variant})
    body = (await store_client.get("/us/rss/topfreeapplications/limit=1/genre=6007/json")).json()
    entry = body["feed"]["entry"]
    assert isinstance(entry, dict if variant == "object" else list)
    assert len(entry_ids(body)) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/us/rss/topfreeapplications/limit=10/genre=6007/xml",  # XML is not in the facts
        "/us/rss/topfreebooks/limit=10/json",
        "/zz/rss/topfreeapplications/limit=10/json",
        "/us/rss/topfreeapplications/limit=ten/json",
        "/WebObjects/MZStoreServices.woa/ws/RSS/topfreeapplications/limit=10/json?s=999",
    ],
)
async def test_unknown_feeds_are_404(store_client: httpx.AsyncClient, path: str) -> None:
    assert (await store_client.get(path)).status_code == 404


async def test_unknown_genre_is_an_empty_feed(store_client: httpx.AsyncClient) -> None:
    body = (await store_client.get("/us/rss/topfreeapplications/limit=10/genre=6019/json")).json()
    assert "entry" not in body["feed"] and "updated" in body["feed"]


async def test_other_documented_charts_are_served(store_client: httpx.AsyncClient) -> None:
    for chart in ("topfreeipadapplications", "newpaidapplications", "topgrossingmacapps"):
        response = await store_client.get(f"/gb/rss/{chart}/limit=5/json")
        assert response.status_code == 200 and len(response.json()["feed"]["entry"]) == 5


@pytest.mark.parametrize(
    ("variant", "status"),
    [("not_found", 404), ("server_error", 500), ("html", 200), ("redirect", 301),
     ("empty_feed", 200)],
)  # fmt: skip
async def test_disappearing_feed_variants(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock, variant: str, status: int
) -> None:
    """FACTS §2b: whether the legacy feeds still live is unconfirmed; each way they may go."""
    store.settings.update(
        {"legacy_status": variant, "legacy_gone_since": clock.now + timedelta(hours=1)}
    )
    alive = await store_client.get(ITUNES)
    assert alive.status_code == 200 and len(entry_ids(alive.json())) == 50
    clock.advance(hours=1)
    for path in (ITUNES, AX):
        gone = await store_client.get(path)
        assert gone.status_code == status
        if variant == "html":
            assert gone.headers["content-type"].startswith("text/html")
        if variant == "redirect":
            assert gone.headers["location"].startswith("https://apps.apple.com/us/")
        if variant == "empty_feed":
            assert "entry" not in gone.json()["feed"]
    v2 = await store_client.get("/api/v2/us/apps/top-free/10/apps.json")
    assert v2.status_code == 200  # only the legacy feeds go away
