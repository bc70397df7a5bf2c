"""Territory names → ISO 3166-1 alpha-2, for reports that may write either.

Apple's analytics reports write `Territory` as alpha-2 codes in the integrators' seeds and as
names in some fixtures: the format is unconfirmed (ANALYTICS §7), so both load as codes. Names
come from ISO 3166 (pycountry: name, official and common names) and the storefront names Apple
uses where they differ ("China mainland", "Republic of Korea", …). A value that is neither a
code nor a known name is kept as written: never dropped, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache

import pycountry

#: Apple's storefront names (App Store Connect's territory list) that ISO 3166 spells otherwise.
APPLE_NAMES = {
    "china mainland": "CN",
    "republic of korea": "KR",
    "korea": "KR",
    "turkey": "TR",
    "russia": "RU",
    "macau": "MO",
    "micronesia": "FM",
    "congo, democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "cote d'ivoire": "CI",
    "st. kitts and nevis": "KN",
    "st. lucia": "LC",
    "st. vincent and the grenadines": "VC",
    "turks and caicos": "TC",
    "british virgin islands": "VG",
    "kosovo": "XK",
    "czech republic": "CZ",
    "swaziland": "SZ",
    "cape verde": "CV",
    "the bahamas": "BS",
    "the gambia": "GM",
    "palestinian territories": "PS",
}


@cache
def names() -> dict[str, str]:
    """Lower-cased territory name → alpha-2."""
    found: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                found[name.lower()] = country.alpha_2
    return found | APPLE_NAMES


def alpha2(value: str) -> str:
    """``value`` as an alpha-2 code when it is one or names one; else as written."""
    cleaned = value.strip()
    if len(cleaned) == 2 and cleaned.isalpha():
        return cleaned.upper()
    return names().get(cleaned.lower(), cleaned)


def sql(cell: str, literal: Callable[[str], str]) -> str:
    """SQL for :func:`alpha2` of the text expression ``cell`` (``literal`` quotes a string)."""
    table = literal(json.dumps(names(), sort_keys=True))
    return (
        f"CASE WHEN {cell} ~ '^[A-Za-z]{{2}}$' THEN upper({cell}) "
        f"ELSE COALESCE(CAST({table} AS jsonb) ->> lower({cell}), {cell}) END"
    )
