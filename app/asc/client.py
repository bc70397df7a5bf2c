"""The App Store Connect HTTP client: auth, retries, rate-limit tracking, paging, writes.

One ``AscClient`` per API key, sharing the process-wide ``httpx.AsyncClient`` (built by
``app.asc.http_client``; the ``AscClient`` never creates or closes it). Every call goes
through ``_execute``, the single place that:

* signs the request with the key's cached ES256 token (``Authorization: Bearer …``);
* reads ``X-Rate-Limit`` from every response, errors included, and hands it to
  ``on_rate_limit`` so the sync engine can keep a per-key budget in PostgreSQL;
* retries 429 (waiting at least ``Retry-After`` when given), 5xx and transport failures
  with capped exponential backoff and full jitter, a bounded number of times;
* re-mints the token once after a 401 (Apple sends transient 401s, and a skewed clock
  can invalidate a cached token) and raises ``AscUnauthorized`` on the second;
* raises every other 4xx at once as a typed ``AscError``.

Writes are retried more carefully (see ``post_document``/``delete``). Report downloads
(``stream_report``) live in ``app.asc.report_download``: they go through the same loop but
are retried only until their first byte reaches the caller (see ``ReportDownload``).

Logging (logger ``orchard.asc``) carries method, path, status, attempt and key id; never the
token, the Authorization header or key material.
"""

from __future__ import annotations

import enum
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import ValidationError

from app.asc.errors import (
    AscError,
    AscNotFound,
    AscPagingLoop,
    AscRateLimited,
    AscTransportError,
    AscUnauthorized,
    error_from_response,
)
from app.asc.jsonapi import Document
from app.asc.jwt import AscCredentials, TokenMinter
from app.asc.ratelimit import RATE_LIMIT_HEADER, RateLimitInfo, parse_rate_limit
from app.asc.report_download import ReportDownload
from app.asc.retry import RetryPolicy

__all__ = [
    "DEFAULT_PAGE_LIMIT",
    "AscClient",
    "BeforeSend",
    "OnRateLimit",
    "ParamValue",
    "RetryPolicy",
    "join_param",
]

logger = logging.getLogger("orchard.asc")

