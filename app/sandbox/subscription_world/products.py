"""One subscription group per selling app: its products (levels, durations, prices) and offers.

The catalogue's auto-renewable products (``Premium Monthly`` / ``Yearly`` / ``Weekly``, see
:mod:`app.sandbox.catalog`) keep their Apple IDs and prices. The world adds products the
catalogue does not list so that every duration Apple allows exists somewhere (FACTS §5.3:
``7 Days, 1 Month, 2 Months, 3 Months, 6 Months, 1 Year``) and a higher level
(``Premium Plus``) makes upgrades, downgrades and crossgrades possible. These extra products
appear only in the subscription-family reports (the SALES generator does not know them).

Offers follow Apple's kinds: introductory offers (free trial, pay as you go, pay up front; new
subscribers of the group only), promotional offers (with a Promotional Offer ID; here used for
returning subscribers), win-back offers (a promotional offer for churned subscribers) and
offer codes (custom codes like ``SPRING25`` or one-time-use codes, which have no code text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.markets import COUNTRIES, Country, local_price, proceeds, quantum
from app.sandbox.sales import MAX_SELLING_APPS, RETAINED_RATE, STANDARD_RATE
from app.sandbox.seeding import numeric_id, rng
from app.sandbox.state import SandboxTeam
from app.sandbox.subscription_world.calendar import DURATIONS, Duration

FREE_TRIAL = "Free Trial"
PAY_AS_YOU_GO = "Pay as you go"  # Apple's spelling in the event and subscriber samples
PAY_UP_FRONT = "Pay up front"
INTRO, PROMO, CODE = "introductory", "promotional", "offer_code"


@dataclass(frozen=True, slots=True)
class GroupProduct:
    index: int  # position in the group
    apple_id: str
    name: str
    duration: Duration
    level: int  # 1 = highest level of service (Apple ranks levels from the top)
    usd: Decimal
    flow_weight: float  # share of new subscribers choosing it
    intro: int | None = None  # index of its introductory offer in Group.offers


@dataclass(frozen=True, slots=True)
class Offer:
    index: int
    family: str  # INTRO, PROMO or CODE
    mode: str  # FREE_TRIAL, PAY_AS_YOU_GO, PAY_UP_FRONT
    duration: Duration  # Apple's "Subscription Offer Duration"
    periods: int  # pay as you go: number of discounted periods; otherwise 1
    usd_factor: Decimal  # offer price = factor × the product's standard price (0 = free)
    product: int  # the product it applies to
    name: str = " "  # reference name (promotional offers, offer codes)
    identifier: str = " "  # Promotional Offer ID
    code: str = ""  # custom offer code; "" for one-time-use codes
    win_back: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    app: SandboxApp
    group_id: str
    products: tuple[GroupProduct, ...]
    offers: tuple[Offer, ...]
    grace_days_enabled: bool
    countries: tuple[Country, ...] = field(default=COUNTRIES)

    def offers_of(self, family: str) -> tuple[Offer, ...]:
        return tuple(o for o in self.offers if o.family == family)


# (suffix, name, duration, level, usd, flow weight, chance; the flagship app has them all)
_EXTRA_PRODUCTS = (
    ("premium.weekly", "Premium Weekly", "7 Days", 2, "2.99", 0.12, 0.2),  # if not catalogued
    ("premium.bimonthly", "Premium Bimonthly", "2 Months", 2, "8.99", 0.03, 0.4),
    ("premium.quarterly", "Premium Quarterly", "3 Months", 2, "12.99", 0.06, 0.6),
    ("premium.halfyear", "Premium Half-Year", "6 Months", 2, "19.99", 0.04, 0.5),
    ("plus.monthly", "Premium Plus Monthly", "1 Month", 1, "9.99", 0.05, 0.5),
    ("plus.yearly", "Premium Plus Yearly", "1 Year", 1, "59.99", 0.03, 0.5),
)
_CATALOG_WEIGHTS = {"1 Month": 0.45, "1 Year": 0.25, "7 Days": 0.12}
# Introductory offer per duration: (mode, offer duration, periods, price factor). Offer
# durations are written as Apple's event report help page lists them ("3 Days, 7 Days, 2 Weeks,
# 1 Month, 2 Months, 3 Months, 6 Months, or 1 Year"); pay as you go: periods × the duration.
_INTRO = {
    ("7 Days", 2): (FREE_TRIAL, "3 Days", 1, "0"),
    ("1 Month", 2): (FREE_TRIAL, "7 Days", 1, "0"),
    ("1 Year", 2): (FREE_TRIAL, "7 Days", 1, "0"),
    ("2 Months", 2): (PAY_AS_YOU_GO, "6 Months", 3, "0.6"),
    ("3 Months", 2): (PAY_UP_FRONT, "3 Months", 1, "0.5"),
    ("6 Months", 2): (FREE_TRIAL, "1 Month", 1, "0"),
    ("1 Month", 1): (PAY_AS_YOU_GO, "3 Months", 3, "0.5"),
    ("1 Year", 1): (FREE_TRIAL, "2 Weeks", 1, "0"),
}


def _product_id(team: SandboxTeam, app: SandboxApp, suffix: str) -> str:
    # Same scheme as app.sandbox.catalog, so a product the catalogue later adds keeps its ID.
    return numeric_id(10, 6, team.seed, "product", app.id, suffix)


def _products(team: SandboxTeam, app: SandboxApp) -> list[GroupProduct]:
    r = rng(team.seed, "subscription-group-products", app.id)
    found: list[GroupProduct] = []
    for product in app.subscriptions:
        duration = DURATIONS[product.period]
        weight = _CATALOG_WEIGHTS.get(product.period, 0.1)
        found.append(
            GroupProduct(
                len(found), product.apple_id, product.name, duration, 2, product.usd_price, weight
            )
        )
    catalogued = {".".join(p.product_id.split(".")[-2:]) for p in app.subscriptions}
    for suffix, name, label, level, usd, weight, chance in _EXTRA_PRODUCTS:
        if suffix in catalogued:
            continue
        if app.index == 0 or r.random() < chance:
            found.append(
                GroupProduct(
                    len(found),
                    _product_id(team, app, suffix),
                    name,
                    DURATIONS[label],
                    level,
                    Decimal(usd),
                    weight,
                )
            )
    return found


def _offer_codes(app: SandboxApp, products: list[GroupProduct], start: int) -> list[Offer]:
    monthly = next((p for p in products if p.duration.label == "1 Month" and p.level == 2), None)
    yearly = next((p for p in products if p.duration.label == "1 Year" and p.level == 2), None)
    season = 25 + app.index % 3
    offers: list[Offer] = []
    if monthly is not None:
        offers.append(
            Offer(
                start,
                CODE,
                FREE_TRIAL,
                DURATIONS["1 Month"],
                1,
                Decimal(0),
                monthly.index,
                name="Spring Campaign",
                code=f"SPRING{season}",
            )
        )
        offers.append(
            Offer(
                start + 1,
                CODE,
                PAY_AS_YOU_GO,
                DURATIONS["3 Months"],
                3,
                Decimal("0.5"),
                monthly.index,
                name="Podcast Listeners",
                code="PODCAST",
            )
        )
    if yearly is not None:
        offers.append(
            Offer(
                start + len(offers),
                CODE,
                PAY_UP_FRONT,
                DURATIONS["1 Year"],
                1,
                Decimal("0.5"),
                yearly.index,
                name="Partner One-Time Codes",
            )
        )
    return offers


def _promotional(products: list[GroupProduct], start: int) -> list[Offer]:
    """Promotional and win-back offers, on the monthly product of each level."""
    offers: list[Offer] = []
    for product in products:
        if product.duration.label != "1 Month":
            continue
        slug = "plus" if product.level == 1 else "premium"
        specs = (
            (FREE_TRIAL, "1 Month", 1, "0", "Come Back Free Month", f"{slug}_comeback_1m", False),
            (PAY_AS_YOU_GO, "3 Months", 3, "0.5", "Half Price Quarter", f"{slug}_half_3m", False),
            (PAY_AS_YOU_GO, "2 Months", 2, "0.5", "Win-Back 50%", f"{slug}_winback_50", True),
            (
                PAY_UP_FRONT,
                "1 Month",
                1,
                "0.3",
                "Win-Back Month Pass",
                f"{slug}_winback_pass",
                True,
            ),
        )
        for mode, label, periods, factor, name, identifier, win_back in specs:
            offers.append(
                Offer(
                    start + len(offers),
                    PROMO,
                    mode,
                    DURATIONS[label],
                    periods,
                    Decimal(factor),
                    product.index,
                    name=name,
                    identifier=identifier,
                    win_back=win_back,
                )
            )
    return offers


@lru_cache(maxsize=256)
def subscription_group(team: SandboxTeam, app: SandboxApp) -> Group | None:
    """The app's subscription group, or None when it sells no auto-renewable subscription."""
    if not app.subscriptions:
        return None
    products = _products(team, app)
    offers: list[Offer] = []
    for product in products:
        spec = _INTRO.get((product.duration.label, product.level))
        if spec is None:
            continue
        mode, label, periods, factor = spec
        offers.append(
            Offer(
                len(offers), INTRO, mode, DURATIONS[label], periods, Decimal(factor), product.index
            )
        )
        products[product.index] = _with_intro(product, len(offers) - 1)
    offers += _offer_codes(app, products, len(offers))
    offers += _promotional(products, len(offers))
    r = rng(team.seed, "subscription-group-settings", app.id)
    return Group(
        app=app,
        group_id=numeric_id(10, 2, team.seed, "subscription-group", app.id),
        products=tuple(products),
        offers=tuple(offers),
        grace_days_enabled=app.index == 0 or r.random() < 0.5,
    )


