"""Apple Ads (Search Ads): linked API credentials, their ad accounts, campaigns and ad groups,
daily performance rows, per-day fetch status and the per-credential request budget."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UuidPrimaryKey


class SearchAdsCredential(UuidPrimaryKey, CreatedAt, Base):
    """A linked Apple Ads API user's key (clientId, teamId, keyId and the EC private key,
    stored only as ciphertext). Unlinking destroys the key and sets ``unlinked_at``."""

    __tablename__ = "searchads_credentials"
    __table_args__ = (
        Index(
            "uq_searchads_credentials_workspace_id_client_id_live",
            "workspace_id",
            "client_id",
            unique=True,
            postgresql_where=text("unlinked_at IS NULL"),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(100))
    api_version: Mapped[str] = mapped_column(String(4))
    encrypted_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    org_id: Mapped[int | None] = mapped_column(BigInteger)
    credential_status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_code: Mapped[str | None] = mapped_column(String(100))
    last_verified_at: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    unlinked_at: Mapped[dt.datetime | None] = mapped_column()


class SearchAdsAccount(UuidPrimaryKey, Base):
    """One ad account a credential can see (``/acls``), with its currency and time zone;
    ``sync_enabled`` is the user's choice of which to sync."""

    __tablename__ = "searchads_accounts"
    __table_args__ = (UniqueConstraint("credential_id", "ad_account_id"),)

    credential_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("searchads_credentials.id", ondelete="CASCADE")
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    ad_account_id: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(8))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(100)), server_default=text("'{}'"))
    product_features: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), server_default=text("'{}'")
    )
    sync_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    visible: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    campaigns_synced_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class SearchAdsCampaign(UuidPrimaryKey, Base):
    """A campaign (snapshot). ``app_id`` is Orchard's app with Apple id ``adam_id`` in the same
    workspace, or null when no linked App Store Connect account lists that app."""

    __tablename__ = "searchads_campaigns"
    __table_args__ = (UniqueConstraint("account_id", "campaign_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("searchads_accounts.id", ondelete="CASCADE")
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    adam_id: Mapped[int | None] = mapped_column(BigInteger)
    app_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("apps.id", ondelete="SET NULL"))
    status: Mapped[str | None] = mapped_column(String(32))
    display_status: Mapped[str | None] = mapped_column(String(32))
    serving_status: Mapped[str | None] = mapped_column(String(32))
    daily_budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    currency: Mapped[str | None] = mapped_column(String(8))
    countries: Mapped[list[str]] = mapped_column(ARRAY(String(8)), server_default=text("'{}'"))
    start_time: Mapped[dt.datetime | None] = mapped_column()
    end_time: Mapped[dt.datetime | None] = mapped_column()
    deleted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    synced_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class SearchAdsAdGroup(UuidPrimaryKey, Base):
    __tablename__ = "searchads_ad_groups"
    __table_args__ = (UniqueConstraint("account_id", "ad_group_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("searchads_accounts.id", ondelete="CASCADE")
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int] = mapped_column(BigInteger)
    ad_group_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(32))
    display_status: Mapped[str | None] = mapped_column(String(32))
    pricing_model: Mapped[str | None] = mapped_column(String(16))
    default_bid: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    deleted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    synced_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class SearchAdsDaily(Base):
    """One (level, day, campaign, ad group, keyword, country, search term) of Apple's DAILY
    reports (levels ``campaign``, ``ad_group``, ``keyword``, ``search_term``), in the
    ad account's time zone and currency. ``ad_group_id``/``keyword_id`` are 0 above their
    level. A day is replaced whole (delete and insert) with its :class:`SearchAdsDay`.

    Partitioned by report month (migration ``21_analytics_partitions``,
    :mod:`app.reports.partitions`): a unit's days are in one or two leaves."""

    __tablename__ = "searchads_daily"
    __table_args__ = (
        Index(
            "ix_searchads_daily_workspace_id_level_report_date",
            "workspace_id",
            "level",
            "report_date",
        ),
        {"postgresql_partition_by": "RANGE (report_date)"},
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("searchads_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    report_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ad_group_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    keyword_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    country: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: Search-term rows only (``""`` elsewhere, and for Apple's low-volume ``other`` row).
    search_term: Mapped[str] = mapped_column(String(255), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    keyword_text: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(8))
    spend: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    impressions: Mapped[int] = mapped_column(BigInteger)
    taps: Mapped[int] = mapped_column(BigInteger)
    tap_installs: Mapped[int] = mapped_column(BigInteger)
    view_installs: Mapped[int] = mapped_column(BigInteger)
    total_installs: Mapped[int] = mapped_column(BigInteger)
    tap_new_downloads: Mapped[int] = mapped_column(BigInteger)
    tap_redownloads: Mapped[int] = mapped_column(BigInteger)
    view_new_downloads: Mapped[int] = mapped_column(BigInteger)
    view_redownloads: Mapped[int] = mapped_column(BigInteger)
    total_new_downloads: Mapped[int] = mapped_column(BigInteger)
    total_redownloads: Mapped[int] = mapped_column(BigInteger)


class SearchAdsDay(Base):
    """When a (level, day) of an ad account was last fetched: a day never fetched is not
    zero (``incomplete_dates``), and a recent day is re-fetched while Apple may restate it."""

    __tablename__ = "searchads_days"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("searchads_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16), primary_key=True)
    report_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    fetched_at: Mapped[dt.datetime] = mapped_column()
    rows: Mapped[int] = mapped_column(Integer)


class SearchAdsBudget(Base):
    """A credential's Apple Ads request budget from ``RateLimit-*``, shared by every worker."""

    __tablename__ = "searchads_budgets"

    credential_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("searchads_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    rate_limit: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    reset_at: Mapped[dt.datetime] = mapped_column()
    blocked_until: Mapped[dt.datetime | None] = mapped_column()
    consecutive_429: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    observed_at: Mapped[dt.datetime] = mapped_column()
