"""Generated analytics events and the rows Apple's report files would carry for them.

Per (team, family, app, day) one seeded RNG draws the day's event clusters (how many from the
app's popularity, weekday and a slow trend, times the app's ``volume`` knob) and each one's
joint dimensions (:mod:`.analytics_dims`); identical draws are counted together into *leaves*
at the Detailed grain, each leaf's count growing by the clusters' sizes. Everything else
derives from the leaves, so all cuts agree:

- **Standard** rows = leaves summed over the Detailed-only columns (ANALYTICS §0.9: two cuts of
  the same events). Within one day a device sits in one row (a sandbox simplification), so a
  day's ``Unique Devices`` add up per territory.
- **Vintages** (ANALYTICS §4): a daily instance processed ``v`` days after the date holds the
  leaf values scaled by a completeness fraction that grows with ``v`` (each leaf has its own
  arrival lag) and is 1 from the report's completeness window on. Restated instances therefore
  carry other numbers for the same ``Date``.
- **Weekly / monthly** rows sum counts over the days of the period; unique metrics are *not*
  summed: ``max_day + (sum - max_day) × overlap`` with a per-row overlap in [0.25, 0.7], so a
  week's unique devices are fewer than the sum of its days (ANALYTICS §9).
- **Privacy** (ANALYTICS §8): usage reports (installs, sessions, crashes) have no rows for a
  period with fewer than 5 unique devices (decided on complete data, see
  :mod:`.analytics_instances`); Detailed rows under 5 (unique devices, or counts
  where a report has none) are dropped and the rest noised (σ = 2; session duration
  σ = duration ÷ sessions ÷ 4), deterministically per row. Standard rows under 5 are kept
  unless the ``suppress_standard_rows`` knob asks otherwise (unconfirmed; FACTS §4.7).
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from itertools import chain
from operator import itemgetter

from app.sandbox.analytics_catalog import (
    FAMILY_COLUMNS,
    FAMILY_METRICS,
    UNIQUE_METRICS,
    Family,
)
from app.sandbox.analytics_dims import day_dimensions
from app.sandbox.catalog import SandboxApp
from app.sandbox.seeding import poisson, rng
from app.sandbox.state import SandboxTeam

#: Draws per day per unit of app popularity. A draw is a small cluster of identical events
#: (installs+deletes, active devices, store events…) of mean size :data:`CLUSTER_SIZE`, so
#: rows ≈ draws while counts are realistic and popular combinations grow past 5.
BASE_DRAWS: dict[Family, float] = {
    Family.INSTALLS: 60.0,
    Family.SESSIONS: 300.0,
    Family.DISCOVERY: 700.0,
    Family.DOWNLOADS: 80.0,
    Family.CRASHES: 4.0,
}
CLUSTER_SIZE: dict[Family, float] = {
    Family.INSTALLS: 2.5,
    Family.SESSIONS: 3.0,
    Family.DISCOVERY: 6.0,
    Family.DOWNLOADS: 2.5,
    Family.CRASHES: 2.0,
}
PRIVACY_THRESHOLD = 5
NOISE_SIGMA = 2.0
#: The leaf cache keeps at most this many leaves (≈ 300 bytes each) over all cached days.
_CACHE_BUDGET = 50_000

Metrics = tuple[int, ...]
Row = tuple[tuple[str, ...], Metrics]  # (dimension cells in file order, metric values)


@dataclass(frozen=True, slots=True)
class Leaf:
    dims: tuple[str, ...]  # Detailed-grain dimension cells, file order
    metrics: Metrics  # final values
    lag: float  # how late this leaf's data arrives (0 early … 1 late)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a family's dimensions and metrics sit in its rows."""

    dims: tuple[str, ...]
    metrics: tuple[str, ...]
    detailed_only: tuple[int, ...]  # positions in ``dims``
    unique: tuple[int, ...]  # positions in ``metrics``

    @property
    def standard(self) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
        """Detailed dims → Standard dims (drops the Detailed-only columns)."""
        keep = [i for i in range(len(self.dims)) if i not in self.detailed_only]
        pick = itemgetter(*keep)
        return lambda dims: tuple(pick(dims))

    @property
    def threshold_metric(self) -> int:
        return self.unique[0] if self.unique else 0


@cache
def layout(family: Family) -> Layout:
    metrics = FAMILY_METRICS[family]
    columns = [c for c in FAMILY_COLUMNS[family][3:] if c.name not in metrics]
    return Layout(
        dims=tuple(c.name for c in columns),
        metrics=metrics,
        detailed_only=tuple(i for i, c in enumerate(columns) if c.detailed_only),
        unique=tuple(i for i, m in enumerate(metrics) if m in UNIQUE_METRICS),
    )


