"""The world is a function of the seed and the day the state first needed it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.sandbox import SandboxState
from app.sandbox.subscription_world import SubscriptionTruth, configure, window
from app.sandbox.subscriptions import REPORTS, rows_for
from tests.sandbox.conftest import FakeClock
from tests.sandbox.subscriptions.conftest import DAY, NOW

TYPES = [report_type for report_type, _ in REPORTS]
SMALL = 150  # subscriptions per app: enough for every file, quick to build


def _state(seed: int = 42, clock: object = None, **options: object) -> SandboxState:
    state = SandboxState(seed=seed, clock=clock or (lambda: NOW))  # type: ignore[arg-type]
    configure(state, subscribers=SMALL, **options)
    return state


def _files(state: SandboxState, day: date) -> list[list[dict[str, str]]]:
    return [rows_for(state, state.default_team(), t, day) for t in TYPES]


def test_same_seed_same_files_other_seed_other_files() -> None:
    first, again = (
        SandboxState(seed=42, clock=lambda: NOW),
        SandboxState(seed=42, clock=lambda: NOW),
    )
    assert _files(first, DAY) == _files(again, DAY)
    other = SandboxState(seed=43, clock=lambda: NOW)
    assert all(a != b for a, b in zip(_files(first, DAY), _files(other, DAY), strict=True))


def test_the_window_is_fixed_at_first_use() -> None:
    clock = FakeClock(NOW)
    state = _state(clock=clock)
    before = _files(state, DAY)
    first, last = window(state)
    assert date.fromordinal(first) == date(2024, 3, 1)  # the month 455 days before June 10
    assert date.fromordinal(last) == date(2025, 10, 8)  # 120 days after
    clock.advance(days=40)
    assert window(state) == (first, last) and _files(state, DAY) == before


def test_extending_the_window_reproduces_every_earlier_day() -> None:
    clock = FakeClock(NOW)
    state = _state(clock=clock)
    truth = SubscriptionTruth(state, state.default_team())
    before, actives = _files(state, DAY), truth.actives(DAY)
    clock.advance(days=200)
    later = date(2025, 12, 1)
    assert truth.actives(later)["active"] > 0  # beyond the window: rebuilt, longer
    assert date.fromordinal(window(state)[1]) > later
    assert _files(state, DAY) == before and truth.actives(DAY) == actives


def test_a_pinned_start_ignores_the_clock() -> None:
    june = _state(start=date(2024, 1, 1))
    july = _state(clock=lambda: NOW + timedelta(days=31), start=date(2024, 1, 1))
    assert _files(june, DAY) == _files(july, DAY)
    # Without the pin, a later first use starts the world later: another population.
    unpinned = _state(clock=lambda: datetime(2025, 9, 1, tzinfo=UTC))
    assert _files(unpinned, DAY) != _files(june, DAY)


def test_population_size_knobs() -> None:
    small = SandboxState(seed=42, clock=lambda: NOW)
    configure(small, subscribers=300)
    team = small.default_team()
    per_app = SubscriptionTruth(small, team).worlds(DAY)
    assert [w.target for w in per_app] == [300] * len(per_app)
    flagship = per_app[0].group.app.id
    configure(small, subscribers=300, app_subscribers={flagship: 3000})
    actives = SubscriptionTruth(small, team, flagship).actives(DAY)["subscriptions"]
    assert 2500 < actives < 3500
