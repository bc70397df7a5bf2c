"""The Apple Ads objects the simulator serves (FACTS §2, §9), independent of API version.

Org → ad accounts → campaigns → ad groups → keywords. One :class:`AdsAccount` is both a v5
"org" (``orgId``, what ``X-AP-Context: orgId=`` names) and a v1 ad account (``adAccountId``,
a different number, FACTS §9 "adAccountId ≠ v5 orgId"). Its :class:`AdsOrg` is the v5
``parentOrgId`` and the v1 ``orgId`` a token is bound to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

Product = Literal["APPSTORE", "MAPS"]

#: Currencies without minor units (amounts are whole numbers).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "VND", "ISK", "HUF", "TWD"})


@dataclass(frozen=True)
class AdsApp:
    """An App Store app that campaigns promote (``adamId``)."""

    adam_id: int
    name: str
    linked: bool = True  # False: an app Orchard is not expected to know


@dataclass(frozen=True)
class AdsOrg:
    """The top of the hierarchy: v5 ``parentOrgId``, v1 ``orgId`` (FACTS §9)."""

    org_id: int
    name: str


@dataclass(frozen=True)
class AdsAccount:
    """A v5 org (campaign group) and, under another id, the v1 ad account."""

    org_id: int  # v5 orgId
    ad_account_id: int  # v1 adAccountId
    parent: AdsOrg
    name: str
    currency: str
    time_zone: str  # IANA
    payment_model: str  # PAYG / LOC (FACTS §2)
    product: Product
    storefronts: tuple[str, ...]

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def minor_digits(self) -> int:
        return 0 if self.currency in ZERO_DECIMAL_CURRENCIES else 2

    @property
    def in_v5(self) -> bool:
        """Maps ad accounts exist only in the Platform API (FACTS §9 "App Store or Maps")."""
        return self.product == "APPSTORE"


@dataclass(frozen=True)
class Campaign:
    id: int
    account: AdsAccount
    name: str
    app: AdsApp | None  # None: a Maps (BUSINESS_BRAND) campaign
    countries: tuple[str, ...]
    country_weights: tuple[int, ...]
    supply_source: str
    status: str  # ENABLED / PAUSED
    deleted: bool
    start: datetime  # UTC
    end: datetime | None
    first_day: date  # first org-local day with delivery
    last_day: date | None  # last org-local day with delivery (paused / deleted / ended)
    daily_budget_minor: int
    cpt_minor: int  # typical cost per tap
    scale: int  # mean impressions per day
    created: datetime
    modified: datetime

    @property
    def has_keywords(self) -> bool:
        return self.supply_source == "APPSTORE_SEARCH_RESULTS"

    @property
    def ad_channel_type(self) -> str:
        return "SEARCH" if self.supply_source.endswith("SEARCH_RESULTS") else "DISPLAY"

    @property
    def display_status(self) -> str:
        if self.deleted:
            return "DELETED"
        if self.status == "PAUSED":
            return "PAUSED"
        return "ON_HOLD" if self.last_day is not None else "RUNNING"

    @property
    def serving(self) -> bool:
        return self.display_status == "RUNNING"

    @property
    def serving_reasons(self) -> list[str]:
        if self.deleted:
            return ["DELETED_BY_USER"]
        if self.status == "PAUSED":
            return ["PAUSED_BY_USER"]
        return [] if self.last_day is None else ["CAMPAIGN_END_DATE_REACHED"]

    def delivers_on(self, day: date) -> bool:
        return self.first_day <= day and (self.last_day is None or day <= self.last_day)


@dataclass(frozen=True)
class AdGroup:
    id: int
    campaign_id: int
    name: str
    status: str
    deleted: bool
    default_bid_minor: int
    cpa_goal_minor: int | None
    automated_keywords: bool
    share: int  # relative share of the campaign's traffic
    start: datetime
    created: datetime
    modified: datetime


@dataclass(frozen=True)
class Keyword:
    id: int
    ad_group_id: int
    campaign_id: int
    text: str
    match_type: str  # EXACT / BROAD
    status: str  # ACTIVE / PAUSED (v5 names; v1 says ENABLED for ACTIVE)
    deleted: bool
    bid_minor: int
    weight: int
    created: datetime
    modified: datetime
    last_day: date | None = None  # a deleted keyword stops delivering on its deletion day

    def delivers_on(self, day: date) -> bool:
        return self.weight > 0 and (self.last_day is None or day <= self.last_day)


@dataclass(frozen=True)
class SearchTerm:
    """What users typed; TARGETED under a keyword, AUTO under Search Match (FACTS §3)."""

    text: str
    source: str  # TARGETED / AUTO
    keyword_id: int | None
    weight: int


@dataclass(frozen=True)
class Slot:
    """One traffic source of an ad group: a keyword, or Search Match (``keyword_id`` None)."""

    keyword_id: int | None
    weight: int
    ttr_permille: int  # taps per 1000 impressions
    install_permille: int  # tap installs per 1000 taps
    terms: tuple[SearchTerm, ...]
