"""The simulator's own truth, for tests to compare Orchard's analytics results with.

Every number here comes from the same generated leaves the report files are cut from
(:mod:`.analytics_data`), before privacy rules: what Apple "knows", not what a Detailed file
shows. Quick use::

    truth = AnalyticsTruth(state)                     # default team, or AnalyticsTruth(state, team)
    truth.day(app_id, date(2025, 6, 1))               # final totals of the day, all territories
    truth.day(app_id, date(2025, 6, 1), "US")         # … of one territory
    truth.day(app_id, date(2025, 6, 1), vintage=1)    # as the first daily instance had it
    truth.vintages(app_id, "App Sessions Standard", date(2025, 6, 1))  # every restatement
    truth.period(app_id, "WEEKLY", date(2025, 6, 2))  # a week; unique devices non-additive
    truth.rows(app_id, "App Sessions Detailed", "DAILY", date(2025, 6, 1), served=True)

``active_devices`` are the sessions report's ``Unique Devices``: per day they add up over rows
(a sandbox simplification); per week/month they are fewer than the sum of the days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta

from app.sandbox.analytics_catalog import (
    COMPLETENESS_DAYS,
    Family,
    ReportDef,
    report_catalogue,
)
from app.sandbox.analytics_data import Row, date_rows, layout, period_rows, served_rows
from app.sandbox.analytics_instances import FINAL, Part, day_population, part_published
from app.sandbox.analytics_ledger import analytics
from app.sandbox.catalog import SandboxApp, find_app
from app.sandbox.periods import month_end
from app.sandbox.state import SandboxState, SandboxTeam


@dataclass(frozen=True)
class UsageTotals:
    installs: int = 0  # Installation and Deletion: Event=Install (all download types)
    deletions: int = 0  # … Event=Delete
    install_devices: int = 0  # … Unique Devices of Install rows
    sessions: int = 0
    session_seconds: int = 0
    active_devices: int = 0  # App Sessions: Unique Devices
    crashes: int = 0  # App Crashes (no Territory column: counted for territory=None only)
    crash_devices: int = 0
    downloads: int = 0  # App Downloads: all download types
    first_time_downloads: int = 0
    impressions: int = 0  # Discovery and Engagement: Counts by Event
    page_views: int = 0
    taps: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def standard_columns(family: Family) -> tuple[str, ...]:
    lay = layout(family)
    return tuple(d for i, d in enumerate(lay.dims) if i not in lay.detailed_only)


def _sum(family: Family, rows: list[Row], metric: str, **where: str) -> int:
    columns = standard_columns(family)
    at = {columns.index(name.replace("_", " ")): value for name, value in where.items()}
    m = layout(family).metrics.index(metric)
    return sum(metrics[m] for dims, metrics in rows if all(dims[i] == v for i, v in at.items()))


def _totals(rows_of: dict[Family, list[Row]], territory: str | None) -> UsageTotals:
    def rows(family: Family) -> list[Row]:
        found = rows_of[family]
        if territory is None or family is Family.CRASHES:
            return found if territory is None else []
        at = standard_columns(family).index("Territory")
        return [row for row in found if row[0][at] == territory]

    inst, sess, disc = rows(Family.INSTALLS), rows(Family.SESSIONS), rows(Family.DISCOVERY)
    dl, crash = rows(Family.DOWNLOADS), rows(Family.CRASHES)
    return UsageTotals(
        installs=_sum(Family.INSTALLS, inst, "Counts", Event="Install"),
        deletions=_sum(Family.INSTALLS, inst, "Counts", Event="Delete"),
        install_devices=_sum(Family.INSTALLS, inst, "Unique Devices", Event="Install"),
        sessions=_sum(Family.SESSIONS, sess, "Sessions"),
        session_seconds=_sum(Family.SESSIONS, sess, "Total Session Duration"),
        active_devices=_sum(Family.SESSIONS, sess, "Unique Devices"),
        crashes=_sum(Family.CRASHES, crash, "Crashes"),
        crash_devices=_sum(Family.CRASHES, crash, "Unique Devices"),
        downloads=_sum(Family.DOWNLOADS, dl, "Counts"),
        first_time_downloads=_sum(
            Family.DOWNLOADS, dl, "Counts", Download_Type="First-time download"
        ),
        impressions=_sum(Family.DISCOVERY, disc, "Counts", Event="Impression"),
        page_views=_sum(Family.DISCOVERY, disc, "Counts", Event="Page view"),
        taps=_sum(Family.DISCOVERY, disc, "Counts", Event="Tap"),
    )


def _period_end(granularity: str, start: date) -> date:
    return (
        start + timedelta(days=6) if granularity == "WEEKLY" else month_end(start.year, start.month)
    )


class AnalyticsTruth:
    """Read-only view of the generated analytics of one team of a sandbox."""

    def __init__(self, state: SandboxState, team: SandboxTeam | None = None) -> None:
        self.state = state
        self.team = team or state.default_team()
        self.ledger = analytics(state)

    def app(self, app_id: str) -> SandboxApp:
        found = find_app(self.team, app_id)
        if found is None:
            raise KeyError(f"no app {app_id} in team {self.team.name}")
        return found

    def report(self, name: str) -> ReportDef:
        catalogue = report_catalogue(self.ledger.options.subscription_state_name)
        return next(r for r in catalogue if r.name == name)

    def _volume(self, app_id: str) -> float:
        return self.ledger.volume_of(app_id)

    def _day_rows(
        self,
        app: SandboxApp,
        family: Family,
        day: date,
        vintage: int | None,
        detailed: bool = False,
        factor: float = 1.0,
    ) -> list[Row]:
        window = COMPLETENESS_DAYS[family]
        return date_rows(
            self.team,
            family,
            app,
            day,
            detailed=detailed,
            vintage=window if vintage is None else vintage,
            window=window,
            factor=factor,
            volume=self._volume(app.id),
        )

    def day(
        self,
        app_id: str,
        day: date,
        territory: str | None = None,
        *,
        vintage: int | None = None,
        families: Iterable[Family] = tuple(Family),
    ) -> UsageTotals:
        """Totals of ``day`` (final, or as known ``vintage`` days after it); only the fields of
        ``families`` are computed (the others stay 0)."""
        app = self.app(app_id)
        rows = {f: self._day_rows(app, f, day, vintage) for f in families}
        return _totals({f: rows.get(f, []) for f in Family}, territory)

    def period(
        self,
        app_id: str,
        granularity: str,
        start: date,
        territory: str | None = None,
        *,
        families: Iterable[Family] = tuple(Family),
    ) -> UsageTotals:
        """Weekly (``start`` = Monday) or monthly (``start`` = 1st) totals, as the weekly or
        monthly Standard files carry them: counts summed, unique devices not."""
        app = self.app(app_id)
        end = _period_end(granularity, start)
        days = [start + timedelta(n) for n in range((end - start).days + 1)]
        volume = self._volume(app_id)
        rows = {
            f: period_rows(self.team, f, app, days, detailed=False,
                           window=COMPLETENESS_DAYS[f], volume=volume)
            for f in families
        }  # fmt: skip
        return _totals({f: rows.get(f, []) for f in Family}, territory)

    def published(self, app_id: str, family: Family, day: date) -> bool:
        """Whether ``day`` clears the < 5 users rule of usage reports (ANALYTICS §8)."""
        app = self.app(app_id)
        return day_population(self.team, family, app, day, self._volume(app_id)) >= 5

    def vintages(self, app_id: str, report_name: str, day: date) -> list[tuple[date, UsageTotals]]:
        """Every ONGOING daily restatement of ``day``: ``(processing date, totals)`` for the
        report's family (other fields 0), the rolling window first, then corrections."""
        app, report = self.app(app_id), self.report(report_name)
        family = report.family
        assert family is not None
        empty: dict[Family, list[Row]] = {f: [] for f in Family}
        out = []
        for vintage in range(1, report.completeness_days + 1):
            rows = {**empty, family: self._day_rows(app, family, day, vintage)}
            out.append((day + timedelta(days=vintage), _totals(rows, None)))
        for c in self.ledger.corrections:
            if c.app_id == app_id and c.day == day:
                rows = {**empty, family: self._day_rows(app, family, day, None, factor=c.factor)}
                out.append((c.processing_date, _totals(rows, None)))
        return out

    def rows(
        self,
        app_id: str,
        report_name: str,
        granularity: str,
        start: date,
        *,
        vintage: int | None = None,
        served: bool = False,
    ) -> list[dict[str, str]]:
        """One ``Date``'s rows of a report as ``header → cell`` (true values, or what the file
        shows with ``served=True``: privacy rules and Detailed noise applied)."""
        app, report = self.app(app_id), self.report(report_name)
        family = report.family
        assert family is not None
        end = start if granularity == "DAILY" else _period_end(granularity, start)
        part = Part(granularity, start, end, FINAL if vintage is None else vintage)
        if granularity == "DAILY":
            rows = self._day_rows(app, family, start, vintage, report.detailed)
        else:
            rows = period_rows(
                self.team,
                family,
                app,
                part.days(),
                detailed=report.detailed,
                window=report.completeness_days,
                volume=self._volume(app_id),
            )
        if served:
            if not part_published(self.team, report, app, part, self._volume(app_id)):
                return []
            options = self.ledger.options
            rows = list(
                served_rows(
                    family,
                    rows,
                    detailed=report.detailed,
                    salt=f"{granularity}|{start}",
                    suppress_standard=options.suppress_standard_rows,
                    noise=options.detailed_noise,
                )
            )
        lead = (start.isoformat(), app.name, app.id)
        return [
            dict(zip(report.header, (*lead, *dims, *map(str, m)), strict=True)) for dims, m in rows
        ]


