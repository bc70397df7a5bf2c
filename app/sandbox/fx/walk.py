"""Deterministic daily random walks: one per currency, the same for a seed whatever is asked.

Each series is a mean-reverting walk in log space (an Ornstein–Uhlenbeck step per calendar
day) around the currency's level, so rates stay plausible over years. A series is extended
day by day from its origin, so its values do not depend on the order of questions.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date

REVERSION = 0.02  # share of the gap to the level closed per day


@dataclass
class _Series:
    rng: random.Random
    mean: float
    volatility: float
    values: list[float] = field(default_factory=list)

    def extend_to(self, index: int) -> None:
        while len(self.values) <= index:
            last = self.values[-1]
            step = REVERSION * (self.mean - last) + self.volatility * self.rng.gauss(0.0, 1.0)
            self.values.append(last + step)


class RandomWalks:
    """``level(name, ...)`` → units per EUR on a day, for a seed and an origin date."""

    def __init__(self, seed: int, origin: date) -> None:
        self.seed = seed
        self.origin = origin
        self._series: dict[str, _Series] = {}

    def level(self, name: str, mean: float, volatility: float, day: date) -> float:
        index = (day - self.origin).days
        if index < 0:
            raise ValueError(f"{day} is before the sandbox's first modelled day {self.origin}")
        series = self._series.get(name)
        if series is None:
            series = self._start(name, mean, volatility)
        series.extend_to(index)
        return math.exp(series.values[index])

    def _start(self, name: str, mean: float, volatility: float) -> _Series:
        rng = random.Random(f"fx|{self.seed}|{name}")
        log_mean = math.log(mean)
        spread = volatility / math.sqrt(2 * REVERSION)  # the walk's long-run deviation
        series = _Series(rng, log_mean, volatility, [log_mean + rng.gauss(0.0, spread)])
        self._series[name] = series
        return series
