"""The `orchard` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from app.config import Settings, SettingsError, load_settings

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"orchard: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.kit.logging import configure_logging
    from app.main import create_app

    settings = _settings()
    if args.no_worker:
        settings = settings.model_copy(update={"run_worker": False})
    configure_logging(settings.log_level, settings.log_format.value)
    app = create_app(settings)
    # Uvicorn turns SIGINT/SIGTERM into a graceful shutdown; the lifespan then stops the
    # embedded PostgreSQL, so nothing is left running.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, proxy_headers=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import signal

    from app.asc.http_client import asc_timeout, create_http_client
    from app.credentials.clients import AscClientFactory
    from app.credentials.crypto import load_cipher
    from app.db.runtime import open_database
    from app.kit import tracing
    from app.kit.logging import configure_logging
    from app.kit.metrics import Metrics
    from app.registry import worker_parts
    from app.sync.worker import SyncWorker

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format.value)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        cipher = load_cipher(settings)
        async with (
            open_database(settings) as database,
            create_http_client(timeout=asc_timeout(settings.asc_read_timeout_seconds)) as http,
        ):
            tracing.instrument_clients(http=http, engine=database.engine)  # OTEL_* only
            factory = AscClientFactory(http, settings.asc_base_url, cipher)
            worker = SyncWorker(
                settings,
                database.sessionmaker,
                factory,
                worker_parts(settings),
                Metrics(),
                concurrency=args.concurrency,
            )
            await worker.run_until(stop)

    asyncio.run(run())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.db import migrate
    from app.db.runtime import resolve_url

    async def run() -> None:
        url, embedded = await resolve_url(_settings())  # the embedded server migrates on start
        try:
            if embedded is None:
                await migrate.upgrade(url, args.revision)
        finally:
            if embedded is not None:
                embedded.stop()

    asyncio.run(run())
    print(f"migrated to {args.revision}")
    return 0


def render_openapi() -> str:
    from app.config import Settings
    from app.main import create_app

    schema = create_app(Settings()).openapi()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def cmd_openapi(args: argparse.Namespace) -> int:
    spec = render_openapi()
    output = Path(args.output)
    if args.check:
        if not output.exists() or output.read_text() != spec:
            print(f"{output} is out of date: run `orchard openapi`", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(spec)
    print(f"wrote {output}")
    return 0


def _with_session(action: Callable[[Any], Awaitable[int]]) -> int:
    from app.db.runtime import open_database
    from app.errors import AppError

    async def run() -> int:
        async with open_database(_settings()) as database, database.sessionmaker() as session:
            try:
                code = await action(session)
            except AppError as exc:
                print(f"orchard: {exc.detail}", file=sys.stderr)
                return 1
            await session.commit()
            return code

    return asyncio.run(run())


def cmd_workspace_create(args: argparse.Namespace) -> int:
    from app.auth import service

    async def action(session: Any) -> int:
        workspace, issued = await service.create_workspace(session, args.name)
        print(f"workspace {workspace.name} {workspace.id}")
        print(f"admin token (shown once): {issued.secret}")
        return 0

    return _with_session(action)


def cmd_workspace_list(args: argparse.Namespace) -> int:
    from app.auth import repository

    async def action(session: Any) -> int:
        for workspace in await repository.list_workspaces(session):
            print(f"{workspace.id}  {workspace.name}")
        return 0

    return _with_session(action)


def cmd_token_create(args: argparse.Namespace) -> int:
    from app.auth import service
    from app.auth.tokens import Scope

    async def action(session: Any) -> int:
        workspace = await service.workspace_by_name(session, args.workspace)
        issued = await service.create_token(
            session,
            workspace.id,
            name=args.name,
            scopes=[Scope(scope) for scope in args.scope],
        )
        print(f"token {issued.token.id} ({','.join(issued.token.scopes)}) for {workspace.name}")
        print(f"secret (shown once): {issued.secret}")
        return 0

    return _with_session(action)


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from app.auth import service

    async def action(session: Any) -> int:
        token = await service.revoke_token(session, None, args.id)
        print(f"revoked token {token.id}")
        return 0

    return _with_session(action)


def cmd_keys_generate(args: argparse.Namespace) -> int:
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    import httpx

    from app.accounts import service
    from app.credentials.clients import AscClientFactory
    from app.credentials.crypto import load_cipher

    settings = _settings()

    async def action(session: Any) -> int:
        from app.apple_webhooks import service as apple_webhooks
        from app.searchads import service as searchads
        from app.webhooks import service as webhooks

        async with httpx.AsyncClient() as http:
            factory = AscClientFactory(http, settings.asc_base_url, load_cipher(settings))
            count = await service.rotate_encryption(session, factory)
            secrets = await webhooks.rotate_encryption(session, factory.cipher)
            count += await searchads.rotate_encryption(session, factory.cipher)
            inbound = await apple_webhooks.rotate_encryption(session, factory.cipher)
        print(f"re-encrypted {count} credential(s) under the first ORCHARD_SECRET_KEYS key")
        print(f"re-encrypted {secrets} webhook signing secret(s)")
        print(f"re-encrypted {inbound} App Store Connect webhook secret(s) and receiver token(s)")
        return 0

    return _with_session(action)


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import main as demo_main

    return demo_main(_settings(), args.host, args.port)


def cmd_sandbox(args: argparse.Namespace) -> int:
    if args.store:
        return _serve_store_sandbox(args)
    if args.fx:
        from app.sandbox.fx import run_fx_server

        run_fx_server(host=args.host, port=args.port, seed=args.seed)
        return 0
    from app.sandbox.server import run_sandbox

    run_sandbox(host=args.host, port=args.port, seed=args.seed)
    return 0


def _serve_store_sandbox(args: argparse.Namespace) -> int:
    """The App Store public data simulator, with the App Store Connect sandbox team's apps
    (same seed) in its catalogue, so an account linked there is found by Lookup and charts."""
    from app.sandbox.state import SandboxState
    from app.sandbox.store import StoreState, run_store_sandbox
    from app.sandbox.store.asc_bridge import store_apps_for_team

    state = StoreState(seed=args.seed)
    for app in store_apps_for_team(SandboxState(seed=args.seed).default_team()):
        state.add_app(app)
    run_store_sandbox(host=args.host, port=args.port, seed=args.seed, state=state)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchard", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-worker", action="store_true", help="API only; run `orchard worker` elsewhere"
    )
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run sync workers only (no HTTP API)")
    worker.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="units run at once (ORCHARD_WORKER_CONCURRENCY)",
    )
    worker.set_defaults(func=cmd_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(func=cmd_migrate)

    openapi = commands.add_parser("openapi", help="write openapi/openapi.json")
    openapi.add_argument("--output", default=str(OPENAPI_PATH))
    openapi.add_argument("--check", action="store_true", help="fail if the file is stale")
    openapi.set_defaults(func=cmd_openapi)

    workspace = commands.add_parser("workspace", help="manage workspaces (tenants)")
    workspace_commands = workspace.add_subparsers(dest="workspace_command", required=True)
    ws_create = workspace_commands.add_parser("create", help="create a workspace + admin token")
    ws_create.add_argument("name")
    ws_create.set_defaults(func=cmd_workspace_create)
    ws_list = workspace_commands.add_parser("list", help="list workspaces")
    ws_list.set_defaults(func=cmd_workspace_list)

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    tk_create = token_commands.add_parser("create", help="create a token")
    tk_create.add_argument("--workspace", required=True, help="workspace name")
    tk_create.add_argument(
        "--scope",
        action="append",
        choices=["read", "write", "admin"],
        required=True,
        help="repeat for several scopes",
    )
    tk_create.add_argument("--name", default="cli")
    tk_create.set_defaults(func=cmd_token_create)
    tk_revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    tk_revoke.add_argument("id", type=uuid.UUID)
    tk_revoke.set_defaults(func=cmd_token_revoke)

    keys = commands.add_parser("keys", help="credential encryption keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_generate = keys_commands.add_parser("generate", help="print a new Fernet key")
    keys_generate.set_defaults(func=cmd_keys_generate)
    keys_rotate = keys_commands.add_parser(
        "rotate",
        help="re-encrypt every stored credential and webhook secret under the first "
        "ORCHARD_SECRET_KEYS key",
    )
    keys_rotate.set_defaults(func=cmd_keys_rotate)

    demo = commands.add_parser(
        "demo", help="sandbox + service + worker + a linked demo account, with progress"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)

    sandbox = commands.add_parser("sandbox", help="run the App Store Connect sandbox over HTTP")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=9001)
    sandbox.add_argument("--seed", type=int, default=42)
    sandbox.add_argument(
        "--store",
        action="store_true",
        help="serve the App Store public data simulator (Lookup, charts) instead; point "
        "ORCHARD_STORE_LOOKUP_URL, ORCHARD_STORE_RSS_URL and ORCHARD_STORE_LEGACY_RSS_URL at it",
    )
    sandbox.add_argument(
        "--fx",
        action="store_true",
        help="serve the currency simulator (the ECB's eurofxref files and a Frankfurter "
        "server) instead; point ORCHARD_FX_ECB_URL at <url>/stats/eurofxref and, optionally, "
        "ORCHARD_FX_FRANKFURTER_URL at <url>",
    )
    sandbox.set_defaults(func=cmd_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
