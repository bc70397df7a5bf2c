"""Fault injection: the sandbox misbehaving the way App Store Connect and the network do.

A :class:`FaultPlan` switched on for a :class:`~app.sandbox.state.SandboxState` with
:func:`inject` makes a share (``rate``) of its ``/v1`` requests fail with one of the
:class:`Fault` kinds instead of (or on top of) the normal answer:

* ``429`` with and without ``Retry-After``, ``500`` (Apple's JSON ``UNEXPECTED_ERROR``), ``502``
  and ``503`` (the HTML pages of Apple's edge, not JSON:API documents);
* a connection reset: headers announced, then the connection is dropped without a body;
* a read timeout: nothing is sent for ``stall_seconds`` (longer than the client's read
  timeout), then the connection is dropped;
* a truncated gzip body: a report answered ``200`` whose gzip stream stops part-way (complete
  HTTP message, cut file);
* a ``links.next`` loop: a list page whose ``next`` link points back at the page itself.

``paths`` narrows a plan to some routes: with ``rate=1.0`` and no ``limit_per_request`` one
endpoint then fails every time, however often it is retried (an Apple endpoint broken for a
while), and everything else answers normally — ``orchard demo`` shows a failing dataset so.

Decisions are deterministic for a seed, whatever the order or concurrency of requests: whether
the n-th sending of one request (key, method, path and query) fails, and how, is a hash of
``(seed, request, n)``. Every fault that took effect is logged in :attr:`FaultPlan.injected`
(a truncation drawn for a 404 changes nothing and is not). Requests answered by a fault never
reach the simulated API, so :attr:`SandboxState.requests` keeps listing only what the API
itself handled (truncated reports and looping pages are handled, then spoiled).

Over a real socket (uvicorn) a dropped connection is a real one. In-process
(``httpx.ASGITransport``) there is no socket to drop and no timeout to hit, so the same faults
end by raising the ``httpx`` transport error the client would have seen
(``RemoteProtocolError`` / ``ReadTimeout``); ASGITransport hands app exceptions to the caller.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import weakref
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

import httpx
import jwt
from starlette.datastructures import URL
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.sandbox.errors import rate_limited, unexpected
from app.sandbox.ratelimit import default_header
from app.sandbox.state import SandboxState

REPORT_PATHS = frozenset({"/v1/salesReports", "/v1/financeReports"})


class Fault(StrEnum):
    RATE_LIMITED = "rate_limited"  # 429 + Retry-After
    RATE_LIMITED_BARE = "rate_limited_bare"  # 429, no Retry-After (Apple documents none)
    SERVER_ERROR = "server_error"  # 500
    BAD_GATEWAY = "bad_gateway"  # 502
    UNAVAILABLE = "unavailable"  # 503
    CONNECTION_RESET = "connection_reset"
    READ_TIMEOUT = "read_timeout"
    TRUNCATED_GZIP = "truncated_gzip"  # report downloads only
    PAGING_LOOP = "paging_loop"  # list pages only


#: Faults a retry can get past; a paging loop is Apple's bug and repeats until it is fixed.
TRANSIENT = frozenset(Fault) - {Fault.PAGING_LOOP}


@dataclass(frozen=True)
class InjectedFault:
    key_id: str | None
    method: str
    path: str
    query: str
    fault: Fault


@dataclass
class FaultPlan:
    """Which share of requests fail, and how. Mutable on purpose: tests retune it live."""

    rate: float = 0.2
    seed: int = 0
    kinds: frozenset[Fault] = TRANSIENT
    retry_after_seconds: int = 1
    #: How long a read-timeout fault stays silent before dropping the connection.
    stall_seconds: float = 2.0
    #: Fail one request (same key, method, path and query) at most this often, then let it
    #: through: with ``rate=1.0`` every request fails exactly this many times.
    limit_per_request: int | None = None
    #: Only requests to these paths (``/v1/financeReports``) may fail; None: every ``/v1`` path.
    paths: frozenset[str] | None = None
    injected: list[InjectedFault] = field(default_factory=list)
    _sent: Counter[str] = field(default_factory=Counter, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if not self.kinds:
            raise ValueError("kinds must name at least one fault")

    def decide(self, key_id: str | None, method: str, path: str, query: str) -> Fault | None:
        """The fault for this sending of this request, or None (answer normally)."""
        if self.paths is not None and path not in self.paths:
            return None
        request = f"{key_id}|{method}|{path}?{query}"
        nth = self._sent[request]
        self._sent[request] += 1
        if self.limit_per_request is not None and nth >= self.limit_per_request:
            return None
        digest = hashlib.blake2b(f"{self.seed}|{request}|{nth}".encode(), digest_size=16)
        value = int.from_bytes(digest.digest(), "big")
        if (value % 1_000_000) / 1_000_000 >= self.rate:
            return None
        candidates = sorted(kind for kind in self.kinds if _applies(kind, method, path))
        if not candidates:
            return None
        return candidates[(value >> 64) % len(candidates)]

    def counts(self) -> Counter[Fault]:
        return Counter(item.fault for item in self.injected)


def _applies(fault: Fault, method: str, path: str) -> bool:
    report = path in REPORT_PATHS
    if fault is Fault.TRUNCATED_GZIP:
        return method == "GET" and report
    if fault is Fault.PAGING_LOOP:
        return method == "GET" and not report
    return True


_PLANS: weakref.WeakKeyDictionary[SandboxState, FaultPlan] = weakref.WeakKeyDictionary()


def inject(state: SandboxState, plan: FaultPlan) -> FaultPlan:
    """Switch faults on for ``state`` (replacing any earlier plan); returns the plan."""
    _PLANS[state] = plan
    return plan


def clear(state: SandboxState) -> None:
    """Switch faults off: the sandbox answers normally again."""
    _PLANS.pop(state, None)


def plan_for(state: SandboxState) -> FaultPlan | None:
    return _PLANS.get(state)


def _key_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = value.decode("latin-1").removeprefix("Bearer ").strip()
            try:
                kid = jwt.get_unverified_header(token).get("kid")
            except jwt.PyJWTError:
                return None
            return kid if isinstance(kid, str) else None
    return None


class FaultInjector:
    """ASGI middleware applying the state's :class:`FaultPlan` (if any) to ``/v1`` requests."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = plan_for(self.state)
        if plan is None or scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        key_id = _key_id(scope)
        query = scope.get("query_string", b"").decode("latin-1")
        fault = plan.decide(key_id, scope["method"], scope["path"], query)
        if fault is None:
            await self.app(scope, receive, send)
            return
        injected = InjectedFault(key_id, scope["method"], scope["path"], query, fault)
        if fault in (Fault.TRUNCATED_GZIP, Fault.PAGING_LOOP):
            await self._spoil(injected, plan, scope, receive, send)
        else:
            plan.injected.append(injected)  # before answering: the client may look at once
            await self._refuse(fault, plan, key_id, send)

    def _rate_header(self, key_id: str | None) -> tuple[bytes, bytes]:
        key = self.state.keys.get(key_id or "")
        return b"x-rate-limit", (key.rate.header() if key else default_header()).encode()

    async def _refuse(self, fault: Fault, plan: FaultPlan, key_id: str | None, send: Send) -> None:
        if fault is Fault.READ_TIMEOUT:
            await asyncio.sleep(plan.stall_seconds)
            await _start(send, 200, [(b"content-type", b"application/json")], length=512)
            raise httpx.ReadTimeout("sandbox fault: the response stalled past the read timeout")
        if fault is Fault.CONNECTION_RESET:
            # Uvicorn answers an exception raised before the headers with a 500, so announce a
            # body first: an exception after that makes it drop the connection.
            await _start(send, 200, [(b"content-type", b"application/json")], length=512)
            raise httpx.RemoteProtocolError("sandbox fault: connection reset by peer")
        if fault in (Fault.RATE_LIMITED, Fault.RATE_LIMITED_BARE):
            retry = plan.retry_after_seconds if fault is Fault.RATE_LIMITED else None
            response = rate_limited(retry).response()
        elif fault is Fault.SERVER_ERROR:
            response = unexpected().response()
        else:
            status = 502 if fault is Fault.BAD_GATEWAY else 503
            title = "Bad Gateway" if status == 502 else "Service Unavailable"
            body = f"<html><body><h1>{status} {title}</h1></body></html>".encode()
            headers = [(b"content-type", b"text/html"), self._rate_header(key_id)]
            await _start(send, status, headers, length=len(body))
            await send({"type": "http.response.body", "body": body})
            return
        body = bytes(response.body)
        headers = [*response.raw_headers, self._rate_header(key_id)]
        await _start(send, response.status_code, headers, length=len(body))
        await send({"type": "http.response.body", "body": body})

    async def _spoil(
        self, injected: InjectedFault, plan: FaultPlan, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Let the API answer, then cut the report short or loop the list's ``next`` link
        (an error answer, or a report that is not gzip, goes out untouched and unlogged)."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        assert start is not None, "the sandbox sent no response"
        original = b"".join(chunks)
        body = original
        if start["status"] == 200:
            if injected.fault is Fault.TRUNCATED_GZIP:
                body = _truncate(original)
            else:
                body = _loop(original, str(URL(scope=scope)))
        if body != original:
            plan.injected.append(injected)
        await _start(send, start["status"], start.get("headers", []), length=len(body))
        await send({"type": "http.response.body", "body": body})


async def _start(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], *, length: int | None
) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})


def _truncate(body: bytes) -> bytes:
    """Keep the first ~60 % of a gzip body: valid gzip as far as it goes, with no end."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    cut = max(len(body) * 3 // 5, 10)  # past the 10-byte gzip header, before the trailer
    if cut >= len(body) - 8:
        # A tiny file: rebuild it so that only its deflate end is missing.
        payload = gzip.decompress(body)
        return gzip.compress(payload)[:-8]
    return body[:cut]


def _loop(body: bytes, own_url: str) -> bytes:
    """Point a list page's ``links.next`` at the page itself (a cursor that never advances)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        return body
    links = document.setdefault("links", {})
    if isinstance(links, dict):
        links["next"] = own_url
    return json.dumps(document).encode()
