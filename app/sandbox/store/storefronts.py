"""Storefronts and genres of the public App Store data (FACTS §1, §2b).

Only the eleven storefronts whose ids the facts list are modelled (FACTS §2b "Storefront
IDs"). Prices, currencies and genre names come back localized per storefront (FACTS §1 "Per
storefront"); the translations and price tiers here are invented but plausible.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Genre 36 is "all apps" in the legacy feeds (FACTS §2b).
ALL_APPS_GENRE = 36
GAMES_GENRE = 6014

#: FACTS §2b "Genre IDs" (no 6019) and "Games subgenres" (no 7010).
GENRE_NAMES: dict[int, str] = {
    6000: "Business",
    6001: "Weather",
    6002: "Utilities",
    6003: "Travel",
    6004: "Sports",
    6005: "Social Networking",
    6006: "Reference",
    6007: "Productivity",
    6008: "Photo & Video",
    6009: "News",
    6010: "Navigation",
    6011: "Music",
    6012: "Lifestyle",
    6013: "Health & Fitness",
    6014: "Games",
    6015: "Finance",
    6016: "Entertainment",
    6017: "Education",
    6018: "Books",
    6020: "Medical",
    6021: "Magazines & Newspapers",
    6022: "Catalogs",
    6023: "Food & Drink",
    6024: "Shopping",
    6025: "Stickers",
    6026: "Developer Tools",
    6027: "Graphics & Design",
    7001: "Action",
    7002: "Adventure",
    7003: "Arcade",
    7004: "Board",
    7005: "Card",
    7006: "Casino",
    7007: "Dice",
    7008: "Educational",
    7009: "Family",
    7011: "Music",
    7012: "Puzzle",
    7013: "Racing",
    7014: "Role Playing",
    7015: "Simulation",
    7016: "Sports",
    7017: "Strategy",
    7018: "Trivia",
    7019: "Word",
}
TOP_GENRES = tuple(g for g in GENRE_NAMES if g < 7000 and g != GAMES_GENRE)
GAME_SUBGENRES = tuple(g for g in GENRE_NAMES if g > 7000)
#: Every genre an app can be drawn from: top-level genres and, for games, a subgenre.
POOL_GENRES = TOP_GENRES + GAME_SUBGENRES

#: A few translations; anything missing falls back to English (invented, FACTS §1).
_LOCALIZED_GENRES: dict[str, dict[int, str]] = {
    "de": {6000: "Wirtschaft", 6002: "Dienstprogramme", 6003: "Reisen", 6007: "Produktivität",
           6008: "Foto und Video", 6012: "Lifestyle", 6013: "Gesundheit und Fitness",
           6014: "Spiele", 6015: "Finanzen", 6017: "Bildung", 6023: "Essen und Trinken",
           7012: "Rätsel"},
    "fr": {6000: "Économie et entreprise", 6002: "Utilitaires", 6003: "Voyages",
           6007: "Productivité", 6008: "Photo et vidéo", 6013: "Forme et santé",
           6014: "Jeux", 6015: "Finance", 6017: "Éducation", 6023: "Cuisine et boissons"},
    "ja": {6000: "ビジネス", 6002: "ユーティリティ", 6003: "旅行", 6007: "仕事効率化",
           6008: "写真/ビデオ", 6012: "ライフスタイル", 6013: "ヘルスケア/フィットネス",
           6014: "ゲーム", 6015: "ファイナンス", 6017: "教育", 7012: "パズル"},
}  # fmt: skip


@dataclass(frozen=True)
class Storefront:
    """One App Store territory as the public endpoints see it."""

    country: str  # lower-case ISO alpha-2, as in the feed URLs
    storefront_id: int  # FACTS §2b (`s=` / X-Apple-Store-Front)
    currency: str
    language: str  # key into the genre translations
    free_label: str  # formattedPrice of a free app (FACTS §6: "Gratis" in DE)
    tiers: tuple[float, ...]  # local prices of USD tiers 0.99, 1.99, 2.99, 4.99, 9.99
    symbol: str
    symbol_after: bool = False
    decimals: int = 2
    #: How many more ratings this storefront collects than the US (ratings are per
    #: territory, FACTS §1 and §4).
    rating_weight: float = 1.0

    def format_price(self, price: float) -> str:
        if price == 0:
            return self.free_label
        amount = f"{price:,.{self.decimals}f}"
        if self.language in ("de", "fr"):
            amount = amount.replace(",", " ").replace(".", ",")
        return f"{amount} {self.symbol}" if self.symbol_after else f"{self.symbol}{amount}"

    def genre_name(self, genre_id: int, language: str | None = None) -> str:
        table = _LOCALIZED_GENRES.get(language or self.language, {})
        return table.get(genre_id, GENRE_NAMES.get(genre_id, "Apps"))


STOREFRONTS: dict[str, Storefront] = {
    sf.country: sf
    for sf in (
        Storefront("us", 143441, "USD", "en", "Free", (0.99, 1.99, 2.99, 4.99, 9.99), "$"),
        Storefront("gb", 143444, "GBP", "en", "Free", (0.99, 1.99, 2.99, 4.99, 9.99), "£",
                   rating_weight=0.35),
        Storefront("de", 143443, "EUR", "de", "Gratis", (0.99, 1.99, 2.99, 5.99, 9.99), "€",
                   symbol_after=True, rating_weight=0.3),
        Storefront("fr", 143442, "EUR", "fr", "Gratuit", (0.99, 1.99, 2.99, 5.99, 9.99), "€",
                   symbol_after=True, rating_weight=0.25),
        Storefront("jp", 143462, "JPY", "ja", "無料", (160, 300, 500, 800, 1500), "¥",
                   decimals=0, rating_weight=0.4),
        Storefront("cn", 143465, "CNY", "zh", "免费", (6, 12, 18, 30, 68), "¥",
                   rating_weight=0.5),
        Storefront("kr", 143466, "KRW", "ko", "무료", (1500, 2900, 4400, 7500, 14000), "₩",
                   decimals=0, rating_weight=0.15),
        Storefront("br", 143503, "BRL", "pt", "Grátis", (5.9, 10.9, 16.9, 27.9, 54.9), "R$ ",
                   rating_weight=0.2),
        Storefront("in", 143467, "INR", "en", "Free", (89, 179, 249, 449, 899), "₹",
                   decimals=0, rating_weight=0.2),
        Storefront("ca", 143455, "CAD", "en", "Free", (1.39, 2.79, 3.99, 6.99, 13.99), "$",
                   rating_weight=0.12),
        Storefront("au", 143460, "AUD", "en", "Free", (1.49, 2.99, 4.49, 7.99, 14.99), "$",
                   rating_weight=0.1),
    )
}  # fmt: skip
BY_STOREFRONT_ID = {sf.storefront_id: sf for sf in STOREFRONTS.values()}
#: Documented `lang` values (FACTS §1); they override the storefront's language.
LANG_PARAM = {"en_us": "en", "ja_jp": "ja"}


def storefront(country: str) -> Storefront | None:
    return STOREFRONTS.get(country.strip().lower())


def storefront_by_id(raw: str | None) -> Storefront | None:
    """``143441`` or a header form such as ``143441-1,29`` → storefront (FACTS §2b)."""
    digits = ""
    for char in (raw or "").strip():
        if not char.isdigit():
            break
        digits += char
    return BY_STOREFRONT_ID.get(int(digits)) if digits else None
