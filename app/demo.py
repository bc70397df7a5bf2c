"""`orchard demo`: the whole service on a laptop, with App Store Connect simulated.

Starts the built-in sandbox on loopback and Orchard (API + worker) against it on the embedded
database, creates a `demo` workspace and prints a read token, links a sandbox account, and
shows the first backfill's progress until it completes. Re-running reuses everything: the
sandbox's keys are deterministic for its seed, so the account already linked is found again.

The demo's world fills every screen, the status page's included:

- App Review at demo speed (:func:`app.sandbox.review_script.demo_pace`): one app's next
  version is sent, reviewed and rejected every half minute, another's waits in the queue; the
  demo asks for the versions to be re-read as often, so the events feed and the review queue
  move;
- Apple's finance reports are broken (every download arrives truncated): ``finance_monthly``
  fails with that error;
- a second account whose key has a small hourly request budget: its datasets lag.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import socket
import time
import uuid
from collections.abc import Iterator

import uvicorn
from sqlalchemy import select, text

from app.accounts import service as accounts
from app.accounts.schemas import AccountCreate
from app.auth import service as auth
from app.auth.tokens import Scope
from app.config import Settings
from app.errors import NotFound
from app.kit.logging import configure_logging
from app.kit.pagination import PageRequest
from app.main import create_app
from app.models import AscAccount
from app.sandbox import faults
from app.sandbox.app import create_sandbox_app
from app.sandbox.catalog import team_apps
from app.sandbox.faults import Fault, FaultPlan
from app.sandbox.fx import FxState, create_fx_app
from app.sandbox.review_script import demo_pace
from app.sandbox.searchads import AdsApp, AppleAdsState, create_apple_ads_app
from app.sandbox.state import SandboxKey, SandboxState
from app.sandbox.store import StoreState, create_store_app
from app.sandbox.store.asc_bridge import store_apps_for_team
from app.searchads import repository as searchads_repository
from app.searchads import service as searchads
from app.searchads.schemas import SearchAdsCredentialCreate
from app.sync import on_demand
from app.sync.schemas import SyncRequest
from app.sync.status import PAUSING

DEMO_WORKSPACE = "demo"
SANDBOX_SEED = 42
#: The second account's team, and its key's hourly request budget (Apple's is 3600): with
#: Orchard's reserve of 50 it runs out within the first backfill, so its datasets lag.
SMALL_BUDGET_TEAM = "Hillside Labs"
SMALL_BUDGET_PER_HOUR = 60
#: The report endpoint the demo's Apple has broken (a failing dataset on the status page).
BROKEN_PATH = "/v1/financeReports"
#: The demo's App Review moves a version this often; the demo asks for its versions to be
#: re-read as often, and its review submissions every third time (their routine cadence is 30
#: minutes), as a person watching a review would press "sync now" (within the key's 3,600
#: requests an hour).
REVIEW_STEP = dt.timedelta(seconds=10)
WATCHED = ["app_versions", "review_submissions"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def say(message: str) -> None:
    print(message, flush=True)


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to us, so both servers stop together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(server: uvicorn.Server) -> None:
    await server.serve()


def _fx_history_start() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=400)


async def run_demo(settings: Settings, *, host: str, port: int) -> None:
    configure_logging("WARNING", settings.log_format.value)
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    state = SandboxState(seed=SANDBOX_SEED)
    demo_key = state.default_demo_key()
    demo_pace(state, state.default_team(), state.now(), step=REVIEW_STEP)
    faults.inject(
        state,
        FaultPlan(
            rate=1.0, kinds=frozenset({Fault.TRUNCATED_GZIP}), paths=frozenset({BROKEN_PATH})
        ),
    )
    small_key = state.add_key(
        state.add_team(SMALL_BUDGET_TEAM, apps=2), hour_limit=SMALL_BUDGET_PER_HOUR
    )
    sandbox = QuietServer(
        uvicorn.Config(
            create_sandbox_app(state), host="127.0.0.1", port=sandbox_port, log_config=None
        )
    )
    # The public App Store (Lookup, charts) simulated too, with the sandbox team's apps in it.
    store_port = free_port()
    store_url = f"http://127.0.0.1:{store_port}"
    store_state = StoreState(seed=SANDBOX_SEED)
    for store_app in store_apps_for_team(state.default_team()):
        store_state.add_app(store_app)
    store = QuietServer(
        uvicorn.Config(
            create_store_app(store_state), host="127.0.0.1", port=store_port, log_config=None
        )
    )
    # Apple Ads simulated too: its campaigns promote the sandbox team's apps.
    ads_port = free_port()
    ads_url = f"http://127.0.0.1:{ads_port}"
    ads_state = AppleAdsState(
        seed=SANDBOX_SEED,
        apps=[AdsApp(int(a.id), a.name) for a in team_apps(state.default_team())[:3]],
    )
    ads = QuietServer(
        uvicorn.Config(
            create_apple_ads_app(ads_state), host="127.0.0.1", port=ads_port, log_config=None
        )
    )
    # Currency reference rates too: the ECB's files and a Frankfurter server, simulated.
    fx_port = free_port()
    fx_url = f"http://127.0.0.1:{fx_port}"
    fx = QuietServer(
        uvicorn.Config(
            # About a year of history: enough for the demo, light on its first backfill.
            create_fx_app(FxState(seed=SANDBOX_SEED, history_start=_fx_history_start())),
            host="127.0.0.1",
            port=fx_port,
            log_config=None,
        )
    )
    settings = settings.model_copy(
        update={
            "apple_ads_base_url": ads_url,
            "apple_ads_v5_base_url": ads_url,
            "apple_ads_token_url": f"{ads_url}/auth/oauth2/token",
            # The demo's Search Ads history as deep as its App Store Connect backfill.
            "searchads_backfill_days": max(
                1, min(settings.initial_backfill_days, settings.searchads_backfill_days)
            ),
            "asc_base_url": sandbox_url,
            "run_worker": True,
            "store_lookup_url": store_url,
            "store_rss_url": store_url,
            "store_legacy_rss_url": store_url,
            "fx_ecb_url": f"{fx_url}/stats/eurofxref",
            "fx_frankfurter_url": fx_url,
        }
    )
    app = create_app(settings)
    orchard = QuietServer(uvicorn.Config(app, host=host, port=port, log_config=None))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    tasks = [
        asyncio.create_task(_serve(sandbox)),
        asyncio.create_task(_serve(store)),
        asyncio.create_task(_serve(ads)),
        asyncio.create_task(_serve(fx)),
        asyncio.create_task(_serve(orchard)),
    ]
    try:
        servers = (sandbox, store, ads, fx, orchard)
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):
                raise SystemExit("orchard demo: a server failed to start (is the port free?)")
            await asyncio.sleep(0.1)
        say(f"App Store Connect sandbox: {sandbox_url}")
        say(f"App Store public data (simulated Lookup and charts): {store_url}")
        say(f"Currency rates (simulated ECB files and Frankfurter): {fx_url}")
        say(f"Orchard API:               http://{host}:{port}  (docs at /docs)")
        token = await _prepare(app)
        say(f"Workspace '{DEMO_WORKSPACE}', read token (shown once): {token}")
        account_id = await _link(app, settings, "Sandbox demo", demo_key)
        say(f"Linked sandbox account {account_id} (key {demo_key.key_id})")
        small_id = await _link(app, settings, "Sandbox demo, small request budget", small_key)
        say(
            f"Linked a second sandbox account {small_id} (key {small_key.key_id}, "
            f"{SMALL_BUDGET_PER_HOUR} requests an hour: its datasets lag)"
        )
        say(f"The sandbox's {BROKEN_PATH} answers truncated files: finance_monthly fails")
        say(f"Apple Ads sandbox:         {ads_url}")
        ads_id = await _link_search_ads(app, settings, ads_state)
        say(f"Linked Apple Ads credential {ads_id} (its ad accounts sync in the background)")
        tasks.append(asyncio.create_task(_watch_reviews(app, account_id, stop)))
        await _progress(app, account_id, stop)
        say("")
        say(f'Try:  curl -H "Authorization: Bearer {token}" http://{host}:{port}/v1/sync-status')
        say(f'      curl -H "Authorization: Bearer {token}" "http://{host}:{port}/v1/apps"')
        say(
            f'      curl -H "Authorization: Bearer {token}" '
            f'"http://{host}:{port}/v1/tracked-apps"  (then /v1/apps/{{id}}/ranks, '
            "/v1/apps/{id}/ratings/store; charts and ratings arrive within minutes)"
        )
        say(
            f'      curl -H "Authorization: Bearer {token}" '
            f'"http://{host}:{port}/v1/search-ads/performance?from=…&to=…&group_by=campaign"'
        )
        say(
            f'      curl -H "Authorization: Bearer {token}" '
            f'"http://{host}:{port}/v1/sales?from=…&to=…&currency=USD"  (converted, with rates)'
        )
        say("Serving until Ctrl-C.")
        await stop.wait()
    finally:
        stop.set()
        orchard.should_exit = True
        sandbox.should_exit = True
        store.should_exit = True
        ads.should_exit = True
        fx.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


async def _prepare(app: object) -> str:
    """The demo workspace (found again on a re-run) and a new read token for it."""
    state = app.state  # type: ignore[attr-defined]
    async with state.sessionmaker() as session:
        try:
            workspace = await auth.workspace_by_name(session, DEMO_WORKSPACE)
        except NotFound:
            workspace, _ = await auth.create_workspace(session, DEMO_WORKSPACE)
        issued = await auth.create_token(
            session, workspace.id, name="demo reader", scopes=[Scope.READ]
        )
        await session.commit()
        return issued.secret


async def _link(app: object, settings: Settings, name: str, key: SandboxKey) -> uuid.UUID:
    """Link the sandbox ``key`` to the demo workspace, backfilling
    ``ORCHARD_INITIAL_BACKFILL_DAYS`` (the account already linked is found again on a
    re-run)."""
    state = app.state  # type: ignore[attr-defined]
    async with state.sessionmaker() as session:
        workspace = await auth.workspace_by_name(session, DEMO_WORKSPACE)
        existing: AscAccount | None = (
            await session.scalars(
                select(AscAccount).where(
                    AscAccount.workspace_id == workspace.id,
                    AscAccount.key_id == key.key_id,
                    AscAccount.unlinked_at.is_(None),
                )
            )
        ).first()
        if existing is None:
            existing = await accounts.link_account(
                session,
                state.asc_clients,
                state.registry,
                workspace.id,
                AccountCreate(
                    name=name,
                    key_id=key.key_id,
                    issuer_id=uuid.UUID(key.issuer_id),
                    private_key=key.private_key_pem,
                    vendor_number=key.vendor_number,
                ),
                verify=True,
                initial_backfill=dt.timedelta(days=settings.initial_backfill_days),
            )
        await session.commit()
        return existing.id


async def _link_search_ads(app: object, settings: Settings, ads: AppleAdsState) -> uuid.UUID:
    """Link the Apple Ads sandbox's demo credential (found again on a re-run)."""
    credential = ads.demo_credential()
    state = app.state  # type: ignore[attr-defined]
    async with state.sessionmaker() as session:
        workspace = await auth.workspace_by_name(session, DEMO_WORKSPACE)
        listed, _ = await searchads_repository.list_credentials(
            session, workspace.id, PageRequest(limit=100)
        )
        for row in listed:
            if row.client_id == credential.client_id:
                return row.id
        deps = searchads.SearchAdsDeps(state.asc_clients.http, state.asc_clients.cipher, settings)
        linked = await searchads.link(
            session,
            deps,
            workspace.id,
            SearchAdsCredentialCreate(
                name="Apple Ads sandbox demo",
                client_id=credential.client_id,
                team_id=credential.team_id,
                key_id=credential.key_id,
                private_key=credential.private_key_pem,
            ),
        )
        await session.commit()
        return linked.id


