"""The sandbox's fault modes: deterministic, at the configured rate, each one reaching Orchard's
App Store Connect client as the real failure would, and each one absorbed by the sync engine."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.asc.client import AscClient
from app.asc.errors import (
    AscError,
    AscPagingLoop,
    AscRateLimited,
    AscReportCorrupt,
    AscServerError,
    AscTransportError,
)
from app.asc.jwt import AscCredentials
from app.asc.retry import RetryPolicy
from app.config import Settings
from app.main import create_app
from app.reports.periods import DAILY
from app.sandbox import faults
from app.sandbox.app import create_sandbox_app
from app.sandbox.faults import TRANSIENT, Fault, FaultPlan
from app.sandbox.state import SandboxKey, SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import run_unit
from tests.fixtures.report_rows import sales_report_rows
from tests.fixtures.sandbox import SANDBOX_URL
from tests.reliability.world import TEAMS, Reference, add_keys, day_with_sales, partition_counts
from tests.sync.test_processes import sandbox_url  # noqa: F401  (fixture)

READ_TIMEOUT = 0.3


async def _no_sleep(_seconds: float) -> None:
    return None


def test_decisions_are_deterministic_for_a_seed_and_follow_the_rate() -> None:
    requests = [("K1", "GET", "/v1/apps", f"page={n}") for n in range(3000)]
    requests += [("K1", "GET", "/v1/salesReports", f"date={n}") for n in range(3000)]

    def run(seed: int) -> list[Fault | None]:
        plan = FaultPlan(rate=0.2, seed=seed, kinds=frozenset(Fault))
        return [plan.decide(*request) for request in requests]

    first = run(11)
    assert run(11) == first  # same seed, same faults
    assert run(12) != first
    assert 0.18 < sum(f is not None for f in first) / len(first) < 0.22
    lists, reports = Counter(first[:3000]), Counter(first[3000:])
    assert Fault.TRUNCATED_GZIP not in lists and Fault.PAGING_LOOP not in reports
    assert set(lists) - {None} == set(Fault) - {Fault.TRUNCATED_GZIP}
    assert set(reports) - {None} == set(Fault) - {Fault.PAGING_LOOP}

    # The n-th sending of a request is decided on its own: interleaving does not matter.
    plan = FaultPlan(rate=0.5, seed=3)
    forwards = [plan.decide("K", "GET", f"/v1/x{n % 7}", "") for n in range(70)]
    plan = FaultPlan(rate=0.5, seed=3)
    per_path: dict[int, list[Fault | None]] = {}
    for path in reversed(range(7)):
        per_path[path] = [plan.decide("K", "GET", f"/v1/x{path}", "") for _ in range(10)]
    assert forwards == [per_path[n % 7][n // 7] for n in range(70)]

    capped = FaultPlan(rate=1.0, limit_per_request=2)
    assert [capped.decide("K", "GET", "/v1/apps", "") is None for _ in range(4)] == [
        False,
        False,
        True,
        True,
    ]


def test_a_plan_narrowed_to_a_path_fails_it_every_time_and_nothing_else() -> None:
    plan = FaultPlan(
        rate=1.0, kinds=frozenset({Fault.SERVER_ERROR}), paths=frozenset({"/v1/financeReports"})
    )
    broken = [plan.decide("K", "GET", "/v1/financeReports", "m=1") for _ in range(20)]
    assert broken == [Fault.SERVER_ERROR] * 20  # however often it is retried
    assert {plan.decide("K", "GET", path, "") for path in ("/v1/apps", "/v1/salesReports")} == {
        None
    }


@pytest.fixture(params=["in-process", "socket"])
async def asc_http(
    request: pytest.FixtureRequest, sandbox: SandboxState
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """Orchard's HTTP client to the sandbox: through httpx's ASGI transport, or a real socket."""
    if request.param == "in-process":
        transport = httpx.ASGITransport(app=create_sandbox_app(sandbox))
        async with httpx.AsyncClient(transport=transport) as http:
            yield http, SANDBOX_URL
    else:
        url = request.getfixturevalue("sandbox_url")
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=READ_TIMEOUT)) as http:
            yield http, url


def _client(http: httpx.AsyncClient, base_url: str, key: SandboxKey) -> AscClient:
    credentials = AscCredentials.from_pem(
        key_id=key.key_id, issuer_id=key.issuer_id, private_key_pem=key.private_key_pem
    )
    return AscClient(
        http, credentials, base_url, retry=RetryPolicy(max_attempts=2, sleep=_no_sleep)
    )


@pytest.mark.parametrize("fault", list(Fault))
async def test_each_fault_reaches_the_client_as_the_real_failure(
    fault: Fault, asc_http: tuple[httpx.AsyncClient, str], sandbox: SandboxState
) -> None:
    key = add_keys(sandbox, TEAMS[:1])[0]
    client = _client(*asc_http, key)
    socket = asc_http[1] != SANDBOX_URL
    # Over a socket the stall outlasts the client's read timeout; in-process (no timeouts)
    # the stalled response ends in the ReadTimeout the client would have raised.
    stall = 1.0 if socket else 0.0
    plan = faults.inject(
        sandbox, FaultPlan(rate=1.0, kinds=frozenset({fault}), stall_seconds=stall)
    )
    started = time.monotonic()
    with pytest.raises(AscError) as raised:
        await _provoke(client, key, fault)
    error = raised.value
    elapsed = time.monotonic() - started
    sent = len(plan.injected)

    if fault in (Fault.RATE_LIMITED, Fault.RATE_LIMITED_BARE):
        assert isinstance(error, AscRateLimited)
        assert error.retry_after == (1.0 if fault is Fault.RATE_LIMITED else None)
    elif fault in (Fault.SERVER_ERROR, Fault.BAD_GATEWAY, Fault.UNAVAILABLE):
        assert isinstance(error, AscServerError)
        assert error.status == {"server_error": 500, "bad_gateway": 502, "unavailable": 503}[fault]
    elif fault is Fault.CONNECTION_RESET:
        assert isinstance(error, AscTransportError)
        assert isinstance(error.__cause__, httpx.RemoteProtocolError | httpx.ReadError)
    elif fault is Fault.READ_TIMEOUT:
        assert isinstance(error, AscTransportError)
        assert isinstance(error.__cause__, httpx.ReadTimeout)
        if socket:  # the client's own read timeout fired, twice, long before the stall ended
            assert elapsed < 2 * plan.stall_seconds
    elif fault is Fault.TRUNCATED_GZIP:
        assert isinstance(error, AscReportCorrupt)
        assert "truncated" in str(error)
    else:
        assert isinstance(error, AscPagingLoop)
    # Retryable faults were retried (two sends); the others are not worth repeating.
    assert sent == (2 if fault in TRANSIENT - {Fault.TRUNCATED_GZIP} else 1)
    assert error.retryable is (fault in TRANSIENT - {Fault.TRUNCATED_GZIP})
    assert {f.key_id for f in plan.injected} == {key.key_id}


async def _provoke(client: AscClient, key: SandboxKey, fault: Fault) -> None:
    """The call a fault of this kind can hit: a report download, a list, or any GET."""
    if fault is Fault.TRUNCATED_GZIP:
        report = sales_report_rows(
            client, key.vendor_number, "SALES", "SUMMARY", "DAILY", day_with_sales(key), "1_0"
        )
        async with report as rows:
            async for _ in rows:
                pass
    elif fault is Fault.PAGING_LOOP:
        async for _ in client.paginate("/v1/apps"):
            pass
    else:
        await client.get_document("/v1/apps")


# -- every transient fault on its own, through the engine -------------------------------------


@pytest.fixture
async def app(settings: Settings, sandbox: SandboxState) -> AsyncIterator[FastAPI]:
    """Orchard with the sandbox in-process and a client that retries often enough."""
    application = create_app(
        settings,
        asc_transport=httpx.ASGITransport(app=create_sandbox_app(sandbox)),
        asc_retry=RetryPolicy(max_attempts=5, sleep=_no_sleep),
    )
    async with application.router.lifespan_context(application):
        yield application


async def test_every_transient_fault_alone_is_absorbed_by_the_engine(
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
    db: asyncpg.Connection,
    reference: Reference,
) -> None:
    """Each request fails twice with one kind of fault, then goes through: a report unit and
    a list unit still store exactly what the clean run stored."""
    key = add_keys(sandbox, TEAMS[:1])[0]
    account_id = await link_account(client, tenant, key)
    await run_unit(app, account_id, "apps", "all")
    # The newest day the clean run stored for this key (not simply the newest published day:
    # that may be one of the sandbox's days without sales, which stores nothing).
    partition = max(p for p in reference.partitions if p[:3] == ("sales_rows", key.key_id, "DAILY"))
    day = partition[3]
    assert day == DAILY.unit_key(day_with_sales(key))
    team = [row for row in reference.snapshot.tables["team_members"] if key.key_id in row]
    for fault in sorted(TRANSIENT):
        plan = faults.inject(
            sandbox,
            FaultPlan(rate=1.0, kinds=frozenset({fault}), stall_seconds=0, limit_per_request=2),
        )
        await run_unit(app, account_id, "sales_daily", day)
        await run_unit(app, account_id, "team", "all")
        faults.clear(sandbox)
        assert plan.counts()[fault] >= 2, (fault, plan.counts())
        states = await _states(db, account_id, [("sales_daily", day), ("team", "all")])
        assert states == ["succeeded", "succeeded"], (fault, states)
        assert (await partition_counts(db))[partition] == reference.partitions[partition], fault
        members = await db.fetchval(
            "SELECT count(*) FROM team_members WHERE account_id = $1", account_id
        )
        assert members == len(team), fault


async def _states(
    db: asyncpg.Connection, account_id: uuid.UUID, units: list[tuple[str, str]]
) -> list[str]:
    return [
        await db.fetchval(
            "SELECT state FROM sync_jobs WHERE account_id = $1 AND dataset = $2 AND unit_key = $3",
            account_id,
            dataset,
            unit,
        )
        for dataset, unit in units
    ]
