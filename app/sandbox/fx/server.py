"""Run the currency sandbox over real HTTP (the lead wires it into ``orchard``'s CLI).

Point Orchard at it with ``ORCHARD_FX_ECB_URL=http://127.0.0.1:9002/stats/eurofxref/...`` and
``ORCHARD_FX_FRANKFURTER_URL=http://127.0.0.1:9002`` (both served by the same app).
"""

from __future__ import annotations

import argparse
from datetime import date

from app.sandbox.fx.app import create_fx_app
from app.sandbox.fx.state import DEFAULT_HISTORY_START, FxState

DEFAULT_PORT = 9002


def startup_message(base_url: str) -> str:
    return "\n".join(
        [
            f"Currency sandbox listening on {base_url} (not the ECB; sandbox data only)",
            f"ECB daily XML:   {base_url}/stats/eurofxref/eurofxref-daily.xml",
            f"ECB history zip: {base_url}/stats/eurofxref/eurofxref-hist.zip",
            f"Frankfurter:     {base_url}/v1/latest  ·  {base_url}/v2/rates",
            f"Admin:           {base_url}/sandbox/",
        ]
    )


def run_fx_server(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    seed: int = 42,
    *,
    history_start: date = DEFAULT_HISTORY_START,
    stall_seconds: float = 30.0,
) -> None:
    """Serve a fresh :class:`FxState` (real clock) with uvicorn until interrupted."""
    import uvicorn

    state = FxState(seed=seed, history_start=history_start, stall_seconds=stall_seconds)
    print(startup_message(f"http://{host}:{port}"), flush=True)
    uvicorn.run(create_fx_app(state), host=host, port=port, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the currency reference-rate sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--history-start", type=date.fromisoformat, default=DEFAULT_HISTORY_START)
    args = parser.parse_args(argv)
    run_fx_server(args.host, args.port, args.seed, history_start=args.history_start)


if __name__ == "__main__":
    main()
