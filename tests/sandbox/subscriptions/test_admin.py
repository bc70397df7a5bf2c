"""``/sandbox/subscriptions``: the world's knobs and truth over HTTP (sandbox-only)."""

from __future__ import annotations

import httpx

from app.sandbox import SandboxState
from app.sandbox.subscription_world import SubscriptionTruth
from tests.sandbox.subscriptions.conftest import DAY


async def test_options_and_truth(client: httpx.AsyncClient, state: SandboxState) -> None:
    shown = (await client.get("/sandbox/subscriptions")).json()
    assert shown["refund_units"] == "zero" and shown["late_shares"] == [0.8, 0.15, 0.05]
    assert shown["window"] == {"first": "2024-03-01", "last": "2025-10-08"}
    changed = await client.patch(
        "/sandbox/subscriptions",
        json={"subscribers": 500, "refund_units": "negative", "win_back_min_count": 1},
    )
    assert changed.status_code == 200 and changed.json()["subscribers"] == 500
    for bad in ({"refund_units": "minus"}, {"planets": 3}, {"subscribers": "many"}):
        response = await client.patch("/sandbox/subscriptions", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["code"] == "SANDBOX_BAD_REQUEST"

    truth = SubscriptionTruth(state, state.default_team())
    body = (await client.get("/sandbox/subscriptions/truth", params={"date": "2025-06-08"})).json()
    assert body["actives"] == truth.actives(DAY)
    assert body["mrr"] == {k: str(v) for k, v in truth.mrr(DAY).items()}
    flows = (
        await client.get(
            "/sandbox/subscriptions/truth", params={"from": "2025-06-01", "to": "2025-06-08"}
        )
    ).json()
    expected = truth.flows(DAY.replace(day=1), DAY)
    assert flows["events"] == dict(expected.events)
    assert flows["refunds"] == expected.refunds and flows["last"] == "2025-06-08"
    missing = await client.get("/sandbox/subscriptions/truth", params={"team": "Nobody"})
    assert missing.status_code == 404
    assert (await client.get("/sandbox/subscriptions/truth")).status_code == 400
