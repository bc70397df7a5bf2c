"""Benchmark: the CPU one cold sales answer costs, the API process's and PostgreSQL's, for two
code trees side by side on one loaded database.

    python tests/benchmarks/sales_cpu.py --database-url postgresql://…/<world> --before /tmp/before

A latency on a shared 2-core machine mostly measures the other work on it; the CPU an answer
costs does not (much), and it is what concurrency 32 divides the cores by. Each tree answers
in a process of its own, in-process (raw ASGI calls, no socket, no client), with the response
cache off (every answer computed, as on a miss) and gzip asked for, as the side-by-side
benchmark's client asks: per answer (every page of it), this process's CPU (its threads
included: gzip runs in one for a large body) and that of the PostgreSQL backends of its pool
(``/proc/<pid>/stat``: the server must run on this machine). Rounds alternate the trees. The
world is one ``sales_load.py`` built (e.g. ``--rows 5000000 --days 90``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def backend_cpu_ms(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total * TICK_MS


async def call(app: Any, path: str, token: str) -> int:
    """One GET through the whole ASGI stack; its status."""
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"accept-encoding", b"gzip, deflate"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def child(url: str, token: str, answers: int, endpoints: dict[str, str]) -> None:
    """In a tree's own process (its ``app``): CPU per answer of each endpoint, as JSON."""
    from app.config import Settings
    from app.main import create_app

    settings = Settings(
        database_url=url.replace("postgresql://", "postgresql+asyncpg://", 1),  # type: ignore[arg-type]
        data_dir=Path(tempfile.mkdtemp(prefix="orchard-cpu-")),
        run_worker=False,
        expect_worker=False,
        log_level="WARNING",
        response_cache_mb=0,
        rate_limit_per_minute=100_000_000,
        rate_limit_burst=100_000_000,
    )
    application = create_app(settings)
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, dict[str, float]] = {}
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            pages: dict[str, list[str]] = {}
            for label, path in endpoints.items():  # every page's path, cursors resolved once
                pages[label] = [path]
                answer = await client.get(path, headers=headers)
                while cursor := answer.json().get("next_cursor"):
                    merged = httpx.URL(path).copy_merge_params({"cursor": cursor})
                    pages[label].append(str(merged))
                    answer = await client.get(pages[label][-1], headers=headers)
        monitor = await asyncpg.connect(url)
        try:
            pids = [
                row[0]
                for row in await monitor.fetch(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ]
            token_value = headers["Authorization"].removeprefix("Bearer ")
            for label, paths in pages.items():
                for path in paths:  # warm: every page once
                    assert await call(application, path, token_value) == 200
                cpu, server = time.process_time(), backend_cpu_ms(pids)
                for _ in range(answers):
                    for path in paths:
                        assert await call(application, path, token_value) == 200
                out[label] = {
                    "api_ms": (time.process_time() - cpu) * 1000 / answers,
                    "pg_ms": (backend_cpu_ms(pids) - server) / answers,
                }
        finally:
            await monitor.close()
    print(json.dumps(out))


#: ``sales_side_by_side``'s answers but the year by month (cheap: its CPU is not in question).
SKIPPED = ("365d by month",)


async def setup(url: str) -> tuple[str, dict[str, str]]:
    """A token, and the answers to time (label → path), by this tree's ``sales_side_by_side``
    (each tree's child is given them: the before tree may not have that helper)."""
    sys.path.insert(0, str(ROOT))
    from tests.benchmarks.sales_side_by_side import read_token, sales_endpoints

    endpoints = {label: path for label, path, _ in await sales_endpoints(url)}
    return await read_token(url), {k: v for k, v in endpoints.items() if k not in SKIPPED}


def run_tree(
    tree: Path, url: str, token: str, answers: int, endpoints: dict[str, str]
) -> dict[str, dict[str, float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    env["PYTHONPATH"] = str(tree)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--database-url", url]
    command += ["--token", token, "--answers", str(answers), "--endpoints", json.dumps(endpoints)]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
    result: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--before", type=Path, help="the tree to compare with")
    parser.add_argument("--answers", type=int, default=30, help="answers per endpoint and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--endpoints", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    if args.child:
        asyncio.run(child(url, args.token, args.answers, json.loads(args.endpoints)))
        return
    token, endpoints = asyncio.run(setup(url))
    trees = [("before", args.before), ("after", ROOT)] if args.before else [("after", ROOT)]
    print(f"load {os.getloadavg()}")
    print(f"{'endpoint':<24} {'tree':>6} {'round':>5} {'API ms':>7} {'PG ms':>7}  (CPU per answer)")
    for round_number in range(1, args.rounds + 1):
        for name, tree in trees:
            for label, cpu in run_tree(tree, url, token, args.answers, endpoints).items():
                print(
                    f"{label:<24} {name:>6} {round_number:>5} {cpu['api_ms']:>7.1f} "
                    f"{cpu['pg_ms']:>7.1f}  (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
