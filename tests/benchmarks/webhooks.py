"""Benchmark: webhook deliveries from a real worker process to 10 local receivers.

    python tests/benchmarks/webhooks.py [--events 10000] [--rate 100] [--seconds 20]
                                        [--fanout one|all] [--slow-seconds 2]

Ten receivers (a separate process, a minimal HTTP/1.1 server per port on 127.0.0.1) and
``orchard worker`` (a separate process, default settings but ``ORCHARD_WEBHOOKS_ALLOW_PRIVATE``)
against an embedded PostgreSQL. Events are written the way Orchard writes them, through the
outbox in committed transactions. Three phases:

1. **throughput**: ``--events`` events are queued while no worker runs, then a worker starts;
   deliveries per second from the first arrival to the last. ``--fanout one`` sends each event
   to one receiver (round robin: 10,000 events = 10,000 deliveries); ``all`` to all ten.
2. **latency**: events at ``--rate`` per second for ``--seconds``: event-to-delivery latency
   (the event's timestamp to its arrival at the receiver), p50 / p95 / max. Target p95 < 2 s.
3. **a slow receiver**: the same load while receiver 0 takes ``--slow-seconds`` to answer
   each request: the other nine receivers' latency should not change.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

try:
    from tests.benchmarks.common import benchmark_database, machine
except ModuleNotFoundError:  # run as a script: python tests/benchmarks/webhooks.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.benchmarks.common import benchmark_database, machine

RECEIVERS = 10


# -- the receivers' process ---------------------------------------------------------------


async def _serve(ports: list[int], slow_port: int | None, slow: float, out: Path) -> None:
    records: list[tuple[int, str, str, float]] = []

    def handler(port: int) -> object:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    headers = dict(
                        line.split(": ", 1)
                        for line in head.decode().split("\r\n")[1:]
                        if ": " in line
                    )
                    lowered = {k.lower(): v for k, v in headers.items()}
                    body = await reader.readexactly(int(lowered.get("content-length", "0")))
                    if port == slow_port:
                        await asyncio.sleep(slow)
                    stamp = json.loads(body)["timestamp"]
                    records.append((port, lowered["webhook-id"], stamp, time.time()))
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        return handle

    servers = [await asyncio.start_server(handler(p), "127.0.0.1", p) for p in ports]  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    for server in servers:
        server.close()
    out.write_text("\n".join(json.dumps(r) for r in records))


def receivers(
    ports: list[int], out: Path, slow_port: int | None = None, slow: float = 0.0
) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--serve", ",".join(map(str, ports)), "--out", str(out)]
    if slow_port is not None:
        command += ["--slow-port", str(slow_port), "--slow-seconds", str(slow)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def stop_receivers(process: subprocess.Popen[str], out: Path) -> list[tuple[int, str, str, float]]:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    text = out.read_text()
    return [tuple(json.loads(line)) for line in text.splitlines() if line]  # type: ignore[misc]


# -- the benchmark ------------------------------------------------------------------------


def free_ports(n: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def worker(database_url: str, data_dir: Path) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ORCHARD_")}
    environment.update(
        ORCHARD_DATABASE_URL=database_url,
        ORCHARD_DATA_DIR=str(data_dir),
        ORCHARD_WEBHOOKS_ALLOW_PRIVATE="true",
        ORCHARD_LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def setup(
    database_url: str, data_dir: Path, ports: list[int]
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    from app.auth import service as auth
    from app.config import Settings
    from app.credentials.crypto import load_cipher
    from app.db.engine import create_engine, create_sessionmaker
    from app.models import WebhookEndpoint
    from app.webhooks.signing import new_secret

    cipher = load_cipher(Settings(data_dir=data_dir))
    engine = create_engine(database_url, pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            workspace, _ = await auth.create_workspace(session, "bench")
            endpoints = []
            for n, port in enumerate(ports):
                endpoint = WebhookEndpoint(
                    id=uuid.uuid4(),
                    workspace_id=workspace.id,
                    url=f"http://127.0.0.1:{port}/hook",
                    event_types=[f"bench.r{n}", "bench.all"],
                    encrypted_secret=cipher.encrypt(new_secret()),
                )
                session.add(endpoint)
                endpoints.append(endpoint.id)
        return workspace.id, endpoints
    finally:
        await engine.dispose()


async def produce(
    database_url: str, workspace_id: uuid.UUID, count: int, fanout: str, rate: float | None
) -> None:
    """``count`` events through the outbox; at ``rate`` per second (None: as fast as possible,
    100 per transaction)."""
    from app.db.engine import create_engine, create_sessionmaker
    from app.outbox.writer import OutboxEvent, publish

    engine = create_engine(database_url, pool_size=2)
    sessions = create_sessionmaker(engine)
    batch = 100 if rate is None else max(1, int(rate / 20))  # ~20 commits a second
    started = time.monotonic()
    try:
        for first in range(0, count, batch):
            if rate is not None:
                due = started + first / rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = dt.datetime.now(dt.UTC)
            events = [
                OutboxEvent(
                    type="bench.all" if fanout == "all" else f"bench.r{n % RECEIVERS}",
                    data={"n": n},
                    occurred_at=now,
                )
                for n in range(first, min(first + batch, count))
            ]
            async with sessions() as session, session.begin():
                await publish(session, workspace_id, events)
    finally:
        await engine.dispose()


async def wait_delivered(database_url: str, timeout: float) -> None:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while await conn.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE state <> 'succeeded'"
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("deliveries did not finish")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def latency(records: list[tuple[int, str, str, float]], ports: set[int]) -> dict[str, float]:
    values = sorted(
        arrival - dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        for port, _, stamp, arrival in records
        if port in ports
    )
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": values[int(len(values) * 0.95) - 1],
        "max": values[-1],
    }


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f}")
    data_dir = Path(tempfile.mkdtemp(prefix="orchard-bench-hooks-"))
    ports = free_ports(RECEIVERS)
    async with benchmark_database() as database_url:
        workspace_id, _ = await setup(database_url, data_dir, ports)
        out = data_dir / "received.jsonl"

        # 1. throughput
        await produce(database_url, workspace_id, args.events, args.fanout, None)
        hub = receivers(ports, out)
        started = time.monotonic()
        process = worker(database_url, data_dir)
        try:
            await wait_delivered(database_url, 1800)
        finally:
            records = stop_receivers(hub, out)
        arrivals = sorted(r[3] for r in records)
        span = arrivals[-1] - arrivals[0]
        ids = {r[1] for r in records}
        print(
            f"throughput: {len(records)} deliveries of {args.events} events "
            f"(fan-out {args.fanout}) in {span:.1f} s from first to last arrival = "
            f"{len(records) / span:.0f} deliveries/s ({time.monotonic() - started:.1f} s "
            f"including the worker's start); distinct webhook-ids {len(ids)}"
        )

        # 2. latency at a steady rate, healthy receivers
        total = int(args.rate * args.seconds)
        hub = receivers(ports, out)
        await produce(database_url, workspace_id, total, args.fanout, args.rate)
        await wait_delivered(database_url, 600)
        records = stop_receivers(hub, out)
        figures = latency(records, set(ports))
        print(
            f"latency at {args.rate:g} events/s for {args.seconds:g} s ({figures['n']} "
            f"deliveries): p50 {figures['p50'] * 1000:.0f} ms, p95 {figures['p95'] * 1000:.0f} "
            f"ms, max {figures['max'] * 1000:.0f} ms"
        )

        # 3. the same with one slow receiver
        hub = receivers(ports, out, slow_port=ports[0], slow=args.slow_seconds)
        await produce(database_url, workspace_id, total, args.fanout, args.rate)
        await asyncio.sleep(1)
        healthy_done = time.monotonic()
        records = stop_receivers(hub, out)
        others = latency(records, set(ports[1:]))
        slow = latency(records, {ports[0]})
        print(
            f"one receiver answering in {args.slow_seconds:g} s: the other nine p50 "
            f"{others['p50'] * 1000:.0f} ms, p95 {others['p95'] * 1000:.0f} ms, max "
            f"{others['max'] * 1000:.0f} ms ({others['n']} deliveries); the slow one got "
            f"{slow['n']} so far (its backlog drains one at a time)"
        )
        del healthy_done
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fanout", choices=("one", "all"), default="one")
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--slow-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        ports = [int(p) for p in args.serve.split(",")]
        asyncio.run(_serve(ports, args.slow_port, args.slow_seconds, Path(args.out)))
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
