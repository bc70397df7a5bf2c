"""Lookup API: shape, batching, storefronts and the unconfirmed variants (FACTS §1, §6)."""

from __future__ import annotations

import json

import httpx
import pytest

from app.sandbox.store import StoreState

# FACTS §1 and §6: the fields Orchard stores and the types Apple uses.
INT_FIELDS = ("trackId", "primaryGenreId", "userRatingCount", "userRatingCountForCurrentVersion")
FLOAT_FIELDS = ("averageUserRating", "averageUserRatingForCurrentVersion", "price")
STR_FIELDS = ("bundleId", "trackName", "sellerName", "primaryGenreName", "formattedPrice",
              "currency", "version", "currentVersionReleaseDate", "releaseNotes", "artistName",
              "releaseDate", "artworkUrl60", "artworkUrl100", "artworkUrl512", "trackViewUrl",
              "sellerUrl", "contentAdvisoryRating", "minimumOsVersion", "fileSizeBytes")  # fmt: skip
LIST_FIELDS = ("genreIds", "genres", "languageCodesISO2A", "supportedDevices", "screenshotUrls")


def ids(store: StoreState, *names: str) -> str:
    return ",".join(str(store.known(name).app_id) for name in names)


async def test_record_shape_and_types(store: StoreState, store_client: httpx.AsyncClient) -> None:
    notes = store.known("Example Notes")
    response = await store_client.get(f"/lookup?id={notes.app_id}&country=de&entity=software")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    body = json.loads(response.content.decode("utf-8"))
    assert set(body) == {"resultCount", "results"} and body["resultCount"] == 1
    record = body["results"][0]
    assert record["wrapperType"] == record["kind"] == "software"
    for name in INT_FIELDS:
        assert type(record[name]) is int, name
    for name in FLOAT_FIELDS:
        assert type(record[name]) is float, name
    for name in STR_FIELDS:
        assert isinstance(record[name], str), name
    for name in LIST_FIELDS:
        assert isinstance(record[name], list), name
    assert all(isinstance(g, str) for g in record["genreIds"])  # strings (FACTS §1)
    assert record["trackId"] == notes.app_id and record["bundleId"] == notes.bundle_id
    assert record["currentVersionReleaseDate"].endswith("Z")
    # Localized per storefront (FACTS §1, §6): the German store says Gratis, EUR, Produktivität.
    assert (record["formattedPrice"], record["currency"]) == ("Gratis", "EUR")
    assert record["genres"][0] == "Produktivität" and record["primaryGenreName"] == "Productivity"


async def test_values_match_truth(store: StoreState, store_client: httpx.AsyncClient) -> None:
    notes = store.known("Example Notes")
    body = (await store_client.get(f"/lookup?id={notes.app_id}&country=gb")).json()
    truth = store.rating(notes.app_id, "gb")
    assert truth is not None
    record = body["results"][0]
    assert record["userRatingCount"] == truth.count
    assert record["averageUserRating"] == truth.average
    assert record["version"] == truth.version
    # FACTS §1: in the captured samples the current-version pair equals the all-time pair.
    assert record["userRatingCountForCurrentVersion"] == truth.count
    assert record["averageUserRatingForCurrentVersion"] == truth.average


