"""The issue's "done when", as a dashboard would call the API: a linked app's rank history per
country and chart with honest gaps, and its star ratings per storefront over time beside its
written reviews; a rating reset on the way is an event, not a data error."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
from fastapi import FastAPI

from app.sandbox.state import SandboxState
from app.sandbox.store import StoreState
from app.sandbox.store.asc_bridge import store_apps_for_team
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import call_unit
from tests.store.helpers import FakeClock, run_public_unit, sync_store, time_passes


async def test_a_linked_apps_ranks_and_store_ratings_beside_its_written_reviews(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    store: StoreState,
    store_clock: FakeClock,
) -> None:
    key = sandbox.add_key(roles=("ADMIN",))
    team_apps = store_apps_for_team(key.team)
    for store_app in team_apps:
        store.add_app(store_app)
    now = dt.datetime.now(dt.UTC)
    store_clock.now = now - dt.timedelta(days=1)
    account_id = await link_account(client, tenant, key, vendor=False)
    await call_unit(app, account_id, "apps", "all", now)
    star = min(team_apps, key=lambda a: min(a.base_ranks.values()))
    family = "free" if star.is_free else "paid"
    chart = f"top-{family}"
    await call_unit(app, account_id, "reviews", str(star.app_id), now)

    # Every linked app is tracked, in the default storefronts (no sales yet).
    tracked = (await client.get("/v1/tracked-apps", headers=tenant.headers())).json()["items"]
    assert {int(t["apple_id"]) for t in tracked} == {a.app_id for a in team_apps}
    row = next(t for t in tracked if int(t["apple_id"]) == star.app_id)
    assert row["linked"] and not row["added"] and row["storefronts"] == ["us", "de"]
    app_id = uuid.UUID(row["app_id"])

    # Yesterday's ratings (the unit of that day), then the developer resets the rating.
    yesterday = (now - dt.timedelta(days=1)).date()
    for country in ("us", "de"):
        await run_public_unit(app, "store_ratings", f"{country}:{yesterday}")
    store_clock.now = now
    store.reset_rating(star.app_id, now - dt.timedelta(hours=12))
    await sync_store(app)  # today's ratings, this hour's charts
    store.set_rank(star.app_id, None, country="de", chart=family)  # leaves the German chart
    store.settings.legacy_status = "not_found"  # and the legacy feeds disappear
    store_clock.advance(hours=1)
    await time_passes(app, 3700)
    await sync_store(app)

    ranks = (await client.get(f"/v1/apps/{app_id}/ranks", headers=tenant.headers())).json()
    series = {(s["country"], s["chart"], s["genre"]): s["points"] for s in ranks["series"]}
    us = series["us", chart, 36]
    assert [p["status"] for p in us] in (["ranked"], ["ranked", "ranked"])
    assert us[-1]["rank"] == store.rank(star.app_id, "us", chart)
    de = series["de", chart, 36]
    assert de[-1] == {**de[-1], "status": "not_in_top_n", "rank": None, "n": 100}
    grossing = series["us", "top-grossing", 36]
    assert grossing[-1]["status"] == "unavailable" and grossing[-1]["rank"] is None

    store_ratings = (
        await client.get(
            f"/v1/apps/{app_id}/ratings/store",
            params={"from": yesterday.isoformat()},
            headers=tenant.headers(),
        )
    ).json()
    by_country = {c["country"]: c for c in store_ratings["countries"]}
    assert store_ratings["basis"] == "app_store_lookup"
    for country in ("us", "de"):
        before, after = by_country[country]["series"]
        assert [before["snapshot_date"], after["snapshot_date"]] == [
            yesterday.isoformat(),
            now.date().isoformat(),
        ]
        assert after["rating_count"] < before["rating_count"]
        assert after["reset_detected"] is True
        assert by_country[country]["latest"] == after

    events = (
        await client.get(
            "/v1/events", params={"type": "store_rating_reset"}, headers=tenant.headers()
        )
    ).json()["items"]
    assert len(events) == 1  # a reset is global: one event per app and version
    assert events[0]["app_id"] == str(app_id)
    assert int(events[0]["to_state"]) < int(events[0]["from_state"])

    card = (await client.get(f"/v1/apps/{app_id}/ratings", headers=tenant.headers())).json()
    assert card["basis"] == "written_reviews"
    assert card["count"] == sum(bucket["count"] for bucket in card["histogram"]) > 0
    assert card["store"]["basis"] == "app_store_lookup"
    latest = {c: by_country[c]["latest"] for c in ("us", "de")}
    assert card["store"]["storefronts"] == [
        {
            "country": c,
            "snapshot_date": latest[c]["snapshot_date"],
            "rating_count": latest[c]["rating_count"],
            "average": latest[c]["average"],
        }
        for c in ("de", "us")
    ]
    assert card["store"]["rating_count"] == sum(p["rating_count"] for p in latest.values())
