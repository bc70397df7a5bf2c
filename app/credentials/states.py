"""A linked account's credential status and capabilities: what the key may do, and why not.

The sync engine records what a unit learned (a revoked key, a missing role) here; the
accounts domain shows it with a remedy a person can act on.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AscAccount

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
    account.credential_status = status.value
    account.status_reason = REMEDY[status]
    account.status_code = code
    account.updated_at = dt.datetime.now(dt.UTC)
    log.warning("account paused", extra={"account_id": str(account_id), "status": status.value})


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
