"""The metric vector of Apple Ads reports and the arithmetic shared by reports and the truth.

A :class:`Metrics` holds only the additive, integer base counts (FACTS §3 "Metrics v5"):
impressions, taps, spend in the account currency's minor units, and tap/view new downloads,
redownloads and pre-orders. Installs, totals, rates and averages are derived, so
``tapInstalls = tapNewDownloads + tapRedownloads`` and ``total* = tap* + view*`` hold in every
row and bucket.

Restatement (FACTS §3 "Freshness & history": tap installs attribute over 30 days, integrators
re-pull the trailing days) is modelled per atom: while a day is younger than the restatement
window, installs are still missing a share that arrives as the day ages, and impressions, taps
and spend still include a share that is refunded later. Age advances in steps, so calls
moments apart see the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo


class Metrics(NamedTuple):
    impressions: int = 0
    taps: int = 0
    spend: int = 0  # minor units of the account currency (cents; yen for JPY)
    tap_new: int = 0
    tap_re: int = 0
    view_new: int = 0
    view_re: int = 0
    tap_pre: int = 0
    view_pre: int = 0

    def plus(self, other: Metrics) -> Metrics:
        return Metrics(*[a + b for a, b in zip(self, other, strict=True)])

    def minus(self, other: Metrics) -> Metrics:
        return Metrics(*[a - b for a, b in zip(self, other, strict=True)])

    def portion(self, numerator: int, denominator: int) -> Metrics:
        """``floor(value × numerator / denominator)`` for every field."""
        return Metrics(*[v * numerator // denominator for v in self])

    @property
    def is_zero(self) -> bool:
        return not any(self)

    @property
    def tap_installs(self) -> int:
        return self.tap_new + self.tap_re

    @property
    def view_installs(self) -> int:
        return self.view_new + self.view_re

    @property
    def total_installs(self) -> int:
        return self.tap_installs + self.view_installs

    @property
    def total_new(self) -> int:
        return self.tap_new + self.view_new

    @property
    def total_re(self) -> int:
        return self.tap_re + self.view_re

    @property
    def total_pre(self) -> int:
        return self.tap_pre + self.view_pre


ZERO = Metrics()


def total(items: Iterable[Metrics]) -> Metrics:
    result = ZERO
    for item in items:
        result = result.plus(item)
    return result


#: Per-mille share of each field that is still pending at the start of the window:
#: positive = arrives later (late attribution), negative = refunded later (invalid traffic).
RESTATEMENT_PERMILLE = Metrics(
    impressions=-20,
    taps=-30,
    spend=-30,
    tap_new=350,
    tap_re=350,
    view_new=250,
    view_re=250,
    tap_pre=350,
    view_pre=250,
)


def pending_fraction(age: timedelta, window: timedelta, step: timedelta) -> tuple[int, int]:
    """How much of the window lies ahead of a day of this ``age``, as ``(num, den)``."""
    window_s = int(window.total_seconds())
    if window_s <= 0 or age >= window:
        return 0, 1
    step_s = max(1, int(step.total_seconds()))
    elapsed = max(0, int(age.total_seconds())) // step_s * step_s
    return max(0, window_s - elapsed), window_s


def restate(final: Metrics, jitter: int, pending: tuple[int, int]) -> Metrics:
    """``final`` as seen while ``pending`` of the window is ahead (``jitter`` ∈ [0, 1000))."""
    num, den = pending
    if num == 0:
        return final
    values = []
    for value, share in zip(final, RESTATEMENT_PERMILLE, strict=True):
        # Randomised rounding (jitter) keeps small counts from always rounding to zero.
        late = (value * abs(share) * num + jitter * den) // (1000 * den) if value else 0
        values.append(value - late if share > 0 else value + late)
    return Metrics(*values)


# --- hours ------------------------------------------------------------------------------
#: Relative traffic by local hour of day (00..23).
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 10, 10, 9, 9, 9, 10, 11, 12, 12, 10, 7, 5)
HOUR = timedelta(hours=1)


@lru_cache(maxsize=16384)
def local_hours(time_zone: str, day: date) -> tuple[datetime, ...]:
    """UTC start of each hour of the local ``day`` (23, 24 or 25 of them around DST)."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    count = max(1, round((end - start) / HOUR))
    return tuple(start + i * HOUR for i in range(count))


@lru_cache(maxsize=16384)
def hour_cumulative(time_zone: str, day: date) -> tuple[int, ...]:
    """Cumulative hour weights of the local day: ``cum[0] = 0`` … ``cum[n]`` = total."""
    zone = ZoneInfo(time_zone)
    cumulative = [0]
    for start in local_hours(time_zone, day):
        cumulative.append(cumulative[-1] + HOUR_WEIGHTS[start.astimezone(zone).hour])
    return tuple(cumulative)


def hours_part(
    restated: Metrics, cumulative: tuple[int, ...], first: int, stop: int, available: int
) -> Metrics:
    """The share of a day's ``restated`` metrics delivered in local hours ``[first, stop)``.

    Cumulative flooring makes any split of the day add up exactly to the whole day, and only
    the first ``available`` hours (those already reported) count.
    """
    whole = cumulative[-1]
    high = cumulative[min(stop, available)]
    low = cumulative[min(first, available)]
    if low == 0 and high == whole:
        return restated
    if high == low:
        return ZERO
    return Metrics(*[v * high // whole - v * low // whole for v in restated])


def split_by_weights(metrics: Metrics, weights: tuple[int, ...]) -> list[Metrics]:
    """``metrics`` divided in proportion to ``weights``; the parts add up exactly."""
    whole = sum(weights)
    parts, running, previous = [], 0, ZERO
    for weight in weights:
        running += weight
        upto = metrics.portion(running, whole)
        parts.append(upto.minus(previous))
        previous = upto
    return parts
