"""Value formats shared by both API generations: Money, timestamps, metric dictionaries.

* Money (FACTS §2): ``{"amount": "<string>", "currency": "<ISO>"}``; ``money_style`` picks
  "30.00" (fixed, the currency's minor digits) or "30" / "30.5" (trimmed).
* Timestamps (FACTS §2, §9): ``2024-04-08T10:33:31.650`` without a zone; v1 is UTC, v5's
  zone is an option (``v5_timestamp_zone``).
* Metrics (FACTS §3 table, §9 "keep v5 names except avgCPT→cpt, avgCPM→cpm").
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from app.sandbox.searchads.entities import AdsAccount
from app.sandbox.searchads.metrics import Metrics
from app.sandbox.searchads.options import AdsOptions

Api = Literal["v1", "v5"]

V1_METRIC_NAMES = (
    "impressions",
    "taps",
    "ttr",
    "localSpend",
    "cpt",
    "cpm",
    "tapInstalls",
    "tapNewDownloads",
    "tapRedownloads",
    "tapInstallCPI",
    "tapInstallRate",
    "viewInstalls",
    "viewNewDownloads",
    "viewRedownloads",
    "totalInstalls",
    "totalNewDownloads",
    "totalRedownloads",
    "totalAvgCPI",
    "totalInstallRate",
    "tapPreOrdersPlaced",
    "viewPreOrdersPlaced",
    "totalPreOrdersPlaced",
)


def decimal_text(value: Decimal, places: int, options: AdsOptions) -> str:
    quantum = Decimal(1).scaleb(-places)
    fixed = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if options.money_style == "trimmed":
        return format(fixed.normalize(), "f")  # 1E+2 prints as "100"
    return format(fixed, "f")


def money(
    value: Decimal, account: AdsAccount, options: AdsOptions, *, places: int | None = None
) -> dict[str, str]:
    digits = account.minor_digits if places is None else places
    return {"amount": decimal_text(value, digits, options), "currency": account.currency}


def minor_money(minor: int, account: AdsAccount, options: AdsOptions) -> dict[str, str]:
    return money(Decimal(minor).scaleb(-account.minor_digits), account, options)


def timestamp(moment: datetime | None, zone: Any = UTC) -> str | None:
    """``yyyy-MM-dd'T'HH:mm:ss.SSS`` in ``zone``, without an offset."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def _rate(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def metric_values(m: Metrics, account: AdsAccount, options: AdsOptions, api: Api) -> dict[str, Any]:
    """Every metric of ``m`` under ``api``'s names, derived ones included."""
    spend = Decimal(m.spend).scaleb(-account.minor_digits)
    places = options.derived_money_places

    def per(count: int, scale: int = 1) -> dict[str, str]:
        value = spend * scale / count if count else Decimal(0)
        return money(value, account, options, places=places)

    view_re_key = options.v5_view_redownloads_key if api == "v5" else "viewRedownloads"
    return {
        "impressions": m.impressions,
        "taps": m.taps,
        "ttr": _rate(m.taps, m.impressions),
        "localSpend": money(spend, account, options),
        "avgCPT" if api == "v5" else "cpt": per(m.taps),
        "avgCPM" if api == "v5" else "cpm": per(m.impressions, 1000),
        "tapInstalls": m.tap_installs,
        "tapNewDownloads": m.tap_new,
        "tapRedownloads": m.tap_re,
        "tapInstallCPI": per(m.tap_installs),
        "tapInstallRate": _rate(m.tap_installs, m.taps),
        "viewInstalls": m.view_installs,
        "viewNewDownloads": m.view_new,
        view_re_key: m.view_re,
        "totalInstalls": m.total_installs,
        "totalNewDownloads": m.total_new,
        "totalRedownloads": m.total_re,
        "totalAvgCPI": per(m.total_installs),
        "totalInstallRate": _rate(m.total_installs, m.taps),
        "tapPreOrdersPlaced": m.tap_pre,
        "viewPreOrdersPlaced": m.view_pre,
        "totalPreOrdersPlaced": m.total_pre,
    }


def is_zero_value(value: Any) -> bool:
    if isinstance(value, dict):
        return Decimal(value["amount"]) == 0
    return bool(value == 0)
