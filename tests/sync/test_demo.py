"""`orchard demo` from nothing: sandbox, service, worker, a linked account, data flowing, and
every screen filled: a failing dataset, lagging ones, versions moving through App Review."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.demo import WATCHED, free_port


def _run_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    env.update(ORCHARD_DATA_DIR=str(data_dir), ORCHARD_INITIAL_BACKFILL_DAYS="3")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Serving until Ctrl-C"):
            return process, lines
    process.kill()
    raise AssertionError("demo did not finish its first backfill:\n" + "\n".join(lines))


def test_demo_syncs_a_sandbox_account_and_reuses_it_on_rerun(embedded_data_dir: Path) -> None:
    port = free_port()
    process, lines = _run_demo(embedded_data_dir, port)
    try:
        output = "\n".join(lines)
        token = re.search(r"read token \(shown once\): (orch_\S+)", output)
        assert token is not None, output
        progress = [line for line in lines if line.startswith("first backfill:")]
        assert len(progress) >= 2
        done, total = map(int, re.findall(r"(\d+)/(\d+)", progress[-1])[0])
        assert done == total > 0
        # The machine may be busy (a worker is syncing two accounts): generous timeouts.
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token.group(1)}"},
            timeout=30.0,
        )
        apps = http.get("/v1/apps").json()
        assert len(apps["items"]) == 5  # three of the demo account, two of the second one
        status = http.get("/v1/sync-status?limit=200").json()
        main, small = {}, {}
        for entry in status["items"]:
            (main if entry["account_name"] == "Sandbox demo" else small)[entry["dataset"]] = entry
        # Apple's finance reports are broken in the demo: shown failing, with the error.
        finance = main.pop("finance_monthly")
        assert finance["state"] == "failing", finance
        assert "truncated" in finance["reason"] and "truncated" in finance["last_error"]["message"]
        # Everything else of the demo account is fine (a watched dataset may be re-reading).
        not_ok = {
            name: entry["state"]
            for name, entry in main.items()
            if entry["state"] != "ok" and not (name in WATCHED and entry["state"] == "running")
        }
        assert not not_ok, not_ok
        # The second account's key has a small hourly budget: some of its datasets lag.
        lagging = [entry for entry in small.values() if entry["state"] == "lagging"]
        assert lagging, small
        assert lagging[0]["rate_budget"]["limit"] == 60

        # App Review at demo speed: a version in the queue, versions changing state, events.
        queue = http.get("/v1/review-queue").json()["items"]
        assert queue and queue[0]["state"] in ("WAITING_FOR_REVIEW", "IN_REVIEW")
        bouncing = next(a for a in apps["items"] if a["name"] == "Zen Recipes")

        def in_flight() -> tuple[str, str]:
            versions = http.get(f"/v1/apps/{bouncing['id']}/versions?limit=1").json()["items"]
            return versions[0]["version_string"], versions[0]["state"]

        first = in_flight()
        deadline = time.monotonic() + 40
        while (later := in_flight()) == first and time.monotonic() < deadline:
            time.sleep(1)
        assert later[0] == first[0] and later[1] != first[1], (first, later)
        events = http.get("/v1/events?limit=200").json()["items"]
        moves = {(e["from_state"], e["to_state"]) for e in events if e["app_id"] == bouncing["id"]}
        # Which moves the feed holds depends on when each sync read the versions (a loaded
        # machine can miss a 10 s state: REJECTED → WAITING_FOR_REVIEW alone was seen in CI),
        # but it holds a move between two of the scripted review states.
        review = {"WAITING_FOR_REVIEW", "IN_REVIEW", "REJECTED"}
        assert any(a != b and {a, b} <= review for a, b in moves), moves
        http.close()
        account = re.search(r"Linked sandbox account (\S+)", output)
        assert account is not None
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)

    again, lines = _run_demo(embedded_data_dir, port)
    try:
        output = "\n".join(lines)
        assert f"Linked sandbox account {account.group(1)}" in output  # the same account
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=60)