def _with_intro(product: GroupProduct, offer: int) -> GroupProduct:
    return GroupProduct(
        product.index,
        product.apple_id,
        product.name,
        product.duration,
        product.level,
        product.usd,
        product.flow_weight,
        offer,
    )


def selling_groups(team: SandboxTeam) -> tuple[Group, ...]:
    """Subscription groups of the team's selling apps (the apps the SALES reports cover)."""
    groups = (subscription_group(team, app) for app in team_apps(team)[:MAX_SELLING_APPS])
    return tuple(g for g in groups if g is not None)


@lru_cache(maxsize=65536)
def standard_price(usd: Decimal, currency: str) -> Decimal:
    return local_price(usd, currency)


def offer_price(group: Group, offer: Offer, country: Country) -> Decimal:
    """Customer price of one offer charge (pay up front: the whole offer duration)."""
    if offer.usd_factor == 0:
        return Decimal(0).quantize(quantum(country.currency))
    product = group.products[offer.product]
    usd = product.usd * offer.usd_factor
    if offer.mode == PAY_UP_FRONT and offer.duration.months and product.duration.months:
        usd *= Decimal(offer.duration.months) / Decimal(product.duration.months)
    return standard_price(usd.quantize(Decimal("0.01")), country.currency)


def developer_proceeds(price: Decimal, country: Country, retained: bool) -> Decimal:
    """Per-unit proceeds: 70 %, or 85 % ("Rate After One Year") of the price without VAT."""
    return proceeds(price, country, RETAINED_RATE if retained else STANDARD_RATE)
