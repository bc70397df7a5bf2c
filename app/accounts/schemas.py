from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.asc.jwt import InvalidPrivateKey, load_private_key
from app.credentials.states import Capability, CredentialStatus

KEY_ID_PATTERN = r"^[A-Z0-9]{10}$"
VENDOR_NUMBER_PATTERN = r"^[0-9]{1,12}$"
# A real .p8 is about 250 characters; anything this large is not a key.
MAX_PEM_CHARS = 10_000


class CapabilityRead(BaseModel):
    available: bool = Field(description="Whether the key can read this kind of data.")
    reason: str | None = Field(
        default=None, description="Why not (or a caveat), with what a person can do about it."
    )


def _private_key(value: str) -> str:
    """Validate the pasted key and keep it as canonical PKCS#8 PEM, whatever form it came in."""
    try:
        key = load_private_key(value)
    except InvalidPrivateKey as exc:
        raise ValueError(str(exc)) from None
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class AccountCreate(BaseModel):
    """The App Store Connect API key to link, as shown in App Store Connect → Integrations."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="A name for people.")
    issuer_id: uuid.UUID | None = Field(
        default=None, description="Issuer ID (UUID); required for team keys."
    )
    key_id: str = Field(pattern=KEY_ID_PATTERN, description="The 10-character key ID.")
    private_key: str = Field(
        max_length=MAX_PEM_CHARS,
        description="Contents of the `.p8` file (PEM PKCS#8, EC P-256). Never returned.",
        json_schema_extra={"writeOnly": True},
    )
    key_type: Literal["team", "individual"] = Field(
        default="team", description="Team keys can read sales and finance; individual keys cannot."
    )
    vendor_number: str | None = Field(
        default=None,
        pattern=VENDOR_NUMBER_PATTERN,
        description="Vendor number from Payments and Financial Reports; needed for reports.",
    )

    _check_private_key = field_validator("private_key")(_private_key)

    @model_validator(mode="after")
    def _issuer_for_team_keys(self) -> AccountCreate:
        if self.key_type == "team" and self.issuer_id is None:
            raise ValueError("issuer_id is required for team keys")
        return self


class AccountUpdate(BaseModel):
    """Rename, change the vendor number, or rotate to a new key (send `key_id` and
    `private_key` together; `issuer_id` too if it changes)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    vendor_number: str | None = Field(default=None, pattern=VENDOR_NUMBER_PATTERN)
    key_id: str | None = Field(default=None, pattern=KEY_ID_PATTERN)
    private_key: str | None = Field(
        default=None, max_length=MAX_PEM_CHARS, json_schema_extra={"writeOnly": True}
    )
    issuer_id: uuid.UUID | None = None

    _check_private_key = field_validator("private_key")(
        lambda value: None if value is None else _private_key(value)
    )

    @model_validator(mode="after")
    def _key_parts_together(self) -> AccountUpdate:
        if (self.key_id is None) != (self.private_key is None):
            raise ValueError("key_id and private_key must be sent together to rotate the key")
        return self


class PreviousKey(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_id: str
    issuer_id: str | None
    key_fingerprint: str
    replaced_at: datetime


class AccountRead(BaseModel):
    """A linked App Store Connect account. The private key is never returned."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    key_id: str
    issuer_id: str | None
    key_type: Literal["team", "individual"]
    vendor_number: str | None
    key_fingerprint: str = Field(description="SHA-256 of the public key (DER), hex.")
    credential_status: CredentialStatus
    status_reason: str | None = Field(description="What is wrong and what to do about it.")
    status_code: str | None = Field(description="Apple's error code behind the status, if any.")
    last_verified_at: datetime | None
    capabilities: dict[Capability, CapabilityRead] = Field(
        description="What the key can read; empty until verified."
    )
    created_at: datetime
    updated_at: datetime


class AppleWebhooksRead(BaseModel):
    """App Store Connect webhooks Orchard keeps at Apple for this account (release events
    in seconds instead of at the next poll)."""

    model_config = ConfigDict(from_attributes=True)

    state: Literal["on", "off", "pending"] = Field(
        description="`on`: registered; `off`: not possible (see `reason`; data is polled as "
        "always); `pending`: not checked yet."
    )
    reason: str | None = Field(description="Why webhooks are off, for a person.")
    registered_apps: list[str] = Field(description="Apple ids of the apps with a webhook.")
    checked_at: datetime | None
    last_delivery_at: datetime | None = Field(description="Apple's last verified delivery.")
    last_error: str | None = Field(
        description="The last problem: a refused registration, a bad signature."
    )
    last_error_at: datetime | None


class AccountDetail(AccountRead):
    previous_keys: list[PreviousKey] = Field(
        description="Keys replaced by rotations, newest first."
    )
    apple_webhooks: AppleWebhooksRead
