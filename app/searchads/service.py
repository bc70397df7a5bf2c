"""Linking Apple Ads credentials: validation, live verification (client secret → token →
``/acls``), encryption at rest, the choice of ad accounts to sync, credential states."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.searchads.auth import AdsCredentials, TokenRejected, TokenUnavailable
from app.asc.searchads.client import (
    AdsApiError,
    AdsForbidden,
    AdsRateLimited,
    AdsUnauthorized,
    AdsUnavailable,
)
from app.asc.searchads.parsing import AdAccountInfo
from app.config import Settings
from app.credentials.crypto import CredentialCipher
from app.errors import AppError, Conflict, ValidationFailed
from app.models import SearchAdsCredential
from app.searchads import clients, repository
from app.searchads.schemas import SearchAdsCredentialCreate, SearchAdsCredentialUpdate

log = logging.getLogger("orchard.searchads")

ACTIVE, UNVERIFIED = "active", "unverified"
REVOKED, MISSING_ROLE = "revoked_or_invalid", "missing_role"
RETIRED = "api_retired"

REMEDY = {
    RETIRED: (
        "This credential was linked for the Campaign Management API v5, which Apple shut off. "
        "Its synced history stays; link the same key again with api_version v1 to keep "
        "syncing (v1 ad account ids differ from v5 org ids)."
    ),
    REVOKED: (
        "Apple Ads rejected this key: the API user was removed, the key was replaced in Apple "
        "Ads → Settings → API, or client id, team id, key id and private key do not belong "
        "together. Upload a new public key for the API user and link it again."
    ),
    MISSING_ROLE: (
        "The API user sees no ad account. An account admin must invite the user with an API "
        "role (API Account Read Only suffices) in Apple Ads → Account Settings → User "
        "Management; Orchard checks again at the next verification."
    ),
}


class SearchAdsRejected(AppError):
    status = 422
    slug = "credentials_rejected"
    title = "Apple Ads rejected the credentials"


class SearchAdsUnavailable(AppError):
    status = 503
    slug = "apple_unavailable"
    title = "Apple Ads is unavailable"


class ApiVersionRefused(AppError):
    status = 422
    slug = "api_version_refused"
    title = "This Apple Ads API version is not available"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Verification:
    status: str
    reason: str | None = None
    code: str | None = None
    accounts: list[AdAccountInfo] = field(default_factory=list)
    org_id: int | None = None

    @property
    def rejected(self) -> bool:
        return self.status == REVOKED


@dataclass
class SearchAdsDeps:
    """What the routes hand the service: the process's HTTP client, cipher and settings."""

    http: httpx.AsyncClient
    cipher: CredentialCipher
    settings: Settings


def refuse_v5(sunset: dt.date) -> ApiVersionRefused:
    return ApiVersionRefused(
        f"the Campaign Management API v5 is shut off from {sunset.isoformat()}; "
        "link with api_version v1 (the Apple Ads Platform API)",
        extensions={"field": "body.api_version", "sunset": sunset.isoformat()},
    )


async def verify(
    deps: SearchAdsDeps,
    credentials: AdsCredentials,
    credential_id: uuid.UUID | None,
    api_version: str = "v1",
) -> Verification:
    """Mint the client secret, fetch a token (cached), list the ad accounts (``/acls``)."""
    if api_version == "v5" and clients.v5_retired(deps.settings, _now().date()):
        return Verification(RETIRED, REMEDY[RETIRED], "V5_SUNSET")
    backend = clients.backend(
        deps.http, deps.settings, credentials, credential_id, api_version=api_version
    )
    try:
        accounts = await backend.ad_accounts()
    except (TokenRejected, AdsUnauthorized) as exc:
        code = exc.code if isinstance(exc, TokenRejected | AdsApiError) else None
        return Verification(REVOKED, REMEDY[REVOKED], code)
    except AdsForbidden as exc:
        return Verification(MISSING_ROLE, REMEDY[MISSING_ROLE], exc.code)
    except (TokenUnavailable, AdsUnavailable, AdsRateLimited, AdsApiError) as exc:
        status = exc.status
        raise SearchAdsUnavailable(
            "Apple Ads did not answer the verification; nothing was changed. Try again later.",
            extensions={"apple_status": status},
        ) from None
    if not accounts:
        return Verification(MISSING_ROLE, REMEDY[MISSING_ROLE], "NO_AD_ACCOUNTS")
    org_ids = {a.org_id for a in accounts if a.org_id is not None}
    org_id = org_ids.pop() if len(org_ids) == 1 else None
    return Verification(ACTIVE, accounts=accounts, org_id=org_id)


