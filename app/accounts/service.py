"""Linking App Store Connect accounts: validation, live verification, encryption, rotation."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository
from app.accounts.schemas import AccountCreate, AccountUpdate
from app.asc.jwt import AscCredentials
from app.credentials import lookup
from app.credentials.clients import AscClientFactory
from app.credentials.states import (
    PAUSING_STATUSES,
    Capability,
    CredentialStatus,
    publish_status_change,
)
from app.credentials.verification import (
    AscUnavailable,
    Verification,
    verify_credentials,
)
from app.errors import AppError, Conflict, ValidationFailed
from app.models import AscAccount, AscKeyHistory
from app.sync import queue, scheduler
from app.sync.contract import DatasetRegistry

log = logging.getLogger("orchard.accounts")

PACIFIC = ZoneInfo("America/Los_Angeles")


class CredentialsRejected(AppError):
    status = 422
    slug = "credentials_rejected"
    title = "App Store Connect rejected the credentials"


class AppleUnavailable(AppError):
    status = 503
    slug = "apple_unavailable"
    title = "App Store Connect is unavailable"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _credentials(
    key_id: str, issuer_id: uuid.UUID | None, private_key: str, key_type: str
) -> AscCredentials:
    return AscCredentials.from_pem(
        key_id=key_id,
        issuer_id=str(issuer_id) if issuer_id else None,
        private_key_pem=private_key,
        key_type="individual" if key_type == "individual" else "team",
    )


async def _verify(
    factory: AscClientFactory,
    credentials: AscCredentials,
    vendor_number: str | None,
    account_id: uuid.UUID | None = None,
) -> Verification:
    client = factory.for_credentials(credentials, account_id)
    try:
        return await verify_credentials(
            client,
            key_type=credentials.key_type,
            vendor_number=vendor_number,
            today=_now().astimezone(PACIFIC).date(),
        )
    except AscUnavailable as exc:
        raise AppleUnavailable(
            "App Store Connect did not answer the verification; nothing was changed. "
            "Try again later, or link with ?verify=false and verify afterwards.",
            extensions={"apple_status": exc.cause.status, "apple_code": exc.cause.code},
        ) from None


async def _pause_or_resume(session: AsyncSession, account: AscAccount) -> None:
    """Sync work stops while the key is unusable and resumes once it verifies again."""
    if CredentialStatus(account.credential_status) in PAUSING_STATUSES:
        await queue.pause_account(session, account.id)
    else:
        await queue.resume_account(session, account.id)


def _reject(verification: Verification) -> CredentialsRejected:
    return CredentialsRejected(
        verification.reason or "App Store Connect rejected the key",
        extensions={"apple_code": verification.code, "credential_status": verification.status},
    )


def _merged_capabilities(
    previous: dict[str, Any] | None, verification: Verification
) -> dict[str, Any]:
    """The probes' capabilities, except what a probe cannot see: a sync unit's finding that
    only an Admin can create the analytics report request (a read probe passes regardless)."""
    merged = dict(verification.capabilities)
    kept = (previous or {}).get(Capability.ANALYTICS)
    probed = merged.get(Capability.ANALYTICS) or {}
    if isinstance(kept, dict) and kept.get("code") == "admin_required" and probed.get("available"):
        merged[Capability.ANALYTICS] = kept
    return merged


def _apply(account: AscAccount, verification: Verification) -> None:
    account.credential_status = verification.status.value
    account.status_reason = verification.reason
    account.status_code = verification.code
    if verification.capabilities:
        # A key rejected before the probes ran keeps its last known capabilities.
        account.capabilities = _merged_capabilities(account.capabilities, verification)
    account.last_verified_at = _now()


async def link_account(
    session: AsyncSession,
    factory: AscClientFactory,
    registry: DatasetRegistry,
    workspace_id: uuid.UUID,
    payload: AccountCreate,
    *,
    verify: bool,
    initial_backfill: dt.timedelta = dt.timedelta(days=90),
) -> AscAccount:
    """Link (and by default verify) a key, then queue its first sync: every dataset the key
    can read, dated ones back ``initial_backfill`` (bounded by Apple's retention)."""
    if await repository.live_key_exists(session, workspace_id, payload.key_id):
        raise Conflict(
            f"key {payload.key_id} is already linked in this workspace",
            extensions={"field": "key_id"},
        )
    credentials = _credentials(
        payload.key_id, payload.issuer_id, payload.private_key, payload.key_type
    )
    account = AscAccount(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        name=payload.name,
        issuer_id=str(payload.issuer_id) if payload.issuer_id else None,
        key_id=payload.key_id,
        key_type=payload.key_type,
        vendor_number=payload.vendor_number,
        encrypted_private_key=factory.cipher.encrypt(payload.private_key),
        key_fingerprint=credentials.fingerprint,
        credential_status=CredentialStatus.UNVERIFIED.value,
        status_reason="not verified yet: POST /v1/accounts/{id}/verify checks it now",
        capabilities={},
    )
    if verify:
        verification = await _verify(factory, credentials, payload.vendor_number, account.id)
        if verification.rejected:
            raise _reject(verification)
        _apply(account, verification)
    log.info(
        "linked account",
        extra={
            "account_id": str(account.id),
            "kid": account.key_id,
            "status": account.credential_status,
        },
    )
    account = await repository.add(session, account)
    if CredentialStatus(account.credential_status) not in PAUSING_STATUSES:
        await scheduler.enqueue_initial(session, registry, account, initial_backfill, _now())
    return account


async def previous_keys(session: AsyncSession, account: AscAccount) -> list[AscKeyHistory]:
    return await repository.previous_keys(session, account.id)


async def update_account(
    session: AsyncSession,
    factory: AscClientFactory,
    workspace_id: uuid.UUID,
    account_id: uuid.UUID,
    patch: AccountUpdate,
    *,
    verify: bool,
) -> AscAccount:
    account = await lookup.get_account(session, workspace_id, account_id, for_update=True)
    previous_status = account.credential_status
    fields = patch.model_fields_set
    new_key = patch.private_key  # the schema guarantees key_id comes with it
    needs_verification = new_key is not None or "vendor_number" in fields

    if new_key is not None and patch.key_id is not None:
        if await repository.live_key_exists(
            session, workspace_id, patch.key_id, except_id=account.id
        ):
            raise Conflict(f"key {patch.key_id} is already linked in this workspace")
        issuer = (
            patch.issuer_id
            if "issuer_id" in fields
            else (uuid.UUID(account.issuer_id) if account.issuer_id else None)
        )
        if account.key_type == "team" and issuer is None:
            raise ValidationFailed.single("body.issuer_id", "issuer_id is required for team keys")
        credentials = _credentials(patch.key_id, issuer, new_key, account.key_type)
    else:
        if "issuer_id" in fields:
            raise ValidationFailed.single(
                "body.issuer_id", "issuer_id can only change together with a new key"
            )
        credentials = factory.credentials_of(account)
    vendor_number = patch.vendor_number if "vendor_number" in fields else account.vendor_number

    verification = None
    if needs_verification and verify:
        # Verify before changing anything: a rejected key leaves the account as it was.
        verification = await _verify(factory, credentials, vendor_number, account.id)
        if verification.rejected:
            raise _reject(verification)

    if patch.name is not None:
        account.name = patch.name
    account.vendor_number = vendor_number
    if new_key is not None:
        await repository.add_key_history(session, account)
        account.key_id = credentials.key_id
        account.issuer_id = credentials.issuer_id
        account.encrypted_private_key = factory.cipher.encrypt(new_key)
        account.key_fingerprint = credentials.fingerprint
        log.info(
            "rotated account key", extra={"account_id": str(account.id), "kid": account.key_id}
        )
    if verification is not None:
        _apply(account, verification)
        await _pause_or_resume(session, account)
    elif needs_verification:
        account.credential_status = CredentialStatus.UNVERIFIED.value
        account.status_reason = "changed without verification: POST /v1/accounts/{id}/verify"
        account.status_code = None
    account.updated_at = _now()
    await publish_status_change(session, account, previous_status)
    await session.flush()
    return account


async def reverify(
    session: AsyncSession, factory: AscClientFactory, account: AscAccount
) -> AscAccount:
    verification = await _verify(
        factory, factory.credentials_of(account), account.vendor_number, account.id
    )
    previous = account.credential_status
    _apply(account, verification)
    account.updated_at = _now()
    await publish_status_change(session, account, previous)
    await session.flush()
    await _pause_or_resume(session, account)
    if previous != account.credential_status:
        log.info(
            "credential status changed",
            extra={
                "account_id": str(account.id),
                "from": previous,
                "to": account.credential_status,
            },
        )
    return account


async def unlink_account(
    session: AsyncSession, workspace_id: uuid.UUID, account_id: uuid.UUID, *, purge: bool
) -> None:
    account = await lookup.get_account(session, workspace_id, account_id, for_update=True)
    if purge:
        await repository.purge(session, account)
    else:
        # The key is destroyed; the row stays (hidden) so synced data keeps its owner.
        previous = account.credential_status
        account.encrypted_private_key = None
        account.unlinked_at = _now()
        account.credential_status = CredentialStatus.REVOKED_OR_INVALID.value
        account.status_reason = "unlinked"
        await publish_status_change(session, account, previous)
    await session.flush()
    log.info("unlinked account", extra={"account_id": str(account_id), "purge": purge})


async def rotate_encryption(session: AsyncSession, factory: AscClientFactory) -> int:
    """Re-encrypt every stored key under the first ORCHARD_SECRET_KEYS key."""
    accounts = await repository.all_with_keys(session)
    for account in accounts:
        assert account.encrypted_private_key is not None
        account.encrypted_private_key = factory.cipher.rotate(account.encrypted_private_key)
    await session.flush()
    return len(accounts)
