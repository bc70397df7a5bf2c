"""One subscription group's world, indexed for day-by-day reading.

Built once per (sandbox state, team, app) from the :class:`Ledger`:

* the daily snapshot is a running sum of span starts and ends, kept at checkpoints every
  :data:`CHECKPOINT_DAYS` days, so any day costs at most that many days of changes;
* explicit events are bucketed by the day they happened and by the day's file they appear in
  (a deterministic hash spreads them over that day and the next two, FACTS §8);
* quiet renewals are found per day from the renewal runs, bucketed by the day of month (or
  the day modulo the period for day-based durations) they renew on, so a day only looks at
  about a thirtieth of the runs.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from typing import NamedTuple

from app.sandbox.seeding import numeric_id
from app.sandbox.state import SandboxTeam
from app.sandbox.subscription_world import model as m
from app.sandbox.subscription_world.calendar import (
    FIRSTS,
    LENGTHS,
    boundary,
    month_index,
)
from app.sandbox.subscription_world.ledger import Customer, Happening, Ledger, Run, Span
from app.sandbox.subscription_world.options import WorldOptions
from app.sandbox.subscription_world.population import PopulationBuilder
from app.sandbox.subscription_world.products import FREE_TRIAL, INTRO, Group

CHECKPOINT_DAYS = 28
MAX_LAG = 2
_MASK = 0xFFFFFFFF


class RowKey(NamedTuple):
    """What identifies a SUBSCRIPTION row (besides the app, which the group fixes)."""

    product: int
    country: int
    device: int
    offer: int  # -1: the standard price row
    retained: bool


class Renewal(NamedTuple):
    day: int
    run: Run
    n: int

    @property
    def cpp(self) -> int:
        return self.run.cpp_offset + self.n


def _mix(value: int) -> int:
    value &= _MASK
    value = ((value ^ (value >> 16)) * 0x45D9F3B) & _MASK
    value = ((value ^ (value >> 16)) * 0x45D9F3B) & _MASK
    return value ^ (value >> 16)


class GroupWorld:
    def __init__(
        self,
        team: SandboxTeam,
        group: Group,
        options: WorldOptions,
        first: int,
        last: int,
        reference: int,
    ) -> None:
        self.team = team
        self.group = group
        self.options = options
        self.first = first
        self.last = last
        self.target = options.target_for(group.app.id, group.app.popularity)
        ledger = Ledger(first, last)
        PopulationBuilder(team, group, options.behaviour, self.target, ledger, reference).build()
        self.ledger = ledger
        self.customers: list[Customer] = ledger.customers
        self._shape = (len(group.countries), len(options.behaviour.devices), len(group.offers))
        self._row_offer = [self._displayed_offer(i) for i in range(len(group.offers))]
        self._deltas = self._build_deltas(ledger.spans)
        self._checkpoints: dict[int, dict[int, int]] = {}
        self._snapshots: dict[int, dict[int, int]] = {}
        self._thresholds = self._lag_thresholds()
        self.by_event_day: dict[int, list[Happening]] = defaultdict(list)
        self.by_file_day: dict[int, list[Happening]] = defaultdict(list)
        for h in ledger.happenings:
            self.by_event_day[h.day].append(h)
            self.by_file_day[h.day + self.lag(h.customer, h.day, h.event)].append(h)
        self._buckets: dict[tuple[int, int], list[Run]] = defaultdict(list)
        self._bucket_runs(ledger.runs)
        self._day_steps = sorted({key[0] for key in self._buckets if key[0]})
        self._renewals: dict[int, list[Renewal]] = {}
        self._subscriber_ids: dict[tuple[int, int], str] = {}

    # --- snapshot -------------------------------------------------------------------------
    def _displayed_offer(self, offer: int) -> int:
        """Free introductory trials share the standard price row (no name, same price)."""
        o = self.group.offers[offer]
        return -1 if (o.family == INTRO and o.mode == FREE_TRIAL) else offer

    def encode(self, key: RowKey, state: int) -> int:
        countries, devices, offers = self._shape
        row = ((key.product * countries + key.country) * devices + key.device) * (offers + 1)
        row = (row + key.offer + 1) * 2 + key.retained
        return row * m.STATE_COUNT + state

    def decode(self, code: int) -> tuple[RowKey, int]:
        countries, devices, offers = self._shape
        row, state = divmod(code, m.STATE_COUNT)
        row, retained = divmod(row, 2)
        row, offer = divmod(row, offers + 1)
        row, device = divmod(row, devices)
        product, country = divmod(row, countries)
        return RowKey(product, country, device, offer - 1, bool(retained)), state

    def _build_deltas(self, spans: list[Span]) -> dict[int, array[int]]:
        """Per day, the changes of the snapshot as a flat ``array`` of (code, change) pairs
        (a dict per day would take several times the memory)."""
        deltas: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        first, last, customers = self.first, self.last, self.customers
        for span in spans:
            customer = customers[span.customer]
            offer = self._row_offer[span.offer] if span.offer >= 0 else -1
            key = RowKey(span.product, customer.country, customer.device, offer, span.retained)
            codes = [self.encode(key, span.state)]
            if customer.opt_in and span.state < m.OPT_IN:
                codes.append(self.encode(key, m.OPT_IN))
            start = max(span.start, first)
            for code in codes:
                deltas[start][code] += 1
                if span.end <= last:
                    deltas[span.end][code] -= 1
        return {
            day: array("q", [x for pair in changes.items() for x in pair])
            for day, changes in deltas.items()
        }

    def _apply(self, counts: dict[int, int], day_from: int, day_to: int) -> None:
        empty: array[int] = array("q")
        for day in range(day_from, day_to + 1):
            pairs = iter(self._deltas.get(day, empty))
            for code, change in zip(pairs, pairs, strict=True):
                value = counts.get(code, 0) + change
                if value:
                    counts[code] = value
                else:
                    counts.pop(code, None)

    def _checkpoint(self, index: int) -> dict[int, int]:
        if index not in self._checkpoints:
            day = self.first + index * CHECKPOINT_DAYS
            if index == 0:
                counts: dict[int, int] = {}
                self._apply(counts, day, day)
            else:
                counts = dict(self._checkpoint(index - 1))
                self._apply(counts, day - CHECKPOINT_DAYS + 1, day)
            self._checkpoints[index] = counts
        return self._checkpoints[index]

    def snapshot(self, day: int) -> dict[int, int]:
        """Counts at the end of ``day``: encoded (row, state) → subscriptions (non-zero only)."""
        if not self.first <= day <= self.last:
            return {}
        if day not in self._snapshots:
            index = (day - self.first) // CHECKPOINT_DAYS
            counts = dict(self._checkpoint(index))
            self._apply(counts, self.first + index * CHECKPOINT_DAYS + 1, day)
            if len(self._snapshots) > 64:
                self._snapshots.clear()
            self._snapshots[day] = counts
        return self._snapshots[day]

    # --- late events ----------------------------------------------------------------------
    def _lag_thresholds(self) -> tuple[int, int]:
        own, next_day, _ = self.options.late_shares
        return round(own * (_MASK + 1)), round((own + next_day) * (_MASK + 1))

    def lag(self, customer: int, day: int, event: int) -> int:
        """0, 1 or 2: how many days after ``day`` the event shows up in a file."""
        seed = self.customers[customer].id_seed
        u = _mix(seed * 2654435761 + day * 40503 + event * 97 + self.team.seed)
        own, next_day = self._thresholds
        return 0 if u < own else (1 if u < next_day else 2)

    # --- renewals -------------------------------------------------------------------------
    def _bucket_runs(self, runs: list[Run]) -> None:
        """Runs by the days they can renew on: day-of-month, or day modulo a day period."""
        for run in runs:
            a = run.anchor
            key = (a[1], a[0] % a[1]) if a[1] else (0, a[4])
            self._buckets[key].append(run)

    def renewals(self, day: int) -> list[Renewal]:
        """Quiet renewals (``Renew`` charges) that happened on ``day``."""
        if not self.first <= day <= self.last:
            return []
        cached = self._renewals.get(day)
        if cached is not None:
            return cached
        index = month_index(day)
        dom = day - FIRSTS[index] + 1
        keys = [(step, day % step) for step in self._day_steps]
        keys.append((0, dom))
        if dom == LENGTHS[index]:  # the last day of a month also renews the 29th-31st
            keys += [(0, later) for later in range(dom + 1, 32)]
        found: list[Renewal] = []
        for key in keys:
            for run in self._buckets.get(key, ()):
                if not run.start <= day < run.end:
                    continue
                a = run.anchor
                if a[1]:
                    n = (day - a[0]) // a[1]
                else:
                    months, rest = divmod(index - a[3], a[2])
                    if rest:
                        continue
                    n = months
                if n >= run.n_first and boundary(a, n) == day:
                    found.append(Renewal(day, run, n))
        if len(self._renewals) > 512:
            self._renewals.clear()
        self._renewals[day] = found
        return found

    def file_renewals(self, file_day: int) -> list[Renewal]:
        """The renewals the event and subscriber files of ``file_day`` carry."""
        found = []
        for lag in range(MAX_LAG + 1):
            day = file_day - lag
            found += [
                x for x in self.renewals(day) if self.lag(x.run.customer, day, m.RENEW) == lag
            ]
        return found

    def file_happenings(self, file_day: int) -> list[Happening]:
        return self.by_file_day.get(file_day, [])

    # --- identities -----------------------------------------------------------------------
    def subscriber_id(self, customer: int, epoch: int) -> str:
        """Apple's anonymous per-developer Subscriber ID; a new one after a reset (FACTS §5.5)."""
        key = (customer, epoch)
        if key not in self._subscriber_ids:
            seed = self.customers[customer].id_seed
            self._subscriber_ids[key] = numeric_id(
                13, 1, self.team.seed, "subscriber", self.group.app.id, seed, epoch
            )
        return self._subscriber_ids[key]
