"""Summary Sales report (``SALES/SUMMARY`` 1_0) generation.

Each reporting day of a team is generated from its own seeded RNG (cached), so a 365-day
backfill costs a few milliseconds per day and weekly / monthly / yearly reports are exact
aggregates of the dailies (same row key → units summed; ``Developer Proceeds`` and
``Customer Price`` are per unit so they are part of the key).

Rows cover the first :data:`MAX_SELLING_APPS` apps × a weighted sample of storefronts ×
product types 1/1F, 3, 7, IA1, IA9, IAY (New/Renewal, intro offers, "Rate After One Year"),
IA3 restores, now and then an unknown ``IAC`` code, refunds (negative Units and Customer
Price, positive Developer Proceeds) and occasional partial refunds (Units 0). Empty cells are
a single space like Apple's files (``CMB`` is truly empty). Some days have no sales at all.

Use :func:`generate_sales_rows` in tests to compute expected totals.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from app.sandbox.catalog import Product, SandboxApp, live_version, team_apps
from app.sandbox.markets import COUNTRIES, Country, format_amount, local_price, proceeds
from app.sandbox.periods import Frequency, sales_period
from app.sandbox.seeding import numeric_id, poisson, rng, stable_hash
from app.sandbox.state import SandboxTeam

SALES_HEADER: tuple[str, ...] = (
    "Provider",
    "Provider Country",
    "SKU",
    "Developer",
    "Title",
    "Version",
    "Product Type Identifier",
    "Units",
    "Developer Proceeds",
    "Begin Date",
    "End Date",
    "Customer Currency",
    "Country Code",
    "Currency of Proceeds",
    "Apple Identifier",
    "Customer Price",
    "Promo Code",
    "Parent Identifier",
    "Subscription",
    "Period",
    "Category",
    "CMB",
    "Device",
    "Supported Platforms",
    "Proceeds Reason",
    "Preserved Pricing",
    "Client",
    "Order Type",
)
MAX_SELLING_APPS = 8
NO_SALES_ONE_IN = 41
STANDARD_RATE = Decimal("0.70")
RETAINED_RATE = Decimal("0.85")
BLANK = " "


class LineKey(NamedTuple):
    """Everything that identifies a report row except its units and dates."""

    sku: str
    developer: str
    title: str
    version: str
    product_type: str
    proceeds: Decimal  # per unit, in proceeds_currency (or customer currency when blank)
    customer_currency: str
    country: str
    proceeds_currency: str
    apple_id: str
    customer_price: Decimal  # per unit; negative on refunds
    parent_id: str
    subscription: str
    period: str
    category: str
    device: str
    proceeds_reason: str
    preserved_pricing: str
    order_type: str


def is_no_sales_day(team: SandboxTeam, day: date) -> bool:
    """Days on which nothing sold (Apple answers 404 "There were no sales…")."""
    if not team_apps(team):
        return True
    return stable_hash(team.seed, "no-sales", day.toordinal()) % NO_SALES_ONE_IN == 0


class DayBuilder:
    def __init__(self, team: SandboxTeam, day: date) -> None:
        self.team = team
        self.day = day
        self.lines: dict[LineKey, int] = {}

    def add(
        self,
        app: SandboxApp,
        country: Country,
        units: int,
        *,
        product_type: str,
        usd: Decimal,
        device: str,
        product: tuple[str, str, str] | None = None,  # (apple id, sku, title) of an IAP
        subscription: str = BLANK,
        period: str = BLANK,
        rate: Decimal = STANDARD_RATE,
        order_type: str = BLANK,
        preserved: str = BLANK,
        refund: bool = False,
        price_factor: Decimal = Decimal(1),
        blank_proceeds_currency: bool = False,
    ) -> None:
        price = local_price(usd, country.currency) * price_factor
        price = Decimal(format_amount(price, country.currency))
        unit_proceeds = proceeds(price, country, rate)
        apple_id, sku, title = product or (app.id, app.sku, app.name)
        key = LineKey(
            sku=sku,
            developer=BLANK if product else self.team.name,
            title=title,
            version=BLANK if product else live_version(app, self.day),
            product_type=product_type,
            proceeds=unit_proceeds,
            customer_currency=country.currency,
            country=country.alpha2,
            proceeds_currency=BLANK if blank_proceeds_currency else country.currency,
            apple_id=apple_id,
            customer_price=-price if refund else price,
            parent_id=app.sku if product else BLANK,
            subscription=subscription,
            period=period,
            category=app.category,
            device=device,
            proceeds_reason="Rate After One Year" if rate == RETAINED_RATE else BLANK,
            preserved_pricing=preserved,
            order_type=order_type,
        )
        self.lines[key] = self.lines.get(key, 0) + units


def _sample_countries(r_random: list[float], count: int) -> list[Country]:
    # Efraimidis–Spirakis weighted sampling without replacement.
    keyed = sorted(
        zip(COUNTRIES, r_random, strict=True),
        key=lambda pair: pair[1] ** (1.0 / pair[0].weight),
        reverse=True,
    )
    return [country for country, _ in keyed[:count]]


# --- one app's day, in named steps ------------------------------------------------------
# Every step draws from the app-day generator ``r`` in a fixed order (short-circuits
# included): the order *is* the data, so steps must not be reordered or merged.

#: A sale that can be refunded later the same day: (type, USD price, IAP ref, sub, period).
_PaidSale = tuple[str, Decimal, tuple[str, str, str] | None, str, str]
DEVICE_WEIGHTS = (("iPhone", "iPad", "Desktop"), (80, 17, 3))
_PARTIAL_REFUND_FACTORS = ("0.3", "0.5", "0.7")


@dataclass
class StorefrontDay:
    """One app in one storefront on one day: what every selling step needs."""

    b: DayBuilder
    app: SandboxApp
    r: random.Random
    country: Country
    share: float  # expected demand in this storefront
    device: str
    paid: list[_PaidSale] = field(default_factory=list)

    @property
    def chance(self) -> float:
        """How likely an in-app product sells here today."""
        return min(0.9, 0.3 * self.share + 0.1)


def _sell_app(s: StorefrontDay) -> None:
    """First downloads (a paid app's are revenue), redownloads (3) and updates (7)."""
    app, r = s.app, s.r
    downloads = poisson(r, 4 * s.share)
    if downloads:
        s.b.add(
            app,
            s.country,
            downloads,
            product_type=app.download_type,
            usd=app.usd_price,
            device=s.device,
            blank_proceeds_currency=app.usd_price == 0 and r.random() < 0.4,
        )
        if app.usd_price:
            s.paid.append((app.download_type, app.usd_price, None, BLANK, BLANK))
    if r.random() < 0.6:
        s.b.add(
            app,
            s.country,
            1 + poisson(r, s.share),
            product_type="3",
            usd=Decimal(0),
            device=s.device,
        )


def _sell_updates(s: StorefrontDay, update_wave: bool) -> None:
    if update_wave or s.r.random() < 0.3:
        units = 1 + poisson(s.r, (6 if update_wave else 1) * s.share)
        s.b.add(s.app, s.country, units, product_type="7", usd=Decimal(0), device=s.device)


def _sell_subscription(s: StorefrontDay, product: Product) -> None:
    """Renewals (some at the 85 % "Rate After One Year") and new subscriptions (some intro)."""
    r, ref = s.r, (product.apple_id, product.product_id, product.name)
    if r.random() < s.chance:
        retained = r.random() < 0.25
        s.b.add(
            s.app,
            s.country,
            1 + poisson(r, s.share),
            product_type="IAY",
            usd=product.usd_price,
            device=s.device,
            product=ref,
            subscription="Renewal",
            period=product.period,
            rate=RETAINED_RATE if retained else STANDARD_RATE,
            preserved="Yes" if r.random() < 0.1 else BLANK,
        )
        s.paid.append(("IAY", product.usd_price, ref, "Renewal", product.period))
    if r.random() < s.chance * 0.6:
        intro = r.random() < 0.3
        s.b.add(
            s.app,
            s.country,
            1 + poisson(r, s.share / 2),
            product_type="IAY",
            usd=product.usd_price,
            device=s.device,
            product=ref,
            subscription="New",
            period=product.period,
            order_type="Pay As You Go Intro Offer" if intro else BLANK,
            price_factor=Decimal("0.5") if intro else Decimal(1),
        )


def _sell_purchase(s: StorefrontDay, product: Product) -> None:
    """Consumables/non-consumables (IA1) and non-renewing passes (IA9), then restores (IA3)."""
    r, ref = s.r, (product.apple_id, product.product_id, product.name)
    if r.random() < (s.chance if product.type_code == "IA1" else s.chance * 0.3):
        units = 1 + poisson(r, s.share)
        s.b.add(
            s.app,
            s.country,
            units,
            product_type=product.type_code,
            usd=product.usd_price,
            device=s.device,
            product=ref,
        )
        s.paid.append((product.type_code, product.usd_price, ref, BLANK, BLANK))


def _sell_restores(s: StorefrontDay, product: Product) -> None:
    if product.restorable and s.r.random() < s.chance * 0.3:
        ref = (product.apple_id, product.product_id, product.name)
        s.b.add(
            s.app,
            s.country,
            1 + poisson(s.r, s.share / 3),
            product_type="IA3",
            usd=Decimal(0),
            device=s.device,
            product=ref,
        )


def _refund_one(s: StorefrontDay, demand: float) -> None:
    """Now and then one of today's paid sales comes back (1 or 2 units)."""
    if s.paid and s.r.random() < 0.12 * min(demand, 3.0):
        kind, usd, refunded, subscription, period = s.r.choice(s.paid)
        s.b.add(
            s.app,
            s.country,
            -(1 + (s.r.random() < 0.2)),
            product_type=kind,
            usd=usd,
            device=s.device,
            product=refunded,
            subscription=subscription,
            period=period,
            refund=True,
        )


def sell_in_storefront(s: StorefrontDay, demand: float, update_wave: bool) -> None:
    _sell_app(s)
    _sell_updates(s, update_wave)
    for product in s.app.products:
        if product.type_code == "IAY":
            _sell_subscription(s, product)
        else:
            _sell_purchase(s, product)
        _sell_restores(s, product)
    _refund_one(s, demand)


def _partial_refund(
    b: DayBuilder, app: SandboxApp, r: random.Random, demand: float, country: Country
) -> None:
    """A zero-unit IAY row with money (FACTS §8 "Zero-unit rows with money")."""
    subs = app.subscriptions
    if subs and r.random() < 0.05 * demand:
        product = r.choice(subs)
        b.add(
            app,
            country,
            0,
            product_type="IAY",
            usd=product.usd_price,
            device="iPhone",
            product=(product.apple_id, product.product_id, product.name),
            subscription="New",
            period=product.period,
            order_type="Pay As You Go Intro Offer",
            refund=True,
            price_factor=Decimal(r.choice(_PARTIAL_REFUND_FACTORS)),
        )


def _legacy_code(b: DayBuilder, app: SandboxApp, r: random.Random, country: Country) -> None:
    """Rarely an old product type Apple no longer lists (``IAC``, FACTS §5.2)."""
    if r.random() < 0.02:
        b.add(
            app,
            country,
            1 + poisson(r, 1),
            product_type="IAC",
            usd=Decimal(0),
            device="iPhone",
            product=(
                numeric_id(10, 6, b.team.seed, "iac", app.id),
                f"{app.bundle_id}.free",
                f"{app.name} Free Trial",
            ),
            subscription="New",
            period="1 Month",
        )


def _app_day(b: DayBuilder, app: SandboxApp) -> None:
    """Everything ``app`` sold on ``b.day``: a few storefronts, then two rare extras."""
    day = b.day
    r = rng(b.team.seed, "sales", app.id, day.toordinal())
    demand = app.popularity * (1.15 if day.weekday() >= 5 else 1.0) * r.uniform(0.7, 1.3)
    count = min(len(COUNTRIES), 2 + poisson(r, 2.5 * demand))
    countries = _sample_countries([r.random() for _ in COUNTRIES], count)
    update_wave = (day - app.launch_date).days % app.release_cadence_days < 3
    for country in countries:
        share = max(country.weight / 7.0, 0.15) * demand
        device = r.choices(*DEVICE_WEIGHTS)[0]
        sell_in_storefront(StorefrontDay(b, app, r, country, share, device), demand, update_wave)
    _partial_refund(b, app, r, demand, countries[0])
    _legacy_code(b, app, r, countries[-1])


@lru_cache(maxsize=8192)
def daily_lines(team: SandboxTeam, day: date) -> tuple[tuple[LineKey, int], ...]:
    """The rows of ``team``'s daily report for ``day`` (empty on a no-sales day)."""
    if is_no_sales_day(team, day):
        return ()
    builder = DayBuilder(team, day)
    for app in team_apps(team)[:MAX_SELLING_APPS]:
        if app.launch_date <= day:
            _app_day(builder, app)
    return tuple(builder.lines.items())


def aggregate_lines(days: Iterable[tuple[tuple[LineKey, int], ...]]) -> dict[LineKey, int]:
    totals: dict[LineKey, int] = {}
    for lines in days:
        for key, units in lines:
            totals[key] = totals.get(key, 0) + units
    return totals


def _mdy(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def line_cells(key: LineKey, units: int, begin: date, end: date) -> dict[str, str]:
    amount_currency = key.customer_currency
    values = (
        "APPLE",
        "US",
        key.sku,
        key.developer,
        key.title,
        key.version,
        key.product_type,
        str(units),
        format_amount(key.proceeds, amount_currency),
        _mdy(begin),
        _mdy(end),
        key.customer_currency,
        key.country,
        key.proceeds_currency,
        key.apple_id,
        format_amount(key.customer_price, amount_currency),
        BLANK,
        key.parent_id,
        key.subscription,
        key.period,
        key.category,
        "",
        key.device,
        "iOS",
        key.proceeds_reason,
        key.preserved_pricing,
        BLANK,
        key.order_type,
    )
    return dict(zip(SALES_HEADER, values, strict=True))


def generate_sales_rows(team: SandboxTeam, frequency: str, anchor: date) -> list[dict[str, str]]:
    """Rows (header name → cell text) of the SALES/SUMMARY report ``frequency`` that contains
    ``anchor`` (the day; any day of the Monday–Sunday week, month or year). Empty = no sales.
    """
    period = sales_period(Frequency(frequency), anchor)
    return list(_period_rows(team, period.start, period.end))


@lru_cache(maxsize=256)
def _period_rows(team: SandboxTeam, start: date, end: date) -> tuple[dict[str, str], ...]:
    # A yearly report aggregates 365 generated days: cached, since tests and demos ask for the
    # same periods again and again (callers get a fresh list; rows are never mutated).
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    totals = aggregate_lines(daily_lines(team, day) for day in days)
    return tuple(line_cells(key, units, start, end) for key, units in totals.items())


def rows_to_tsv(header: Iterable[str], rows: Iterable[dict[str, str]]) -> str:
    names = list(header)
    lines = ["\t".join(names)]
    lines.extend("\t".join(row[name] for name in names) for row in rows)
    return "\n".join(lines) + "\n"


def gzip_text(text: str) -> bytes:
    """Deterministic gzip (mtime 0) so the same report always has the same bytes."""
    return gzip.compress(text.encode("utf-8"), mtime=0)
