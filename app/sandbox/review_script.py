"""App Review on a script: an app's next version sent through review at a chosen pace.

The generated release timeline (:mod:`.releases`) moves at Apple's speed — a version spends
hours in review and a new one comes every few weeks — so a sandbox watched for a few minutes
(``orchard demo``) would show no version moving. :func:`script_release` brings an app's next
release forward and replaces its run-up with given moves (``(moment, appVersionState)``); its
review submission follows (sent, in review, unresolved after a rejection, complete on
approval). From its generated release moment on the version goes on as generated.

:func:`demo_pace` is the demo's script, a pure function of the clock (aligned on the epoch, so
two sandboxes started at different times agree): the first app's next version is sent,
reviewed, rejected and sent again every ``3 × step``; the second app's waits in the queue.
Both are approved after ``horizon``. One ledger per :class:`~.state.SandboxState`, in a weak
mapping like the forced states of :mod:`.version_overrides`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from weakref import WeakKeyDictionary

from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.periods import PACIFIC
from app.sandbox.releases import Release, Step, release, release_index
from app.sandbox.state import SandboxState, SandboxTeam

#: appVersionState → (the review submission's state, its item's state) while in it.
SUBMISSION = {
    "PREPARE_FOR_SUBMISSION": (None, None),
    "WAITING_FOR_REVIEW": ("WAITING_FOR_REVIEW", "READY_FOR_REVIEW"),
    "IN_REVIEW": ("IN_REVIEW", "READY_FOR_REVIEW"),
    "REJECTED": ("UNRESOLVED_ISSUES", "REJECTED"),
    "PENDING_DEVELOPER_RELEASE": ("COMPLETE", "APPROVED"),
}
#: Scripted moves end this long before the version's generated release, at the latest.
RELEASE_MARGIN = timedelta(hours=1)

_SCRIPTED: WeakKeyDictionary[SandboxState, dict[str, Release]] = WeakKeyDictionary()


def script_release(
    state: SandboxState,
    team: SandboxTeam,
    app: SandboxApp,
    moves: Sequence[tuple[datetime, str]],
) -> Release:
    """Replace the run-up of ``app``'s next release with ``moves`` (oldest first; states from
    :data:`SUBMISSION`). The version is created an hour before the first move. Moves after
    the generated approval's hour are dropped. Returns the scripted release."""
    if not moves:
        raise ValueError("a script needs at least one move")
    first = moves[0][0]
    index = release_index(app, first.astimezone(PACIFIC).date()) + 1
    target = release(team, app, index)
    while target.released - RELEASE_MARGIN <= first:
        index += 1
        target = release(team, app, index)
    created = first - timedelta(hours=1)
    steps = [Step(created, "PREPARE_FOR_SUBMISSION", None, None)]
    for at, version_state in moves:
        if at >= target.released - RELEASE_MARGIN:
            break
        submission, item = SUBMISSION[version_state]
        steps.append(Step(at, version_state, submission, item))
    steps.append(Step(target.released, "READY_FOR_DISTRIBUTION", "COMPLETE", "APPROVED"))
    scripted = dataclasses.replace(
        target,
        created=created,
        rc_uploaded=min(target.rc_uploaded, created),
        release_type="MANUAL",
        steps=tuple(steps),
    )
    ledger = _SCRIPTED.get(state)
    if ledger is None:
        ledger = _SCRIPTED[state] = {}
    ledger[app.id] = scripted
    return scripted


def with_scripted(state: SandboxState, releases: list[Release], now: datetime) -> list[Release]:
    """One app's listed ``releases`` (oldest first) with its scripted release in its place."""
    ledger = _SCRIPTED.get(state)
    if not ledger or not releases:
        return releases
    scripted = ledger.get(releases[0].app_id)
    if scripted is None or not scripted.exists(now):
        return releases
    kept = [item for item in releases if item.index != scripted.index]
    return sorted([*kept, scripted], key=lambda item: item.index)


def demo_pace(
    state: SandboxState,
    team: SandboxTeam,
    now: datetime,
    *,
    step: timedelta = timedelta(seconds=10),
    horizon: timedelta = timedelta(hours=12),
) -> list[Release]:
    """Script the demo's App Review (module docstring) from ``now`` on; returns the releases
    scripted (the bouncing one first)."""
    apps = team_apps(team)
    if len(apps) < 2:
        raise ValueError("the demo's App Review needs a team with two apps")
    period = 3 * step
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    start = epoch + ((now - epoch) // period) * period
    end = start + horizon
    bouncing: list[tuple[datetime, str]] = []
    at = start
    while at < end:
        bouncing += [(at, "WAITING_FOR_REVIEW"), (at + step, "IN_REVIEW")]
        bouncing.append((at + 2 * step, "REJECTED"))
        at += period
    bouncing += [(end, "WAITING_FOR_REVIEW"), (end + step, "IN_REVIEW")]
    bouncing.append((end + 2 * step, "PENDING_DEVELOPER_RELEASE"))
    waiting = [
        (start, "WAITING_FOR_REVIEW"),
        (end, "IN_REVIEW"),
        (end + step, "PENDING_DEVELOPER_RELEASE"),
    ]
    return [
        script_release(state, team, apps[0], bouncing),
        script_release(state, team, apps[1], waiting),
    ]
