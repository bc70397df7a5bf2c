"""Benchmark: machine instructions per ``GET /health``, Orchard against a bare Starlette endpoint,
through uvicorn's own HTTP/1.1 protocol object — a figure the machine's load cannot move.

    python tests/benchmarks/request_instructions.py [--requests 300]

Each app is served by uvicorn's ``H11Protocol`` (as ``orchard serve`` runs it: ``proxy_headers``,
Orchard's logging configured) over a fake transport, so a request is parsed, routed, answered
and written exactly as in the server, without the kernel's socket work. Each side runs under
valgrind's callgrind with instrumentation switched on after start-up and a warm-up: the count of
``--requests`` requests, then of twice as many (the second gives the figure; the first shows it
is stable). Needs ``valgrind``; each side takes a minute or two.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REQUEST = (
    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept: application/json\r\n"
    b"Accept-Encoding: gzip, deflate\r\nUser-Agent: bench\r\n\r\n"
)


def load_app(which: str) -> Any:
    from uvicorn.config import Config

    if which == "bare":
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def health(_: Request) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        config = Config(
            Starlette(routes=[Route("/health", health)]),
            log_config=None,
            proxy_headers=True,
            log_level="warning",
        )
    else:
        from app.config import get_settings
        from app.kit.logging import configure_logging
        from app.main import create_app

        settings = get_settings().model_copy(update={"run_worker": False})
        configure_logging(settings.log_level, settings.log_format.value)
        config = Config(create_app(settings), log_config=None, proxy_headers=True)
    config.load()
    gc.freeze()  # as the lifespan does once the app is up
    return config


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def write(self, data: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        self.closing = True


async def serve(which: str, count: int, handshakes: Path) -> None:
    """Inside valgrind: warm up, then the two measured runs, each between two handshakes
    with the driver (which switches instrumentation on, dumps and zeroes the counters)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.server import ServerState

    state = ServerState()
    protocol = H11Protocol(load_app(which), state, {})
    protocol.connection_made(FakeTransport())

    async def run(n: int) -> None:
        for _ in range(n):
            protocol.data_received(REQUEST)
            await asyncio.gather(*state.tasks)

    def handshake(step: int) -> None:
        (handshakes / "pid").write_text(str(os.getpid()))
        (handshakes / "pid").rename(handshakes / f"ready{step}")
        while not (handshakes / f"go{step}").exists():
            time.sleep(0.02)

    await run(200)
    handshake(1)
    await run(count)
    handshake(2)
    await run(2 * count)
    handshake(3)


def measure(which: str, count: int) -> tuple[float, float]:
    """Instructions per request: (first run, second run)."""
    folder = Path(tempfile.mkdtemp(prefix=f"instructions-{which}-"))
    out = folder / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    command += [f"--callgrind-out-file={out}", sys.executable, __file__]
    command += ["--serve", which, "--requests", str(count), "--handshakes", str(folder)]
    env = {**os.environ, "ORCHARD_LOG_LEVEL": "WARNING"}
    with open(folder / "valgrind.log", "w") as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)

    def wait(step: int) -> None:
        while not (folder / f"ready{step}").exists():
            if process.poll() is not None:
                raise RuntimeError((folder / "valgrind.log").read_text()[-2000:])
            time.sleep(0.1)

    def control(*args: str) -> None:
        subprocess.run(
            ["callgrind_control", *args, str(process.pid)], check=True, capture_output=True
        )

    wait(1)
    control("--instr=on")
    (folder / "go1").touch()
    wait(2)
    control("--dump=first")
    control("--zero")
    (folder / "go2").touch()
    wait(3)
    control("--dump=second")
    (folder / "go3").touch()
    process.wait()
    totals = {}
    for dump in folder.glob("callgrind.out.*"):
        text = dump.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: .*?(\w+)$", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if name and total:
            totals[name.group(1)] = int(total.group(1))
    return totals["first"] / count, totals["second"] / (2 * count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--handshakes", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        sys.path.insert(0, str(ROOT))
        asyncio.run(serve(args.serve, args.requests, args.handshakes))
        return
    figures = {which: measure(which, args.requests) for which in ("bare", "orchard")}
    for which, (first, second) in figures.items():
        print(f"{which}: {second:,.0f} instructions per GET /health (first run {first:,.0f})")
    ratio = figures["bare"][1] / figures["orchard"][1]
    print(f"ratio (bare / Orchard): {ratio:.3f}")


if __name__ == "__main__":
    main()
