"""The one ``httpx.AsyncClient`` a process shares for App Store Connect, and its defaults.

Built once at startup (``app.main``, the CLI) and injected into every ``AscClient``; nothing
connects at import time.
"""

from __future__ import annotations

import importlib.metadata

import httpx

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "asc_timeout", "create_http_client", "user_agent"]

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


def asc_timeout(read_seconds: float) -> httpx.Timeout:
    """Apple timeouts, with the read timeout configured (a stalled read holds a lease). Here,
    not in ``app.main``, so a worker process does not import the API to build its client."""
    return httpx.Timeout(
        connect=DEFAULT_TIMEOUT.connect,
        read=read_seconds,
        write=DEFAULT_TIMEOUT.write,
        pool=DEFAULT_TIMEOUT.pool,
    )


def user_agent() -> str:
    try:
        version = importlib.metadata.version("orchard")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
        version = "0"
    return f"orchard/{version}"


def create_http_client(
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limits: httpx.Limits = DEFAULT_LIMITS,
    agent: str | None = None,
) -> httpx.AsyncClient:
    """The one ``httpx.AsyncClient`` a process shares for App Store Connect.

    Explicit timeouts because httpx's 5 s default is too short for report downloads and no
    timeout at all would let a stalled socket hold a worker's lease forever. ``transport``
    lets the app point the client at the built-in sandbox (``httpx.ASGITransport``).
    Redirects are not followed: Apple does not redirect API calls, and a redirect should
    never carry our bearer token elsewhere.
    """
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        limits=limits,
        headers={"User-Agent": agent or user_agent()},
        follow_redirects=False,
    )
