"""App Review on a script (the demo's pace): the next version of one app bounces through review
every three steps, another's waits in the queue; versions and review submissions both show it,
and the listing still matches Apple's schema."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import httpx

from app.sandbox.catalog import team_apps
from app.sandbox.releases import app_releases
from app.sandbox.review_script import demo_pace
from app.sandbox.state import SandboxKey, SandboxState
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_matches_spec

STEP = dt.timedelta(seconds=10)


async def test_the_demo_pace_moves_a_version_through_review_every_step(
    client: httpx.AsyncClient,
    state: SandboxState,
    clock: FakeClock,
    admin_key: SandboxKey,
    headers_for: Callable[..., dict[str, str]],
) -> None:
    team = state.default_team()
    bouncing, waiting = demo_pace(state, team, clock.now, step=STEP)
    apps = team_apps(team)
    generated = app_releases(team, apps[0], clock.now)
    assert bouncing.index == generated[-1].index + 1 or bouncing.index == generated[-1].index

    version_states, submission_states = [], []
    for _ in range(6):
        headers = headers_for(admin_key)
        versions = await client.get(
            f"/v1/apps/{apps[0].id}/appStoreVersions", params={"limit": "2"}, headers=headers
        )
        body = versions.json()
        assert_matches_spec(body, "/v1/apps/{id}/appStoreVersions")
        newest = body["data"][0]
        assert newest["id"] == bouncing.version_id  # the scripted version, newest first
        version_states.append(newest["attributes"]["appVersionState"])
        submissions = await client.get(
            "/v1/reviewSubmissions",
            params={"filter[app]": f"{apps[0].id},{apps[1].id}", "limit": "5"},
            headers=headers,
        )
        by_id = {item["id"]: item["attributes"] for item in submissions.json()["data"]}
        submission_states.append(by_id[bouncing.submission_id]["state"])
        assert by_id[waiting.submission_id]["state"] == "WAITING_FOR_REVIEW"  # all along
        clock.advance(seconds=STEP.total_seconds())

    cycle = {"WAITING_FOR_REVIEW", "IN_REVIEW", "REJECTED"}
    assert set(version_states) == cycle
    assert all(a != b for a, b in itertools.pairwise(version_states))
    assert set(submission_states) == {"WAITING_FOR_REVIEW", "IN_REVIEW", "UNRESOLVED_ISSUES"}

    # After the horizon both are approved and wait for their developer.
    clock.advance(hours=13)
    assert bouncing.version_state(clock.now) == "PENDING_DEVELOPER_RELEASE"
    assert waiting.version_state(clock.now) == "PENDING_DEVELOPER_RELEASE"
