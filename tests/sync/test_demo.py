"""`orchard demo` from nothing: sandbox, service, worker, a linked account, data flowing."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.demo import free_port


def _run_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    env.update(ORCHARD_DATA_DIR=str(data_dir), ORCHARD_INITIAL_BACKFILL_DAYS="10")
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
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        apps = httpx.get(f"http://127.0.0.1:{port}/v1/apps", headers=headers).json()
        assert len(apps["items"]) == 3
        status = httpx.get(f"http://127.0.0.1:{port}/v1/sync-status", headers=headers).json()
        not_ok = [entry for entry in status["items"] if entry["state"] != "ok"]
        assert not not_ok, not_ok
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
