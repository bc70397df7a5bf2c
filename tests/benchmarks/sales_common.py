"""What the two sales benchmarks share (on top of ``common``'s database and machine
description): a workspace, accounts and catalog apps to hang data on, timing and memory."""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass

import asyncpg

from app.auth import service as auth_service
from app.db.engine import create_engine, create_sessionmaker
from tests.benchmarks.common import benchmark_database, machine

__all__ = [
    "RssSampler",
    "Tenant",
    "add_account",
    "add_app",
    "add_database_argument",
    "benchmark_database",
    "describe",
    "load_average",
    "machine",
    "make_tenant",
    "percentile",
]


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ORCHARD_TEST_DATABASE_URL"),
        help="A PostgreSQL server to create the benchmark database on "
        "(default: ORCHARD_TEST_DATABASE_URL, else an embedded PostgreSQL in a temp folder).",
    )


@dataclass(frozen=True)
class Tenant:
    workspace_id: uuid.UUID
    token: str


async def make_tenant(url: str, name: str) -> Tenant:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace, issued = await auth_service.create_workspace(session, name)
            await session.commit()
            return Tenant(workspace.id, issued.secret)
    finally:
        await engine.dispose()


async def add_account(conn: asyncpg.Connection, workspace_id: uuid.UUID, n: int) -> uuid.UUID:
    """A linked-account row without key material (this benchmark never calls Apple)."""
    account_id = uuid.uuid4()
    await conn.execute(
        """
        INSERT INTO asc_accounts (id, workspace_id, name, key_id, key_type, vendor_number,
                                  key_fingerprint, credential_status, capabilities)
        VALUES ($1, $2, $3, $4, 'team', $5, $6, 'active', '{}'::jsonb)
        """,
        account_id,
        workspace_id,
        f"Account {n}",
        f"BENCH{n:05d}",
        f"{80000000 + n}",
        f"fingerprint-{n}",
    )
    return account_id


async def add_app(
    conn: asyncpg.Connection,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    apple_id: str,
    sku: str,
) -> uuid.UUID:
    """A catalog app, as the apps dataset stores it (sales rows link to it on ingest)."""
    app_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO apps (id, workspace_id, account_id, apple_id, name, bundle_id, sku) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        app_id,
        workspace_id,
        account_id,
        apple_id,
        f"App {sku}",
        f"com.example.{sku}",
        sku,
    )
    return app_id


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def describe(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"p50 {percentile(ms, 0.5):7.1f} ms  p95 {percentile(ms, 0.95):7.1f} ms  "
        f"mean {statistics.fmean(ms):7.1f} ms  (n={len(ms)})"
    )


def load_average() -> str:
    """The machine's 1-minute load average: other work on the same cores skews every figure."""
    try:
        return f"load average {os.getloadavg()[0]:.2f}"
    except OSError:
        return "load average unknown"


def current_rss() -> int:
    """Resident set size of this process in bytes (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except OSError:
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Samples this process's RSS every few milliseconds in a thread, keeping the peak."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, current_rss())
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self.baseline = self.peak = current_rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20
