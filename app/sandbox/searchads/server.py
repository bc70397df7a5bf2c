"""Run the Apple Ads sandbox over real HTTP (CLI wiring is the lead's: call :func:`run`).

On start it prints a ready-made read-only credential (deterministic for the seed) and writes
its private key to ``<key_dir>/<clientId>.pem``. Point Orchard at it with
``ORCHARD_APPLE_ADS_BASE_URL=http://HOST:PORT`` (``/v1`` and ``/api/v5`` live below it) and
``ORCHARD_APPLE_ADS_TOKEN_URL=http://HOST:PORT/auth/oauth2/token``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.sandbox.searchads.app import create_apple_ads_app
from app.sandbox.searchads.credentials import AdsCredential
from app.sandbox.searchads.oauth import TOKEN_PATH
from app.sandbox.searchads.state import AppleAdsState, utc_now

DEFAULT_PORT = 9002
DEFAULT_KEY_DIR = Path(".orchard") / "sandbox-ads"


def write_key_file(credential: AdsCredential, key_dir: Path) -> Path:
    key_dir.mkdir(parents=True, exist_ok=True)
    path = key_dir / f"{credential.client_id}.pem"
    path.write_text(credential.private_key_pem)
    path.chmod(0o600)
    return path


def startup_message(
    state: AppleAdsState, credential: AdsCredential, base_url: str, key_path: Path
) -> str:
    accounts = "\n".join(
        f"    {a.name}: adAccountId {a.ad_account_id}, "
        + (f"v5 orgId {a.org_id}, " if a.in_v5 else "v1 only (Maps), ")
        + f"{a.currency}, {a.time_zone}"
        for a in state.accounts()
    )
    return "\n".join(
        [
            f"Apple Ads sandbox listening on {base_url} (not Apple; sandbox data only)",
            "Demo credential (API Account Read Only on every account):",
            f"  client id:   {credential.client_id}",
            f"  team id:     {credential.team_id}",
            f"  key id:      {credential.key_id}",
            f"  private key: {key_path}",
            "  accounts:",
            accounts,
            f"ORCHARD_APPLE_ADS_BASE_URL={base_url}",
            f"ORCHARD_APPLE_ADS_TOKEN_URL={base_url}{TOKEN_PATH}",
            f"More credentials: POST {base_url}/sandbox-ads/credentials",
        ]
    )


def run(
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    seed: int = 42,
    *,
    key_dir: Path | None = None,
) -> None:
    """Serve a fresh :class:`AppleAdsState` (real clock) with uvicorn until interrupted."""
    import uvicorn

    state = AppleAdsState(seed=seed, clock=utc_now)
    credential = state.demo_credential()
    key_path = write_key_file(credential, key_dir or DEFAULT_KEY_DIR)
    print(
        startup_message(state, credential, f"http://{host}:{port}", key_path.resolve()), flush=True
    )
    uvicorn.run(create_apple_ads_app(state), host=host, port=port, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Apple Ads sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--key-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    run(args.host, args.port, args.seed, key_dir=args.key_dir)


if __name__ == "__main__":
    main()
