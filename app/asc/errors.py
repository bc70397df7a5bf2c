"""Typed errors for everything that can go wrong talking to App Store Connect.

Apple answers failures with JSON:API error documents
(``{"errors": [{id, status, code, title, detail, source: {parameter | pointer}}]}``) and the
sync engine must react differently to each kind (back off, re-mint, mark the credential
broken, record "no sales" as a real zero, ...). Callers therefore catch *classes*, never
compare status codes or detail strings themselves; the classification lives here, once::

    AscError                         base: status, code, detail, errors, retryable
    ├── AscTransportError            connect/read timeouts, resets          (retryable)
    ├── AscRateLimited               429, .retry_after from Retry-After     (retryable)
    ├── AscServerError               5xx                                    (retryable)
    ├── AscUnauthorized              401 NOT_AUTHORIZED (after one re-mint)
    ├── AscForbidden                 403, .reason = missing_role | agreement_required | other
    │   └── AscAgreementRequired     403 FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED
    ├── AscNotFound                  404, .kind = no_sales | not_available_yet | other
    ├── AscInvalidParameter          400, .parameter (source.parameter), .latest_version
    ├── AscConflict                  409 (writes)
    ├── AscGone                      410 (report past its retention horizon)
    ├── AscUnprocessable             422 (writes)
    ├── AscReportCorrupt             truncated / invalid gzip or TSV body
    └── AscPagingLoop                links.next repeated a URL already fetched

Other statuses (405, 413, ...) become a plain ``AscError``.

Nothing here ever holds the JWT or key material: errors are built from Apple's response body
only, and every human-readable string is scrubbed of anything that looks like a bearer
token or a PEM block before it is stored, so logging ``str(exc)``/``repr(exc)`` is safe.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "AGREEMENT_CODE",
    "AppleErrorItem",
    "AscAgreementRequired",
    "AscConflict",
    "AscError",
    "AscForbidden",
    "AscGone",
    "AscInvalidParameter",
    "AscNotFound",
    "AscPagingLoop",
    "AscRateLimited",
    "AscReportCorrupt",
    "AscServerError",
    "AscTransportError",
    "AscUnauthorized",
    "AscUnprocessable",
    "ForbiddenReason",
    "NotFoundKind",
    "error_from_response",
    "parse_error_items",
    "parse_retry_after",
    "redact",
]

AGREEMENT_CODE = "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"
NO_SALES_DETAIL = "There were no sales for the date specified."

_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_PEM_RE = re.compile(r"-----BEGIN[^-]*-----.*?(?:-----END[^-]*-----|$)", re.DOTALL)
_BEARER_RE = re.compile(r"(?i)bearer\s+\S+")
_LATEST_VERSION_RE = re.compile(r"latest version for this report is\s+(\d+_\d+)", re.IGNORECASE)
_NOT_AVAILABLE_RE = re.compile(r"not (?:yet )?available(?: yet)?", re.IGNORECASE)
_MAX_TEXT = 500


def redact(text: str) -> str:
    """Remove anything that looks like a JWT, a bearer header or a PEM block.

    Apple never echoes our token, but a misbehaving proxy or a future code path might; the
    cost of scrubbing a short string is nothing next to leaking a signing credential.
    """
    text = _PEM_RE.sub("[redacted key]", text)
    text = _BEARER_RE.sub("Bearer [redacted]", text)
    return _JWT_RE.sub("[redacted token]", text)


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = redact(text)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"


class ForbiddenReason(StrEnum):
    """Why Apple refused a request; each maps to a different remedy for a person."""

    MISSING_ROLE = "missing_role"  # FORBIDDEN_ERROR: the key's role does not allow this call
    AGREEMENT_REQUIRED = "agreement_required"  # Account Holder must accept an agreement
    OTHER = "other"  # an unknown 403 code; kept apart so it is not misdiagnosed


class NotFoundKind(StrEnum):
    """404s mean very different things for reports: a real zero day vs. not published yet."""

    NO_SALES = "no_sales"
    NOT_AVAILABLE_YET = "not_available_yet"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class AppleErrorItem:
    """One entry of Apple's ``errors`` array (schema ``ResponseError``)."""

    status: str | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    id: str | None = None
    source_parameter: str | None = None
    source_pointer: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class AscError(Exception):
    """Base of every App Store Connect failure.

    ``retryable`` says whether repeating the identical request later may succeed; the client
    uses it for its own bounded retries and the sync engine for rescheduling.
    """

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        errors: list[AppleErrorItem] | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.message = _clean(message) or ""
        self.status = status
        self.code = code
        self.detail = _clean(detail)
        self.errors: list[AppleErrorItem] = list(errors or [])
        self.retryable = self.default_retryable if retryable is None else retryable
        # Filled in by the client so logs and sync-status can say which call failed.
        self.method: str | None = None
        self.path: str | None = None
        self.attempts: int | None = None
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.message]
        if self.method and self.path:
            parts.append(f"({self.method} {self.path})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"detail={self.detail!r})"
        )


class AscTransportError(AscError):
    """The request did not complete: DNS/connect failure, timeout, connection reset."""

    default_retryable = True


class AscRateLimited(AscError):
    """HTTP 429 ``RATE_LIMIT_EXCEEDED``; ``retry_after`` is seconds when Apple said so."""

    default_retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class AscServerError(AscError):
    """HTTP 5xx: Apple's side failed; usually transient."""

    default_retryable = True


class AscUnauthorized(AscError):
    """HTTP 401 even after re-minting the token: key revoked, wrong issuer/kid, clock skew."""


