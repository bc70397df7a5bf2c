"""Request and response shapes of the Apple Ads (Search Ads) routes."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.asc.jwt import InvalidPrivateKey, load_private_key
from app.fx.schemas import ConvertedTotal, ConvertibleMoney
from app.kit.money import Money

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
MAX_PEM_CHARS = 10_000

CredentialStatusName = Literal[
    "unverified", "active", "revoked_or_invalid", "missing_role", "api_retired"
]


def _private_key(value: str) -> str:
    """Validate the pasted key (EC P-256, like App Store Connect keys) and keep canonical PEM."""
    try:
        key = load_private_key(value)
    except InvalidPrivateKey as exc:
        raise ValueError(str(exc).replace("App Store Connect .p8", "Apple Ads")) from None
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class SearchAdsCredentialCreate(BaseModel):
    """An Apple Ads API user's key, as Apple Ads → Settings → API shows it after the public
    key was uploaded."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="A name for people.")
    client_id: str = Field(pattern=ID_PATTERN, description="`clientId` (`SEARCHADS.<uuid>`).")
    team_id: str = Field(pattern=ID_PATTERN, description="`teamId` (`SEARCHADS.<uuid>`).")
    key_id: str = Field(pattern=ID_PATTERN, description="`keyId` (a UUID).")
    private_key: str = Field(
        max_length=MAX_PEM_CHARS,
        description="The EC P-256 private key (PEM) whose public key was uploaded. Never returned.",
        json_schema_extra={"writeOnly": True},
    )
    api_version: Literal["v1", "v5"] = Field(
        default="v1",
        description="`v1`: the Apple Ads Platform API (default). `v5`: the Campaign Management "
        "API, kept for its longer weekly/monthly history until its sunset on 2027-01-26 "
        "(`ORCHARD_SEARCHADS_V5_SUNSET`), refused from then on.",
    )
    sync_ad_accounts: list[int] | None = Field(
        default=None,
        max_length=1000,
        description="Ad account ids to sync; omitted: every App Store ad account the key sees.",
    )

    _check_private_key = field_validator("private_key")(_private_key)


