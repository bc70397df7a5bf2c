"""Apple Ads clients for linked credentials: one token cache per credential and key for the
life of the process (an access token is fetched once an hour, not once per request)."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx

from app.asc.searchads.auth import AdsCredentials, AdsTokenCache
from app.asc.searchads.client import BeforeSend, OnRate, V1Backend, V5Backend
from app.config import Settings
from app.credentials.crypto import CredentialCipher
from app.models import SearchAdsCredential

_CACHES: dict[tuple[uuid.UUID | None, str, str], AdsTokenCache] = {}


def tokens_for(
    credentials: AdsCredentials, token_url: str, credential_id: uuid.UUID | None
) -> AdsTokenCache:
    key = (credential_id, credentials.fingerprint, token_url)
    cache = _CACHES.get(key)
    if cache is None:
        cache = _CACHES[key] = AdsTokenCache(credentials, token_url)
    return cache


def credentials_of(cipher: CredentialCipher, row: SearchAdsCredential) -> AdsCredentials:
    if row.encrypted_private_key is None:
        raise ValueError("the credential was unlinked: its key is destroyed")
    return AdsCredentials.from_pem(
        client_id=row.client_id,
        team_id=row.team_id,
        key_id=row.key_id,
        pem=cipher.decrypt(row.encrypted_private_key),
    )


def backend(
    http: httpx.AsyncClient,
    settings: Settings,
    credentials: AdsCredentials,
    credential_id: uuid.UUID | None,
    *,
    on_rate: OnRate | None = None,
    before_send: BeforeSend | None = None,
    api_version: str = "v1",
) -> V1Backend:
    """The v1 backend (default), or v5 for a credential linked with ``api_version`` v5."""
    kind, base = (
        (V5Backend, settings.apple_ads_v5_base_url)
        if api_version == "v5"
        else (V1Backend, settings.apple_ads_base_url)
    )
    return kind(
        http,
        base,
        tokens_for(credentials, settings.apple_ads_token_url, credential_id),
        on_rate=on_rate,
        before_send=before_send,
    )


def v5_retired(settings: Settings, today: dt.date) -> bool:
    return today >= settings.searchads_v5_sunset
