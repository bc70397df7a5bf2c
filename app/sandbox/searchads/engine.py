"""The report engine shared by v5 and v1 reports: rows of metrics per entity and dimension,
bucketed by granularity in the requested time zone (FACTS §3, §9).

Buckets are ``(day, hour)``: HOURLY ``(date, hour)``, DAILY ``(date, None)``, WEEKLY
``(Monday, None)``, MONTHLY ``(first of month, None)``, no granularity :data:`TOTAL`.
Search-term rows below :data:`SEARCH_TERM_THRESHOLD` impressions are folded into one
``other`` row per keyword (FACTS §3 "10-impression threshold").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from app.sandbox.searchads.delivery import Atom, DayView, Observer
from app.sandbox.searchads.entities import AdsAccount, SearchTerm
from app.sandbox.searchads.metrics import ZERO, Metrics, hours_part, split_by_weights, total
from app.sandbox.searchads.world import AdsWorld

Level = Literal["campaign", "adgroup", "keyword", "searchterm"]
Bucket = tuple[date, int | None]
TOTAL: Bucket = (date.min, None)
SEARCH_TERM_THRESHOLD = 10
#: groupBy dimensions the sandbox simulates (storefront = the App Store country).
SIMULATED_DIMENSIONS = ("countryOrRegion", "storefront", "deviceClass")


@dataclass(frozen=True)
class ReportScope:
    level: Level
    account: AdsAccount
    campaign_ids: tuple[int, ...]
    start: date
    end: date
    utc: bool = False  # timeZone UTC; else ORTZ (the account's zone)
    granularity: str | None = None
    group_by: tuple[str, ...] = ()
    ad_group_ids: frozenset[int] | None = None
    keyword_ids: frozenset[int] | None = None


@dataclass
class ReportRow:
    campaign_id: int
    ad_group_id: int | None = None
    keyword_id: int | None = None
    term: SearchTerm | None = None
    dims: tuple[tuple[str, str], ...] = ()
    buckets: dict[Bucket, Metrics] = field(default_factory=dict)
    other: bool = False

    @property
    def total(self) -> Metrics:
        return total(self.buckets.values())

    @property
    def dimensions(self) -> dict[str, str]:
        return dict(self.dims)


RowKey = tuple[int, int | None, int | None, str | None, str | None, tuple[tuple[str, str], ...]]


def bucket_of(granularity: str | None, moment: datetime) -> Bucket:
    day = moment.date()
    if granularity is None:
        return TOTAL
    if granularity == "HOURLY":
        return day, moment.hour
    if granularity == "WEEKLY":
        return day - timedelta(days=day.weekday()), None
    if granularity == "MONTHLY":
        return day.replace(day=1), None
    return day, None


def all_buckets(scope: ReportScope) -> list[Bucket]:
    """Every bucket of the requested range in order (rows list zero buckets too)."""
    zone = UTC if scope.utc else scope.account.zone
    moment = datetime.combine(scope.start, time(), zone).astimezone(UTC)
    stop = datetime.combine(scope.end + timedelta(days=1), time(), zone).astimezone(UTC)
    buckets: dict[Bucket, None] = {}
    while moment < stop:
        buckets[bucket_of(scope.granularity, moment.astimezone(zone))] = None
        moment += timedelta(hours=1)
    return list(buckets)


def _runs(view: DayView, scope: ReportScope) -> list[tuple[Bucket, int, int]]:
    """Contiguous local-hour ranges of the day that fall into one in-range bucket."""
    zone = UTC if scope.utc else scope.account.zone
    runs: list[list[object]] = []
    for index, hour in enumerate(view.hours):
        moment = hour.astimezone(zone)
        bucket: Bucket | None = None
        if scope.start <= moment.date() <= scope.end:
            bucket = bucket_of(scope.granularity, moment)
        if runs and runs[-1][0] == bucket:
            runs[-1][2] = index + 1
        else:
            runs.append([bucket, index, index + 1])
    return [(b, a, e) for b, a, e in runs if b is not None]  # type: ignore[misc]


class ReportBuilder:
    def __init__(self, world: AdsWorld, observer: Observer, scope: ReportScope) -> None:
        self.world = world
        self.observer = observer
        self.scope = scope
        self.rows: dict[RowKey, ReportRow] = {}

    def build(self) -> list[ReportRow]:
        scope = self.scope
        pad = timedelta(days=1 if scope.utc else 0)
        for campaign_id in scope.campaign_ids:
            campaign = self.world.campaigns[campaign_id]
            groups = [
                g
                for g in self.world.campaign_ad_groups(campaign_id)
                if scope.ad_group_ids is None or g.id in scope.ad_group_ids
            ]
            day = scope.start - pad
            while day <= scope.end + pad:
                if campaign.delivers_on(day):
                    view = self.observer.day(scope.account, day)
                    runs = _runs(view, scope)
                    for group in groups if runs else ():
                        for atom in self.observer.delivery.atoms(group.id, day):
                            self._add_atom(campaign_id, atom, view, runs)
                day += timedelta(days=1)
        rows = [row for row in self.rows.values() if not row.total.is_zero]
        return sorted(rows, key=_row_order)

    def _add_atom(
        self, campaign_id: int, atom: Atom, view: DayView, runs: list[tuple[Bucket, int, int]]
    ) -> None:
        scope = self.scope
        if scope.level == "keyword" and atom.keyword_id is None:
            return  # Search Match traffic has no keyword row
        if scope.keyword_ids is not None and atom.keyword_id not in scope.keyword_ids:
            return
        restated = self.observer.restated(atom, view)
        dims = self._dims(atom)
        for bucket, first, stop in runs:
            part = hours_part(restated, view.cumulative, first, stop, view.available)
            if part.is_zero:
                continue
            if scope.level == "searchterm":
                self._add_terms(campaign_id, atom, dims, bucket, part)
            else:
                self._add(self._key(campaign_id, atom, None, dims), bucket, part)

    def _add_terms(
        self,
        campaign_id: int,
        atom: Atom,
        dims: tuple[tuple[str, str], ...],
        bucket: Bucket,
        part: Metrics,
    ) -> None:
        terms = self.world.slots[atom.ad_group_id][atom.slot_index].terms
        if not terms:
            return  # search-tab traffic has no search terms
        shares = split_by_weights(part, tuple(t.weight for t in terms))
        for term, share in zip(terms, shares, strict=True):
            if not share.is_zero:
                self._add(self._key(campaign_id, atom, term, dims), bucket, share, term)

    def _key(
        self,
        campaign_id: int,
        atom: Atom,
        term: SearchTerm | None,
        dims: tuple[tuple[str, str], ...],
    ) -> RowKey:
        level = self.scope.level
        group = None if level == "campaign" else atom.ad_group_id
        keyword = atom.keyword_id if level in ("keyword", "searchterm") else None
        text = term.text if term else None
        source = term.source if term else None
        return campaign_id, group, keyword, text, source, dims

    def _add(
        self, key: RowKey, bucket: Bucket, part: Metrics, term: SearchTerm | None = None
    ) -> None:
        row = self.rows.get(key)
        if row is None:
            row = ReportRow(key[0], key[1], key[2], term, key[5])
            self.rows[key] = row
        row.buckets[bucket] = row.buckets.get(bucket, ZERO).plus(part)

    def _dims(self, atom: Atom) -> tuple[tuple[str, str], ...]:
        values = {
            "countryOrRegion": atom.country,
            "storefront": atom.country,
            "deviceClass": atom.device,
        }
        return tuple((name, values[name]) for name in self.scope.group_by)


def _row_order(row: ReportRow) -> tuple[object, ...]:
    return (
        row.campaign_id,
        row.ad_group_id or 0,
        row.keyword_id or 0,
        row.other,
        row.term.text if row.term else "",
        row.dims,
    )


def build_report(world: AdsWorld, observer: Observer, scope: ReportScope) -> list[ReportRow]:
    return ReportBuilder(world, observer, scope).build()


def fold_low_volume(rows: list[ReportRow], *, suppress: bool) -> list[ReportRow]:
    """Search terms under the threshold join one ``other`` row per keyword and dimensions
    (or vanish, when ``suppress``): FACTS §3 and §9 "low-volume terms suppressed/aggregated"."""
    kept: list[ReportRow] = []
    others: dict[tuple[object, ...], ReportRow] = {}
    for row in rows:
        if row.total.impressions >= SEARCH_TERM_THRESHOLD:
            kept.append(row)
            continue
        if suppress:
            continue
        key = (row.campaign_id, row.ad_group_id, row.keyword_id, row.dims)
        other = others.get(key)
        if other is None:
            other = ReportRow(
                row.campaign_id, row.ad_group_id, row.keyword_id, None, row.dims, {}, other=True
            )
            others[key] = other
        for bucket, metrics in row.buckets.items():
            other.buckets[bucket] = other.buckets.get(bucket, ZERO).plus(metrics)
    return sorted(kept + list(others.values()), key=_row_order)


def empty_rows(world: AdsWorld, scope: ReportScope, rows: list[ReportRow]) -> list[ReportRow]:
    """Zero rows for entities in scope without delivery (``returnRecordsWithNoMetrics``,
    v1 ``EMPTY_METRICS``); only without groupBy, never for search terms."""
    present = {(r.campaign_id, r.ad_group_id, r.keyword_id) for r in rows}
    extra: list[ReportRow] = []
    for campaign_id in scope.campaign_ids:
        for key in _entity_keys(world, scope, campaign_id):
            if key not in present:
                extra.append(ReportRow(*key))
    return sorted(rows + extra, key=_row_order)


def _entity_keys(
    world: AdsWorld, scope: ReportScope, campaign_id: int
) -> list[tuple[int, int | None, int | None]]:
    if scope.level == "campaign":
        return [(campaign_id, None, None)]
    groups = [
        g
        for g in world.campaign_ad_groups(campaign_id)
        if scope.ad_group_ids is None or g.id in scope.ad_group_ids
    ]
    if scope.level == "adgroup":
        return [(campaign_id, g.id, None) for g in groups]
    return [
        (campaign_id, g.id, k.id)
        for g in groups
        for k in world.ad_group_keywords(g.id)
        if scope.keyword_ids is None or k.id in scope.keyword_ids
    ]
