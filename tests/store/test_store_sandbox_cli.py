"""`orchard sandbox --store` serves the public store simulator, with the App Store Connect
sandbox team's apps in it (the same seed), so a linked sandbox app is found by Lookup."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from app.demo import free_port
from app.sandbox.state import SandboxState
from app.sandbox.store.asc_bridge import store_apps_for_team


def test_orchard_sandbox_store_serves_lookup_and_charts() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "sandbox", "--store", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "App Store public data simulator" in first, first
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/", timeout=1.0)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the simulator did not come up"
                time.sleep(0.1)
        team_app = store_apps_for_team(SandboxState(seed=42).default_team())[0]
        lookup = httpx.get(f"{base}/lookup", params={"id": team_app.app_id, "country": "us"})
        assert lookup.json()["results"][0]["trackName"] == team_app.name
        chart = httpx.get(f"{base}/api/v2/us/apps/top-free/10/apps.json").json()
        assert len(chart["feed"]["results"]) == 10
    finally:
        process.terminate()
        process.communicate(timeout=30)