async def _watch_reviews(app: object, account_id: uuid.UUID, stop: asyncio.Event) -> None:
    """Ask for the account's versions every review step, its review submissions every third."""
    state = app.state  # type: ignore[attr-defined]
    tick = 0
    while not stop.is_set():
        async with state.sessionmaker() as session:
            account = await session.get(AscAccount, account_id)
            if account is not None and account.credential_status not in PAUSING:
                await on_demand.request_account_sync(
                    session,
                    state.registry,
                    account,
                    SyncRequest(datasets=WATCHED if tick % 3 == 0 else WATCHED[:1]),
                    dt.datetime.now(dt.UTC),
                )
                await session.commit()
        tick += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=REVIEW_STEP.total_seconds())


async def _progress(app: object, account_id: uuid.UUID, stop: asyncio.Event) -> None:
    sessionmaker = app.state.sessionmaker  # type: ignore[attr-defined]
    last = ""
    started = time.monotonic()
    while not stop.is_set():
        async with sessionmaker() as session:
            rows = await session.execute(
                text(
                    "SELECT state, count(*) FROM sync_jobs WHERE account_id = :a "
                    "AND (state <> 'waiting' OR run_after < now() + interval '1 minute') "
                    "GROUP BY state"
                ),
                {"a": account_id},
            )
            counts = dict(rows.tuples().all())
        total = sum(counts.values())
        done = counts.get("succeeded", 0) + counts.get("failed", 0)
        line = f"first backfill: {done}/{total} units done"
        if counts.get("failed"):
            line += f" ({counts['failed']} failed)"
        if line != last:
            say(line)
            last = line
        if total and done == total:
            say(f"first backfill complete in {time.monotonic() - started:.0f}s")
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def main(settings: Settings, host: str, port: int) -> int:
    with contextlib.suppress(KeyboardInterrupt):  # the signal handler normally catches it
        asyncio.run(run_demo(settings, host=host, port=port))
    return 0
