"""Daily delivery: the final metrics of every ad group, slot, country and device per local day,
and how they look at a given moment (restatement, reporting lag).

An :class:`Atom` is the smallest unit: one slot (keyword or Search Match) of one ad group in
one country on one device on one org-local day, with its *final* metrics. Atoms are generated
on demand from the seed and cached. :class:`Observer` turns them into what Apple would report
at ``now``: the day's hours reported so far (FACTS §3 "data can lag up to 3 h") and, for days
younger than the restatement window, the not-yet-final numbers (see :mod:`.metrics`).
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.sandbox.searchads.entities import AdGroup, AdsAccount, Campaign, Slot
from app.sandbox.searchads.metrics import (
    HOUR,
    Metrics,
    hour_cumulative,
    local_hours,
    pending_fraction,
    restate,
)
from app.sandbox.searchads.world import AdsWorld
from app.sandbox.seeding import poisson, rng

DEVICES = (("IPHONE", 82), ("IPAD", 18))
_WEEKDAY_PERCENT = (100, 97, 96, 98, 104, 112, 115)


@dataclass(frozen=True, slots=True)
class Atom:
    ad_group_id: int
    keyword_id: int | None  # None: Search Match / search-tab traffic without a keyword
    slot_index: int
    country: str
    device: str
    final: Metrics
    jitter: int  # 0..999, randomised rounding of restatement


@dataclass(frozen=True)
class RestatementSettings:
    window: timedelta = timedelta(days=30)
    step: timedelta = timedelta(hours=6)
    lag: timedelta = timedelta(hours=3)


@dataclass(frozen=True)
class DayView:
    """One org-local day as seen at ``now``."""

    day: date
    hours: tuple[datetime, ...]  # UTC start of each local hour
    cumulative: tuple[int, ...]
    available: int  # hours already reported
    pending: tuple[int, int]  # restatement still ahead


class Delivery:
    """Final daily metrics of a world, generated lazily and cached."""

    def __init__(self, world: AdsWorld) -> None:
        self.world = world
        self._cache: dict[tuple[int, date], tuple[Atom, ...]] = {}

    def atoms(self, ad_group_id: int, day: date) -> tuple[Atom, ...]:
        key = (ad_group_id, day)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._generate(self.world.ad_groups[ad_group_id], day)
            self._cache[key] = cached
        return cached

    def _generate(self, group: AdGroup, day: date) -> tuple[Atom, ...]:
        world = self.world
        campaign = world.campaigns[group.campaign_id]
        if group.deleted or not campaign.delivers_on(day):
            return ()
        g = rng(world.seed, "delivery", group.id, day.toordinal())
        group_total = sum(world.ad_groups[i].share for i in world.ad_group_ids[campaign.id])
        wave = 1 + 0.15 * math.sin(day.toordinal() / 23)
        base = campaign.scale * group.share / group_total * wave * g.uniform(0.8, 1.2)
        base *= _WEEKDAY_PERCENT[day.weekday()] / 100
        slots = world.slots[group.id]
        slot_total = sum(s.weight for s in slots) or 1
        country_total = sum(campaign.country_weights)
        atoms = []
        for index, slot in enumerate(slots):
            if slot.keyword_id is not None and not world.keywords[slot.keyword_id].delivers_on(day):
                continue
            for country, country_weight in zip(
                campaign.countries, campaign.country_weights, strict=True
            ):
                for device, device_percent in DEVICES:
                    mean = base * slot.weight / slot_total * country_weight / country_total
                    final = _draw(g, campaign, slot, mean * device_percent / 100)
                    atoms.append(
                        Atom(
                            group.id,
                            slot.keyword_id,
                            index,
                            country,
                            device,
                            final,
                            g.randrange(1000),
                        )
                    )
        return tuple(atoms)


def _draw(g: random.Random, campaign: Campaign, slot: Slot, mean: float) -> Metrics:
    impressions = poisson(g, mean)
    taps = min(impressions, poisson(g, impressions * slot.ttr_permille / 1000))
    spend = round(taps * campaign.cpt_minor * g.uniform(0.55, 1.05))
    tap_installs = min(taps, poisson(g, taps * slot.install_permille / 1000))
    tap_re = round(tap_installs * g.uniform(0.1, 0.3))
    view_installs = poisson(g, impressions * 0.004)
    view_re = round(view_installs * g.uniform(0.0, 0.3))
    return Metrics(
        impressions=impressions,
        taps=taps,
        spend=spend,
        tap_new=tap_installs - tap_re,
        tap_re=tap_re,
        view_new=view_installs - view_re,
        view_re=view_re,
        tap_pre=poisson(g, taps * 0.002),
        view_pre=poisson(g, impressions * 0.0002),
    )


class Observer:
    """What the reports show at ``now``."""

    def __init__(self, delivery: Delivery, now: datetime, settings: RestatementSettings) -> None:
        self.delivery = delivery
        self.now = now
        self.settings = settings
        self._days: dict[tuple[str, date], DayView] = {}

    def day(self, account: AdsAccount, day: date) -> DayView:
        key = (account.time_zone, day)
        view = self._days.get(key)
        if view is None:
            hours = local_hours(account.time_zone, day)
            reported_until = self.now - self.settings.lag
            # Hours whose end has passed the reporting lag are reported.
            available = bisect.bisect_right([h + HOUR for h in hours], reported_until)
            age = self.now - (hours[-1] + HOUR)
            pending = pending_fraction(age, self.settings.window, self.settings.step)
            view = DayView(day, hours, hour_cumulative(account.time_zone, day), available, pending)
            self._days[key] = view
        return view

    def restated(self, atom: Atom, view: DayView) -> Metrics:
        return restate(atom.final, atom.jitter, view.pending)