async def test_batch_unknown_ids_absent_and_default_country(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    wanted = ids(store, "Example Notes", "Tidy Budget", "Night Sky Pro")
    body = (await store_client.get(f"/lookup?id={wanted},999,abc,1400000003")).json()
    assert body["resultCount"] == 4 == len(body["results"])
    assert {r["currency"] for r in body["results"]} == {"USD"}  # default storefront US
    found = [r["trackId"] for r in body["results"]]
    assert 999 not in found and 1400000003 in found  # fillers (chart apps) resolve too
    assert (await store_client.get("/lookup?id=999")).json() == {"resultCount": 0, "results": []}


async def test_values_differ_by_storefront(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    sky = store.known("Night Sky Pro")
    records = {}
    for country in ("us", "de", "jp"):
        body = (await store_client.get(f"/lookup?id={sky.app_id}&country={country}")).json()
        records[country] = body["results"][0]
    assert len({r["userRatingCount"] for r in records.values()}) == 3
    assert len({r["averageUserRating"] for r in records.values()}) == 3
    assert [records[c]["currency"] for c in ("us", "de", "jp")] == ["USD", "EUR", "JPY"]
    assert (records["us"]["price"], records["jp"]["formattedPrice"]) == (2.99, "¥500")


async def test_not_sold_in_storefront_is_absent(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    sketch = store.known("Little Sketch")  # not sold in CN and JP
    for country, expected in (("us", 1), ("JP", 0), ("cn", 0)):
        body = (await store_client.get(f"/lookup?id={sketch.app_id}&country={country}")).json()
        assert body["resultCount"] == expected
    assert store.rating(sketch.app_id, "jp") is None


async def test_bundle_id_lang_and_callback(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    notes = store.known("Example Notes")
    body = (await store_client.get(f"/lookup?bundleId={notes.bundle_id}&country=jp")).json()
    assert body["results"][0]["trackId"] == notes.app_id
    assert body["results"][0]["genres"][0] == "仕事効率化"
    english = (await store_client.get(f"/lookup?id={notes.app_id}&country=jp&lang=en_us")).json()
    assert english["results"][0]["genres"][0] == "Productivity"
    wrapped = await store_client.get(f"/lookup?id={notes.app_id}&callback=handle")
    assert wrapped.text.startswith("handle({") and wrapped.text.endswith("});")


async def test_content_type_variant(store: StoreState, store_client: httpx.AsyncClient) -> None:
    store.settings.lookup_content_type = "application/json"
    response = await store_client.get("/lookup?id=1")
    assert response.headers["content-type"] == "application/json"


def _many(count: int) -> str:
    return ",".join(str(1_400_000_000 + i) for i in range(count))


def _sold_in_us(store: StoreState, count: int) -> list[int]:
    """The first ``count`` filler ids minus the few not sold in the US."""
    candidates = range(1_400_000_000, 1_400_000_000 + count)
    return [app_id for app_id in candidates if store.rating(app_id, "us") is not None]


@pytest.mark.parametrize(
    ("mode", "status", "answered"),
    [("truncate", 200, 200), ("empty", 200, 0), ("error_400", 400, None), ("unlimited", 200, 230)],
)
async def test_over_the_ceiling_variants(
    store: StoreState, store_client: httpx.AsyncClient, mode: str, status: int, answered: int | None
) -> None:
    """FACTS §1: "valid results for up to 200 app ids" (2016, unconfirmed today)."""
    store.settings.update({"lookup_over_ceiling": mode})
    at_ceiling = (await store_client.get(f"/lookup?id={_many(200)}")).json()
    assert at_ceiling["resultCount"] == len(_sold_in_us(store, 200))
    response = await store_client.get(f"/lookup?id={_many(230)}")
    assert response.status_code == status
    if answered is None:
        assert "errorMessage" in response.json()  # invented shape (not in the facts)
    else:
        body = response.json()
        assert [r["trackId"] for r in body["results"]] == _sold_in_us(store, answered)
        assert body["resultCount"] == len(body["results"])


async def test_ceiling_is_a_knob(store: StoreState, store_client: httpx.AsyncClient) -> None:
    store.settings.lookup_id_ceiling = 100
    body = (await store_client.get(f"/lookup?id={_many(150)}")).json()
    assert [r["trackId"] for r in body["results"]] == _sold_in_us(store, 100)


async def test_shuffled_order_variant(store: StoreState, store_client: httpx.AsyncClient) -> None:
    """FACTS §1 "Match results by trackId": a client must not rely on the order."""
    query = f"/lookup?id={_many(40)}"
    in_order = [r["trackId"] for r in (await store_client.get(query)).json()["results"]]
    store.settings.lookup_order = "shuffled"
    shuffled = [r["trackId"] for r in (await store_client.get(query)).json()["results"]]
    assert shuffled != in_order and sorted(shuffled) == sorted(in_order)


@pytest.mark.parametrize("variant", ["zero", "omit"])
async def test_app_without_ratings_variants(
    store: StoreState, store_client: httpx.AsyncClient, variant: str
) -> None:
    store.settings.update({"zero_ratings": variant})
    fresh = store.known("Fresh Launch")
    record = (await store_client.get(f"/lookup?id={fresh.app_id}")).json()["results"][0]
    if variant == "zero":
        assert (record["userRatingCount"], record["averageUserRating"]) == (0, 0.0)
        assert record["userRatingCountForCurrentVersion"] == 0
    else:
        assert "userRatingCount" not in record and "averageUserRating" not in record
        assert "userRatingCountForCurrentVersion" not in record


async def test_unknown_storefront_answers_empty(
    store: StoreState, store_client: httpx.AsyncClient
) -> None:
    wanted = ids(store, "Example Notes")
    body = (await store_client.get(f"/lookup?id={wanted}&country=zz")).json()
    assert body == {"resultCount": 0, "results": []}