class SearchAdsCredentialUpdate(BaseModel):
    """Rename, or choose which ad accounts to sync (the full list; others stop syncing)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    sync_ad_accounts: list[int] | None = Field(default=None, max_length=1000)


class AdAccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ad_account_id: int = Field(description="Apple's ad account id (v1 `adAccountId`).")
    org_id: int | None = Field(description="The org the ad account belongs to.")
    name: str
    currency: str | None = Field(description="The ad account's currency: every amount's.")
    time_zone: str | None = Field(description="IANA zone in which report days are counted.")
    roles: list[str] = Field(description="The API user's roles on this ad account.")
    app_store: bool = Field(description="Promotes App Store apps (Maps accounts do not sync).")
    sync_enabled: bool
    visible: bool = Field(description="Still listed by Apple at the last verification.")
    campaigns_synced_at: dt.datetime | None


class SearchAdsCredentialRead(BaseModel):
    """A linked Apple Ads credential. The private key is never returned."""

    id: uuid.UUID
    name: str
    client_id: str
    team_id: str
    key_id: str
    api_version: Literal["v1", "v5"]
    key_fingerprint: str = Field(description="SHA-256 of the public key (DER), hex.")
    credential_status: CredentialStatusName
    status_reason: str | None = Field(description="What is wrong and what to do about it.")
    status_code: str | None = Field(description="Apple's error code behind the status, if any.")
    last_verified_at: dt.datetime | None
    ad_accounts: list[AdAccountRead]
    created_at: dt.datetime
    updated_at: dt.datetime


class CampaignRead(BaseModel):
    credential_id: uuid.UUID
    ad_account_id: int
    campaign_id: int
    name: str
    adam_id: int | None = Field(description="The promoted app's Apple id.")
    app_id: uuid.UUID | None = Field(
        description="Orchard's app with that Apple id; null when no linked account lists it."
    )
    status: str | None
    display_status: str | None
    serving_status: str | None
    daily_budget: Money | None = Field(description="In the ad account's currency.")
    countries: list[str] = Field(description="Targeted countries or regions (ISO alpha-2).")
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    deleted: bool


GroupBy = Literal["org", "campaign", "ad_group", "keyword", "search_term", "app", "country"]
Granularity = Literal["day", "week", "month", "total"]


class PerformanceRow(BaseModel):
    """Measures of one group and period. Amounts are in the ad account's currency; rows of
    ad accounts with different currencies are never added together."""

    period_start: dt.date | None = Field(
        description="First day of the period (days in the ad account's time zone); null for "
        "`granularity=total`."
    )
    ad_account_id: int | None = None
    campaign_id: int | None = None
    campaign_name: str | None = None
    ad_group_id: int | None = None
    keyword_id: int | None = None
    keyword: str | None = None
    search_term: str | None = Field(
        default=None,
        description="The customer's search; `\"\"` for Apple's low-volume row (terms under its "
        "impression threshold, aggregated).",
    )
    adam_id: int | None = None
    app_id: uuid.UUID | None = None
    country: str | None = None
    currency: str = Field(description="The ad account's currency: `spend`, `cpt`, `cpa`'s.")
    spend: ConvertibleMoney = Field(
        description="Σ spend. With a reporting currency it gains `converted`: each report date "
        "(the ad account's day) at that date's rate, then summed — never one rate for a period."
    )
    impressions: int
    taps: int
    tap_installs: int = Field(description="Installs within 30 days of a tap.")
    view_installs: int = Field(description="Installs within 1 day of a view.")
    installs: int = Field(description="tap_installs + view_installs (Apple's totalInstalls).")
    new_downloads: int
    redownloads: int
    ttr: Decimal | None = Field(description="taps / impressions, from sums.")
    conversion_rate: Decimal | None = Field(description="installs / taps, from sums.")
    cpt: ConvertibleMoney | None = Field(
        description="spend / taps, from sums. Converted: the exact converted spend / taps, "
        "rounded once; null `converted` when part of the spend had no rate."
    )
    cpa: ConvertibleMoney | None = Field(
        description="spend / installs, from sums; converted like `cpt`."
    )
    spend_total_converted: ConvertedTotal | None = Field(
        default=None,
        description="With a reporting currency (`currency=` or the workspace's default): "
        "`spend` in it, and what had no rate (`unconverted`, never counted as zero).",
    )


CURRENCY = (
    "The reporting currency money was converted into (`currency=`, else the workspace's "
    "default); null: no conversion, amounts only in the ad accounts' own currencies."
)


class SearchAdsPerformanceReport(BaseModel):
    """Search Ads measures per period and group, one page at a time."""

    currency: str | None = Field(default=None, description=CURRENCY)
    items: list[PerformanceRow] = Field(
        description="Ordered by period, then each group column, then currency (nulls first)."
    )
    next_cursor: str | None = Field(
        description="Opaque cursor for the next page (keyset: exact across pages); null on "
        "the last page. Valid only with the same `granularity` and `group_by`."
    )
    incomplete_dates: list[dt.date] = Field(
        description="Days in the range not yet fetched for every synced ad account: their "
        "figures are missing, not zero."
    )


class AppSearchAdsSummary(BaseModel):
    """Search Ads spend beside App Store proceeds of the same days, per currency pair."""

    currency: str | None = Field(default=None, description=CURRENCY)
    app_id: uuid.UUID
    adam_id: int
    date_from: dt.date
    date_to: dt.date
    spend: list[ConvertibleMoney] = Field(
        description="Spend per ad account currency (never added up); with a reporting "
        "currency each gains `converted` (each ad day at its own rate, then summed)."
    )
    installs: int
    tap_installs: int
    view_installs: int
    cpa: list[Money] = Field(description="Spend / installs per currency.")
    proceeds: list[ConvertibleMoney] = Field(
        description="App Store proceeds of the same days per currency; converted like `spend` "
        "(each Pacific report date at its own rate)."
    )
    proceeds_per_ad_spend: list[dict[str, str]] = Field(
        description="Proceeds ÷ spend where both are in the same currency. An attribution-free "
        "ratio of two totals over the same days — not ROAS: proceeds include every download, "
        "not only those from ads."
    )
    spend_total_converted: ConvertedTotal | None = Field(
        default=None, description="`spend` in the reporting currency, with what had no rate."
    )
    proceeds_total_converted: ConvertedTotal | None = Field(
        default=None, description="`proceeds` in the reporting currency, likewise."
    )
    proceeds_per_ad_spend_converted: str | None = Field(
        default=None,
        description="Converted proceeds ÷ converted spend (both totals whole, else null): the "
        "same attribution-free ratio across currencies — not ROAS.",
    )
    incomplete_dates: list[dt.date]