def draw_count(
    team: SandboxTeam, family: Family, app: SandboxApp, day: date, r: random.Random, volume: float
) -> int:
    if day < app.launch_date:
        return 0
    weekday = 1.15 if day.weekday() >= 5 else 1.0
    trend = 1.0 + 0.0003 * (day.toordinal() - date(2024, 1, 1).toordinal())
    mean = BASE_DRAWS[family] * app.popularity * weekday * trend * r.uniform(0.85, 1.15)
    return poisson(r, mean * volume)


def day_draws(
    team: SandboxTeam, family: Family, app: SandboxApp, day: date, volume: float = 1.0
) -> int:
    """How many event clusters ``day`` has (cheap: the first draw of the day's RNG)."""
    r = rng(team.seed, "analytics", family.value, app.id, day.toordinal())
    return draw_count(team, family, app, day, r, volume)


#: Every leaf's unique metric is > 0.6 × its count and counts add up to at least the draws,
#: so a day with this many draws has ≥ 5 unique devices without generating it.
SURELY_POPULATED_DRAWS = 9


def _leaf_metrics(family: Family, draws: int, r: random.Random) -> Metrics:
    n = draws + poisson(r, draws * (CLUSTER_SIZE[family] - 1))
    if family is Family.SESSIONS:  # n = active devices
        sessions = n + poisson(r, n * 1.2)
        return (sessions, round(sessions * max(15.0, r.gauss(260.0, 90.0))), n)
    if family is Family.DOWNLOADS:
        return (n,)
    repeat = {Family.INSTALLS: 0.2, Family.DISCOVERY: 0.3, Family.CRASHES: 0.4}[family]
    return (n, n - int(n * r.random() * repeat))


_LEAF_CACHE: dict[tuple[object, ...], tuple[Leaf, ...]] = {}
_cached_leaves = [0]


def day_leaves(
    team: SandboxTeam, family: Family, app: SandboxApp, day: date, volume: float = 1.0
) -> tuple[Leaf, ...]:
    """The Detailed-grain leaves of one app-day (final values), deterministic for the seed."""
    key = (team, family, app.id, day, volume)
    cached = _LEAF_CACHE.get(key)
    if cached is not None:
        return cached
    leaves = _generate(team, family, app, day, volume)
    if len(leaves) <= _CACHE_BUDGET // 10:  # big days are regenerated: memory stays small
        while _LEAF_CACHE and _cached_leaves[0] + len(leaves) > _CACHE_BUDGET:
            _cached_leaves[0] -= len(_LEAF_CACHE.pop(next(iter(_LEAF_CACHE))))
        _LEAF_CACHE[key] = leaves
        _cached_leaves[0] += len(leaves)
    return leaves


def _generate(
    team: SandboxTeam, family: Family, app: SandboxApp, day: date, volume: float
) -> tuple[Leaf, ...]:
    r = rng(team.seed, "analytics", family.value, app.id, day.toordinal())
    n = draw_count(team, family, app, day, r, volume)
    if n == 0:
        return ()
    dims = day_dimensions(app, family, day)
    picks = [r.choices(d.values, cum_weights=d.cum_weights, k=n) for d in dims]
    # Drawn values come in joint-dimension order; one C-level getter puts them in file order.
    drawn_order = [c for d in dims for c in d.columns]
    to_file_order = itemgetter(*(drawn_order.index(c) for c in layout(family).dims))
    leaves = []
    for combo, count in sorted(Counter(zip(*picks, strict=True)).items()):
        cells = to_file_order(tuple(chain.from_iterable(combo)))
        leaves.append(Leaf(cells, _leaf_metrics(family, count, r), r.random()))
    return tuple(leaves)


# --- vintages and cuts -------------------------------------------------------------------


def completeness(vintage: int, window: int, lag: float) -> float:
    """Share of a leaf's final value known ``vintage`` days after its date."""
    if vintage >= window:
        return 1.0
    return float((max(vintage, 0) / window) ** (0.3 + 0.7 * lag))


def _scaled(lay: Layout, metrics: Metrics, share: float) -> Metrics | None:
    values = [int(m * share + 0.5) for m in metrics]
    if values[0] <= 0:
        return None
    for u in lay.unique:
        values[u] = max(1, min(values[u], values[0]))
    return tuple(values)


