"""Pre-signed segment URLs, served by the sandbox like S3 serves Apple's (ANALYTICS §2, §5, §9).

A segment's ``url`` is minted fresh on every read of the segment (list or single GET) and
points at the sandbox's ``/analytics-s3/reports/<app id>/<REPORT>/<GRANULARITY>/<ACCESS>/
<YYYYMMDD>/<epoch millis>/<n>.csv.gz`` (Apple's path shape, named ``.csv.gz`` though the
content is TSV) with S3 v4 pre-signing query parameters. It needs no ``Authorization`` and is
valid ``url_lifetime_seconds`` (300) by the sandbox clock.

Answers (S3's XML error documents):

- 200: the gzip bytes, ``Content-Type: application/octet-stream``, ``Content-Length``, an
  ``ETag`` of the MD5 in quotes, no ``Content-Encoding`` (a client must not gunzip on the fly
  before checking the MD5);
- expired: 403 ``AccessDenied`` "Request has expired" (default) or 400 ``ExpiredToken``
  (``expired_url`` knob; the status is unconfirmed, ANALYTICS §10);
- an ``Authorization`` header as well: 400 ``InvalidArgument`` "Only one auth mechanism
  allowed" (S3 refuses a pre-signed URL that also carries a bearer token);
- a tampered query: 403 ``SignatureDoesNotMatch``; an unknown path or an instance that has
  been deleted since: 404 ``NoSuchKey``.

A corrupted segment (:meth:`.AnalyticsLedger.corrupt`) is served with one byte flipped or cut
short; every download counts as "retrieving data" for the inactivity rule.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from app.sandbox.analytics_files import (
    FileFormat,
    SegmentPlan,
    segment_chunks,
    segment_id,
    segment_plans,
)
from app.sandbox.analytics_instances import Instance, find_instance, publish_moment
from app.sandbox.analytics_ledger import (
    AnalyticsLedger,
    AnalyticsOptions,
    Corruption,
    analytics,
)
from app.sandbox.seeding import stable_hash
from app.sandbox.state import SandboxState

PATH_PREFIX = "/analytics-s3"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


def _secret(state: SandboxState) -> bytes:
    return hashlib.sha256(f"analytics-s3|{state.seed}".encode()).digest()


def _signature(state: SandboxState, path: str, amz_date: str, expires: str) -> str:
    message = f"{path}\n{amz_date}\n{expires}".encode()
    return hmac.new(_secret(state), message, hashlib.sha256).hexdigest()


def segment_path(instance: Instance, index: int, options: AnalyticsOptions) -> str:
    request, report = instance.request, instance.report
    published = publish_moment(instance.processing_date, options)
    epoch_ms = int(published.timestamp() * 1000) + stable_hash(request.id) % 997 + instance.copy
    return (
        f"{PATH_PREFIX}/reports/{instance.app.id}/{report.path_code}/{instance.granularity}/"
        f"{request.access_type}/{instance.processing_date:%Y%m%d}/{epoch_ms}/{index}.csv.gz"
    )


def mint_url(state: SandboxState, base_url: str, instance: Instance, index: int) -> str:
    """A fresh pre-signed URL of segment ``index`` of ``instance``, valid from now."""
    ledger = analytics(state)
    path = segment_path(instance, index, ledger.options)
    ledger.url_paths[path] = segment_id(instance, index)
    amz_date = state.now().astimezone(UTC).strftime(_AMZ_DATE)
    expires = str(ledger.options.url_lifetime_seconds)
    token = hashlib.sha256(f"{state.seed}|{amz_date}".encode()).hexdigest()
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Date": amz_date,
        "X-Amz-SignedHeaders": "host",
        "X-Amz-Expires": expires,
        "X-Amz-Credential": f"ASIASANDBOX/{amz_date[:8]}/us-west-2/s3/aws4_request",
        "X-Amz-Security-Token": token,
        "X-Amz-Signature": _signature(state, path, amz_date, expires),
    }
    return f"{base_url}{path}?{urlencode(query)}"


# --- serving -----------------------------------------------------------------------------


def _s3_error(status: int, code: str, message: str, extra: str = "") -> Response:
    request_id = uuid.uuid4().hex[:16].upper()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{extra}"
        f"<RequestId>{request_id}</RequestId><HostId>sandbox</HostId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def _expired(ledger: AnalyticsLedger, expires_at: datetime, now: datetime) -> Response:
    if ledger.options.expired_url == "expired_token":
        return _s3_error(400, "ExpiredToken", "The provided token has expired.")
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    extra = (
        f"<X-Amz-Expires>{ledger.options.url_lifetime_seconds}</X-Amz-Expires>"
        f"<Expires>{expires_at.strftime(stamp)}</Expires>"
        f"<ServerTime>{now.astimezone(UTC).strftime(stamp)}</ServerTime>"
    )
    return _s3_error(403, "AccessDenied", "Request has expired", extra)


def _check_signature(state: SandboxState, request: Request) -> tuple[Response | None, datetime]:
    q = request.query_params
    amz_date, expires = q.get("X-Amz-Date", ""), q.get("X-Amz-Expires", "")
    expected = _signature(state, request.url.path, amz_date, expires)
    bad = _s3_error(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    )
    if not hmac.compare_digest(expected, q.get("X-Amz-Signature", "")):
        return bad, state.now()
    try:
        issued = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
        return None, issued + timedelta(seconds=int(expires))
    except ValueError:
        return bad, state.now()


def _spoiled(
    chunks: Iterator[bytes], plan: SegmentPlan, corruption: Corruption | None
) -> tuple[Iterator[bytes], int]:
    """The body (possibly corrupted) and its length."""
    if corruption is None or not corruption.applies():
        return chunks, plan.size
    corruption.served += 1
    if corruption.kind == "truncate":
        keep = max(10, plan.size * 3 // 5)
        return _cut(chunks, keep), keep
    return _flip(chunks, plan.size // 2), plan.size


def _cut(chunks: Iterator[bytes], keep: int) -> Iterator[bytes]:
    sent = 0
    for chunk in chunks:
        if sent >= keep:
            return
        piece = chunk[: keep - sent]
        sent += len(piece)
        yield piece


def _flip(chunks: Iterator[bytes], position: int) -> Iterator[bytes]:
    offset = 0
    for chunk in chunks:
        if offset <= position < offset + len(chunk):
            at = position - offset
            chunk = chunk[:at] + bytes([chunk[at] ^ 0xFF]) + chunk[at + 1 :]
        offset += len(chunk)
        yield chunk


def download_endpoint(state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint serving ``/analytics-s3/...`` for ``state``."""

    async def download(request: Request) -> Response:
        ledger, now = analytics(state), state.now()
        if request.headers.get("authorization"):
            return _s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the "
                "X-Amz-Algorithm query parameter, Signature query string parameter "
                "or the Authorization header should be specified",
            )
        refused, expires_at = _check_signature(state, request)
        if refused is not None:
            return refused
        if now > expires_at:
            return _expired(ledger, expires_at, now)
        found = _resolve(state, ledger, request.url.path, now)
        if found is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        instance, plan, seg_id = found
        fmt = FileFormat.of(ledger, instance.app.id)
        instance.request.last_retrieved_at = now
        body, length = _spoiled(
            segment_chunks(instance, fmt, plan), plan, ledger.corruptions.get(seg_id)
        )
        headers = {"Content-Length": str(length), "ETag": f'"{plan.md5}"'}
        return StreamingResponse(body, media_type="application/octet-stream", headers=headers)

    return download


def route(state: SandboxState) -> Route:
    """The ``/analytics-s3/...`` route of the sandbox app (outside ``/v1``: no bearer token)."""
    return Route(f"{PATH_PREFIX}/{{path:path}}", download_endpoint(state), methods=["GET"])


def _resolve(
    state: SandboxState, ledger: AnalyticsLedger, path: str, now: datetime
) -> tuple[Instance, SegmentPlan, str] | None:
    seg_id = ledger.url_paths.get(path)
    known = ledger.segment_index.get(seg_id or "")
    if seg_id is None or known is None:
        return None
    instance_id, index = known
    owner = ledger.instance_index.get(instance_id)
    request = ledger.requests.get(owner[0]) if owner else None
    if request is None:
        return None
    instance = find_instance(ledger, request.team, instance_id, now)
    if instance is None:
        return None
    plans = segment_plans(instance, FileFormat.of(ledger, instance.app.id))
    return (instance, plans[index], seg_id) if index < len(plans) else None