def _apply(credential: SearchAdsCredential, verification: Verification) -> None:
    credential.credential_status = verification.status
    credential.status_reason = verification.reason
    credential.status_code = verification.code
    if verification.org_id is not None:
        credential.org_id = verification.org_id
    credential.last_verified_at = _now()
    credential.updated_at = _now()


def _check_chosen(chosen: list[int] | None, accounts: list[AdAccountInfo]) -> set[int] | None:
    if chosen is None:
        return None
    known = {a.ad_account_id for a in accounts}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise ValidationFailed.single(
            "body.sync_ad_accounts",
            f"ad account(s) {', '.join(map(str, unknown))} are not visible to this key",
        )
    return set(chosen)


async def link(
    session: AsyncSession,
    deps: SearchAdsDeps,
    workspace_id: uuid.UUID,
    payload: SearchAdsCredentialCreate,
) -> SearchAdsCredential:
    if payload.api_version == "v5" and clients.v5_retired(deps.settings, _now().date()):
        raise refuse_v5(deps.settings.searchads_v5_sunset)
    if await repository.live_client_exists(session, workspace_id, payload.client_id):
        raise Conflict(
            f"client {payload.client_id} is already linked in this workspace",
            extensions={"field": "client_id"},
        )
    credentials = AdsCredentials.from_pem(
        client_id=payload.client_id,
        team_id=payload.team_id,
        key_id=payload.key_id,
        pem=payload.private_key,
    )
    credential_id = uuid.uuid4()
    verification = await verify(deps, credentials, credential_id, payload.api_version)
    if verification.rejected:
        raise SearchAdsRejected(
            verification.reason or "Apple Ads rejected the key",
            extensions={"apple_code": verification.code, "credential_status": REVOKED},
        )
    chosen = _check_chosen(payload.sync_ad_accounts, verification.accounts)
    credential = SearchAdsCredential(
        id=credential_id,
        workspace_id=workspace_id,
        name=payload.name,
        client_id=payload.client_id,
        team_id=payload.team_id,
        key_id=payload.key_id,
        api_version=payload.api_version,
        encrypted_private_key=deps.cipher.encrypt(payload.private_key),
        key_fingerprint=credentials.fingerprint,
        credential_status=UNVERIFIED,
    )
    _apply(credential, verification)
    session.add(credential)
    await session.flush()
    await repository.store_ad_accounts(session, credential, verification.accounts, chosen)
    log.info(
        "linked Search Ads credential",
        extra={"credential_id": str(credential.id), "status": credential.credential_status},
    )
    return credential


async def update(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    credential_id: uuid.UUID,
    patch: SearchAdsCredentialUpdate,
) -> SearchAdsCredential:
    credential = await repository.get_credential(
        session, workspace_id, credential_id, for_update=True
    )
    if patch.name is not None:
        credential.name = patch.name
    if patch.sync_ad_accounts is not None:
        accounts = await repository.accounts_of(session, [credential.id])
        known = {a.ad_account_id for a in accounts if a.visible}
        unknown = sorted(set(patch.sync_ad_accounts) - known)
        if unknown:
            raise ValidationFailed.single(
                "body.sync_ad_accounts",
                f"ad account(s) {', '.join(map(str, unknown))} are not visible to this key",
            )
        await repository.set_sync_choice(session, credential, set(patch.sync_ad_accounts))
    credential.updated_at = _now()
    await session.flush()
    return credential


async def reverify(
    session: AsyncSession, deps: SearchAdsDeps, credential: SearchAdsCredential
) -> SearchAdsCredential:
    credentials = clients.credentials_of(deps.cipher, credential)
    verification = await verify(deps, credentials, credential.id, credential.api_version)
    _apply(credential, verification)
    if verification.status == ACTIVE:
        await repository.store_ad_accounts(session, credential, verification.accounts, None)
    await session.flush()
    return credential


async def unlink(session: AsyncSession, workspace_id: uuid.UUID, credential_id: uuid.UUID) -> None:
    """Destroy the key at once; synced rows stay with their (hidden) credential."""
    credential = await repository.get_credential(
        session, workspace_id, credential_id, for_update=True
    )
    credential.encrypted_private_key = None
    credential.unlinked_at = _now()
    credential.credential_status = REVOKED
    credential.status_reason = "unlinked"
    await repository.purge_unlinked(session, credential)
    await session.flush()
    log.info("unlinked Search Ads credential", extra={"credential_id": str(credential_id)})


async def rotate_encryption(session: AsyncSession, cipher: CredentialCipher) -> int:
    """Re-encrypt every stored Apple Ads private key under the first ORCHARD_SECRET_KEYS key."""
    rows = await repository.all_with_keys(session)
    for row in rows:
        assert row.encrypted_private_key is not None
        row.encrypted_private_key = cipher.rotate(row.encrypted_private_key)
    await session.flush()
    return len(rows)
