"""Every knob of the store simulator, with the FACTS section each one stands for.

Where the facts mark Apple's behaviour *unconfirmed*, the knob offers each plausible variant
(``CHOICES``); the default is the variant the facts lean to. Tests and the admin route
(``PATCH /sandbox/settings``) change these between requests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Literal

OverCeiling = Literal["truncate", "empty", "error_400", "unlimited"]
LookupOrder = Literal["request", "shuffled"]
CurrentVersionRatings = Literal["equal", "since_release"]
ZeroRatings = Literal["zero", "omit"]
LookupCache = Literal["none", "version", "all"]
ContentType = Literal["text/javascript", "application/json"]
StaleUpdated = Literal["snapshot", "current"]
V2Genres = Literal["empty", "objects"]
LegacyStatus = Literal["alive", "not_found", "empty_feed", "server_error", "html", "redirect"]
SingleEntry = Literal["array", "object"]
ThrottleResponse = Literal["403_empty", "403_empty_results", "200_empty_results", "429"]
ThrottleScope = Literal["client", "global"]
ThrottleEndpoints = Literal["lookup", "all"]

#: Numeric knobs with a lower bound (inclusive) and, where needed, an upper bound (exclusive).
BOUNDS: dict[str, tuple[float, float | None]] = {
    "lookup_id_ceiling": (1, None),
    "lookup_cache_ttl_seconds": (0, None),
    "chart_period_seconds": (60, None),
    "feed_skip_rate": (0, 1),
    "throttle_per_minute": (0, None),
}
#: The allowed values of each multiple-choice knob.
CHOICES: dict[str, tuple[str, ...]] = {
    "lookup_over_ceiling": ("truncate", "empty", "error_400", "unlimited"),
    "lookup_order": ("request", "shuffled"),
    "current_version_ratings": ("equal", "since_release"),
    "zero_ratings": ("zero", "omit"),
    "lookup_cache": ("none", "version", "all"),
    "lookup_content_type": ("text/javascript", "application/json"),
    "stale_updated": ("snapshot", "current"),
    "v2_genres": ("empty", "objects"),
    "legacy_status": ("alive", "not_found", "empty_feed", "server_error", "html", "redirect"),
    "legacy_single_entry": ("array", "object"),
    "throttle_response": ("403_empty", "403_empty_results", "200_empty_results", "429"),
    "throttle_scope": ("client", "global"),
    "throttle_endpoints": ("lookup", "all"),
}


@dataclass
class StoreSettings:
    # --- Lookup (FACTS §1) ------------------------------------------------------------------
    #: "Valid results for up to 200 app ids" (2016, G2); unconfirmed today.
    lookup_id_ceiling: int = 200
    #: What happens above the ceiling is not documented: answer the first ``ceiling`` ids
    #: (the reading of G2), answer nothing, fail with 400, or have no ceiling at all.
    lookup_over_ceiling: OverCeiling = "truncate"
    #: "Match results by trackId" (§1 "Batch lookup"): results may come in another order.
    lookup_order: LookupOrder = "request"
    #: Current-version values equal the all-time ones in every captured sample; whether that
    #: always holds is unconfirmed (§1). ``since_release`` counts only the current version.
    current_version_ratings: CurrentVersionRatings = "equal"
    #: Not in the facts: how an app with no ratings at all shows them (0 / 0.0, or omitted).
    zero_ratings: ZeroRatings = "zero"
    #: §1 "Staleness": the CDN caches by the full query string. ``version`` serves the
    #: version fields as of the first request with that query string (ratings live);
    #: ``all`` serves the whole answer as of then (whether ratings lag is unconfirmed).
    lookup_cache: LookupCache = "none"
    lookup_cache_ttl_seconds: float = 24 * 3600.0
    #: Not in the facts (only "UTF-8", §1); the live service is known to say text/javascript.
    lookup_content_type: ContentType = "text/javascript"
    # --- Charts (FACTS §2) ------------------------------------------------------------------
    #: Chart cadence is unconfirmed (§2c); one new snapshot per period.
    chart_period_seconds: float = 3600.0
    #: Share of periods in which a feed is not republished (the previous snapshot stays up).
    feed_skip_rate: float = 0.0
    #: While a stale snapshot is served: keep its own ``updated`` or show a fresh one.
    stale_updated: StaleUpdated = "snapshot"
    #: §2a: ``rss.applemarketingtools.com`` or ``rss.marketingtools.apple.com`` (unconfirmed
    #: which is canonical); used in ``feed.id`` and ``feed.links``.
    v2_host: str = "rss.applemarketingtools.com"
    #: §2a: a third-party doc claims ``top-grossing`` and ``?genre=`` (unconfirmed). Off:
    #: top-grossing is 404 and ``genre`` is ignored; on: both are served.
    v2_extras: bool = False
    #: §2a: ``genres`` "may be []"; ``objects`` fills it (shape not in the facts).
    v2_genres: V2Genres = "empty"
    #: §2b: whether the legacy feeds still live is unconfirmed; each way of going away.
    legacy_status: LegacyStatus = "alive"
    #: When a non-alive ``legacy_status`` takes effect (None: at once).
    legacy_gone_since: datetime | None = None
    #: §6: a one-item ``entry`` may be an object rather than an array (unconfirmed).
    legacy_single_entry: SingleEntry = "array"
    # --- Politeness (FACTS §1 "Rate limit") -------------------------------------------------
    #: "approximately 20 calls per minute"; 0 switches throttling off.
    throttle_per_minute: int = 20
    #: 403 with an empty body [G5]; an empty result list [G7] (with 403, or — the other
    #: reading — with 200, indistinguishable from "not in storefront"); 429 [G20].
    throttle_response: ThrottleResponse = "403_empty"
    #: Whether the limit is per IP is unconfirmed: per client address, or one global budget.
    throttle_scope: ThrottleScope = "client"
    #: The documented limit is the Search/Lookup API's; ``all`` also throttles the feeds.
    throttle_endpoints: ThrottleEndpoints = "lookup"
    #: Whether refused requests also use up the budget (then hammering never recovers).
    throttle_counts_rejected: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        gone = data["legacy_gone_since"]
        data["legacy_gone_since"] = gone.isoformat() if gone else None
        return data

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` after checking every name, type and choice (ValueError)."""
        known = {f.name: f for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            checked[name] = _checked(name, value, getattr(self, name))
        for name, value in checked.items():
            setattr(self, name, value)


def _checked(name: str, value: Any, current: Any) -> Any:
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise ValueError(f"{name} must be one of {', '.join(CHOICES[name])}")
        return value
    if name == "legacy_gone_since":
        if value is None or isinstance(value, datetime):
            return value
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError("legacy_gone_since must carry a time zone")
        return parsed
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(current, int | float) and not isinstance(value, bool):
        low, high = BOUNDS[name]
        if not isinstance(value, int | float) or value < low or (high and value >= high):
            limits = f">= {low}" if high is None else f">= {low} and < {high}"
            raise ValueError(f"{name} must be a number {limits}")
        return type(current)(value)
    if isinstance(current, str) and isinstance(value, str) and value:
        return value
    raise ValueError(f"{name} has the wrong type")