def date_rows(
    team: SandboxTeam,
    family: Family,
    app: SandboxApp,
    day: date,
    *,
    detailed: bool,
    vintage: int,
    window: int,
    factor: float = 1.0,
    volume: float = 1.0,
) -> list[Row]:
    """True rows of one ``Date`` as a daily instance ``vintage`` days later holds them."""
    lay = layout(family)
    final = vintage >= window and factor == 1.0
    if detailed and final:  # leaves are the Detailed rows
        return [(leaf.dims, leaf.metrics) for leaf in day_leaves(team, family, app, day, volume)]
    project = lay.standard if not detailed else None
    merged: dict[tuple[str, ...], list[int]] = {}
    for leaf in day_leaves(team, family, app, day, volume):
        share = 1.0 if final else completeness(vintage, window, leaf.lag) * factor
        metrics = leaf.metrics if final else _scaled(lay, leaf.metrics, share)
        if metrics is None:
            continue
        dims = leaf.dims if project is None else project(leaf.dims)
        total = merged.get(dims)
        if total is None:
            merged[dims] = list(metrics)
        else:
            for i, value in enumerate(metrics):
                total[i] += value
    return [(dims, tuple(values)) for dims, values in merged.items()]


def _overlap(dims: tuple[str, ...], start: date) -> float:
    return 0.25 + 0.45 * (zlib.crc32(f"{start}|{'|'.join(dims)}".encode()) % 1000) / 1000


def period_rows(
    team: SandboxTeam,
    family: Family,
    app: SandboxApp,
    days: Iterable[date],
    *,
    detailed: bool,
    window: int,
    volume: float = 1.0,
) -> list[Row]:
    """True weekly/monthly rows: counts summed, unique metrics combined non-additively."""
    return list(_period_rows(team, family, app, tuple(days), detailed, window, volume))


@lru_cache(maxsize=16)
def _period_rows(
    team: SandboxTeam,
    family: Family,
    app: SandboxApp,
    days: tuple[date, ...],
    detailed: bool,
    window: int,
    volume: float,
) -> tuple[Row, ...]:
    # Cached: a month of a popular app is tens of thousands of rows that the file, the
    # instance gate and the truth all ask for.
    lay = layout(family)
    sums: dict[tuple[str, ...], list[int]] = {}
    peaks: dict[tuple[str, ...], list[int]] = {}
    for day in days:
        for dims, metrics in date_rows(
            team, family, app, day, detailed=detailed, vintage=window, window=window, volume=volume
        ):
            total, peak = (
                sums.setdefault(dims, [0] * len(metrics)),
                peaks.setdefault(dims, [0] * len(metrics)),
            )
            for i, value in enumerate(metrics):
                total[i] += value
                peak[i] = max(peak[i], value)
    rows = []
    for dims, total in sums.items():
        peak = peaks[dims]
        for u in lay.unique:
            total[u] = min(total[0], peak[u] + int((total[u] - peak[u]) * _overlap(dims, days[0])))
        rows.append((dims, tuple(total)))
    return tuple(rows)


def population(family: Family, rows: Iterable[Row]) -> int:
    """Unique devices behind a period's rows (what the < 5 users rule looks at)."""
    lay = layout(family)
    return sum(metrics[lay.threshold_metric] for _, metrics in rows)


# --- what the file shows -----------------------------------------------------------------


def _gauss_from(seed_text: str) -> float:
    """A deterministic ~N(0, 1) draw (sum of four hash bytes), cheaper than a Random()."""
    h = zlib.crc32(seed_text.encode())
    total = (h & 0xFF) + (h >> 8 & 0xFF) + (h >> 16 & 0xFF) + (h >> 24 & 0xFF)
    return (total - 510) / 147.8


def _noised(lay: Layout, dims: tuple[str, ...], metrics: Metrics, salt: str) -> Metrics:
    base = "|".join(dims) + "|" + salt
    values = list(metrics)
    for i, name in enumerate(lay.metrics):
        sigma = NOISE_SIGMA
        if name == "Total Session Duration":
            sigma = metrics[i] / max(metrics[0], 1) / 4
        values[i] = max(0, round(metrics[i] + sigma * _gauss_from(f"{base}|{i}")))
    return tuple(values)


def served_rows(
    family: Family,
    rows: Iterable[Row],
    *,
    detailed: bool,
    salt: str,
    suppress_standard: bool,
    noise: bool,
) -> Iterator[Row]:
    """The rows a file carries: the row-level privacy rules applied to ``rows`` (the < 5 users
    rule for whole periods is the instance schedule's, see :func:`.part_published`)."""
    lay = layout(family)
    for dims, metrics in rows:
        if (detailed or suppress_standard) and metrics[lay.threshold_metric] < PRIVACY_THRESHOLD:
            continue
        yield (dims, _noised(lay, dims, metrics, salt)) if detailed and noise else (dims, metrics)
