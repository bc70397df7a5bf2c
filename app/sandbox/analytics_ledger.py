"""What the Analytics Reports simulator remembers, and its knobs.

Generated data is a pure function of the seed (:mod:`.analytics_data`); the ledger holds what
the API or a test *changed*: report requests, stopped requests, data gaps, late corrections,
corrupted segments, per-app volume, plus the options that pick a variant of unconfirmed
behaviour. It lives beside :class:`~app.sandbox.state.SandboxState` in a weak mapping (like the
review ledger), so the shared state class needs no analytics fields. Get it with
:func:`analytics`; every attribute is a plain value tests may set between requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from weakref import WeakKeyDictionary

from app.sandbox.analytics_catalog import (
    NUMBERING_FIXED,
    NUMBERING_PER_TEAM,
    SUBSCRIPTION_STATE_NAMES,
)
from app.sandbox.seeding import stable_uuid
from app.sandbox.state import SandboxState, SandboxTeam

ACCESS_TYPES = ("ONE_TIME_SNAPSHOT", "ONGOING")
CorruptionKind = Literal["flip", "truncate"]


@dataclass
class AnalyticsOptions:
    """Variants and tunables; the defaults follow ANALYTICS.md where it is confirmed."""

    #: Rows per segment file; an instance with more rows has several segments (ANALYTICS §5).
    rows_per_segment: int = 50_000
    #: "every": each segment starts with the header row; "first": only segment 0 has it
    #: (ANALYTICS §5: per-segment headers "appear", unconfirmed).
    segment_headers: Literal["every", "first"] = "every"
    #: Start every file with a UTF-8 BOM (one ingester strips one; unconfirmed, ANALYTICS §5).
    bom: bool = False
    #: "none": cells are never quoted (no evidence of quoting, ANALYTICS §5); "minimal": a cell
    #: holding a double quote is quoted CSV-style (``"Holiday ""Gift"" Guide"``), unconfirmed.
    quoting: Literal["none", "minimal"] = "none"
    #: Territory cells as ISO alpha-2 ("US", Fivetran seeds) or names ("United States");
    #: unconfirmed (ANALYTICS §7).
    territory_format: Literal["alpha2", "name"] = "alpha2"
    #: Also drop Standard rows under 5 (the third-party reading of FACTS §4.7 / the ANALYTICS
    #: §10 checklist); by default only Detailed rows are (ANALYTICS §8).
    suppress_standard_rows: bool = False
    #: Noise on Detailed metrics (ANALYTICS §8); off makes Detailed rows exact.
    detailed_noise: bool = True
    #: How an expired segment URL fails: S3's 403 AccessDenied "Request has expired" or
    #: 400 ExpiredToken (ANALYTICS §10: 403, status unconfirmed).
    expired_url: Literal["access_denied", "expired_token"] = "access_denied"
    #: Segment URL lifetime (ANALYTICS §0.5: 5 minutes).
    url_lifetime_seconds: int = 300
    #: F-ASC "ghost" snapshots: a created ONE_TIME_SNAPSHOT is then invisible (GET 404, not
    #: listed) yet a second POST still answers 409 (ANALYTICS §3).
    ghost_snapshots: bool = False
    #: Whether a stopped request still blocks a new POST of its access type (409, recovery =
    #: DELETE + POST, ANALYTICS §3) or a new request may be created beside it (unconfirmed).
    conflict_when_stopped: bool = True
    #: Stop a request this many days after its data was last downloaded (None: never; the
    #: period is unconfirmed, ANALYTICS §3).
    inactivity_days: int | None = None
    #: Let ACCESS_TO_REPORTS keys read (the facts name Admin, Sales and Reports, Finance only).
    access_to_reports_reads: bool = False
    #: "fixed": Apple's observed r<N> numbers; "per_team": shifted per account (unconfirmed).
    report_numbering: str = NUMBERING_FIXED
    subscription_state_name: str = SUBSCRIPTION_STATE_NAMES[0]
    #: Instances are deleted this many days after their processing date (ANALYTICS §0.5).
    retention_days: int = 35
    #: An instance for processing date P appears at this hour (UTC) on P.
    publish_hour_utc: int = 10
    #: The first instance of a new request appears at least this long after creation (24–48 h).
    first_data_hours: int = 24


#: The allowed values of the options that pick a variant.
OPTION_CHOICES: dict[str, tuple[str, ...]] = {
    "segment_headers": ("every", "first"),
    "territory_format": ("alpha2", "name"),
    "quoting": ("none", "minimal"),
    "expired_url": ("access_denied", "expired_token"),
    "report_numbering": (NUMBERING_FIXED, NUMBERING_PER_TEAM),
    "subscription_state_name": SUBSCRIPTION_STATE_NAMES,
}


@dataclass(eq=False)
class AnalyticsRequest:
    id: str
    team: SandboxTeam
    app_id: str
    access_type: str
    created_at: datetime
    last_retrieved_at: datetime
    stopped_at: datetime | None = None
    ghost: bool = False

    def stop_time(self, options: AnalyticsOptions, now: datetime) -> datetime | None:
        """When the request stopped (explicitly or for inactivity), if it has by ``now``."""
        if self.stopped_at is None and options.inactivity_days is not None:
            idle_until = self.last_retrieved_at + timedelta(days=options.inactivity_days)
            if idle_until <= now:
                self.stopped_at = idle_until  # stays stopped: later downloads don't revive it
        if self.stopped_at is not None and self.stopped_at <= now:
            return self.stopped_at
        return None


@dataclass
class Corruption:
    kind: CorruptionKind = "flip"
    times: int | None = 1  # None: every download
    served: int = 0

    def applies(self) -> bool:
        return self.times is None or self.served < self.times


@dataclass(frozen=True)
class Correction:
    """A late restatement of ``day`` (beyond the completeness window) on ``processing_date``."""

    app_id: str
    day: date
    processing_date: date
    factor: float


@dataclass
class AnalyticsLedger:
    options: AnalyticsOptions = field(default_factory=AnalyticsOptions)
    requests: dict[str, AnalyticsRequest] = field(default_factory=dict)
    #: App id → multiplier of its generated events (more rows, bigger counts).
    volume: dict[str, float] = field(default_factory=dict)
    #: App id → Dates missing from every ONGOING daily instance (F-ASC data gap).
    gaps: dict[str, set[date]] = field(default_factory=dict)
    corrections: list[Correction] = field(default_factory=list)
    #: Segment id → how its downloads are spoiled (checksum mismatch).
    corruptions: dict[str, Corruption] = field(default_factory=dict)
    #: Resource ids handed out → what they name (``(request id, report number, …)``).
    instance_index: dict[str, tuple[str, int]] = field(default_factory=dict)
    segment_index: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: Segment URL path → segment id.
    url_paths: dict[str, str] = field(default_factory=dict)
    created: int = 0

    # --- requests ------------------------------------------------------------------------
    def add_request(
        self, team: SandboxTeam, app_id: str, access_type: str, now: datetime
    ) -> AnalyticsRequest:
        """Record a new request (no checks: the API's 409 rules live in the routes)."""
        if access_type not in ACCESS_TYPES:
            raise ValueError(f"access_type must be one of {ACCESS_TYPES}")
        self.created += 1
        request = AnalyticsRequest(
            id=stable_uuid(team.seed, "analyticsReportRequest", app_id, access_type, self.created),
            team=team,
            app_id=app_id,
            access_type=access_type,
            created_at=now,
            last_retrieved_at=now,
            ghost=access_type == "ONE_TIME_SNAPSHOT" and self.options.ghost_snapshots,
        )
        self.requests[request.id] = request
        return request

    def requests_of(self, team: SandboxTeam, app_id: str | None = None) -> list[AnalyticsRequest]:
        return [
            r
            for r in self.requests.values()
            if r.team == team and (app_id is None or r.app_id == app_id)
        ]

    def stop(self, request_id: str, at: datetime) -> None:
        """Flip ``stoppedDueToInactivity`` from ``at`` on: no instances processed later."""
        self.requests[request_id].stopped_at = at

    def delete(self, request_id: str) -> None:
        self.requests.pop(request_id, None)

    # --- data knobs ----------------------------------------------------------------------
    def volume_of(self, app_id: str) -> float:
        return self.volume.get(app_id, 1.0)

    def data_gap(self, app_id: str, day: date) -> None:
        """F-ASC: ``day`` never appears in ONGOING daily instances, and the instance that
        would first have carried it is published twice with identical content."""
        self.gaps.setdefault(app_id, set()).add(day)

    def restate(self, app_id: str, day: date, on: date, factor: float = 1.1) -> None:
        """Publish a correction of ``day`` (all reports of the app) with processing date ``on``."""
        self.corrections.append(Correction(app_id, day, on, factor))

    def corrupt(
        self, segment_id: str, *, always: bool = False, kind: CorruptionKind = "flip"
    ) -> None:
        """Spoil downloads of ``segment_id`` (once, or ``always``): ``flip`` changes one byte
        (same size, MD5 mismatch), ``truncate`` cuts the file (size and MD5 mismatch)."""
        self.corruptions[segment_id] = Corruption(kind=kind, times=None if always else 1)


_LEDGERS: WeakKeyDictionary[SandboxState, AnalyticsLedger] = WeakKeyDictionary()


def analytics(state: SandboxState) -> AnalyticsLedger:
    """The analytics ledger of ``state`` (created with default options on first use)."""
    found = _LEDGERS.get(state)
    if found is None:
        found = _LEDGERS[state] = AnalyticsLedger()
    return found
