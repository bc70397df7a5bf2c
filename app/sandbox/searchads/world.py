"""The generated Apple Ads world: orgs, ad accounts, campaigns, ad groups, keywords.

Everything is a pure function of the seed, the ``anchor`` day (the state's "today" when it was
built) and the :class:`AccountSpec` list, so two states built alike are identical. Delivery
(daily metrics) is generated lazily in :mod:`.delivery`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from app.sandbox.searchads.entities import (
    AdGroup,
    AdsAccount,
    AdsApp,
    AdsOrg,
    Campaign,
    Keyword,
    Product,
    SearchTerm,
    Slot,
)
from app.sandbox.seeding import rng, stable_hash

_APP_NAMES = ("Lakeside Notes", "Trail Tracker", "Pocket Budget", "Sky Sketch", "Tide Timer")
_FOREIGN_NAMES = ("Rival Puzzles", "Other Studio Chess", "Someone Else's Weather")
_GENERIC_WORDS = ("planner", "tracker", "journal", "organizer", "widget", "offline", "pro")


@dataclass(frozen=True)
class AccountSpec:
    """What to build for one ad account (v5 org)."""

    label: str
    currency: str
    time_zone: str
    storefronts: tuple[str, ...]
    payment_model: str = "PAYG"
    product: Product = "APPSTORE"
    campaigns: int = 6


DEFAULT_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("US", "USD", "America/Los_Angeles", ("US", "CA")),
    AccountSpec("EU", "EUR", "Europe/Berlin", ("DE", "FR", "AT"), payment_model="LOC"),
    AccountSpec("JP", "JPY", "Asia/Tokyo", ("JP",)),
    AccountSpec("Maps", "USD", "America/New_York", ("US",), product="MAPS", campaigns=2),
)

#: Campaign roles by index within an account (cycled after the last).
_ROLES = ("brand", "generic", "search_tab", "paused", "foreign", "deleted")


def default_apps(seed: int, count: int = 3) -> tuple[AdsApp, ...]:
    return tuple(
        AdsApp(1_000_000_000 + stable_hash(seed, "app", i) % 900_000_000, _APP_NAMES[i % 5])
        for i in range(count)
    )


@dataclass
class AdsWorld:
    seed: int
    anchor: date
    apps: tuple[AdsApp, ...]
    orgs: dict[int, AdsOrg] = field(default_factory=dict)
    accounts: dict[int, AdsAccount] = field(default_factory=dict)  # by v5 orgId
    ad_accounts: dict[int, AdsAccount] = field(default_factory=dict)  # by v1 adAccountId
    campaigns: dict[int, Campaign] = field(default_factory=dict)
    ad_groups: dict[int, AdGroup] = field(default_factory=dict)
    keywords: dict[int, Keyword] = field(default_factory=dict)
    slots: dict[int, tuple[Slot, ...]] = field(default_factory=dict)  # by ad group id
    campaign_ids: dict[int, list[int]] = field(default_factory=dict)  # by v5 orgId
    ad_group_ids: dict[int, list[int]] = field(default_factory=dict)  # by campaign id
    keyword_ids: dict[int, list[int]] = field(default_factory=dict)  # by ad group id
    _used_ids: set[int] = field(default_factory=set)

    # --- ids ----------------------------------------------------------------------------
    def new_id(self, low: int, span: int, *parts: object) -> int:
        salt = 0
        while True:
            value = low + stable_hash(self.seed, *parts, salt) % span
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value
            salt += 1

    # --- building -----------------------------------------------------------------------
    def add_org(self, name: str) -> AdsOrg:
        org = AdsOrg(self.new_id(7_000_000, 900_000, "org", name), name)
        self.orgs[org.org_id] = org
        return org

    def add_account(self, org: AdsOrg, spec: AccountSpec) -> AdsAccount:
        account = AdsAccount(
            org_id=self.new_id(8_000_000, 900_000, "v5-org", org.org_id, spec.label),
            ad_account_id=self.new_id(880_000_000, 99_000_000, "adacct", org.org_id, spec.label),
            parent=org,
            name=f"{org.name} {spec.label}",
            currency=spec.currency,
            time_zone=spec.time_zone,
            payment_model=spec.payment_model,
            product=spec.product,
            storefronts=spec.storefronts,
        )
        self.accounts[account.org_id] = account
        self.ad_accounts[account.ad_account_id] = account
        self.campaign_ids[account.org_id] = []
        for index in range(spec.campaigns):
            self._add_campaign(account, index)
        return account

    def _add_campaign(self, account: AdsAccount, index: int) -> None:
        g = rng(self.seed, "campaign", account.org_id, index)
        role = _ROLES[index % len(_ROLES)]
        app = self._campaign_app(account, index, role)
        start_day = self.anchor - timedelta(days=g.randint(150, 420))
        last_day = {"paused": 40, "deleted": 20}.get(role)
        countries = _countries(account, g.randint(1, len(account.storefronts)), index)
        cpt = g.randint(40, 180) * (100 if account.minor_digits == 0 else 1)
        campaign = Campaign(
            id=self.new_id(100_000_000, 900_000_000, "campaign", account.org_id, index),
            account=account,
            name=_campaign_name(role, app, countries),
            app=app,
            countries=countries,
            country_weights=tuple(g.randint(2, 10) for _ in countries),
            supply_source=_supply_source(account, role),
            status="PAUSED" if role == "paused" else "ENABLED",
            deleted=role == "deleted",
            start=_utc(start_day, account, 9),
            end=None,
            first_day=start_day,
            last_day=None if last_day is None else self.anchor - timedelta(days=last_day),
            daily_budget_minor=cpt * g.randint(200, 900),
            cpt_minor=cpt,
            scale=g.randint(1500, 9000),
            created=_utc(start_day - timedelta(days=2), account, 14),
            modified=_utc(self.anchor - timedelta(days=g.randint(1, 60)), account, 11),
        )
        self.campaigns[campaign.id] = campaign
        self.campaign_ids[account.org_id].append(campaign.id)
        self.ad_group_ids[campaign.id] = []
        if app is not None:
            for ad_index in range(2 if campaign.has_keywords else 1):
                self._add_ad_group(campaign, ad_index)

    def _campaign_app(self, account: AdsAccount, index: int, role: str) -> AdsApp | None:
        if account.product == "MAPS":
            return None
        if role == "foreign" or not self.apps:
            name = _FOREIGN_NAMES[stable_hash(self.seed, account.org_id) % len(_FOREIGN_NAMES)]
            adam = 1_900_000_000 + stable_hash(self.seed, "foreign", account.org_id) % 90_000_000
            return AdsApp(adam, name, linked=False)
        return self.apps[index % len(self.apps)]

    def _add_ad_group(self, campaign: Campaign, index: int) -> None:
        g = rng(self.seed, "adgroup", campaign.id, index)
        discovery = index == 1 or not campaign.has_keywords
        group = AdGroup(
            id=self.new_id(100_000_000, 900_000_000, "adgroup", campaign.id, index),
            campaign_id=campaign.id,
            name="Discovery" if discovery else "Exact match",
            status="ENABLED",
            deleted=False,
            default_bid_minor=campaign.cpt_minor * 2,
            cpa_goal_minor=campaign.cpt_minor * 4 if discovery else None,
            automated_keywords=discovery,
            share=g.randint(3, 10),
            start=campaign.start,
            created=campaign.created,
            modified=campaign.modified,
        )
        self.ad_groups[group.id] = group
        self.ad_group_ids[campaign.id].append(group.id)
        self.keyword_ids[group.id] = []
        slots: list[Slot] = []
        if campaign.has_keywords:
            for kw_index in range(4):
                keyword = self._add_keyword(campaign, group, kw_index, discovery)
                slots.append(_keyword_slot(keyword, g))
        if discovery:
            assert campaign.app is not None
            slots.append(_auto_slot(campaign.app, g, searchable=campaign.has_keywords))
        self.slots[group.id] = tuple(slots)

    def _add_keyword(self, campaign: Campaign, group: AdGroup, index: int, broad: bool) -> Keyword:
        g = rng(self.seed, "keyword", group.id, index)
        assert campaign.app is not None
        deleted = index == 2 and not broad
        words = campaign.app.name.lower().split()
        texts = (campaign.app.name.lower(), f"{words[-1]} app", words[-1], _GENERIC_WORDS[index])
        keyword = Keyword(
            id=self.new_id(100_000_000, 900_000_000, "keyword", group.id, index),
            ad_group_id=group.id,
            campaign_id=campaign.id,
            text=texts[index],
            match_type="BROAD" if broad else "EXACT",
            status="PAUSED" if index == 3 else "ACTIVE",
            deleted=deleted,
            bid_minor=campaign.cpt_minor + g.randint(0, campaign.cpt_minor),
            weight=0 if index == 3 else g.randint(5, 40),
            created=campaign.created,
            modified=campaign.modified,
            last_day=self.anchor - timedelta(days=15) if deleted else None,
        )
        self.keywords[keyword.id] = keyword
        self.keyword_ids[group.id].append(keyword.id)
        return keyword

    # --- look-ups -----------------------------------------------------------------------
    def account_campaigns(self, account: AdsAccount) -> list[Campaign]:
        return [self.campaigns[cid] for cid in self.campaign_ids.get(account.org_id, [])]

    def campaign_ad_groups(self, campaign_id: int) -> list[AdGroup]:
        return [self.ad_groups[gid] for gid in self.ad_group_ids.get(campaign_id, [])]

    def ad_group_keywords(self, ad_group_id: int) -> list[Keyword]:
        return [self.keywords[kid] for kid in self.keyword_ids.get(ad_group_id, [])]

    def campaign_keywords(self, campaign_id: int) -> list[Keyword]:
        return [
            keyword
            for group in self.campaign_ad_groups(campaign_id)
            for keyword in self.ad_group_keywords(group.id)
        ]

    def account_of_campaign(self, campaign_id: int) -> AdsAccount:
        return self.campaigns[campaign_id].account

    def accounts_of(self, org: AdsOrg) -> Iterable[AdsAccount]:
        return (a for a in self.accounts.values() if a.parent == org)


def _countries(account: AdsAccount, count: int, index: int) -> tuple[str, ...]:
    ordered = account.storefronts[index % len(account.storefronts) :] + account.storefronts
    return tuple(dict.fromkeys(ordered))[:count]


def _campaign_name(role: str, app: AdsApp | None, countries: Sequence[str]) -> str:
    subject = app.name if app is not None else "Store locator"
    label = {"search_tab": "Search Tab", "foreign": "Partner"}.get(role, role.title())
    return f"{subject} - {label} - {'/'.join(countries)}"


def _supply_source(account: AdsAccount, role: str) -> str:
    if account.product == "MAPS":
        return "MAPS_SEARCH_RESULTS"
    return "APPSTORE_SEARCH_TAB" if role == "search_tab" else "APPSTORE_SEARCH_RESULTS"


def _utc(day: date, account: AdsAccount, hour: int) -> datetime:
    return datetime.combine(day, time(hour), account.zone).astimezone(UTC)


def _keyword_slot(keyword: Keyword, g: random.Random) -> Slot:
    text = keyword.text
    # The rare term comes first: split remainders go to the last (largest) term.
    terms = (
        SearchTerm(f"{text} free download ipad", "TARGETED", keyword.id, 1),
        SearchTerm(f"best {text}", "TARGETED", keyword.id, 120),
        SearchTerm(f"{text} for iphone", "TARGETED", keyword.id, 250),
        SearchTerm(text, "TARGETED", keyword.id, 600),
    )
    return Slot(keyword.id, keyword.weight, g.randint(40, 120), g.randint(250, 550), terms)


def _auto_slot(app: AdsApp, g: random.Random, *, searchable: bool) -> Slot:
    """Search Match traffic; search-tab campaigns have no search terms at all."""
    noun = app.name.lower().split()[-1]
    terms: tuple[SearchTerm, ...] = (
        SearchTerm(f"{noun} for kids offline", "AUTO", None, 1),
        SearchTerm(f"{noun} tracker", "AUTO", None, 300),
        SearchTerm(app.name.lower(), "AUTO", None, 500),
    )
    if not searchable:
        terms = ()
    return Slot(None, 20, g.randint(30, 90), g.randint(200, 450), terms)
