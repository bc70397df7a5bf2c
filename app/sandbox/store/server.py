"""Run the store simulator over real HTTP (the lead wires it into ``orchard``'s CLI).

Point Orchard's store base URLs (Lookup, RSS v2, legacy RSS) at ``http://HOST:PORT``.
"""

from __future__ import annotations

import argparse

from app.sandbox.store.app import create_store_app
from app.sandbox.store.state import StoreState

DEFAULT_PORT = 9002


def startup_message(state: StoreState, base_url: str) -> str:
    names = ", ".join(f"{a.name} ({a.app_id})" for a in state.known_apps)
    return "\n".join(
        [
            f"App Store public data simulator on {base_url} (not Apple; sandbox data only)",
            f"  Lookup:      {base_url}/lookup?id=…&country=us",
            f"  RSS v2:      {base_url}/api/v2/us/apps/top-free/100/apps.json",
            f"  legacy RSS:  {base_url}/us/rss/topgrossingapplications/limit=200/genre=6014/json",
            f"  admin:       {base_url}/sandbox/",
            f"  known apps:  {names}",
        ]
    )


def run_store_sandbox(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    seed: int = 42,
    *,
    state: StoreState | None = None,
) -> None:
    """Serve ``state`` (default: a fresh one on the real clock) with uvicorn until stopped."""
    import uvicorn

    store = state or StoreState(seed=seed)
    print(startup_message(store, f"http://{host}:{port}"), flush=True)
    uvicorn.run(create_store_app(store), host=host, port=port, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the App Store public data simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    run_store_sandbox(args.host, args.port, args.seed)


if __name__ == "__main__":
    main()
