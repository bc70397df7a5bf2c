"""A linked account's credential status and capabilities: what the key may do, and why not.

The sync engine records what a unit learned (a revoked key, a missing role) here; the
accounts domain shows it with a remedy a person can act on.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AscAccount
from app.outbox.writer import OutboxEvent, publish

log = logging.getLogger("orchard.accounts")


class CredentialStatus(StrEnum):
    UNVERIFIED = "unverified"
    ACTIVE = "active"
    REVOKED_OR_INVALID = "revoked_or_invalid"
    MISSING_ROLE = "missing_role"
    AGREEMENT_REQUIRED = "agreement_required"
    INVALID_VENDOR_NUMBER = "invalid_vendor_number"


class Capability(StrEnum):
    SALES = "sales"
    FINANCE = "finance"
    REVIEWS = "reviews"
    TESTFLIGHT = "testflight"
    USERS = "users"
    ANALYTICS = "analytics"


#: Statuses under which no unit of the account runs until a verification succeeds.
PAUSING_STATUSES = frozenset(
    {CredentialStatus.REVOKED_OR_INVALID, CredentialStatus.AGREEMENT_REQUIRED}
)

REMEDY = {
    CredentialStatus.REVOKED_OR_INVALID: (
        "App Store Connect rejected this key: it was revoked, or the key ID, issuer ID and "
        "private key do not belong together. Create a new key in App Store Connect → Users and "
        "Access → Integrations and rotate it here (PATCH with key_id and private_key)."
    ),
    CredentialStatus.AGREEMENT_REQUIRED: (
        "A required agreement is missing or has expired. The Account Holder must accept it in "
        "App Store Connect → Business; Orchard checks again at the next verification."
    ),
    CredentialStatus.MISSING_ROLE: (
        "The key cannot read Sales and Trends reports: that needs a team key with the Admin, "
        "Finance or Sales role. A key's role cannot be changed: create a new team key with one "
        "of these roles and rotate it here."
    ),
    CredentialStatus.INVALID_VENDOR_NUMBER: (
        "App Store Connect does not accept this vendor number for this key. Copy the vendor "
        "number from App Store Connect → Payments and Financial Reports and update the account."
    ),
}


async def mark_credential_problem(
    session: AsyncSession, account_id: uuid.UUID, status: CredentialStatus, code: str | None
) -> None:
    """A sync unit learned the key is unusable: record it (the engine pauses the account's
    units; a later successful verification resumes them)."""
    account = await session.get(AscAccount, account_id, with_for_update=True)
    if account is None:
        return
    previous = account.credential_status
    account.credential_status = status.value
    account.status_reason = REMEDY[status]
    account.status_code = code
    account.updated_at = dt.datetime.now(dt.UTC)
    await publish_status_change(session, account, previous)
    log.warning("account paused", extra={"account_id": str(account_id), "status": status.value})


#: The webhook event type of a credential status change.
CREDENTIAL_STATUS_CHANGED = "account.credential_status_changed"


def account_resource(account: AscAccount) -> dict[str, Any]:
    """The account as ``GET /v1/accounts/{id}`` shows it (the accounts domain's
    ``AccountRead``; a test holds the two together). Never the key itself."""
    return {
        "id": account.id,
        "name": account.name,
        "key_id": account.key_id,
        "issuer_id": account.issuer_id,
        "key_type": account.key_type,
        "vendor_number": account.vendor_number,
        "key_fingerprint": account.key_fingerprint,
        "credential_status": account.credential_status,
        "status_reason": account.status_reason,
        "status_code": account.status_code,
        "last_verified_at": account.last_verified_at,
        "capabilities": account.capabilities or {},
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


async def publish_status_change(
    session: AsyncSession, account: AscAccount, previous: str | None
) -> None:
    """In the transaction that changed it: an ``account.credential_status_changed`` event
    when the status differs from ``previous``."""
    if previous is None or previous == account.credential_status:
        return
    now = dt.datetime.now(dt.UTC)
    account.updated_at = now
    data = {**account_resource(account), "previous_credential_status": previous}
    await publish(
        session,
        account.workspace_id,
        [
            OutboxEvent(
                type=CREDENTIAL_STATUS_CHANGED, data=data, occurred_at=now, account_id=account.id
            )
        ],
    )


async def mark_capability_missing(
    session: AsyncSession, account_id: uuid.UUID, capability: str, reason: str
) -> None:
    account = await session.get(AscAccount, account_id, with_for_update=True)
    if account is None:
        return
    capabilities = dict(account.capabilities or {})
    capabilities[capability] = {
        "available": False,
        "reason": f"App Store Connect refused: {reason}",
    }
    account.capabilities = capabilities
    await session.flush()


async def set_capability(
    session: AsyncSession,
    account_id: uuid.UUID,
    capability: str,
    *,
    available: bool,
    reason: str | None,
    code: str | None = None,
) -> None:
    """Record what a unit learned about one capability (e.g. that no Admin created the
    analytics report request yet); a no-op when nothing changes."""
    account = await session.get(AscAccount, account_id, with_for_update=True)
    if account is None:
        return
    entry: dict[str, Any] = {"available": available, "reason": reason}
    if code is not None:
        entry["code"] = code
    capabilities = dict(account.capabilities or {})
    if capabilities.get(capability) == entry:
        return
    capabilities[capability] = entry
    account.capabilities = capabilities
    await session.flush()