def large_snapshot(
    state: SandboxState,
    app_id: str,
    min_rows: int,
    *,
    team: SandboxTeam | None = None,
    report_name: str = "App Sessions Standard",
) -> tuple[str, float]:
    """Make the app's ONE_TIME_SNAPSHOT DAILY instance of ``report_name`` hold about
    ``min_rows`` rows or more (benchmarks: ``min_rows=1_000_000``).

    Raises the app's ``volume`` to fit (estimated from a few sample days) and records a
    snapshot request created three days ago, so its instance is already visible. Returns
    ``(request id, volume)``; count the rows with the segments' plans if it must be exact.
    """
    truth = AnalyticsTruth(state, team)
    app, report = truth.app(app_id), truth.report(report_name)
    now = state.now()
    start = max(date(2024, 1, 1), app.launch_date)
    days = (now.date() - start).days
    samples = [start + timedelta(days=days * k // 8) for k in range(1, 8)]
    volume = 1.0
    for _ in range(3):  # rows grow a little slower than volume (identical draws merge)
        truth.ledger.volume[app_id] = volume
        per_day = sum(len(truth.rows(app_id, report.name, "DAILY", d)) for d in samples) / 7
        volume *= max(1.0, 1.1 * min_rows / max(per_day * days, 1.0))
    truth.ledger.volume[app_id] = math.ceil(volume * 100) / 100
    request = truth.ledger.add_request(
        truth.team, app_id, "ONE_TIME_SNAPSHOT", now - timedelta(days=3)
    )
    return request.id, truth.ledger.volume[app_id]
