"""One delivery attempt over HTTP: checked address, signed body, hard timeout, no redirects.

The receiver's answer is kept for the deliveries list: its status, the time it took and the
first :data:`MAX_RESPONSE_CHARS` characters of its body (Orchard reads at most
:data:`MAX_RESPONSE_BYTES` of it). Nothing Orchard sent (the secret, the signature) is kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from app import __version__
from app.webhooks import network, signing
from app.webhooks.network import Resolver, UnsafeUrl

MAX_RESPONSE_BYTES = 4096
MAX_RESPONSE_CHARS = 1024
USER_AGENT = f"Orchard-Webhooks/{__version__}"
_MAX_CLIENTS = 256


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    latency_ms: int
    error: str | None = None
    response_body: str | None = None
    retry_after: dt.timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def _retry_after(value: str | None) -> dt.timedelta | None:
    if not value:
        return None
    if value.strip().isdigit():
        return dt.timedelta(seconds=int(value.strip()))
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(moment - dt.datetime.now(dt.UTC), dt.timedelta(0))


def _failure(status: int) -> str:
    if 300 <= status < 400:
        return f"the receiver answered {status}: redirects are not followed"
    return f"the receiver answered {status}"


class WebhookSender:
    """Sends signed events. One HTTP client per receiver host: a kept-alive connection is
    only ever reused for the host name its TLS certificate was checked for."""

    def __init__(
        self,
        *,
        timeout: float,
        allow_private: bool,
        resolver: Resolver = network.system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self.resolver = resolver
        self.transport = transport
        self.wall_clock = wall_clock
        self._clients: OrderedDict[str, httpx.AsyncClient] = OrderedDict()

    def _client(self, host: str) -> httpx.AsyncClient:
        client = self._clients.pop(host, None)
        if client is None:
            client = httpx.AsyncClient(
                transport=self.transport,
                timeout=self.timeout,
                follow_redirects=False,
                trust_env=False,  # no proxy from the environment: it would skip the checks
            )
            if len(self._clients) >= _MAX_CLIENTS:
                _, oldest = self._clients.popitem(last=False)
                asyncio.get_running_loop().create_task(oldest.aclose())
        self._clients[host] = client
        return client

    async def aclose(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)

    async def send(self, url: str, secrets: Sequence[str], msg_id: str, body: str) -> Attempt:
        started = time.monotonic()

        def elapsed() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            target = await network.resolve(url, self.resolver, allow_private=self.allow_private)
        except UnsafeUrl as refused:
            return Attempt(None, elapsed(), f"not sent: the URL {refused.message}")
        payload = body.encode()
        timestamp = int(self.wall_clock())
        headers = {
            **target.headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signing.signature_header(secrets, msg_id, timestamp, payload),
        }
        client = self._client(target.host)
        try:
            async with asyncio.timeout(self.timeout):
                request = client.build_request(
                    "POST",
                    target.url,
                    content=payload,
                    headers=headers,
                    extensions=target.extensions,
                )
                response = await client.send(request, stream=True, follow_redirects=False)
                try:
                    received = await _read_some(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return Attempt(None, elapsed(), f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as error:
            return Attempt(None, elapsed(), f"{type(error).__name__}: {error}"[:500])
        status = response.status_code
        text = received.decode("utf-8", errors="replace")[:MAX_RESPONSE_CHARS]
        return Attempt(
            status_code=status,
            latency_ms=elapsed(),
            error=None if 200 <= status < 300 else _failure(status),
            response_body=text,
            retry_after=_retry_after(response.headers.get("Retry-After")),
        )


async def _read_some(response: httpx.Response) -> bytes:
    received = b""
    async for chunk in response.aiter_bytes():
        received += chunk
        if len(received) >= MAX_RESPONSE_BYTES:
            break
    return received[:MAX_RESPONSE_BYTES]
