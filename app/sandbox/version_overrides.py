"""App Store version states forced by a test, on top of the generated release timeline.

A version's ``appVersionState`` is a pure function of the clock (:mod:`.releases`). A test, or
the admin route ``POST /sandbox/apps/{id}/versions/{vid}/state``, can move a version into
another state *now*; that is remembered here as one more :class:`~.releases.Step` on the
version's timeline. From that moment the listing shows the forced state, and the generated
timeline takes over again at its next own step (e.g. a forced ``IN_REVIEW`` stays until the
generated approval). One ledger per :class:`~.state.SandboxState`, in a weak mapping like the
review ledger, so the shared state class needs no field for it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from weakref import WeakKeyDictionary

from app.sandbox.releases import Release, Step
from app.sandbox.state import SandboxState

_FORCED: WeakKeyDictionary[SandboxState, dict[str, list[Step]]] = WeakKeyDictionary()


def forced_steps(state: SandboxState) -> dict[str, list[Step]]:
    """Version id → the steps forced on it so far (created empty on first use)."""
    found = _FORCED.get(state)
    if found is None:
        found = _FORCED[state] = {}
    return found


def with_forced_state(state: SandboxState, item: Release) -> Release:
    """``item`` with the steps forced on it merged into its timeline (a forced step wins over a
    generated one at the same instant)."""
    extra = _FORCED.get(state, {}).get(item.version_id)
    if not extra:
        return item
    steps = sorted([*item.steps, *extra], key=lambda step: step.at)
    return dataclasses.replace(item, steps=tuple(steps))


def with_forced_states(state: SandboxState, releases: list[Release]) -> list[Release]:
    if not _FORCED.get(state):
        return releases
    return [with_forced_state(state, item) for item in releases]


def force_version_state(state: SandboxState, item: Release, at: datetime, new_state: str) -> str:
    """Put version ``item`` into ``new_state`` at ``at``; returns the state it had just before.

    The review submission keeps whatever state it had (only ``appVersionState`` moves).
    """
    current = with_forced_state(state, item)
    old_state = current.version_state(at)
    step = Step(at, new_state, current.submission_state(at), current.item_state(at))
    forced_steps(state).setdefault(item.version_id, []).append(step)
    return old_state
