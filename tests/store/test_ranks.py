"""Chart ranks: snapshots equal the feeds, an app leaving the chart is `not_in_top_n` (never a
number), and a legacy feed that disappears is `unavailable` (never zero)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.sandbox.store import StoreState
from tests.fixtures.accounts import Tenant
from tests.store.helpers import FakeClock, sync_store, time_passes, track


async def _ranks(
    client: httpx.AsyncClient, tenant: Tenant, app_id: str, **params: str
) -> dict[tuple[str, str, int], list[dict[str, object]]]:
    response = await client.get(f"/v1/apps/{app_id}/ranks", params=params, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return {(s["country"], s["chart"], s["genre"]): s["points"] for s in response.json()["series"]}


async def test_charts_equal_the_feeds_and_an_app_leaving_is_not_in_top_n(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    store: StoreState,
    store_clock: FakeClock,
) -> None:
    notes = store.known("Example Notes")
    tracked = await track(client, tenant, notes.app_id, ["us", "gb"])
    await sync_store(app)

    for country in ("us", "gb"):
        chart = (
            await client.get(
                "/v1/charts", params={"country": country, "chart": "top-free"},
                headers=tenant.headers(),
            )
        ).json()  # fmt: skip
        truth = store.chart(country, "top-free", limit=100)
        assert [int(e["apple_id"]) for e in chart["entries"]] == truth
        assert [e["rank"] for e in chart["entries"]] == list(range(1, 101))
        assert chart["status"] == "ok" and chart["n"] == 100 and chart["feed"] == "rss_v2"
        assert [e["name"] for e in chart["entries"]] == [store.app(i).name for i in truth]  # type: ignore[union-attr]
        assert [e["tracked"] for e in chart["entries"]].count(True) == 1
    series = await _ranks(client, tenant, tracked["id"], chart="top-free")
    (point,) = series["us", "top-free", 36]
    assert point["status"] == "ranked"
    assert point["rank"] == store.rank(notes.app_id, "us", "top-free") <= 100
    assert point["n"] == 100

    store.set_rank(notes.app_id, None, country="us", chart="free")  # out of every depth
    store_clock.advance(hours=1)
    await time_passes(app, 3700)
    await sync_store(app)

    series = await _ranks(client, tenant, tracked["id"], chart="top-free", country="us")
    before, after = series["us", "top-free", 36]
    assert before["status"] == "ranked"
    assert after == {**after, "rank": None, "status": "not_in_top_n", "n": 100}
    assert store.rank(notes.app_id, "us", "top-free") is None
    # By day: the day's best rank (the app ranked before it left).
    days = await _ranks(client, tenant, tracked["id"], chart="top-free", granularity="day")
    by_day = days["us", "top-free", 36]
    assert by_day[-1]["status"] == "ranked" and by_day[-1]["rank"] == before["rank"]
    assert by_day[-1]["fetched_until"] == after["fetched_until"]
    # gb still ranks it.
    gb = await _ranks(client, tenant, tracked["id"], chart="top-free", country="gb")
    assert [p["status"] for p in gb["gb", "top-free", 36]] in (["ranked"], ["ranked", "ranked"])


@pytest.mark.parametrize("gone", ["not_found", "empty_feed", "server_error", "html", "redirect"])
async def test_a_disappearing_legacy_feed_is_unavailable_never_zero(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    store: StoreState,
    store_clock: FakeClock,
    gone: str,
) -> None:
    notes = store.known("Example Notes")  # grossing rank ~30 overall, genre 6007
    tracked = await track(client, tenant, notes.app_id, ["us"])
    await sync_store(app)
    ranks = await _ranks(client, tenant, tracked["id"], chart="top-grossing")
    assert ranks["us", "top-grossing", 36][-1]["status"] == "ranked"
    assert ranks["us", "top-grossing", 6007][-1]["rank"] == store.rank(
        notes.app_id, "us", "topgrossingapplications", 6007
    )

    store.settings.legacy_status = gone  # type: ignore[assignment]
    store_clock.advance(hours=1)
    await time_passes(app, 3700)
    await sync_store(app)

    ranks = await _ranks(client, tenant, tracked["id"], country="us")
    for genre in (36, 6007):
        *_, last = ranks["us", "top-grossing", genre]
        assert last["status"] == "unavailable"
        assert last["rank"] is None and last["n"] is None and last["detail"]
    # The current feed (RSS v2) still answers: its charts stay ranked.
    assert ranks["us", "top-free", 36][-1]["status"] == "ranked"

    status = (await client.get("/v1/sync-status/public", headers=tenant.headers())).json()["items"]
    charts = next(entry for entry in status if entry["dataset"] == "store_charts")
    sources = {source["key"]: source for source in charts["sources"]}
    assert sources["us/top-grossing/36"]["state"] == "unavailable"
    assert sources["us/top-grossing/36"]["detail"]
    assert sources["us/top-free/36"]["state"] == "ok"
    chart = (
        await client.get(
            "/v1/charts", params={"country": "us", "chart": "top-grossing"},
            headers=tenant.headers(),
        )
    ).json()  # fmt: skip
    assert chart["status"] == "unavailable" and chart["entries"] == [] and chart["n"] == 0


async def test_a_chart_never_fetched_is_not_fetched_not_empty(
    client: httpx.AsyncClient, tenant: Tenant, store: StoreState
) -> None:
    await track(client, tenant, store.known("Example Notes").app_id, ["us"])
    chart = await client.get(
        "/v1/charts", params={"country": "us", "chart": "top-paid"}, headers=tenant.headers()
    )
    assert chart.status_code == 200
    assert chart.json() == {**chart.json(), "status": "not_fetched", "n": 0, "entries": []}
