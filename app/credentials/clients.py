"""App Store Connect clients for linked accounts, sharing one HTTP client and cached tokens.

Each key's ``TokenMinter`` lives here for the life of the process, so a token is minted once per
~15 minutes per key however many requests, jobs or verifications use it. A rotated key has a new
fingerprint and therefore a new minter.
"""

from __future__ import annotations

import uuid

import httpx

from app.asc.client import AscClient, OnRateLimit
from app.asc.jwt import AscCredentials, TokenMinter
from app.asc.retry import RetryPolicy
from app.credentials.crypto import CredentialCipher
from app.models import AscAccount


class AscClientFactory:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        cipher: CredentialCipher,
        *,
        retry: RetryPolicy | None = None,
        on_rate_limit: OnRateLimit | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url
        self.cipher = cipher
        self.retry = retry
        self.on_rate_limit = on_rate_limit
        self._minters: dict[tuple[uuid.UUID | None, str], TokenMinter] = {}

    def for_credentials(
        self, credentials: AscCredentials, account_id: uuid.UUID | None = None
    ) -> AscClient:
        cache_key = (account_id, credentials.fingerprint)
        minter = self._minters.get(cache_key)
        if minter is None:
            minter = self._minters[cache_key] = TokenMinter(credentials)
        return AscClient(
            self.http,
            credentials,
            self.base_url,
            retry=self.retry,
            on_rate_limit=self.on_rate_limit,
            minter=minter,
        )

    def credentials_of(self, account: AscAccount) -> AscCredentials:
        if account.encrypted_private_key is None:
            raise ValueError("the account was unlinked: its key is destroyed")
        return AscCredentials.from_pem(
            key_id=account.key_id,
            issuer_id=account.issuer_id,
            private_key_pem=self.cipher.decrypt(account.encrypted_private_key),
            key_type="individual" if account.key_type == "individual" else "team",
        )

    def for_account(self, account: AscAccount) -> AscClient:
        return self.for_credentials(self.credentials_of(account), account.id)