T = TypeVar("T")
ParamValue = str | int | float | bool | Sequence[str | int] | None
Params = Mapping[str, ParamValue]
OnRateLimit = Callable[[str, RateLimitInfo], Awaitable[None]]
BeforeSend = Callable[[], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

DEFAULT_PAGE_LIMIT = 200
JSON_ACCEPT = "application/json"

# Transport failures where the request provably never reached Apple: safe to retry even for
# non-idempotent writes.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def join_param(values: Iterable[str | int]) -> str:
    """Comma-join an array parameter as Apple expects (``include=build,app``).

    The spec declares array params ``style: form, explode: false``; httpx would otherwise
    send ``include=build&include=app``, which Apple reads as a single value.
    """
    return ",".join(str(value) for value in values)


def _param_text(value: ParamValue) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return join_param(value)


def encode_params(params: Params | None) -> dict[str, str]:
    """Normalise parameter values to strings; sequences are comma-joined, ``None`` dropped."""
    encoded: dict[str, str] = {}
    for key, value in (params or {}).items():
        text = _param_text(value)
        if text is not None:
            encoded[key] = text
    return encoded


class _Retry(enum.Enum):
    """Which failures a request may be repeated after."""

    ALL = "all"  # reads and idempotent writes: 429, 5xx, any transport error
    BEFORE_EFFECT = "before_effect"  # non-idempotent writes: 429 and never-sent failures only


@dataclass(slots=True)
class _Attempts:
    """One logical request's progress across its sends."""

    method: str
    path: str
    mode: _Retry
    sent: int = 0  # every send, the one after a 401 re-mint included
    failures: int = 0  # sends that count against ``RetryPolicy.max_attempts``
    reauthed: bool = False


@dataclass(frozen=True, slots=True)
class _Failure:
    """A send that failed in a way the retry policy decides about (returned, not raised)."""

    error: AscError


class AscClient:
    """App Store Connect API client for one API key."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        credentials: AscCredentials,
        base_url: str,
        *,
        retry: RetryPolicy | None = None,
        on_rate_limit: OnRateLimit | None = None,
        clock: Clock = time.time,
        minter: TokenMinter | None = None,
        before_send: BeforeSend | None = None,
    ) -> None:
        self._http = http
        # Awaited before every send; raising stops the request unsent (the sync engine uses it
        # to stop at the key's budget reserve before Apple would answer 429).
        self.before_send = before_send
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self._origin = self._origin_of(httpx.URL(self.base_url))
        self.retry = retry or RetryPolicy()
        self.on_rate_limit = on_rate_limit
        self._clock = clock
        self._minter = minter or TokenMinter(credentials, clock=clock)
        self.rate_limit: RateLimitInfo | None = None
        self.request_count = 0
        self.status_counts: Counter[int] = Counter()
        self.transport_error_count = 0

    def __repr__(self) -> str:
        return f"AscClient(kid={self.key_id!r}, base_url={self.base_url!r})"

    @property
    def key_id(self) -> str:
        return self.credentials.key_id

    @property
    def minter(self) -> TokenMinter:
        return self._minter

    # -- URLs ---------------------------------------------------------------------------

    @staticmethod
    def _origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
        return (url.scheme, url.host, url.port)

    def _resolve(self, path_or_url: str, params: Params | None = None) -> str:
        """Absolute URL for a path, or an absolute URL checked to be Apple's (our base).

        Following a ``links.next`` to another origin would hand our bearer token to it.
        """
        if path_or_url.startswith(("http://", "https://")):
            url = path_or_url
            if self._origin_of(httpx.URL(url)) != self._origin:
                raise AscError("refusing to send App Store Connect credentials to another origin")
        else:
            url = f"{self.base_url}/{path_or_url.lstrip('/')}"
        encoded = encode_params(params)
        if encoded:
            # Keep commas literal, as Apple documents its array parameters.
            url += ("&" if "?" in url else "?") + urlencode(encoded, safe=",")
        return url

    # -- the request loop ---------------------------------------------------------------

    def _headers(self, accept: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._minter.token()}", "Accept": accept}

    async def _observe(self, response: httpx.Response, attempt: int, started: float) -> None:
        status = response.status_code
        self.status_counts[status] += 1
        logger.debug(
            "asc %s %s -> %s attempt=%d kid=%s %.0fms",
            response.request.method,
            response.request.url.path,
            status,
            attempt,
            self.key_id,
            (time.monotonic() - started) * 1000,
            extra={
                "asc_method": response.request.method,
                "asc_path": response.request.url.path,
                "asc_status": status,
                "asc_attempt": attempt,
                "asc_kid": self.key_id,
            },
        )
        info = parse_rate_limit(response.headers.get(RATE_LIMIT_HEADER))
        if info is None:
            return
        self.rate_limit = info
        if self.on_rate_limit is not None:
            try:
                await self.on_rate_limit(self.key_id, info)
            except Exception:
                # The budget is advisory; failing to persist it must not fail the API call.
                logger.warning("on_rate_limit callback failed kid=%s", self.key_id, exc_info=True)

    async def _execute(
        self,
        method: str,
        url: str,
        *,
        accept: str,
        handle: Callable[[httpx.Response], Awaitable[T]],
        mode: _Retry = _Retry.ALL,
        json_body: Any = None,
    ) -> T:
        """Send until success or a non-retryable failure, then ``handle`` the response.

        ``handle`` runs inside the retry protection on a streamed 2xx response, so a
        transport error while reading the body, or the first bytes of a report, is retried
        like any other failure. ``handle`` owns the response on success.
        """
        attempts = _Attempts(method, httpx.URL(url).path, mode)
        while True:
            attempts.sent += 1
            outcome = await self._send_once(url, accept, handle, json_body, attempts)
            if not isinstance(outcome, _Failure):
                return outcome
            error = outcome.error
            error.method, error.path, error.attempts = method, attempts.path, attempts.sent
            if self._remint_after(error, attempts):
                continue
            delay = self._retry_delay(error, attempts)
            if delay is None:
                raise error
            await self.retry.sleep(delay)

    async def _send_once(
        self,
        url: str,
        accept: str,
        handle: Callable[[httpx.Response], Awaitable[T]],
        json_body: Any,
        attempts: _Attempts,
    ) -> T | _Failure:
        """One send: ``handle``'s result for a 2xx, else the failure for the retry decision.

        An ``AscError`` raised by ``handle`` itself (a body that is not JSON:API, a corrupt
        report start) is final and propagates, tagged with the request.
        """
        if self.before_send is not None:
            await self.before_send()
        request = self._http.build_request(
            attempts.method, url, headers=self._headers(accept), json=json_body
        )
        started = time.monotonic()
        response: httpx.Response | None = None
        self.request_count += 1
        try:
            response = await self._http.send(request, stream=True)
            await self._observe(response, attempts.sent, started)
            if response.is_success:
                return await handle(response)
            return _Failure(await self._read_error(response))
        except httpx.TransportError as exc:
            if response is not None:
                await response.aclose()
            return _Failure(self._transport_error(exc, attempts.mode))
        except AscError as exc:
            if response is not None:
                await response.aclose()
            exc.method, exc.path, exc.attempts = attempts.method, attempts.path, attempts.sent
            raise
        except BaseException:
            if response is not None:
                await response.aclose()
            raise

    async def _read_error(self, response: httpx.Response) -> AscError:
        """The typed error for a non-2xx response (its body read and the response closed)."""
        body = await response.aread()
        await response.aclose()
        return error_from_response(response.status_code, body, response.headers, now=self._clock())

    def _transport_error(self, exc: httpx.TransportError, mode: _Retry) -> AscTransportError:
        self.transport_error_count += 1
        error = AscTransportError(f"{type(exc).__name__} talking to App Store Connect: {exc}")
        # A non-idempotent write may have reached Apple unless the request was never sent.
        if mode is _Retry.BEFORE_EFFECT and not isinstance(exc, _NOT_SENT):
            error.retryable = False
        error.__cause__ = exc
        return error

    def _remint_after(self, error: AscError, attempts: _Attempts) -> bool:
        """After a request's first 401, force a fresh token and send again (not a failure)."""
        if not isinstance(error, AscUnauthorized) or attempts.reauthed:
            return False
        attempts.reauthed = True
        self._minter.token(force=True)
        logger.info(
            "asc %s %s got 401; retrying once with a fresh token kid=%s",
            attempts.method,
            attempts.path,
            self.key_id,
        )
        return True

    def _retry_delay(self, error: AscError, attempts: _Attempts) -> float | None:
        """Seconds to wait before sending again after ``error``; ``None`` means raise it."""
        attempts.failures += 1
        # Non-idempotent writes: a 5xx may have applied the write, so only 429 and
        # never-sent transport failures (see ``_transport_error``) are repeated.
        unsafe = attempts.mode is _Retry.BEFORE_EFFECT and not isinstance(
            error, AscRateLimited | AscTransportError
        )
        retryable = error.retryable and not unsafe
        delay = self.retry.delay_for(error, attempts.failures) if retryable else None
        if delay is None or attempts.failures >= self.retry.max_attempts:
            if retryable:
                logger.warning(
                    "asc %s %s giving up after %d attempts status=%s kid=%s",
                    attempts.method,
                    attempts.path,
                    attempts.sent,
                    error.status,
                    self.key_id,
                )
            return None
        logger.info(
            "asc %s %s retry in %.2fs after %s (attempt %d) kid=%s",
            attempts.method,
            attempts.path,
            delay,
            error.status or type(error).__name__,
            attempts.sent,
            self.key_id,
        )
        return delay

    async def _read_document(self, response: httpx.Response) -> Document:
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        if not body.strip():
            return Document()
        try:
            return Document.model_validate_json(body)
        except ValidationError:
            raise AscError(
                "App Store Connect returned a body that is not a JSON:API document",
                status=response.status_code,
            ) from None

    # -- JSON:API -----------------------------------------------------------------------

    async def _get(self, url: str) -> tuple[Document, str]:
        sent: list[str] = []

        async def handle(response: httpx.Response) -> Document:
            sent.append(str(response.request.url))
            return await self._read_document(response)

        document = await self._execute("GET", url, accept=JSON_ACCEPT, handle=handle)
        return document, sent[-1]

    async def get_document(self, path_or_url: str, params: Params | None = None) -> Document:
        """GET one JSON:API document (a resource or a single page of a list)."""
        document, _ = await self._get(self._resolve(path_or_url, params))
        return document

    async def paginate(self, path: str, params: Params | None = None) -> AsyncIterator[Document]:
        """Yield every page of a list, following document-level ``links.next`` verbatim.

        The first request carries ``params`` (with ``limit=200`` unless given); later pages
        are fetched from the absolute ``next`` URL as-is, because Apple's cursor URL already
        holds every parameter. A ``next`` that repeats a fetched URL raises ``AscPagingLoop``.
        """
        first = dict(params or {})
        first.setdefault("limit", DEFAULT_PAGE_LIMIT)
        url: str | None = self._resolve(path, first)
        seen: set[str] = set()
        while url is not None:
            document, sent = await self._get(url)
            seen.add(sent)
            yield document
            next_url = document.next_url()
            if next_url is None:
                return
            url = self._resolve(next_url)
            if str(httpx.URL(url)) in seen:
                raise AscPagingLoop(
                    "App Store Connect links.next repeats a page already fetched",
                    code="PAGING_LOOP",
                )

    async def post_document(
        self, path: str, body: Mapping[str, Any], *, idempotent: bool = False
    ) -> Document:
        """POST a JSON:API document and return Apple's answer (usually 201 + the resource).

        Unless ``idempotent`` is set, only failures that provably had no effect are retried:
        429 (refused before processing), transport errors before the request was sent, and
        one re-mint after 401. A 5xx or a read timeout may have applied the write, so it is
        raised for the caller to decide. Review replies *overwrite* (POSTing again is
        harmless), so callers may pass ``idempotent=True`` for them.
        """
        mode = _Retry.ALL if idempotent else _Retry.BEFORE_EFFECT
        return await self._execute(
            "POST",
            self._resolve(path),
            accept=JSON_ACCEPT,
            handle=self._read_document,
            mode=mode,
            json_body=dict(body),
        )

    async def delete(self, path: str, *, missing_ok: bool = False) -> None:
        """DELETE a resource. DELETE is idempotent, so all retryable failures are retried;
        a retry after an ambiguous failure can then see 404, hence ``missing_ok``."""

        async def handle(response: httpx.Response) -> None:
            await response.aclose()

        try:
            await self._execute("DELETE", self._resolve(path), accept=JSON_ACCEPT, handle=handle)
        except AscNotFound:
            if not missing_ok:
                raise

    # -- reports ------------------------------------------------------------------------

    def stream_presigned(self, url: str) -> AbstractAsyncContextManager[httpx.Response]:
        """GET a pre-signed download URL Apple handed out (an analytics report segment on
        S3): no ``Authorization`` header (S3 refuses a second auth mechanism, and the key's
        token must never leave for another origin), no retries (the URL expires in minutes:
        the caller asks Apple for a fresh one). Read the body with ``aiter_raw`` to see the
        bytes Apple's checksum covers."""
        return self._http.stream("GET", url, headers={"Accept": "*/*"})

    def stream_report(self, path: str, params: Params | None = None) -> ReportDownload:
        """Download a gzip report as decompressed byte chunks.

        Use as ``async with client.stream_report(path, params) as report: async for chunk
        in report: ...``; ``report.version`` is Apple's ``x-reports-download-version``.
        """
        return ReportDownload(self, self._resolve(path, params))
