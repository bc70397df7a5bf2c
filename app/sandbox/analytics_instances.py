"""Which report instances exist at the sandbox clock's ``now`` (ANALYTICS §3–§4).

Processing date ``P`` is published at ``publish_hour_utc`` on ``P``; a request sees instances
published from ``first_data_hours`` (24 h) after its creation, so the first appears 24–48 h
later and the list is empty until then. Instances older than ``retention_days`` (35) are gone;
a stopped request gets none published after it stopped.

ONGOING, per report granularity (``w`` = the report's completeness window):

- DAILY every day: the Dates ``P-w … P-1`` (each at vintage ``P - Date``), so every Date is
  restated ``w`` times; the last one is final. A :class:`~.analytics_ledger.Correction` adds a
  later instance restating one Date. A data gap removes a Date everywhere and publishes the
  instance that would first have carried it twice (identical content).
- WEEKLY every Friday: the previous Monday–Sunday week, ``Date`` = Monday.
- MONTHLY on the 5th: the previous month, ``Date`` = the 1st.

ONE_TIME_SNAPSHOT: once, at its first processing date, one instance per granularity holding
the whole history from the report's start (2024-01-01 or the app's launch) — as observed for a
snapshot's weekly instance (ANALYTICS §4); then nothing more.

Usage reports skip Dates (and weeks, months) with fewer than 5 unique devices (ANALYTICS §8);
an instance left without any Date is not published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from app.sandbox.analytics_catalog import (
    DATA_START,
    USAGE_FAMILIES,
    Family,
    ReportDef,
    report_catalogue,
    report_number,
)
from app.sandbox.analytics_data import (
    PRIVACY_THRESHOLD,
    SURELY_POPULATED_DRAWS,
    day_draws,
    day_leaves,
    layout,
    period_rows,
    population,
)
from app.sandbox.analytics_ledger import AnalyticsLedger, AnalyticsOptions, AnalyticsRequest
from app.sandbox.catalog import SandboxApp, find_app
from app.sandbox.periods import month_end
from app.sandbox.seeding import stable_uuid
from app.sandbox.state import SandboxTeam

_REPORT_ID = re.compile(r"^r(\d+)-(.+)$")


#: The vintage of complete data (weekly and monthly instances are complete by default).
FINAL = 10_000


@dataclass(frozen=True, slots=True)
class Part:
    """The rows of one ``Date`` inside an instance."""

    granularity: str  # DAILY, WEEKLY or MONTHLY
    start: date  # the Date column
    end: date
    vintage: int = 0  # days between Date and processing (DAILY); ≥ the window: final
    factor: float = 1.0  # a correction's change

    def days(self) -> list[date]:
        return [self.start + timedelta(n) for n in range((self.end - self.start).days + 1)]


@dataclass(frozen=True, eq=False)
class Instance:
    id: str
    request: AnalyticsRequest
    report: ReportDef
    report_id: str
    app: SandboxApp
    granularity: str
    processing_date: date
    parts: tuple[Part, ...]
    copy: int = 0


def publish_moment(processing_date: date, options: AnalyticsOptions) -> datetime:
    return datetime.combine(processing_date, time(options.publish_hour_utc), tzinfo=UTC)


def first_processing_date(request: AnalyticsRequest, options: AnalyticsOptions) -> date:
    earliest = request.created_at + timedelta(hours=options.first_data_hours)
    day = earliest.astimezone(UTC).date()
    return day if publish_moment(day, options) >= earliest else day + timedelta(days=1)


def last_processing_date(
    request: AnalyticsRequest, options: AnalyticsOptions, now: datetime
) -> date:
    until = request.stop_time(options, now) or now
    day = until.astimezone(UTC).date()
    return day if publish_moment(day, options) <= until else day - timedelta(days=1)


# --- reports -----------------------------------------------------------------------------


def request_reports(
    ledger: AnalyticsLedger, request: AnalyticsRequest
) -> list[tuple[str, ReportDef]]:
    """``(report id, report)`` for every report of ``request``, in id order."""
    options = ledger.options
    return [
        (f"r{report_number(report, request.team, options.report_numbering)}-{request.id}", report)
        for report in report_catalogue(options.subscription_state_name)
    ]


def find_report(
    ledger: AnalyticsLedger, team: SandboxTeam, report_id: str
) -> tuple[AnalyticsRequest, ReportDef] | None:
    found = _REPORT_ID.match(report_id)
    request = ledger.requests.get(found[2]) if found else None
    if request is None or request.team != team or request.ghost:
        return None
    match = next((r for rid, r in request_reports(ledger, request) if rid == report_id), None)
    return None if match is None else (request, match)


# --- gates -------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def day_population(
    team: SandboxTeam, family: Family, app: SandboxApp, day: date, volume: float
) -> int:
    """The day's unique devices, or just :data:`PRIVACY_THRESHOLD` when surely more."""
    if day_draws(team, family, app, day, volume) >= SURELY_POPULATED_DRAWS:
        return PRIVACY_THRESHOLD  # at least; see SURELY_POPULATED_DRAWS
    unique = layout(family).threshold_metric
    return sum(leaf.metrics[unique] for leaf in day_leaves(team, family, app, day, volume))


