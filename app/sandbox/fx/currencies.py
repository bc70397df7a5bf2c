"""Static currency tables: what the ECB publishes, what Frankfurter adds, and plausible levels.

Sources (FACTS §1–§3): the ECB roster and its changes [R-SEB][R-PYFIFO][ECB-MIRROR][BCL]
[NOVINITE]; decimals per currency as written in real files [R-XPT] (2022-07-08 XML) and [R-SEB]
(2026-02-06 CSV); the 14 Apple currencies the ECB does not cover and who publishes them, the
pegs, and the legacy fixed euro rates (FACTS §2, §3 [R-FRANK]). Levels and volatilities are
the sandbox's own choices (roughly 2024–2025 markets), not facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

#: The sandbox models the ECB roster from here on: ISK came back on 2018-02-01 (first rate
#: after its 2008 gap in the history CSV [R-PYFIFO]); earlier roster changes are not modelled.
MIN_HISTORY_START = date(2018, 2, 1)


@dataclass(frozen=True)
class EcbCurrency:
    code: str
    decimals: int  # as the ECB writes it in the XML and daily CSV [R-XPT][R-SEB]
    level: float  # units per EUR the random walk reverts to (sandbox choice)
    volatility: float  # daily log-step standard deviation (sandbox choice)
    last_day: date | None = None  # last fix before the ECB stopped publishing it
    fixed: Decimal | None = None  # published unchanged every day (BGN)


#: In the order of the ECB's XML (2022-07-08 capture [R-XPT]; RUB sat between HRK and TRY
#: until its suspension, as in the history CSV header [R-PYFIFO]).
ECB_CURRENCIES: tuple[EcbCurrency, ...] = (
    EcbCurrency("USD", 4, 1.08, 0.004),
    EcbCurrency("JPY", 2, 160.0, 0.005),
    # BGN: fixed rate, dropped with Bulgaria's euro adoption on 2026-01-01 [NOVINITE].
    EcbCurrency("BGN", 4, 1.9558, 0.0, last_day=date(2025, 12, 31), fixed=Decimal("1.9558")),
    EcbCurrency("CZK", 3, 25.0, 0.002),
    EcbCurrency("DKK", 4, 7.46, 0.0002),
    EcbCurrency("GBP", 5, 0.85, 0.003),
    EcbCurrency("HUF", 2, 395.0, 0.004),
    EcbCurrency("PLN", 4, 4.30, 0.003),
    EcbCurrency("RON", 4, 4.97, 0.0005),
    EcbCurrency("SEK", 4, 11.4, 0.004),
    EcbCurrency("CHF", 4, 0.95, 0.003),
    EcbCurrency("ISK", 2, 149.0, 0.003),
    EcbCurrency("NOK", 4, 11.6, 0.004),
    # HRK: last fix on the last TARGET day of 2022; euro from 2023-01-01 [BCL].
    EcbCurrency("HRK", 4, 7.53, 0.0005, last_day=date(2022, 12, 30)),
    # RUB: "last EUR/RUB rate 1 March 2022" [ECB-MIRROR].
    EcbCurrency("RUB", 4, 95.0, 0.008, last_day=date(2022, 3, 1)),
    EcbCurrency("TRY", 4, 35.0, 0.006),
    EcbCurrency("AUD", 4, 1.63, 0.004),
    EcbCurrency("BRL", 4, 5.90, 0.006),
    EcbCurrency("CAD", 4, 1.48, 0.003),
    EcbCurrency("CNY", 4, 7.80, 0.003),
    EcbCurrency("HKD", 4, 8.45, 0.004),
    EcbCurrency("IDR", 2, 17500.0, 0.004),
    EcbCurrency("ILS", 4, 4.00, 0.005),
    EcbCurrency("INR", 4, 90.0, 0.004),
    EcbCurrency("KRW", 2, 1480.0, 0.004),
    EcbCurrency("MXN", 4, 19.5, 0.006),
    EcbCurrency("MYR", 4, 5.00, 0.004),
    EcbCurrency("NZD", 4, 1.78, 0.004),
    EcbCurrency("PHP", 3, 62.0, 0.004),
    EcbCurrency("SGD", 4, 1.45, 0.002),
    EcbCurrency("THB", 3, 38.5, 0.004),
    EcbCurrency("ZAR", 4, 20.0, 0.007),
)
ECB_BY_CODE = {currency.code: currency for currency in ECB_CURRENCIES}

#: Column order of ``eurofxref-hist.csv`` (snapshot 2024-08-09 [R-PYFIFO]); retired and
#: suspended currencies keep their column and show ``N/A``.
_HISTORY_HEADER = (
    "USD,JPY,BGN,CYP,CZK,DKK,EEK,GBP,HUF,LTL,LVL,MTL,PLN,ROL,RON,SEK,SIT,SKK,CHF,ISK,NOK,HRK,"
    "RUB,TRL,TRY,AUD,BRL,CAD,CNY,HKD,IDR,ILS,INR,KRW,MXN,MYR,NZD,PHP,SGD,THB,ZAR"
)
HISTORY_CSV_COLUMNS: tuple[str, ...] = tuple(_HISTORY_HEADER.split(","))

#: Legacy currencies that convert exactly through their euro changeover rate (FACTS §1, §2).
EURO_FIXED: dict[str, tuple[date, Decimal]] = {
    "HRK": (date(2023, 1, 1), Decimal("7.53450")),  # [BCL]
    "BGN": (date(2026, 1, 1), Decimal("1.95583")),  # [RO-INS][NOVINITE]
}

Cadence = Literal["daily", "monthly"]


@dataclass(frozen=True)
class Provider:
    """A Frankfurter v2 data provider (keys and names from [R-FRANK] provider seeds)."""

    key: str
    name: str
    base: str
    cadence: Cadence = "daily"


PROVIDERS: dict[str, Provider] = {
    p.key: p
    for p in (
        Provider("ECB", "European Central Bank", "EUR"),
        Provider("CBR", "Central Bank of the Russian Federation", "RUB"),
        Provider("NBK", "National Bank of Kazakhstan", "KZT"),
        Provider("CBN", "Central Bank of Nigeria", "NGN"),
        Provider("CBE", "Central Bank of Egypt", "EGP"),
        Provider("SBP", "State Bank of Pakistan", "PKR", "monthly"),
        Provider("BOTA", "Bank of Tanzania", "TZS"),
        Provider("BANREP", "Banco de la República", "COP"),
        Provider("BCCH", "Banco Central de Chile", "CLP"),
        Provider("CBC", "Central Bank of the Republic of China (Taiwan)", "TWD", "monthly"),
        Provider("MAS", "Monetary Authority of Singapore", "SGD"),
        Provider("IMF", "International Monetary Fund", "USD"),
    )
}


@dataclass(frozen=True)
class GapCurrency:
    """An Apple currency the ECB does not publish (FACTS §2), served by Frankfurter."""

    code: str
    level: float  # units per EUR (sandbox choice)
    volatility: float
    provider: str  # who publishes it, per FACTS §3 "Central banks directly"


#: FACTS §3: RUB CBR · KZT NBK · NGN CBN · EGP CBE · PKR SBP (monthly) · TZS Bank of Tanzania ·
#: COP Banco de la República · CLP Banco Central de Chile · TWD CBC (monthly) · VND via MAS cross
#: rates · PEN via IMF. Which provider Frankfurter really uses is unconfirmed (variant
#: ``gap_source="imf"`` moves them all to the IMF).
GAP_CURRENCIES: tuple[GapCurrency, ...] = (
    GapCurrency("CLP", 1000.0, 0.005, "BCCH"),
    GapCurrency("COP", 4400.0, 0.006, "BANREP"),
    GapCurrency("EGP", 52.0, 0.004, "CBE"),
    GapCurrency("KZT", 550.0, 0.005, "NBK"),
    GapCurrency("NGN", 1650.0, 0.008, "CBN"),
    GapCurrency("PEN", 4.05, 0.003, "IMF"),
    GapCurrency("PKR", 300.0, 0.004, "SBP"),
    GapCurrency("RUB", 95.0, 0.008, "CBR"),
    GapCurrency("TWD", 35.0, 0.003, "CBC"),
    GapCurrency("TZS", 2800.0, 0.004, "BOTA"),
    GapCurrency("VND", 27500.0, 0.003, "MAS"),
)
GAP_BY_CODE = {currency.code: currency for currency in GAP_CURRENCIES}

#: Pegs to the US dollar (FACTS §3 [R-FRANK] pegs): quote units per USD.
PEGS: dict[str, Decimal] = {
    "AED": Decimal("3.6725"),
    "SAR": Decimal("3.75"),
    "QAR": Decimal("3.64"),
}

#: The 14 Apple currencies the ECB does not cover (FACTS §2).
APPLE_GAP = (
    "AED",
    "CLP",
    "COP",
    "EGP",
    "KZT",
    "NGN",
    "PEN",
    "PKR",
    "QAR",
    "RUB",
    "SAR",
    "TWD",
    "TZS",
    "VND",
)

#: ISO 4217 numeric code, name and symbol, for Frankfurter's ``/currencies`` answers.
CURRENCY_INFO: dict[str, tuple[str, str, str | None]] = {
    "AED": ("784", "United Arab Emirates Dirham", "د.إ"),
    "AUD": ("036", "Australian Dollar", "$"),
    "BGN": ("975", "Bulgarian Lev", "лв."),
    "BRL": ("986", "Brazilian Real", "R$"),
    "CAD": ("124", "Canadian Dollar", "$"),
    "CHF": ("756", "Swiss Franc", "CHF"),
    "CLP": ("152", "Chilean Peso", "$"),
    "CNY": ("156", "Chinese Renminbi Yuan", "¥"),
    "COP": ("170", "Colombian Peso", "$"),
    "CZK": ("203", "Czech Koruna", "Kč"),
    "DKK": ("208", "Danish Krone", "kr."),
    "EGP": ("818", "Egyptian Pound", "ج.م"),
    "EUR": ("978", "Euro", "€"),
    "GBP": ("826", "British Pound", "£"),
    "HKD": ("344", "Hong Kong Dollar", "$"),
    "HRK": ("191", "Croatian Kuna", "kn"),
    "HUF": ("348", "Hungarian Forint", "Ft"),
    "IDR": ("360", "Indonesian Rupiah", "Rp"),
    "ILS": ("376", "Israeli New Sheqel", "₪"),
    "INR": ("356", "Indian Rupee", "₹"),
    "ISK": ("352", "Icelandic Króna", "kr."),
    "JPY": ("392", "Japanese Yen", "¥"),
    "KRW": ("410", "South Korean Won", "₩"),
    "KZT": ("398", "Kazakhstani Tenge", "₸"),
    "MXN": ("484", "Mexican Peso", "$"),
    "MYR": ("458", "Malaysian Ringgit", "RM"),
    "NGN": ("566", "Nigerian Naira", "₦"),
    "NOK": ("578", "Norwegian Krone", "kr"),
    "NZD": ("554", "New Zealand Dollar", "$"),
    "PEN": ("604", "Peruvian Sol", "S/"),
    "PHP": ("608", "Philippine Peso", "₱"),
    "PKR": ("586", "Pakistani Rupee", "₨"),
    "PLN": ("985", "Polish Złoty", "zł"),
    "QAR": ("634", "Qatari Riyal", "ر.ق"),
    "RON": ("946", "Romanian Leu", "Lei"),
    "RUB": ("643", "Russian Ruble", "₽"),
    "SAR": ("682", "Saudi Riyal", "ر.س"),
    "SEK": ("752", "Swedish Krona", "kr"),
    "SGD": ("702", "Singapore Dollar", "$"),
    "THB": ("764", "Thai Baht", "฿"),
    "TRY": ("949", "Turkish Lira", "₺"),
    "TWD": ("901", "New Taiwan Dollar", "$"),
    "TZS": ("834", "Tanzanian Shilling", "Sh"),
    "USD": ("840", "United States Dollar", "$"),
    "VND": ("704", "Vietnamese Đồng", "₫"),
    "ZAR": ("710", "South African Rand", "R"),
}

#: Frankfurter v1 names where they differ from v2's (v1 spec example: "USD": "US Dollar").
V1_NAMES = {"USD": "US Dollar"}


def known_code(code: str) -> bool:
    """Whether Frankfurter would accept ``code`` as a currency (an ISO code it knows)."""
    return code in CURRENCY_INFO
