"""Run the sandbox over real HTTP (``orchard sandbox --port 9001``).

On start it prints one ready-made demo key (deterministic for the seed) and writes its
private key to ``<key_dir>/AuthKey_<KEY ID>.p8`` so a person can link it right away.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.sandbox.app import create_sandbox_app
from app.sandbox.state import SandboxKey, SandboxState
from app.sandbox.webhooks.delivery import deliver_in_background
from app.sandbox.webhooks.hub import webhooks

DEFAULT_KEY_DIR = Path(".orchard") / "sandbox"


def write_key_file(key: SandboxKey, key_dir: Path) -> Path:
    key_dir.mkdir(parents=True, exist_ok=True)
    path = key_dir / f"AuthKey_{key.key_id}.p8"
    path.write_text(key.private_key_pem)
    path.chmod(0o600)
    return path


def startup_message(key: SandboxKey, base_url: str, key_path: Path) -> str:
    return "\n".join(
        [
            f"App Store Connect sandbox listening on {base_url} (not Apple; sandbox data only)",
            "Demo API key (team key, ADMIN):",
            f"  key id:        {key.key_id}",
            f"  issuer id:     {key.issuer_id}",
            f"  vendor number: {key.vendor_number}",
            f"  private key:   {key_path}",
            f"Point Orchard at it with ORCHARD_ASC_BASE_URL={base_url}",
            f"More keys: POST {base_url}/sandbox/keys",
            f"Request log: GET {base_url}/sandbox/requests",
        ]
    )


def run_sandbox(
    host: str = "127.0.0.1",
    port: int = 9001,
    seed: int = 42,
    *,
    key_dir: Path | None = None,
) -> None:
    """Serve a fresh :class:`SandboxState` with uvicorn until interrupted."""
    import uvicorn

    state = SandboxState(seed=seed)
    key = state.default_demo_key()
    key_path = write_key_file(key, key_dir or DEFAULT_KEY_DIR)
    print(startup_message(key, f"http://{host}:{port}", key_path.resolve()), flush=True)
    app = deliver_in_background(create_sandbox_app(state), webhooks(state).deliver_due)
    uvicorn.run(app, host=host, port=port, log_level="info")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the App Store Connect sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--key-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    run_sandbox(args.host, args.port, args.seed, key_dir=args.key_dir)


if __name__ == "__main__":
    main()
