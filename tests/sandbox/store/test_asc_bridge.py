"""ASC sandbox apps appear in the store simulator with the same ids, names and versions."""

from __future__ import annotations

import httpx

from app.sandbox import SandboxState
from app.sandbox.catalog import live_version, team_apps
from app.sandbox.store import StoreState, create_store_app
from app.sandbox.store.asc_bridge import store_apps_for_team
from tests.sandbox.conftest import FakeClock


async def test_team_apps_are_looked_up_and_charted(clock: FakeClock) -> None:
    asc = SandboxState(seed=42, clock=clock)
    team = asc.add_team("Bridge Team", apps=6)
    store = StoreState(seed=42, clock=clock)
    for app in store_apps_for_team(team):
        store.add_app(app)
    generated = team_apps(team)
    ids = ",".join(app.id for app in generated)
    transport = httpx.ASGITransport(app=create_store_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="https://store.test") as http:
        body = (await http.get(f"/lookup?id={ids}&country=us")).json()
    records = {str(r["trackId"]): r for r in body["results"]}
    assert set(records) == {app.id for app in generated}
    for app in generated:
        assert records[app.id]["bundleId"] == app.bundle_id
        assert records[app.id]["version"] == live_version(app, clock.now.date())
        assert (records[app.id]["price"] > 0) == (app.usd_price > 0)
    for app in store_apps_for_team(team):
        family, base = next(iter(app.base_ranks.items()))  # free or paid first
        chart = "top-free" if family == "free" else "top-paid"
        rank = store.rank(app.app_id, "us", chart)
        if base <= 150:
            assert rank is not None and abs(rank - base) <= app.rank_swing
