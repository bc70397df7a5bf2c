"""The sandbox-only ``/sandbox/analytics`` admin surface (knobs over HTTP)."""

from __future__ import annotations

import hashlib
from datetime import date

import httpx

from app.sandbox import SandboxState
from app.sandbox.analytics_ledger import AnalyticsLedger
from app.sandbox.analytics_truth import AnalyticsTruth
from app.sandbox.catalog import SandboxApp
from tests.sandbox.analytics.conftest import Api, at

ADMIN = "/sandbox/analytics"


async def test_options_can_be_read_and_set(
    client: httpx.AsyncClient, ledger: AnalyticsLedger
) -> None:
    shown = (await client.get(ADMIN)).json()
    assert shown["options"]["url_lifetime_seconds"] == 300
    patched = await client.patch(ADMIN, json={"segment_headers": "first", "inactivity_days": 20})
    assert patched.status_code == 200
    assert ledger.options.segment_headers == "first" and ledger.options.inactivity_days == 20
    assert (await client.patch(ADMIN, json={"segment_headers": "some"})).status_code == 400
    assert (await client.patch(ADMIN, json={"bom": "yes"})).status_code == 400
    assert (await client.patch(ADMIN, json={"nope": 1})).status_code == 400
    assert (await client.patch(ADMIN, json={"inactivity_days": None})).status_code == 200


async def test_requests_segments_and_data_knobs(
    api: Api, state: SandboxState, ledger: AnalyticsLedger, apps: tuple[SandboxApp, ...]
) -> None:
    client, app = api.client, apps[1]
    request_id = await api.request_id(app.id)
    assert (await client.post(f"{ADMIN}/requests/{request_id}/stop", json={})).status_code == 200
    assert ledger.requests[request_id].stopped_at == api.clock.now
    assert (await client.post(f"{ADMIN}/requests/nope/stop", json={})).status_code == 404

    report_id = await api.report_id(request_id, "App Crashes")
    api.clock.now = at(date(2025, 6, 12))
    ledger.requests[request_id].stopped_at = None
    [instance] = await api.instances(report_id)
    [segment] = await api.segments(instance["id"])
    corrupt = await client.post(f"{ADMIN}/segments/{segment['id']}/corrupt", json={"always": True})
    assert corrupt.status_code == 200
    body = (await api.download(segment["attributes"]["url"])).content
    assert hashlib.md5(body).hexdigest() != segment["attributes"]["checksum"]

    gap = await client.post(f"{ADMIN}/apps/{app.id}/gap", json={"date": "2025-06-20"})
    assert gap.json()["gaps"] == {app.id: ["2025-06-20"]}
    restate = await client.post(
        f"{ADMIN}/apps/{app.id}/restate", json={"date": "2025-06-01", "on": "2025-06-30"}
    )
    assert restate.json()["corrections"][0]["factor"] == 1.1
    assert (await client.post(f"{ADMIN}/apps/{app.id}/gap", json={"date": "x"})).status_code == 400
    volume = await client.put(f"{ADMIN}/apps/{app.id}/volume", json={"volume": 2})
    assert volume.json()["volume"] == {app.id: 2.0}
    assert (
        await client.put(f"{ADMIN}/apps/{app.id}/volume", json={"volume": 0})
    ).status_code == 400

    truth = await client.get(f"{ADMIN}/apps/{app.id}/truth", params={"date": "2025-06-01"})
    assert truth.json() == AnalyticsTruth(state).day(app.id, date(2025, 6, 1)).as_dict()
    assert (
        await client.get(f"{ADMIN}/apps/1/truth", params={"date": "2025-06-01"})
    ).status_code == 404
