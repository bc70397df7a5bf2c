"""Daily star-rating snapshots: equal to the store's truth, batched within Lookup's ceiling,
with our User-Agent; an app a storefront does not sell is `not_in_storefront`, never zero."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from app.sandbox.store import StoreState
from tests.fixtures.accounts import Tenant
from tests.store.helpers import (
    FakeClock,
    public_jobs,
    run_public_unit,
    sync_store,
    time_passes,
    track,
)

APPS = ("Example Notes", "Tidy Budget", "Puzzle Harbor", "Little Sketch", "Fresh Launch")


def _answered_at(store: StoreState) -> dict[tuple[int, str], dt.datetime]:
    """When (on the store's clock) Lookup answered for each app and storefront."""
    moments = {}
    for request in store.requests:
        if request.endpoint == "lookup" and request.status == 200:
            params = dict(p.split("=", 1) for p in request.query.split("&"))
            for app_id in params["id"].split("%2C"):
                moments[int(app_id), params["country"]] = request.at
    return moments


def _expected(
    store: StoreState, app_id: int, country: str, at: dt.datetime | None = None
) -> dict[str, object]:
    truth = store.rating(app_id, country, at)
    if truth is None:
        return {"status": "not_in_storefront", "rating_count": None, "average": None}
    return {
        "status": "ok",
        "rating_count": truth.count,
        "average": truth.average if truth.count else None,
        "current_version_rating_count": truth.current_count,
        "current_version_average": truth.current_average if truth.current_count else None,
        "version": truth.version,
    }


async def _snapshots(
    client: httpx.AsyncClient, tenant: Tenant, tracked_id: str
) -> dict[str, list[dict[str, object]]]:
    response = await client.get(f"/v1/apps/{tracked_id}/ratings/store", headers=tenant.headers())
    assert response.status_code == 200, response.text
    return {c["country"]: c for c in response.json()["countries"]}  # type: ignore[misc]


async def test_snapshots_equal_the_store_batched_within_the_ceiling(
    app: FastAPI, client: httpx.AsyncClient, tenant: Tenant, store: StoreState
) -> None:
    tracked = {name: await track(client, tenant, store.known(name).app_id, ["us", "JP"])
               for name in APPS}  # fmt: skip
    await sync_store(app)

    today = dt.datetime.now(dt.UTC).date().isoformat()
    for name, row in tracked.items():
        by_country = await _snapshots(client, tenant, row["id"])
        assert sorted(by_country) == ["jp", "us"]
        for country, entry in by_country.items():
            (point,) = entry["series"]  # type: ignore[misc]
            assert point == entry["latest"]
            assert point["snapshot_date"] == today
            expected = _expected(store, store.known(name).app_id, country)
            assert {k: point[k] for k in expected} == expected, (name, country)
    # Little Sketch is not sold in Japan: no figures, not zeros.
    sketch = (await _snapshots(client, tenant, tracked["Little Sketch"]["id"]))["jp"]
    assert sketch["latest"]["status"] == "not_in_storefront"  # type: ignore[index]

    lookups = [r for r in store.requests if r.endpoint == "lookup"]
    assert len(lookups) == 4  # two storefronts, five apps, three ids a call
    for request in lookups:
        ids = dict(p.split("=", 1) for p in request.query.split("&"))["id"].split("%2C")
        assert 1 <= len(ids) <= 3
    assert {r.user_agent for r in store.requests} == {
        next(iter(r.user_agent for r in store.requests))
    }
    agent = store.requests[0].user_agent or ""
    assert agent.startswith("Orchard/") and "ops@example.com" in agent


async def test_throttling_backs_off_without_losing_the_day(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    store: StoreState,
    store_clock: FakeClock,
) -> None:
    for name in APPS:
        await track(client, tenant, store.known(name).app_id, ["us", "jp", "de"])
    store.settings.throttle_per_minute = 2  # every unit needs two calls: the third is refused

    await sync_store(app)
    assert [r.status for r in store.requests if r.endpoint == "lookup"] == [200, 200, 403]
    # Once refused, nobody asks again before the backoff: the other storefronts wait too.
    jobs = {job.unit_key.split(":")[0]: job for job in await public_jobs(app, "store_ratings")}
    waiting = [job for job in jobs.values() if job.state == "waiting"]
    assert len(waiting) == 2
    for job in waiting:
        assert job.attempts == 0  # deferred, not failed
        assert job.run_after > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)
    async with app.state.sessionmaker() as session:
        budget = (await session.execute(text("SELECT * FROM store_request_budget"))).one()
    assert budget.blocked_until > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)
    assert budget.consecutive_throttles == 1

    for _ in range(10):
        if not [j for j in await public_jobs(app, "store_ratings") if j.state != "succeeded"]:
            break
        store_clock.advance(seconds=61)
        await time_passes(app, 130)
        await sync_store(app)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert {j.unit_key for j in await public_jobs(app, "store_ratings")} == {
        f"{c}:{today}" for c in ("de", "jp", "us")
    }
    assert {j.state for j in await public_jobs(app, "store_ratings")} == {"succeeded"}
    tracked = (await client.get("/v1/tracked-apps", headers=tenant.headers())).json()["items"]
    answered = _answered_at(store)
    for row in tracked:
        for country, entry in (await _snapshots(client, tenant, row["id"])).items():
            (point,) = entry["series"]  # type: ignore[misc]
            assert point["snapshot_date"] == today
            at = answered[int(row["apple_id"]), country]
            expected = _expected(store, int(row["apple_id"]), country, at)
            assert {k: point[k] for k in expected} == expected


async def test_an_empty_answer_for_apps_listed_lately_is_throttling_not_absence(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    store: StoreState,
    store_clock: FakeClock,
) -> None:
    """The reported variant: a throttled Lookup answers 200 with an empty list."""
    for name in APPS:
        await track(client, tenant, store.known(name).app_id, ["us"])
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date()
    await run_public_unit(app, "store_ratings", f"us:{yesterday}")
    store.settings.throttle_per_minute = 1
    store.settings.throttle_response = "200_empty_results"
    store_clock.advance(minutes=5)

    await sync_store(app)
    assert [r.status for r in store.requests if r.endpoint == "lookup"][-2:] == [200, 200]
    (job,) = [j for j in await public_jobs(app, "store_ratings") if j.state != "succeeded"]
    assert job.state == "waiting" and job.attempts == 0
    store.settings.throttle_per_minute = 0
    await time_passes(app, 130)
    await sync_store(app)

    today = dt.datetime.now(dt.UTC).date().isoformat()
    tracked = (await client.get("/v1/tracked-apps", headers=tenant.headers())).json()["items"]
    answered = _answered_at(store)
    for row in tracked:
        entry = (await _snapshots(client, tenant, row["id"]))["us"]
        point = entry["latest"]
        assert point["snapshot_date"] == today  # type: ignore[index]
        at = answered[int(row["apple_id"]), "us"]
        expected = _expected(store, int(row["apple_id"]), "us", at)
        assert {k: point[k] for k in expected} == expected  # type: ignore[index]
        assert point["status"] == "ok"  # type: ignore[index]
