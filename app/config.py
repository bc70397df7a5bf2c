"""Orchard settings, read from ``ORCHARD_*`` environment variables and validated at start-up."""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, TypeAdapter, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob Orchard has. Each field maps to ``ORCHARD_<FIELD NAME IN CAPITALS>``."""

    model_config = SettingsConfigDict(env_prefix="ORCHARD_", extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL; without it Orchard runs an embedded PostgreSQL.",
    )
    database_read_url: SecretStr | None = Field(
        default=None,
        description="A read replica's PostgreSQL URL: GET and HEAD routes read there "
        "(read-only sessions); everything else, authentication included, uses database_url.",
    )
    data_dir: Path = Path("./.orchard")
    secret_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys; the first encrypts, all decrypt.",
    )
    asc_base_url: str = "https://api.appstoreconnect.apple.com"
    asc_read_timeout_seconds: float = Field(default=60.0, gt=0, le=600)  # a stalled Apple read
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.JSON
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    status_page: bool = Field(
        default=True, description="Serve the ops status page at /status (behind a read token)."
    )
    status_refresh_seconds: int = Field(default=30, ge=5, le=3600)
    cors_origins: str = Field(
        default="",
        description="Browser origins allowed to call the API (comma-separated, exact "
        "`scheme://host[:port]`); empty: CORS off.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    response_cache_mb: int = Field(
        default=64,
        ge=0,
        le=4096,
        description="Memory per API process for repeated answers of the sales routes, kept "
        "under a version of the data they read (never served once it changed); 0: off.",
    )
    verify_interval: timedelta = Field(
        default=timedelta(hours=6), description="How often each account's key is re-verified."
    )
    run_worker: bool = Field(
        default=True, description="Run the background worker inside `orchard serve`."
    )
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    worker_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    key_concurrency: int = Field(
        default=2, ge=1, le=16, description="Units running at once per App Store Connect key."
    )
    budget_reserve: int = Field(
        default=50, ge=0, description="Requests per key kept in reserve of Apple's hourly limit."
    )
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    scheduler_seconds: float = Field(default=15.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    shutdown_timeout_seconds: float = Field(default=30.0, ge=0)
    worker_stale_seconds: float = Field(
        default=60.0, gt=0, description="A worker silent this long counts as gone."
    )
    expect_worker: bool = Field(
        default=True, description="Readiness reports degraded when no worker is alive."
    )
    initial_backfill_days: int = Field(default=90, ge=0, le=365)
    rate_limit_per_minute: int = Field(
        default=600,
        ge=1,
        description="Requests per minute per API token, across every API process.",
    )
    rate_limit_burst: int = Field(default=120, ge=1, description="Requests a token may burst.")
    sales_max_range_days: int = Field(default=400, ge=1, le=3660)  # one sales query's span
    analytics_snapshot: bool = Field(
        default=True,
        description="Ask Apple once per app for a ONE_TIME_SNAPSHOT analytics report request "
        "(the history before the ONGOING request began).",
    )
    analytics_max_range_days: int = Field(
        default=400, ge=1, le=3660, description="The longest span one /v1/analytics query covers."
    )
    finance_regions: str = Field(
        default="",
        description="FINANCIAL region codes to fetch besides ZZ (comma-separated, e.g. EU,JP).",
    )
    public_url: str | None = Field(
        default=None,
        description="The public base URL of this deployment (`https://orchard.example.com`): "
        "when set, Orchard registers App Store Connect webhooks for release events at it.",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
    )
    cadences: str = Field(
        default="",
        description="Routine cadence per dataset, overriding its default: "
        "`dataset=duration` pairs, comma-separated (`reviews=PT30M,apps=900`).",
    )

    # --- Public App Store data (charts, star ratings; issue 22) --------------------------------
    store_enabled: bool = Field(
        default=True, description="Fetch public App Store data (ranks, star ratings)."
    )
    store_lookup_url: str = "https://itunes.apple.com"  # iTunes Lookup API
    store_rss_url: str = "https://rss.applemarketingtools.com"  # Marketing Tools RSS v2
    store_legacy_rss_url: str = "https://itunes.apple.com"  # legacy iTunes RSS (genre charts)
    store_contact: str = Field(
        default="", max_length=200, description="A contact (URL or e-mail) in the User-Agent."
    )
    store_requests_per_minute: float = Field(
        default=10.0,
        gt=0,
        le=60000,
        description="Requests per minute to Apple's public endpoints, shared by every process.",
    )
    store_max_wait_seconds: float = Field(default=2.0, ge=0, le=60)
    store_throttle_backoff_seconds: float = Field(default=60.0, ge=1, le=3600)
    store_lookup_batch: int = Field(default=100, ge=1, le=200)
    store_chart_depth: int = Field(default=100, ge=1, le=100)
    store_legacy_feeds: bool = Field(
        default=False, description="Also fetch the legacy per-genre feeds (unconfirmed alive)."
    )
    store_legacy_genres: str = Field(
        default="", description="Genre ids for legacy charts; empty: the tracked apps' genres."
    )
    store_legacy_depth: int = Field(default=200, ge=1, le=200)
    store_default_storefronts: str = "us"
    store_max_storefronts: int = Field(default=10, ge=1, le=50)

    # --- Currency conversion (issue 17) -------------------------------------------------------
    fx_ecb_enabled: bool = Field(
        default=True, description="Sync the ECB's euro reference rates (the `fx_ecb` dataset)."
    )
    fx_ecb_url: str = Field(
        default="https://www.ecb.europa.eu/stats/eurofxref",
        description="Folder of the ECB's eurofxref files (the sandbox serves the same paths).",
    )
    fx_frankfurter_url: str = Field(
        default="",
        description="A Frankfurter server (v2) for the Apple currencies the ECB does not "
        "publish; empty: off.",
    )
    fx_frankfurter_backfill_days: int = Field(default=90, ge=1, le=3660)
    fx_http_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    fx_max_rate_age_days: int = Field(
        default=7,
        ge=0,
        le=62,
        description="How old the latest rate on or before a date may be to convert that date "
        "(weekends, holidays, a late publication); older: the amount stays unconverted.",
    )

    @field_validator("store_lookup_url", "store_rss_url", "store_legacy_rss_url", "fx_ecb_url")
    @classmethod
    def _store_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("fx_frankfurter_url")
    @classmethod
    def _optional_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL (or empty: off)")
        return value.rstrip("/")

    @field_validator("store_legacy_genres")
    @classmethod
    def _genre_ids(cls, value: str) -> str:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        bad = [part for part in ids if not part.isdigit() or len(part) > 6]
        if bad:
            raise ValueError(f"not genre ids: {', '.join(bad)}")
        return ",".join(ids)

    @field_validator("store_default_storefronts")
    @classmethod
    def _storefront_codes(cls, value: str) -> str:
        codes = [part.strip().lower() for part in value.split(",") if part.strip()]
        bad = [code for code in codes if not re.fullmatch(r"[a-z]{2}", code)]
        if bad or not codes:
            raise ValueError("must be comma-separated two-letter storefront codes (e.g. us,gb)")
        return ",".join(dict.fromkeys(codes))

    # --- Apple Ads (Search Ads; issue 20) ----------------------------------------------------
    apple_ads_base_url: str = Field(
        default="https://api.ads.apple.com",
        description="Apple Ads API host; the Platform API lives under /v1.",
    )
    apple_ads_token_url: str = Field(
        default="https://appleid.apple.com/auth/oauth2/token",
        description="The OAuth 2 token endpoint for Apple Ads client credentials.",
    )
    apple_ads_v5_base_url: str = Field(
        default="https://api.searchads.apple.com",
        description="Campaign Management API v5 host (under /api/v5); refused after its sunset.",
    )
    searchads_v5_sunset: date = Field(
        default=date(2027, 1, 26),
        description="The day Apple shuts v5 off: from then v5 credentials neither link nor sync.",
    )
    searchads_restate_days: int = Field(
        default=30,
        ge=0,
        le=90,
        description="Recent days re-fetched on every pass (tap installs attribute over 30 days).",
    )
    searchads_backfill_days: int = Field(
        default=90, ge=1, le=90, description="Days fetched when an ad account starts syncing."
    )
    searchads_window_days: int = Field(
        default=30, ge=2, le=90, description="Days per report request (v1 DAILY: at most 90)."
    )
    searchads_budget_reserve: int = Field(
        default=2, ge=0, le=1000, description="Requests left in a credential's window untouched."
    )

    @field_validator("apple_ads_base_url", "apple_ads_token_url", "apple_ads_v5_base_url")
    @classmethod
    def _ads_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    # Webhooks (outbound, Standard Webhooks): see the README's "Webhooks" section.
    webhooks_allow_private: bool = Field(
        default=False,
        description="Allow http:// and private, loopback and link-local receivers (tests, "
        "local development). Off: https only, public addresses only, checked at delivery.",
    )
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhooks_concurrency: int = Field(
        default=16, ge=1, le=256, description="Endpoints a worker process delivers to at once."
    )
    webhooks_disable_after: timedelta = Field(
        default=timedelta(days=3),
        description="An endpoint whose every attempt failed for this long is disabled.",
    )
    webhooks_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    webhooks_lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    webhooks_retention: timedelta = Field(
        default=timedelta(days=30), description="How long finished deliveries are listed."
    )
    report_retention_daily: timedelta | None = Field(
        default=None,
        description="How long rows of daily reports (sales, Subscription and Subscription "
        "Event reports, Apple Ads daily reports; App Analytics instances of DAILY granularity, "
        "by processing date) are kept, by report date; unset: forever. Whole monthly "
        "partitions past it are dropped; the rollups stay. Subscriber Report rows are kept: "
        "each subscriber's history is derived from all of them.",
    )
    report_retention_weekly: timedelta | None = Field(
        default=None,
        description="Likewise for weekly reports and App Analytics instances (yearly partitions).",
    )
    report_retention_monthly: timedelta | None = Field(
        default=None,
        description="Likewise for monthly reports and App Analytics instances (yearly partitions).",
    )
    report_retention_yearly: timedelta | None = Field(
        default=None, description="Likewise for yearly reports (yearly partitions)."
    )
    webhooks_deliver: bool = Field(
        default=True, description="Workers deliver webhooks (false: another fleet does)."
    )

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("asc_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith(("postgresql", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("finance_regions")
    @classmethod
    def _region_codes(cls, value: str) -> str:
        codes = [code.strip().upper() for code in value.split(",") if code.strip()]
        bad = [code for code in codes if not _REGION.match(code) or code in ("ZZ", "Z1")]
        if bad:
            raise ValueError(f"not FINANCIAL region codes: {', '.join(bad)}")
        return ",".join(dict.fromkeys(codes))

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        origins = [part.strip() for part in value.split(",") if part.strip()]
        bad = [origin for origin in origins if not _ORIGIN.match(origin)]
        if bad:
            # `*` included: an allow-list is the point, and a wildcard would hand every site a
            # user's browser visits the right to read whatever a token in that page can.
            raise ValueError(
                f"not exact origins (scheme://host[:port], no path, no wildcard): {', '.join(bad)}"
            )
        return ",".join(dict.fromkeys(origin.lower() for origin in origins))

    @field_validator("cadences")
    @classmethod
    def _cadence_pairs(cls, value: str) -> str:
        parse_cadences(value)
        return value

    @property
    def finance_region_codes(self) -> tuple[str, ...]:
        return tuple(code for code in self.finance_regions.split(",") if code)

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        return tuple(origin for origin in self.cors_origins.split(",") if origin)

    @property
    def cadence_overrides(self) -> dict[str, timedelta]:
        return parse_cadences(self.cadences)

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None


_REGION = re.compile(r"^[A-Z][A-Z0-9]$")
_ORIGIN = re.compile(r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")
_DATASET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DURATION = TypeAdapter(timedelta)
_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")


def parse_cadences(value: str) -> dict[str, timedelta]:
    """``reviews=PT30M,apps=900`` → {dataset: cadence}; durations in seconds or ISO 8601."""
    cadences: dict[str, timedelta] = {}
    for pair in filter(None, (part.strip() for part in value.split(","))):
        name, _, raw = pair.partition("=")
        name = name.strip()
        if not _DATASET_NAME.match(name) or not raw.strip():
            raise ValueError(f"{pair!r} is not dataset=duration")
        raw = raw.strip()
        try:
            cadence = _DURATION.validate_python(float(raw) if _SECONDS.match(raw) else raw)
        except ValidationError:
            raise ValueError(f"{raw!r} is not a duration (seconds or ISO 8601)") from None
        if cadence < timedelta(minutes=1):
            raise ValueError(f"the cadence of {name} must be at least a minute")
        cadences[name] = cadence
    return cadences


class SettingsError(Exception):
    """Start-up configuration is invalid; the message names every bad variable."""


def load_settings() -> Settings:
    """Read settings from the environment, turning pydantic's report into one clear message."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            problems.append(f"ORCHARD_{field.upper()}: {error['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
