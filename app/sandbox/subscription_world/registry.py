"""The worlds of a sandbox state: built once per (team, app), kept as long as the state lives.

The simulated window starts on the first day of the month 455 days before the sandbox clock's
Pacific "today" when the world is first needed (so the 365 days of reports Apple keeps, FACTS
§5.7, all lie after three months of settling), unless :attr:`WorldOptions.start` pins it. It
is then fixed for the state: advancing the clock never changes a day already simulated. The
window ends 120 days after that "today"; a later day rebuilds the worlds with a longer window,
which reproduces every earlier day exactly (customers draw from private streams).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from app.sandbox.periods import pacific_today
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.subscription_world.extra_reports import ChurnIndex
from app.sandbox.subscription_world.options import WorldOptions
from app.sandbox.subscription_world.products import Group, selling_groups
from app.sandbox.subscription_world.world import GroupWorld

SETTLING_DAYS = 455
AHEAD_DAYS = 120
EXTEND_DAYS = 180


class Registry:
    def __init__(self) -> None:
        self.options = WorldOptions()
        self.first: int | None = None
        self.last = 0
        self.worlds: dict[tuple[SandboxTeam, str], GroupWorld] = {}
        self.churn: dict[tuple[SandboxTeam, str], ChurnIndex] = {}

    def reset(self, options: WorldOptions) -> None:
        self.options = options
        self.first = None
        self.worlds.clear()
        self.churn.clear()


_REGISTRIES: WeakKeyDictionary[SandboxState, Registry] = WeakKeyDictionary()


def registry(state: SandboxState) -> Registry:
    if state not in _REGISTRIES:
        _REGISTRIES[state] = Registry()
    return _REGISTRIES[state]


def configure(state: SandboxState, **changes: Any) -> WorldOptions:
    """Change the state's world options (see :class:`WorldOptions`); drops built worlds."""
    current = registry(state)
    options = dataclasses.replace(current.options, **changes)
    current.reset(options)
    return options


def window(state: SandboxState, needed: date | None = None) -> tuple[int, int]:
    """The simulated days ``(first, last)``, resolving and extending them as needed."""
    reg = registry(state)
    if reg.first is None:
        today = pacific_today(state.now())
        start = reg.options.start or (today - timedelta(days=SETTLING_DAYS)).replace(day=1)
        reg.first = start.toordinal()
        reg.last = max(today.toordinal(), reg.first) + AHEAD_DAYS
    if needed is not None and needed.toordinal() > reg.last:
        reg.last = needed.toordinal() + EXTEND_DAYS
        reg.worlds.clear()
        reg.churn.clear()
    return reg.first, reg.last


def group_world(state: SandboxState, team: SandboxTeam, group: Group, needed: date) -> GroupWorld:
    first, last = window(state, needed)
    reg = registry(state)
    key = (team, group.app.id)
    if key not in reg.worlds:
        reg.worlds[key] = GroupWorld(team, group, reg.options, first, last, first)
    return reg.worlds[key]


def team_worlds(state: SandboxState, team: SandboxTeam, needed: date) -> list[GroupWorld]:
    return [group_world(state, team, group, needed) for group in selling_groups(team)]


def churn_index(state: SandboxState, world: GroupWorld) -> ChurnIndex:
    reg = registry(state)
    key = (world.team, world.group.app.id)
    if key not in reg.churn:
        reg.churn[key] = ChurnIndex(world)
    return reg.churn[key]
