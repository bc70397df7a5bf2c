"""Date-range rules of report requests per granularity (FACTS §3 table for v5, §9 for v1).

"Today" is the current date in the request's time zone (UTC or the org's). Ranges are
``end − start`` in days; "how far back" limits apply to ``start``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.sandbox.searchads.engine import SIMULATED_DIMENSIONS
from app.sandbox.searchads.entities import AdsAccount
from app.sandbox.searchads.errors import AdsError, invalid, rule_violation
from app.sandbox.searchads.options import AdsOptions

GRANULARITIES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY")
#: Documented groupBy dimensions the sandbox does not simulate (demographics and geo).
UNSIMULATED_DIMENSIONS = ("ageRange", "gender", "countryCode", "adminArea", "locality")


def parse_day(value: Any, field: str) -> date:
    if not isinstance(value, str):
        raise invalid(f"'{field}' is required (YYYY-MM-DD).", field, "MISSING_REQUIRED_FIELD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(f"'{field}' must be a date in YYYY-MM-DD format.", field) from None


def parse_time_zone(value: Any) -> bool:
    """True for UTC; ORTZ (the org's zone) is the default (FACTS §3, §9)."""
    if value in (None, "ORTZ"):
        return False
    if value == "UTC":
        return True
    raise invalid("timeZone must be UTC or ORTZ.", "timeZone")


def parse_granularity(value: Any) -> str | None:
    if value is None or value in GRANULARITIES:
        return value  # type: ignore[no-any-return]
    raise invalid(f"granularity must be one of {', '.join(GRANULARITIES)}.", "granularity")


def today(now: datetime, account: AdsAccount, utc: bool) -> date:
    return now.astimezone(UTC if utc else account.zone).date()


def months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def check_span(start: date, end: date, current: date, options: AdsOptions) -> None:
    if end < start:
        raise rule_violation("endTime must not be before startTime.", "endTime")
    if end > current and options.future_end == "reject":
        raise rule_violation("endTime must not be in the future.", "endTime")


def _fail(granularity: str, rule: str) -> AdsError:
    return rule_violation(f"{granularity} granularity: {rule}.", "granularity")


def check_v5_range(granularity: str | None, start: date, end: date, current: date) -> None:
    """FACTS §3: HOURLY ≤ 7 d / 30 d back; DAILY ≤ 90 d / 90 d back; WEEKLY > 14 and ≤ 365 d /
    24 months back; MONTHLY > 3 months / 24 months back."""
    span = (end - start).days
    if granularity == "HOURLY":
        if span > 7:
            raise _fail(granularity, "the range must not exceed 7 days")
        if start < current - timedelta(days=30):
            raise _fail(granularity, "startTime must be within the last 30 days")
    elif granularity == "DAILY":
        if span > 90:
            raise _fail(granularity, "the range must not exceed 90 days")
        if start < current - timedelta(days=90):
            raise _fail(granularity, "startTime must be within the last 90 days")
    elif granularity in ("WEEKLY", "MONTHLY"):
        if granularity == "WEEKLY" and not 14 < span <= 365:
            raise _fail(granularity, "the range must be more than 14 and at most 365 days")
        if granularity == "MONTHLY" and end <= months_before(start, -3):
            raise _fail(granularity, "the range must be more than 3 months")
        if start < months_before(current, 24):
            raise _fail(granularity, "startTime must be within the last 24 months")


def check_v1_range(
    granularity: str | None, start: date, end: date, current: date, options: AdsOptions
) -> None:
    """FACTS §9: HOURLY start ≤ 7 d ago; DAILY start ≤ 90 d ago and range > 1 day; WEEKLY
    start ≤ 365 d ago and "end ≥ 14 d ago"; MONTHLY "end ≥ 90 d ago" (the last two read as a
    span or as the end's age per option ``v1_period_rule``)."""
    span = (end - start).days
    if granularity == "HOURLY" and start < current - timedelta(days=7):
        raise _fail(granularity, "start must be within the last 7 days")
    if granularity == "DAILY":
        if start < current - timedelta(days=90):
            raise _fail(granularity, "start must be within the last 90 days")
        if span < 1:
            raise _fail(granularity, "the range must cover more than one day")
    if granularity in ("WEEKLY", "MONTHLY"):
        minimum = 14 if granularity == "WEEKLY" else 90
        if granularity == "WEEKLY" and start < current - timedelta(days=365):
            raise _fail(granularity, "start must be within the last 365 days")
        measured = span if options.v1_period_rule == "range" else (current - end).days
        if measured < minimum:
            what = "the range" if options.v1_period_rule == "range" else "end"
            ago = "" if options.v1_period_rule == "range" else " ago"
            raise _fail(granularity, f"{what} must be at least {minimum} days{ago}")


def check_group_by(raw: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(d, str) for d in raw):
        raise invalid("groupBy must be an array of dimension names.", "groupBy")
    for dimension in raw:
        if dimension in UNSIMULATED_DIMENSIONS:
            raise invalid(f"groupBy '{dimension}' is not simulated by the sandbox.", "groupBy")
        if dimension not in allowed or dimension not in SIMULATED_DIMENSIONS:
            raise invalid(f"groupBy '{dimension}' is not supported here.", "groupBy")
    return tuple(dict.fromkeys(raw))
