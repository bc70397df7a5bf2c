"""Apple's finance report regions, and extra USD storefronts that keep the USD regions apart.

Four payment regions settle in USD, each paid separately at its own exchange rate (FACTS §8):
``US`` Americas (the United States only), ``LL`` Latin America and the Caribbean, ``AP`` South
Asia and Pacific (since 26 October 2024) and ``WW`` Rest of World. A payments view that groups
by currency alone merges them; the ``payment_regions`` option (see :mod:`.fidelity`) makes the
sandbox sell in storefronts of ``LL``, ``AP`` and ``WW`` so that such a view is caught.

Sources, and how sure each row of :data:`REGION_MEMBERS` is:

- Region codes and currencies: Apple, App Store Connect Help, "Financial report regions and
  currencies" (reference/financial-report-regions-and-currencies; read in the jp, tw and kr
  editions). ``US`` lists only the United States. **Confirmed.**
- ``LL``: the same page lists "Anguilla, Antigua and Barbuda, Argentina, Bahamas, Barbados,
  Belize, Bermuda, Bolivia, British Virgin Islands, Cayman Islands, …" (the excerpt read stops
  there). The rest comes from a third-party table citing that page (fedoco-derived Swift code,
  ``latinAmericaCaribbeanCountries``), minus countries Apple's page gives their own region
  (Brazil ``BR``, Chile ``CL``). **Head confirmed, tail reported.**
- ``AP``: Apple's notice of the 26 Oct 2024 commissionaire change, quoted verbatim at
  qiita.com/hsylife/items/539b1c485edc0a43fac1: 18 locations move to "South Asia and Pacific
  (USD)", region code "AP" (South Korea keeps ``KR``). **Confirmed (Apple's text, quoted).**
- ``WW``: the same third-party table (``restOfWorldCountries``), minus countries with their own
  region on Apple's page (Egypt, Kazakhstan, Malaysia, Nigeria, Pakistan, Philippines, Qatar,
  Tanzania, Vietnam, Croatia). **Reported.**

Extra storefront lines come from their own generator (``"usd-storefronts"``), so the default
data (and every existing test's expectation) is untouched when the option is off.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from app.sandbox.catalog import team_apps
from app.sandbox.jsonapi import word_list, words
from app.sandbox.markets import COUNTRY_BY_ALPHA2, Country
from app.sandbox.periods import Frequency, sales_period
from app.sandbox.sales import (
    DEVICE_WEIGHTS,
    MAX_SELLING_APPS,
    DayBuilder,
    LineKey,
    StorefrontDay,
    aggregate_lines,
    daily_lines,
    generate_sales_rows,
    is_no_sales_day,
    line_cells,
    sell_in_storefront,
)
from app.sandbox.seeding import rng
from app.sandbox.state import SandboxTeam

#: Every ``filter[regionCode]`` of Apple's table → the currency its file is paid in.
FINANCE_REGION_CURRENCY: dict[str, str] = {
    code: currency
    for code, _, currency in (
        pair.partition(":")
        for pair in word_list(
            "US:USD AU:AUD BR:BRL BG:EUR CA:CAD CL:CLP CN:CNY CO:COP CZ:CZK HR:EUR DK:DKK EG:EGP "
            "HK:HKD HU:HUF IN:INR ID:IDR IL:ILS JP:JPY KZ:KZT KR:KRW MY:MYR MX:MXN NZ:NZD NG:NGN "
            "NO:NOK PK:PKR PE:PEN PH:PHP PL:PLN QA:QAR RO:RON RU:RUB SA:SAR SG:SGD ZA:ZAR SE:SEK "
            "CH:CHF TW:TWD TH:THB TR:TRY AE:AED GB:GBP TZ:TZS VN:VND EU:EUR LL:USD AP:USD WW:USD"
        )
    )
}
USD_REGION_NAMES = {
    "US": "Americas",
    "LL": "Latin America and the Caribbean",
    "AP": "South Asia and Pacific",
    "WW": "Rest of World",
}
#: Storefronts (ISO alpha-2) of the USD regions; see the module docstring for sources.
REGION_MEMBERS: dict[str, frozenset[str]] = {
    "US": frozenset({"US"}),
    "LL": words(
        "AI AG AR BS BB BZ BM BO VG KY CR DM DO EC SV GD GT GY HN JM MS NI PA PY LC KN VC SR "
        "TT TC UY VE"
    ),
    "AP": words("BT BN KH LA MO MV FM MN MM NP PW LK FJ NR PG SB TO VU"),
    "WW": words(
        "AF AL DZ AO AM AZ BH BY BJ BW BF CM CV TD CD CG CI SZ GA GM GE GH GW IS IQ JO KE KW "
        "KG LB LR LY MG MW ML MR MU MD MA MZ NA NE MK OM RW ST SN SC SL TJ TN TM UG UA UZ YE "
        "ZM ZW"
    ),
}

#: Storefronts the ``payment_regions`` option adds (USD prices; VAT rates approximate).
USD_STOREFRONTS: tuple[Country, ...] = (
    Country("CR", "CRI", "USD", "LL", 0.4, Decimal("0.13"), "es"),
    Country("UY", "URY", "USD", "LL", 0.3, Decimal("0.22"), "es"),
    Country("LK", "LKA", "USD", "AP", 0.4, Decimal("0.18"), "en"),
    Country("MN", "MNG", "USD", "AP", 0.2, Decimal("0.10"), "en"),
    Country("KH", "KHM", "USD", "AP", 0.2, Decimal("0.10"), "en"),
    Country("GE", "GEO", "USD", "WW", 0.3, Decimal("0.18"), "en"),
    Country("MA", "MAR", "USD", "WW", 0.3, Decimal("0.20"), "en"),
)
STOREFRONT_BY_ALPHA2: dict[str, Country] = {
    **COUNTRY_BY_ALPHA2,
    **{c.alpha2: c for c in USD_STOREFRONTS},
}
#: The share of days an app sells at all in one of the extra storefronts.
_SELLING_DAY_SHARE = 0.6

Lines = tuple[tuple[LineKey, int], ...]


def region_of(alpha2: str) -> str:
    """The finance region of a storefront the sandbox sells in."""
    return STOREFRONT_BY_ALPHA2[alpha2].region


@lru_cache(maxsize=8192)
def usd_storefront_lines(team: SandboxTeam, day: date) -> Lines:
    """What ``team`` sold on ``day`` in :data:`USD_STOREFRONTS` (nothing on a no-sales day)."""
    if is_no_sales_day(team, day):
        return ()
    builder = DayBuilder(team, day)
    for app in team_apps(team)[:MAX_SELLING_APPS]:
        if app.launch_date > day:
            continue
        r = rng(team.seed, "usd-storefronts", app.id, day.toordinal())
        demand = app.popularity * r.uniform(0.7, 1.3)
        update_wave = (day - app.launch_date).days % app.release_cadence_days < 3
        for country in USD_STOREFRONTS:
            if r.random() >= _SELLING_DAY_SHARE:
                continue
            share = max(country.weight / 7.0, 0.15) * demand
            device = r.choices(*DEVICE_WEIGHTS)[0]
            day_sales = StorefrontDay(builder, app, r, country, share, device)
            sell_in_storefront(day_sales, demand, update_wave)
    return tuple(builder.lines.items())


def day_lines(team: SandboxTeam, day: date, *, usd_regions: bool) -> Lines:
    """The daily report's lines, with the extra USD storefronts when ``usd_regions``."""
    lines = daily_lines(team, day)
    return lines + usd_storefront_lines(team, day) if usd_regions else lines


def sales_rows(
    team: SandboxTeam, frequency: str, anchor: date, *, usd_regions: bool
) -> list[dict[str, str]]:
    """Like :func:`app.sandbox.sales.generate_sales_rows`, optionally with the extra USD
    storefronts (the truth a test compares a client's sales figures with)."""
    if not usd_regions:
        return generate_sales_rows(team, frequency, anchor)
    period = sales_period(Frequency(frequency), anchor)
    return list(_period_rows(team, period.start, period.end))


@lru_cache(maxsize=64)
def _period_rows(team: SandboxTeam, start: date, end: date) -> tuple[dict[str, str], ...]:
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    totals = aggregate_lines(day_lines(team, day, usd_regions=True) for day in days)
    return tuple(line_cells(key, units, start, end) for key, units in totals.items())
