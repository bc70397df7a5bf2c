"""Storefronts, currencies and prices used by the generated sales, finance and review data.

Prices follow Apple's model loosely: a USD price point is converted to a local "nice" price
(``x.99``, whole units, or steps of 10/100 for zero-decimal currencies) that includes VAT;
developer proceeds are the price without VAT times the commission rate (70 %, or 85 % for
"Rate After One Year" renewals). Amounts are ``Decimal`` and never converted between
currencies, like Apple's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    usd_factor: Decimal  # local price for 1 USD of price point (VAT uplift included)
    decimals: int  # 0 for JPY/KRW: amounts have no fractional part
    style: str  # "99" (x.99), "whole" (x.00), "step10", "step100"


@dataclass(frozen=True, slots=True)
class Country:
    alpha2: str
    alpha3: str
    currency: str
    region: str  # finance report region code
    weight: float  # share of downloads
    vat: Decimal
    language: str  # language of customer reviews written there


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("USD", Decimal("1"), 2, "99"),
        Currency("CAD", Decimal("1.4"), 2, "99"),
        Currency("MXN", Decimal("19"), 2, "whole"),
        Currency("BRL", Decimal("5.5"), 2, "whole"),
        Currency("GBP", Decimal("1"), 2, "99"),
        Currency("EUR", Decimal("1"), 2, "99"),
        Currency("CHF", Decimal("1"), 2, "whole"),
        Currency("SEK", Decimal("11"), 2, "whole"),
        Currency("NOK", Decimal("11"), 2, "whole"),
        Currency("PLN", Decimal("4.5"), 2, "99"),
        Currency("TRY", Decimal("36"), 2, "99"),
        Currency("JPY", Decimal("160"), 0, "step10"),
        Currency("KRW", Decimal("1450"), 0, "step100"),
        Currency("CNY", Decimal("6.5"), 2, "whole"),
        Currency("TWD", Decimal("32"), 2, "step10"),
        Currency("HKD", Decimal("8"), 2, "whole"),
        Currency("SGD", Decimal("1.4"), 2, "99"),
        Currency("INR", Decimal("90"), 2, "whole"),
        Currency("AUD", Decimal("1.6"), 2, "99"),
        Currency("NZD", Decimal("1.7"), 2, "99"),
        Currency("SAR", Decimal("3.8"), 2, "99"),
        Currency("AED", Decimal("3.7"), 2, "99"),
        Currency("ZAR", Decimal("18"), 2, "99"),
        Currency("KZT", Decimal("480"), 2, "step10"),
    )
}

_COUNTRY_ROWS = """
US USA USD US 30 0 en
CA CAN CAD CA 3 0 en
MX MEX MXN MX 1.5 0.16 es
BR BRA BRL BR 2 0 pt
AR ARG USD LL 0.6 0 es
GB GBR GBP GB 6 0.20 en
DE DEU EUR EU 7 0.19 de
FR FRA EUR EU 4 0.20 fr
IT ITA EUR EU 2.5 0.22 it
ES ESP EUR EU 2 0.21 es
NL NLD EUR EU 1.5 0.21 en
CH CHE CHF CH 1.5 0.081 de
SE SWE SEK SE 1 0.25 en
NO NOR NOK NO 0.8 0.25 en
PL POL PLN PL 0.8 0.23 en
TR TUR TRY TR 1 0.20 en
JP JPN JPY JP 8 0.10 ja
KR KOR KRW KR 2 0.10 ko
CN CHN CNY CN 5 0.06 zh
TW TWN TWD TW 1 0.05 zh
HK HKG HKD HK 1 0 zh
SG SGP SGD SG 0.8 0.09 en
IN IND INR IN 2 0.18 en
AU AUS AUD AU 3 0.10 en
NZ NZL NZD NZ 0.6 0.15 en
SA SAU SAR SA 0.8 0.15 ar
AE ARE AED AE 0.6 0.05 ar
ZA ZAF ZAR ZA 0.5 0.15 en
KZ KAZ KZT KZ 0.4 0.12 ru
UA UKR USD WW 0.5 0 en
KE KEN USD WW 0.3 0 en
"""

COUNTRIES: tuple[Country, ...] = tuple(
    Country(a2, a3, cur, region, float(weight), Decimal(vat), lang)
    for a2, a3, cur, region, weight, vat, lang in (
        line.split() for line in _COUNTRY_ROWS.strip().splitlines()
    )
)
COUNTRY_BY_ALPHA2: dict[str, Country] = {c.alpha2: c for c in COUNTRIES}
COUNTRY_BY_ALPHA3: dict[str, Country] = {c.alpha3: c for c in COUNTRIES}
COUNTRY_WEIGHTS: tuple[float, ...] = tuple(c.weight for c in COUNTRIES)

#: Finance report regions (``filter[regionCode]``) and the currency each is paid in.
REGION_CURRENCY: dict[str, str] = {c.region: c.currency for c in COUNTRIES}


def quantum(currency: str) -> Decimal:
    decimals = CURRENCIES[currency].decimals
    return Decimal(1).scaleb(-decimals)


def local_price(usd: Decimal, currency: str) -> Decimal:
    """The customer price (VAT included) of a USD price point in ``currency``."""
    if usd == 0:
        return Decimal(0).quantize(quantum(currency))
    spec = CURRENCIES[currency]
    raw = usd * spec.usd_factor
    if spec.style == "99":
        price = raw.to_integral_value(ROUND_CEILING) - Decimal("0.01")
    elif spec.style == "whole":
        price = max(Decimal(1), raw.to_integral_value(ROUND_HALF_UP))
    else:
        step = Decimal(10) if spec.style == "step10" else Decimal(100)
        price = max(step, (raw / step).to_integral_value(ROUND_HALF_UP) * step)
    return price.quantize(quantum(currency))


def proceeds(price: Decimal, country: Country, rate: Decimal) -> Decimal:
    """Developer proceeds per unit: price without VAT times the commission ``rate``."""
    net = price / (1 + country.vat) * rate
    return net.quantize(quantum(country.currency), ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str) -> str:
    """Per-currency formatting of sales report amounts (JPY/KRW without decimals)."""
    return str(amount.quantize(quantum(currency), ROUND_HALF_UP))
