"""The sandbox's release side: Apple's schemas, roles, and a catalog that moves with the clock."""

from __future__ import annotations

import datetime as dt

import httpx

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import app_builds, release_build, team_apps
from app.sandbox.releases import app_releases
from app.sandbox.testflight import app_testers
from tests.catalog.helpers import NOW, transition
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, assert_matches_spec, bearer, mint

SECOND = dt.timedelta(seconds=1)


def headers(key: SandboxKey) -> dict[str, str]:
    return bearer(mint(key, dt.datetime.now(dt.UTC)))


async def test_versions_match_apples_schema_in_every_state(
    apple: httpx.AsyncClient, sandbox: SandboxState, clock: FakeClock
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    seen: set[str] = set()
    for state in ("WAITING_FOR_REVIEW", "IN_REVIEW", "PENDING_DEVELOPER_RELEASE", "REJECTED"):
        sandbox_app, _, moment = transition(key, state, after=NOW)
        clock.now = moment + SECOND
        response = await apple.get(
            f"/v1/apps/{sandbox_app.id}/appStoreVersions",
            params={"include": "build,appStoreVersionPhasedRelease,app", "limit": "20"},
            headers=headers(key),
        )
        body = response.json()
        assert_matches_spec(body, "/v1/apps/{id}/appStoreVersions")
        seen |= {v["attributes"]["appVersionState"] for v in body["data"]}
        assert body["data"][0]["attributes"]["appVersionState"] == state  # newest first
        included = {(r["type"], r["id"]) for r in body["included"]}
        for version in body["data"]:
            build = version["relationships"]["build"]["data"]
            assert (build["type"], build["id"]) in included
    assert {"REPLACED_WITH_NEW_VERSION", "READY_FOR_DISTRIBUTION", "REJECTED"} <= seen


async def test_a_version_moves_one_state_at_a_time(
    apple: httpx.AsyncClient, sandbox: SandboxState, clock: FakeClock
) -> None:
    key = sandbox.add_key(roles=["DEVELOPER"])
    sandbox_app, version, moment = transition(key, "IN_REVIEW", after=NOW)
    path = f"/v1/apps/{sandbox_app.id}/appStoreVersions"

    async def states() -> dict[str, str]:
        body = (await apple.get(path, params={"limit": "200"}, headers=headers(key))).json()
        return {v["id"]: v["attributes"]["appVersionState"] for v in body["data"]}

    clock.now = moment - SECOND
    before = await states()
    clock.now = moment
    after = await states()
    assert {k for k in after if after[k] != before.get(k)} == {version.version_id}
    assert (before[version.version_id], after[version.version_id]) == (
        "WAITING_FOR_REVIEW",
        "IN_REVIEW",
    )
    # The whole path, in Apple's order.
    path_states = [state for _, state in version.moments()]
    assert path_states[:3] == ["PREPARE_FOR_SUBMISSION", "WAITING_FOR_REVIEW", "IN_REVIEW"]
    assert path_states[-2:] == ["READY_FOR_DISTRIBUTION", "REPLACED_WITH_NEW_VERSION"]
    assert path_states[-3] in {"PENDING_DEVELOPER_RELEASE", "PROCESSING_FOR_DISTRIBUTION"}
    # Its build is a valid, App Store eligible upload of the same version, before submission.
    build = release_build(key.team, sandbox_app, version.index)
    assert build.version == version.version_string and build.processing_state == "VALID"
    assert build.uploaded < version.submitted
    assert build.id in {b.id for b in app_builds(key.team, sandbox_app, version.submitted)}


async def test_review_submissions_need_an_app_filter_and_match_the_schema(
    apple: httpx.AsyncClient, sandbox: SandboxState, clock: FakeClock
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    missing = await apple.get("/v1/reviewSubmissions", headers=headers(key))
    error = assert_error(missing, 400, "PARAMETER_ERROR.REQUIRED")
    assert error["source"] == {"parameter": "filter[app]"}

    sandbox_app, version, moment = transition(key, "REJECTED", after=NOW)
    clock.now = moment + SECOND
    response = await apple.get(
        "/v1/reviewSubmissions",
        params={
            "filter[app]": sandbox_app.id,
            "include": "items,appStoreVersionForReview,submittedByActor,lastUpdatedByActor,app",
            "limit": "3",
        },
        headers=headers(key),
    )
    body = response.json()
    assert_matches_spec(body, "/v1/reviewSubmissions")
    newest = body["data"][0]
    assert newest["id"] == version.submission_id
    assert newest["attributes"]["state"] == "UNRESOLVED_ISSUES"
    items = [r for r in body["included"] if r["type"] == "reviewSubmissionItems"]
    assert items[0]["attributes"]["state"] == "REJECTED"
    actors = {r["attributes"]["actorType"] for r in body["included"] if r["type"] == "actors"}
    assert "APPLE" in actors
    assert "next" in body["links"]
    waiting = await apple.get(
        "/v1/reviewSubmissions",
        params={"filter[app]": sandbox_app.id, "filter[state]": "WAITING_FOR_REVIEW"},
        headers=headers(key),
    )
    assert waiting.json()["data"] == []


async def test_testflight_groups_and_testers_match_the_schema(
    apple: httpx.AsyncClient, sandbox: SandboxState, clock: FakeClock
) -> None:
    key = sandbox.add_key(roles=["APP_MANAGER"])
    sandbox_app = team_apps(key.team)[0]
    groups = await apple.get(
        "/v1/betaGroups",
        params={"filter[app]": sandbox_app.id, "include": "betaTesters,app", "sort": "name"},
        headers=headers(key),
    )
    body = groups.json()
    assert_matches_spec(body, "/v1/betaGroups")
    names = [g["attributes"]["name"] for g in body["data"]]
    assert names == sorted(names) and "Internal Testers" in names
    testers = await apple.get(
        "/v1/betaTesters",
        params={"filter[apps]": sandbox_app.id, "include": "betaGroups,apps"},
        headers=headers(key),
    )
    body = testers.json()
    assert_matches_spec(body, "/v1/betaTesters")
    assert {t["id"] for t in body["data"]} == {
        t.id for t in app_testers(key.team, sandbox_app, clock.now)
    }
    # Testers accept their invitations as time passes.
    sandbox_app, tester = min(
        (
            (candidate, t)
            for candidate in team_apps(key.team)
            for t in app_testers(key.team, candidate, clock.now)
            if t.accepted is not None and t.accepted > clock.now
        ),
        key=lambda pair: pair[1].invited,
    )
    assert tester.accepted is not None
    for moment, state in ((tester.accepted - SECOND, "INVITED"), (tester.accepted, "ACCEPTED")):
        clock.now = moment
        again = await apple.get(
            "/v1/betaTesters", params={"filter[id]": tester.id}, headers=headers(key)
        )
        assert again.json()["data"][0]["attributes"]["state"] == state


async def test_builds_expire(
    apple: httpx.AsyncClient, sandbox: SandboxState, clock: FakeClock
) -> None:
    key = sandbox.add_key(roles=["ADMIN"])
    sandbox_app = team_apps(key.team)[0]
    build = next(b for b in app_builds(key.team, sandbox_app, clock.now) if not b.expired(NOW))
    params = {"filter[app]": sandbox_app.id, "filter[id]": build.id, "include": "buildBetaDetail"}
    for moment, expired in ((build.expiration - SECOND, False), (build.expiration, True)):
        clock.now = moment
        body = (await apple.get("/v1/builds", params=params, headers=headers(key))).json()
        assert_matches_spec(body, "/v1/builds")
        assert body["data"][0]["attributes"]["expired"] is expired
        detail = body["included"][0]["attributes"]
        assert (detail["internalBuildState"] == "EXPIRED") is expired


async def test_roles(apple: httpx.AsyncClient, sandbox: SandboxState) -> None:
    marketing = sandbox.add_key(roles=["MARKETING"])
    sandbox_app = team_apps(marketing.team)[0]
    for path, params in (
        ("/v1/betaGroups", {"filter[app]": sandbox_app.id}),
        ("/v1/betaTesters", {"filter[apps]": sandbox_app.id}),
        ("/v1/builds", {"filter[app]": sandbox_app.id}),
        ("/v1/users", {}),
    ):
        response = await apple.get(path, params=params, headers=headers(marketing))
        assert_error(response, 403, "FORBIDDEN_ERROR")
    for path, params in (
        (f"/v1/apps/{sandbox_app.id}/appStoreVersions", {}),
        ("/v1/reviewSubmissions", {"filter[app]": sandbox_app.id}),
    ):
        response = await apple.get(path, params=params, headers=headers(marketing))
        assert response.status_code == 200, path
    unknown = await apple.get("/v1/apps/1234567890/appStoreVersions", headers=headers(marketing))
    assert_error(unknown, 404, "NOT_FOUND")


def test_the_catalog_is_a_function_of_seed_team_app_and_clock() -> None:
    def snapshot(seed: int) -> list[tuple[str, str, str]]:
        state = SandboxState(seed=seed)
        key = state.add_key()
        return [
            (item.version_id, item.version_string, item.version_state(NOW))
            for sandbox_app in team_apps(key.team)
            for item in app_releases(key.team, sandbox_app, NOW)
        ]

    assert snapshot(11) == snapshot(11)
    assert snapshot(11) != snapshot(12)
