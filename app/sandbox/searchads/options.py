"""Switches for every behaviour of Apple Ads that the facts leave unconfirmed.

One :class:`AdsOptions` lives on the state (``state.options``); a credential may carry its own
(``credential.options``), which then wins for requests made with that credential's tokens.
Each field names the facts section it stems from; the default is the most likely reading.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args, get_origin, get_type_hints

#: FACTS §0: "v5 is sunset 2027-01-26 (calls then error)".
V5_SUNSET_AT = datetime(2027, 1, 26, tzinfo=UTC)

SemicolonPolicy = Literal["either", "required", "forbidden"]
V1MissingContext = Literal["forbidden_403", "invalid_argument_400"]
V1IdType = Literal["int", "string"]
PageSizeEcho = Literal["requested", "returned"]
V1PeriodRule = Literal["range", "age"]
V1GroupValues = Literal["metadata", "bucket", "both"]
V1ZeroMetrics = Literal["full", "sparse"]
LowVolume = Literal["aggregate", "suppress"]
V1OrgId = Literal["parent", "account"]
V5AclsShape = Literal["array", "object"]
V5ReportWrapper = Literal["wrapped", "bare"]
V5ViewRedownloads = Literal["viewRedownloads", "viewReDownloads"]
V5TimestampZone = Literal["utc", "org"]
V5LimitOverMax = Literal["reject", "clamp"]
V5HourlyDate = Literal["space", "hour_field"]
V5ReportBudget = Literal["money", "amount_key", "number"]
V5SunsetMode = Literal["moved_301", "gone_410", "not_found_404", "bad_request_400"]
FutureEnd = Literal["reject", "allow"]
MoneyStyle = Literal["fixed", "trimmed"]


@dataclass(frozen=True)
class AdsOptions:
    """Variant choices; replace with ``dataclasses.replace`` or :meth:`with_changes`."""

    # §1/§9: Apple's v1 README sends ``adAccountId=<id>;``; whether ';' is optional is open.
    context_semicolon: SemicolonPolicy = "either"
    # §9: the answer to a v1 call without ``X-AP-Context`` is not documented.
    v1_missing_context: V1MissingContext = "forbidden_403"
    # §9: "Parse leniently (ids int or string)".
    v1_id_type: V1IdType = "int"
    # §9: ``pagination.pageSize`` echoes the request, or counts the page (unconfirmed).
    v1_page_size_echo: PageSizeEcho = "requested"
    # §9: "campaignId required on every apps report; one script omits it" (unconfirmed).
    v1_campaign_filter_required: bool = True
    # §9: WEEKLY "end ≥ 14 d ago", MONTHLY "end ≥ 90 d ago": read as a span (range) or as
    # the end's age (age).
    v1_period_rule: V1PeriodRule = "range"
    # §9: "groupBy values sit in metadata [SDK] (Apple's examples also put them in buckets)".
    v1_group_values: V1GroupValues = "metadata"
    # §9: "Zero-delivery buckets omit localSpend; absent metrics are missing keys [R-TVG]".
    v1_zero_metrics: V1ZeroMetrics = "full"
    # §9: search terms "low-volume terms suppressed/aggregated (row shape unconfirmed)".
    v1_searchterm_low_volume: LowVolume = "aggregate"
    # §9: "v1 orgId = v5 orgId is implied by [P-ATTR] — unconfirmed".
    v1_org_id: V1OrgId = "parent"
    # §9: "Campaign ids appear to carry over … unconfirmed by Apple".
    v1_ids_match_v5: bool = True
    # §2: ``/acls`` data is an array per schema, a single object in Apple's example.
    v5_acls_shape: V5AclsShape = "array"
    # §3: Apple's page examples omit the ``data.reportingDataResponse`` wrapper.
    v5_report_wrapper: V5ReportWrapper = "wrapped"
    # §3: examples spell ``viewReDownloads``; the schema ``viewRedownloads``.
    v5_view_redownloads_key: V5ViewRedownloads = "viewRedownloads"
    # §2: timestamps carry no zone; "which zone is unconfirmed".
    v5_timestamp_zone: V5TimestampZone = "utc"
    # §2: ``itemsPerPage`` = items in this page, or the requested limit.
    v5_items_per_page: PageSizeEcho = "returned"
    # §2: "limit … max 1000"; what a larger limit gets is not stated.
    v5_limit_over_max: V5LimitOverMax = "reject"
    # §3: HOURLY ``date`` "(exact string unconfirmed)".
    v5_hourly_date: V5HourlyDate = "space"
    # §3: report metadata budget: Money ``dailyBudget``, ``dailyBudgetAmount``, or a number.
    v5_report_budget: V5ReportBudget = "money"
    # §0: 5.6 removed ``budgetAmount``; switch on to serve a pre-5.6 Campaign.
    v5_include_budget_amount: bool = False
    # §0: how a shut-off API answers is not stated; v1–v3 answered 301
    # RESOURCE_MOVED_PERMANENTLY.
    v5_sunset_mode: V5SunsetMode = "moved_301"
    # §4: v5 ``RateLimit-*`` headers and ``Retry-After`` are unconfirmed (v1 has both).
    v5_rate_headers: bool = False
    v5_retry_after: bool = False
    # §3: "endTime in the future → 400 (reported by a code reviewer) — unconfirmed".
    future_end: FutureEnd = "reject"
    # §2: Money amounts are strings: "30.00" (fixed) or "30" / "30.5" (trimmed).
    money_style: MoneyStyle = "fixed"
    # §2: "docs say ≤2 decimals but report examples show 0.1583" (for derived money).
    derived_money_places: int = 2
    # §1: ``{"error":"invalid_client"}`` comes with 400 (Sign in with Apple); 401 per RFC 6749.
    token_error_status: int = 400
    # §1: "invalid_client was seen with a ~9 h exp — unconfirmed": a minimum secret lifetime.
    min_secret_lifetime: timedelta | None = None

    def with_changes(self, changes: dict[str, Any]) -> AdsOptions:
        """A copy with ``changes`` applied after checking names and allowed values."""
        return dataclasses.replace(self, **{k: check_option(k, v) for k, v in changes.items()})

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        lifetime = data["min_secret_lifetime"]
        data["min_secret_lifetime"] = None if lifetime is None else lifetime.total_seconds()
        return data


def option_choices() -> dict[str, tuple[Any, ...]]:
    """Allowed values of each Literal-typed option (for the admin surface and errors)."""
    hints = get_type_hints(AdsOptions)
    return {name: get_args(h) for name, h in hints.items() if get_origin(h) is Literal}


def check_option(name: str, value: Any) -> Any:
    """``value`` converted for option ``name``; ValueError when it is not allowed."""
    fields = {f.name for f in dataclasses.fields(AdsOptions)}
    if name not in fields:
        raise ValueError(f"unknown option {name!r}")
    choices = option_choices().get(name)
    if name == "min_secret_lifetime":
        return _seconds(value)
    if name == "token_error_status":
        if value not in (400, 401):
            raise ValueError("token_error_status must be 400 or 401")
        return value
    if name == "derived_money_places":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 6:
            raise ValueError("derived_money_places must be an integer 0..6")
        return value
    if choices and value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}")
    if not choices and not isinstance(value, bool):
        raise ValueError(f"{name} must be a boolean")
    return value


def _seconds(value: Any) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    raise ValueError("min_secret_lifetime must be a number of seconds or null")
