"""The ``/sandbox`` admin surface, the app factory and the HTTP runner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.sandbox.store import StoreApp, StoreSettings, StoreState, create_store_app
from app.sandbox.store import server as store_server
from tests.sandbox.conftest import FakeClock


async def test_overview_and_settings(store: StoreState, store_client: httpx.AsyncClient) -> None:
    overview = (await store_client.get("/sandbox/")).json()
    assert overview["seed"] == 42 and len(overview["known_apps"]) == 8
    assert overview["settings"]["throttle_per_minute"] == 20
    patched = await store_client.patch(
        "/sandbox/settings",
        json={"legacy_status": "not_found", "legacy_gone_since": "2025-06-11T00:00:00Z",
              "throttle_per_minute": 5, "v2_extras": True},
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json()["throttle_per_minute"] == 5
    assert store.settings.legacy_gone_since is not None and store.settings.v2_extras
    for bad in ({"nope": 1}, {"legacy_status": "gone"}, {"feed_skip_rate": 1},
                {"v2_extras": "yes"}, {"chart_period_seconds": 0}, {"legacy_gone_since": "2025"}):  # fmt: skip
        response = await store_client.patch("/sandbox/settings", json=bad)
        assert response.status_code == 400, bad
        assert "error" in response.json()
    assert (await store_client.patch("/sandbox/settings", content=b"[")).status_code == 400


async def test_add_app_then_look_it_up(store: StoreState, store_client: httpx.AsyncClient) -> None:
    created = await store_client.post(
        "/sandbox/apps",
        json={"app_id": 6_450_000_001, "name": "Linked Garden", "bundle_id": "com.x.garden",
              "genre_id": 6012, "countries": ["US", "de"], "base_ranks": {"free": 12},
              "released": "2024-01-01T00:00:00Z", "rating_rate": 80},
    )  # fmt: skip
    assert created.status_code == 201 and created.json()["countries"] == ["de", "us"]
    lookup = (await store_client.get("/lookup?id=6450000001&country=de")).json()
    assert lookup["results"][0]["trackName"] == "Linked Garden"
    assert (await store_client.get("/lookup?id=6450000001&country=fr")).json()["resultCount"] == 0
    assert store.rank(6_450_000_001, "us", "top-free") is not None
    for bad in ({"name": "x"}, {"app_id": 1_400_000_001, "name": "x", "bundle_id": "b",
                                "genre_id": 6000}):  # fmt: skip
        assert (await store_client.post("/sandbox/apps", json=bad)).status_code == 400
    assert len((await store_client.get("/sandbox/apps")).json()) == 9


async def test_reset_ranks_and_truth_routes(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    notes = store.known("Example Notes")
    before = await store_client.get(f"/sandbox/truth/rating?app_id={notes.app_id}&country=de")
    reset = await store_client.post(f"/sandbox/apps/{notes.app_id}/reset", json={})
    assert reset.status_code == 200
    clock.advance(hours=2)
    after = await store_client.get(f"/sandbox/truth/rating?app_id={notes.app_id}&country=de")
    assert after.json()["count"] < before.json()["count"]
    assert (await store_client.post("/sandbox/apps/1/reset")).status_code == 404
    sketch = store.known("Little Sketch")
    missing = await store_client.get(f"/sandbox/truth/rating?app_id={sketch.app_id}&country=jp")
    assert missing.status_code == 404

    pinned = await store_client.post(
        "/sandbox/ranks", json={"app_id": notes.app_id, "rank": 1, "chart": "top-free"}
    )
    assert pinned.status_code == 201
    truth = await store_client.get("/sandbox/truth/chart?country=us&chart=top-free&limit=3")
    assert truth.json()["ids"][0] == notes.app_id and len(truth.json()["ids"]) == 3
    feed = (await store_client.get("/api/v2/us/apps/top-free/3/apps.json")).json()["feed"]
    assert [int(r["id"]) for r in feed["results"]] == truth.json()["ids"]
    assert (await store_client.delete("/sandbox/ranks")).status_code == 204
    assert store.overrides == []
    bad = await store_client.post("/sandbox/ranks", json={"app_id": 1, "rank": 500})
    assert bad.status_code == 400
    assert (await store_client.get("/sandbox/truth/chart?chart=nope")).status_code == 400


async def test_freezes_requests_and_throttle_routes(
    store: StoreState, store_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    since = clock.now.isoformat()
    until = (clock.now + timedelta(hours=2)).isoformat()
    frozen = await store_client.post("/sandbox/freezes", json={"since": since, "until": until})
    assert frozen.status_code == 201 and len(store.freezes) == 1
    assert (await store_client.post("/sandbox/freezes", json={"since": since})).status_code == 400
    assert (await store_client.delete("/sandbox/freezes")).status_code == 204
    store.settings.throttle_per_minute = 1
    await store_client.get("/lookup?id=1")
    assert (await store_client.get("/lookup?id=1")).status_code == 403
    log = (await store_client.get("/sandbox/requests?endpoint=lookup")).json()
    assert [r["status"] for r in log] == [200, 403] and log[1]["throttled"]
    assert (await store_client.delete("/sandbox/throttle")).status_code == 204
    assert (await store_client.get("/lookup?id=1")).status_code == 200
    assert (await store_client.delete("/sandbox/requests")).status_code == 204
    assert store.requests == []


def test_state_options(clock: FakeClock) -> None:
    custom = StoreApp(app_id=6_400_000_000, name="Only App", bundle_id="com.o.a", artist_name="O",
                      artist_id=1, genre_id=6000, known=True)  # fmt: skip
    state = StoreState(7, clock, settings=StoreSettings(throttle_per_minute=0), known_apps=[custom])
    assert state.known_apps == [custom] and state.settings.throttle_per_minute == 0
    with pytest.raises(ValueError, match="reserved"):
        state.add_app(StoreApp(app_id=1_400_000_002, name="x", bundle_id="x", artist_name="x",
                               artist_id=1, genre_id=6000))  # fmt: skip
    naive = StoreState(clock=lambda: clock.now.replace(tzinfo=None))
    with pytest.raises(ValueError, match="aware"):
        naive.now()


async def test_default_app_uses_the_real_clock() -> None:
    app = create_store_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://store.test") as http:
        assert (await http.get("/")).json()["admin"] == "/sandbox/"
        assert (await http.get("/api/v2/us/apps/top-paid/10/apps.json")).status_code == 200
    assert isinstance(app.state.store, StoreState)


def test_run_store_sandbox_serves_with_uvicorn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[dict[str, Any]] = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    store_server.main(["--port", "9123", "--seed", "5"])
    assert calls == [{"host": "127.0.0.1", "port": 9123, "log_level": "info"}]
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9123/lookup" in out and "Example Notes" in out