class AscForbidden(AscError):
    """HTTP 403; ``reason`` separates a missing key role from an unsigned agreement."""

    def __init__(
        self, message: str, *, reason: ForbiddenReason = ForbiddenReason.OTHER, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.reason = reason


class AscAgreementRequired(AscForbidden):
    """403 ``FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED``: not a key problem at all."""

    def __init__(self, message: str, **kw: Any) -> None:
        kw.pop("reason", None)
        super().__init__(message, reason=ForbiddenReason.AGREEMENT_REQUIRED, **kw)


class AscNotFound(AscError):
    """HTTP 404; for reports ``kind`` tells a real zero day from a not-yet-published one."""

    def __init__(self, message: str, *, kind: NotFoundKind = NotFoundKind.OTHER, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.kind = kind


class AscInvalidParameter(AscError):
    """HTTP 400; ``parameter`` is Apple's ``source.parameter`` (e.g. ``filter[version]``)."""

    def __init__(self, message: str, *, parameter: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.parameter = parameter

    @property
    def latest_version(self) -> str | None:
        """Report version Apple says is current ("… latest version for this report is 1_1.")."""
        texts = [self.detail, *(item.detail for item in self.errors)]
        for text in texts:
            if text and (match := _LATEST_VERSION_RE.search(text)):
                return match.group(1)
        return None


class AscConflict(AscError):
    """HTTP 409 (``ENTITY_ERROR.*``) on writes."""


class AscUnprocessable(AscError):
    """HTTP 422 on writes: the body was understood but refused."""


class AscGone(AscError):
    """HTTP 410: the report is past Apple's retention horizon; never retry."""


class AscReportCorrupt(AscError):
    """A report body was truncated or not valid gzip/TSV; re-download the whole file."""


class AscPagingLoop(AscError):
    """``links.next`` pointed at a page already fetched; following it would never end."""


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Apple does not document the header, so anything unparseable is simply ``None``.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def parse_error_items(body: bytes | str | None) -> list[AppleErrorItem]:
    """Parse Apple's ``{"errors": [...]}``; anything else yields an empty list."""
    if not body:
        return []
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(document, dict):
        return []
    raw_items = document.get("errors")
    if not isinstance(raw_items, list):
        return []
    items: list[AppleErrorItem] = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            continue
        source = raw.get("source")
        source = source if isinstance(source, dict) else {}
        meta = raw.get("meta")
        meta = meta if isinstance(meta, dict) else {}
        items.append(
            AppleErrorItem(
                status=_str_or_none(raw.get("status")),
                code=_str_or_none(raw.get("code")),
                title=_clean(_str_or_none(raw.get("title"))),
                detail=_clean(_str_or_none(raw.get("detail"))),
                id=_str_or_none(raw.get("id")),
                source_parameter=_str_or_none(source.get("parameter")),
                source_pointer=_str_or_none(source.get("pointer")),
                meta=dict(meta),
            )
        )
    return items


def _body_text(body: bytes | str | None) -> str | None:
    if not body:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text or None


def _not_found_kind(items: list[AppleErrorItem], detail: str | None) -> NotFoundKind:
    details = [d for d in (detail, *(i.detail for i in items)) if d]
    for text in details:
        normalised = " ".join(text.split()).lower()
        if normalised.startswith(NO_SALES_DETAIL.lower().rstrip(".")):
            return NotFoundKind.NO_SALES
    for text in details:
        if _NOT_AVAILABLE_RE.search(text) and "no longer" not in text.lower():
            return NotFoundKind.NOT_AVAILABLE_YET
    return NotFoundKind.OTHER


def error_from_response(
    status: int,
    body: bytes | str | None,
    headers: Mapping[str, str] | None = None,
    *,
    now: float | None = None,
) -> AscError:
    """Build the right ``AscError`` subclass from an HTTP error response.

    The first Apple error item supplies ``code``/``detail`` (Apple sends one in practice);
    all items are kept in ``errors``. Non-JSON bodies (an HTML page from a proxy) are
    tolerated: their whitespace-collapsed text becomes ``detail``.
    """
    items = parse_error_items(body)
    first = items[0] if items else None
    code = first.code if first else None
    detail = first.detail if first else _body_text(body)
    title = first.title if first else None
    summary = detail or title or "no error details"
    message = f"App Store Connect answered {status}" + (f" {code}" if code else "") + f": {summary}"
    common: dict[str, Any] = {"status": status, "code": code, "detail": detail, "errors": items}

    if status == 429:
        retry_after = parse_retry_after(_header(headers, "Retry-After"), now=now)
        return AscRateLimited(message, retry_after=retry_after, **common)
    if status >= 500:
        return AscServerError(message, **common)
    if status == 401:
        return AscUnauthorized(message, **common)
    if status == 403:
        codes = {item.code for item in items}
        if AGREEMENT_CODE in codes or any(
            (c or "").startswith("FORBIDDEN.REQUIRED_AGREEMENTS") for c in codes
        ):
            agreement = next(
                i for i in items if (i.code or "").startswith("FORBIDDEN.REQUIRED_AGREEMENTS")
            )
            common.update(code=agreement.code, detail=agreement.detail or detail)
            return AscAgreementRequired(message, **common)
        reason = (
            ForbiddenReason.MISSING_ROLE if "FORBIDDEN_ERROR" in codes else ForbiddenReason.OTHER
        )
        return AscForbidden(message, reason=reason, **common)
    if status == 404:
        return AscNotFound(message, kind=_not_found_kind(items, detail), **common)
    if status == 400:
        parameter = next((i.source_parameter for i in items if i.source_parameter), None)
        return AscInvalidParameter(message, parameter=parameter, **common)
    if status == 409:
        return AscConflict(message, **common)
    if status == 410:
        return AscGone(message, **common)
    if status == 422:
        return AscUnprocessable(message, **common)
    return AscError(message, **common)