def part_published(
    team: SandboxTeam, report: ReportDef, app: SandboxApp, part: Part, volume: float
) -> bool:
    """False for a usage report's period with < 5 unique devices (ANALYTICS §8), judged on the
    complete data (a not-yet-complete daily vintage of a published Date is published too)."""
    family = report.family
    assert family is not None
    if family not in USAGE_FAMILIES:
        return True
    days = part.days()
    if any(day_population(team, family, app, d, volume) >= PRIVACY_THRESHOLD for d in days):
        return True  # a period's uniques are at least any one day's
    if len(days) == 1:
        return False
    rows = period_rows(
        team, family, app, days, detailed=False, window=report.completeness_days, volume=volume
    )
    return population(family, rows) >= PRIVACY_THRESHOLD


# --- schedules ---------------------------------------------------------------------------


def _start(app: SandboxApp) -> date:
    return max(DATA_START, app.launch_date)


def _week_part(monday: date) -> Part:
    return Part("WEEKLY", monday, monday + timedelta(days=6), FINAL)


def _month_part(first: date) -> Part:
    return Part("MONTHLY", first, month_end(first.year, first.month), FINAL)


def _previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def _ongoing_parts(
    ledger: AnalyticsLedger, report: ReportDef, app: SandboxApp, granularity: str, p: date
) -> list[Part]:
    start, window = _start(app), report.completeness_days
    if granularity == "WEEKLY":
        week = _week_part(p - timedelta(days=11))
        return [week] if p.weekday() == 4 and week.end >= start else []
    if granularity == "MONTHLY":
        month = _month_part(_previous_month(p))
        return [month] if p.day == 5 and month.end >= start else []
    corrected = {
        c.day: c.factor
        for c in ledger.corrections
        if c.app_id == app.id and c.processing_date == p and c.day >= start
    }
    gaps = ledger.gaps.get(app.id, set())
    rolling = [
        Part("DAILY", d, d, (p - d).days)
        for d in (p - timedelta(days=back) for back in range(window, 0, -1))
        if d >= start and d not in gaps and d not in corrected
    ]
    return rolling + [Part("DAILY", d, d, FINAL, f) for d, f in sorted(corrected.items())]


def _snapshot_parts(report: ReportDef, app: SandboxApp, granularity: str, p: date) -> list[Part]:
    start, window = _start(app), report.completeness_days
    if granularity == "DAILY":
        count = (p - start).days
        return [
            Part("DAILY", d, d, min((p - d).days, window))
            for d in (start + timedelta(n) for n in range(count))
        ]
    if granularity == "WEEKLY":
        monday = start - timedelta(days=start.weekday())
        weeks = []
        while monday + timedelta(days=11) <= p:
            weeks.append(_week_part(monday))
            monday += timedelta(days=7)
        return weeks
    months, first = [], start.replace(day=1)
    while True:
        following = month_end(first.year, first.month) + timedelta(days=1)
        if following.replace(day=5) > p:
            break
        months.append(_month_part(first))
        first = following
    return months


def report_instances(
    ledger: AnalyticsLedger,
    request: AnalyticsRequest,
    report_id: str,
    report: ReportDef,
    now: datetime,
) -> list[Instance]:
    """The instances of one report visible at ``now``, oldest processing date first."""
    app = find_app(request.team, request.app_id)
    if report.family is None or app is None:
        return []
    options = ledger.options
    first = first_processing_date(request, options)
    oldest = now.astimezone(UTC).date() - timedelta(days=options.retention_days)
    last = last_processing_date(request, options, now)
    if request.access_type == "ONE_TIME_SNAPSHOT":
        last = min(last, first)
    found = []
    p = max(first, oldest)
    while p <= last:
        for granularity in report.granularities:
            if request.access_type == "ONGOING":
                parts = _ongoing_parts(ledger, report, app, granularity, p)
            else:
                parts = _snapshot_parts(report, app, granularity, p)
            volume = ledger.volume_of(app.id)
            parts = [p_ for p_ in parts if part_published(request.team, report, app, p_, volume)]
            if parts:
                found += _publish(ledger, request, report_id, report, app, granularity, p, parts)
        p += timedelta(days=1)
    return found


def _publish(
    ledger: AnalyticsLedger,
    request: AnalyticsRequest,
    report_id: str,
    report: ReportDef,
    app: SandboxApp,
    granularity: str,
    p: date,
    parts: list[Part],
) -> list[Instance]:
    duplicated = (
        request.access_type == "ONGOING"
        and granularity == "DAILY"
        and p - timedelta(days=1) in ledger.gaps.get(app.id, set())
    )
    out = []
    for copy in range(2 if duplicated else 1):
        instance_id = stable_uuid(request.id, report.number, granularity, p.isoformat(), copy)
        ledger.instance_index[instance_id] = (request.id, report.number)
        out.append(
            Instance(
                instance_id, request, report, report_id, app, granularity, p, tuple(parts), copy
            )
        )
    return out


def find_instance(
    ledger: AnalyticsLedger, team: SandboxTeam, instance_id: str, now: datetime
) -> Instance | None:
    """The instance ``instance_id`` if it is still visible to ``team`` at ``now``."""
    known = ledger.instance_index.get(instance_id)
    candidates = [r for r in ledger.requests.values() if r.team == team and not r.ghost]
    if known is not None:
        candidates = [r for r in candidates if r.id == known[0]]
    for request in candidates:
        for report_id, report in request_reports(ledger, request):
            if report.family is None or (known is not None and report.number != known[1]):
                continue
            for instance in report_instances(ledger, request, report_id, report, now):
                if instance.id == instance_id:
                    return instance
    return None
