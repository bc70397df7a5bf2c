"""How App Store Connect's refusals of a reply write become Orchard problems.

Each problem says why in words a person can act on and carries Apple's own status, code and
detail (``apple_status``, ``apple_code``, ``apple_detail``) for support tickets.
"""

from __future__ import annotations

from typing import Any

from app.asc.errors import (
    AscAgreementRequired,
    AscConflict,
    AscError,
    AscForbidden,
    AscInvalidParameter,
    AscNotFound,
    AscRateLimited,
    AscUnauthorized,
    AscUnprocessable,
)
from app.errors import AppError, ValidationFailed

REPLY_ROLES_REMEDY = (
    "Replying to reviews needs a key with the Admin, App Manager or Customer Support role. "
    "A key's role cannot be changed: create a key with one of these roles in App Store "
    "Connect → Users and Access → Integrations and rotate it on this account."
)
AGREEMENT_REMEDY = (
    "A required agreement is missing or has expired: the Account Holder must accept it in "
    "App Store Connect → Business."
)


class AppleRefused(AppError):
    status = 403
    slug = "apple_forbidden"
    title = "App Store Connect refused the request"


class AppleConflict(AppError):
    status = 409
    slug = "apple_conflict"
    title = "App Store Connect reported a conflict"


class AppleRejected(AppError):
    status = 422
    slug = "apple_rejected"
    title = "App Store Connect rejected the request"


class AppleFailed(AppError):
    status = 502
    slug = "apple_error"
    title = "App Store Connect failed"


class AppleRateLimited(AppError):
    status = 503
    slug = "apple_rate_limited"
    title = "App Store Connect's hourly limit for this key is used up"


class IdempotencyKeyReused(ValidationFailed):
    slug = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different request"


def _apple(error: AscError) -> dict[str, Any]:
    return {"apple_status": error.status, "apple_code": error.code, "apple_detail": error.detail}


def apple_problem(error: AscError, action: str) -> AppError:
    """The problem for an App Store Connect failure while doing ``action`` (e.g.
    "save the reply"); nothing was changed locally when this is raised."""
    said = f": {error.detail}" if error.detail else ""
    extensions = _apple(error)
    if isinstance(error, AscAgreementRequired):
        return AppleRefused(
            f"App Store Connect refused to {action}. {AGREEMENT_REMEDY}",
            extensions={**extensions, "reason": "agreement_required"},
        )
    if isinstance(error, AscForbidden):
        return AppleRefused(
            f"App Store Connect refused to {action}{said}. {REPLY_ROLES_REMEDY}",
            extensions={**extensions, "reason": "missing_role"},
        )
    if isinstance(error, AscConflict):
        return AppleConflict(f"App Store Connect refused to {action}{said}", extensions=extensions)
    if isinstance(error, AscNotFound):
        return AppleConflict(
            f"App Store Connect could not {action}: it no longer has this review or reply{said}",
            extensions=extensions,
        )
    if isinstance(error, AscUnprocessable | AscInvalidParameter):
        return AppleRejected(f"App Store Connect refused to {action}{said}", extensions=extensions)
    if isinstance(error, AscRateLimited):
        retry = max(1, round(error.retry_after)) if error.retry_after is not None else 60
        return AppleRateLimited(
            f"App Store Connect's hourly request limit for this account's key is used up; "
            f"try again in {retry} seconds",
            extensions={**extensions, "retry_after_seconds": retry},
            headers={"Retry-After": str(retry)},
        )
    if isinstance(error, AscUnauthorized):
        return AppleFailed(
            f"App Store Connect rejected this account's key, so it could not {action}: the "
            "key was revoked or is invalid. Verify the account and rotate its key.",
            extensions=extensions,
        )
    return AppleFailed(
        f"App Store Connect failed to {action}{said}. Nothing was changed; try again later.",
        extensions=extensions,
    )
