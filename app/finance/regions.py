"""Apple's payment regions: which region pays for a sale in each storefront (FACTS §8).

Apple pays each finance region separately, in its own currency and at its own exchange rate.
Four regions pay in USD — Americas ``US`` (the United States only), Latin America and the
Caribbean ``LL``, South Asia and Pacific ``AP`` and Rest of World ``WW`` — so grouping payments
by currency alone merges four separate payments. The ZZ single file names no region, only
``Country Of Sale``; this table maps a storefront (ISO 3166-1 alpha-2) to its region.

Sources, and how sure each part is:

- Regions with their own file (one country each) and their currencies: Apple, App Store
  Connect Help, "Financial report regions and currencies" (read in the jp, tw and kr editions).
  **Confirmed.**
- ``EU`` (Euro-Zone, EUR): the euro-area storefronts without a file of their own (Bulgaria
  ``BG`` and Croatia ``HR`` have their own EUR files on Apple's page). Membership beyond the
  euro area (e.g. Montenegro, Kosovo) is **unconfirmed**: such countries fall to ``WW`` with a
  warning unless listed here.
- ``LL``: the head of Apple's list ("Anguilla, Antigua and Barbuda, Argentina, Bahamas,
  Barbados, Belize, Bermuda, Bolivia, British Virgin Islands, Cayman Islands, …"); the rest from
  a third-party table citing that page (fedoco-derived Swift code,
  ``latinAmericaCaribbeanCountries``). **Head confirmed, tail reported.**
- ``AP``: Apple's notice of the 26 October 2024 commissionaire change (quoted at
  qiita.com/hsylife/items/539b1c485edc0a43fac1): 18 locations move to "South Asia and Pacific
  (USD)", region code ``AP`` (South Korea keeps ``KR``). **Confirmed.** Before that date those
  storefronts were paid in ``WW``: a fiscal month before November 2024 maps them to ``WW``.
- ``WW``: the same third-party table (``restOfWorldCountries``). **Reported.** Any storefront
  not in this table is also paid in ``WW`` (Apple's catch-all) and is reported as unknown.
"""

from __future__ import annotations

import json

#: Regions with their own file, each a single storefront of the same code.
_SINGLE = (
    "US AU BR BG CA CL CN CO CZ HR DK EG HK HU IN ID IL JP KZ KR MY MX NZ NG NO PK PE PH PL QA "
    "RO RU SA SG ZA SE CH TW TH TR AE GB TZ VN"
)
SINGLE_COUNTRY_REGIONS = frozenset(_SINGLE.split())
REGION_NAMES = {
    "US": "Americas",
    "EU": "Euro-Zone",
    "LL": "Latin America and the Caribbean",
    "AP": "South Asia and Pacific",
    "WW": "Rest of World",
}
_MEMBERS = {
    "EU": "AT BE CY EE FI FR DE GR IE IT LV LT LU MT NL PT SK SI ES",
    "LL": "AI AG AR BS BB BZ BM BO VG KY CR DM DO EC SV GD GT GY HN JM MS NI PA PY LC KN VC SR "
    "TT TC UY VE",
    "AP": "BT BN KH LA MO MV FM MN MM NP PW LK FJ NR PG SB TO VU",
    "WW": "AF AL DZ AO AM AZ BH BY BJ BW BF CM CV TD CD CG CI SZ GA GM GE GH GW IS IQ JO KE KW "
    "KG LB LR LY MG MW ML MR MU MD MA MZ NA NE MK OM RW ST SN SC SL TJ TN TM UG UA UZ YE ZM ZW",
}
#: Storefront (alpha-2) → payment region code.
COUNTRY_REGION: dict[str, str] = {
    **{code: code for code in SINGLE_COUNTRY_REGIONS},
    **{country: region for region, members in _MEMBERS.items() for country in members.split()},
}
#: Where a storefront Orchard does not know is paid: Apple's catch-all region.
FALLBACK_REGION = "WW"
#: The fiscal month from which ``AP`` exists (26 Oct 2024 falls in fiscal November 2024).
AP_SINCE = "2024-11"
AP_COUNTRIES = frozenset(_MEMBERS["AP"].split())


def payment_region(country: str | None, fiscal_period: str | None = None) -> str:
    """The region that pays for a sale in ``country`` (``WW`` when unknown)."""
    region = COUNTRY_REGION.get((country or "").strip().upper(), FALLBACK_REGION)
    if region == "AP" and fiscal_period is not None and fiscal_period < AP_SINCE:
        return "WW"
    return region


def is_known(country: str | None) -> bool:
    return (country or "").strip().upper() in COUNTRY_REGION


#: The table as JSON, for SQL (``CAST(:regions AS jsonb) ->> country``).
COUNTRY_REGION_JSON = json.dumps(COUNTRY_REGION, sort_keys=True)

#: SQL: the payment region of a finance row ``f`` (a region file is its own region).
PAYMENT_REGION_SQL = (
    "CASE WHEN f.region_code NOT IN ('ZZ', 'Z1') THEN f.region_code "
    "WHEN f.fiscal_period < '"
    + AP_SINCE
    + "' AND upper(btrim(f.country_of_sale)) IN ("
    + ", ".join(f"'{c}'" for c in sorted(AP_COUNTRIES))
    + ") THEN 'WW' "
    "ELSE COALESCE(CAST(:regions AS jsonb) ->> upper(btrim(f.country_of_sale)), 'WW') END"
)
