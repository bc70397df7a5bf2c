"""The `orchard` command, end to end in real processes."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

ORCHARD = [sys.executable, "-m", "app.cli"]


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    env.update(overrides)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ORCHARD + args, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _secret(output: str) -> str:
    return next(word for word in output.split() if word.startswith("orch_"))


def test_bad_setting_is_named_at_start_up() -> None:
    result = _run(["migrate"], _env(ORCHARD_LOG_LEVEL="LOUD", ORCHARD_DATABASE_URL="mysql://x"))
    assert result.returncode == 2
    assert "ORCHARD_LOG_LEVEL" in result.stderr
    assert "ORCHARD_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_workspace_and_token_commands(database_url: str) -> None:
    env = _env(ORCHARD_DATABASE_URL=database_url)
    created = _run(["workspace", "create", "acme"], env)
    assert created.returncode == 0, created.stderr
    admin = _secret(created.stdout)

    duplicate = _run(["workspace", "create", "acme"], env)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr

    reader = _run(["token", "create", "--workspace", "acme", "--scope", "read"], env)
    assert reader.returncode == 0, reader.stderr
    token_id = reader.stdout.split()[1]
    read_secret = _secret(reader.stdout)

    revoked = _run(["token", "revoke", token_id], env)
    assert revoked.returncode == 0, revoked.stderr
    assert admin != read_secret

    missing = _run(["token", "create", "--workspace", "nope", "--scope", "read"], env)
    assert missing.returncode == 1
    assert "no workspace named 'nope'" in missing.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_on_embedded_postgres_then_stop_cleanly(embedded_data_dir: Path) -> None:
    """The README's quick start: no database configured, `orchard serve` just works."""
    data_dir = embedded_data_dir / "data"
    env = _env(ORCHARD_DATA_DIR=str(data_dir), ORCHARD_LOG_FORMAT="json")
    port = _free_port()
    server = subprocess.Popen(
        [*ORCHARD, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "orchard serve did not become ready"
            time.sleep(0.3)

        # A second process (the CLI) shares the running embedded server.
        created = _run(["workspace", "create", "demo"], env)
        assert created.returncode == 0, created.stderr
        token = _secret(created.stdout)
        listing = httpx.get(f"{base}/v1/tokens", headers={"Authorization": f"Bearer {token}"})
        assert listing.status_code == 200
        assert len(listing.json()["items"]) == 1
        anonymous = httpx.get(f"{base}/v1/tokens")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    # Uvicorn finishes its graceful shutdown, then re-raises SIGTERM so the exit status says so.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete." in output
    assert '"message": "request"' in output  # structured JSON access log

    pgdata = str((data_dir / "pg").resolve())
    leftovers = [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres" and pgdata in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == [], "the embedded PostgreSQL was left running"
    assert (data_dir / "pg" / "PG_VERSION").exists()  # data persists for the next start
