from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import app_builds, team_apps
from app.sandbox.reviews import app_reviews
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, assert_matches_spec

AnyHeaders = Callable[..., dict[str, str]]


# --- builds ------------------------------------------------------------------------------


async def test_builds_with_includes(
    client: httpx.AsyncClient, admin_key: SandboxKey, admin_headers: dict[str, str]
) -> None:
    app = team_apps(admin_key.team)[0]
    response = await client.get(
        "/v1/builds",
        params={
            "filter[app]": app.id,
            "sort": "-uploadedDate",
            "include": "preReleaseVersion,buildBetaDetail,app",
            "limit": "5",
        },
        headers=admin_headers,
    )
    body = response.json()
    assert_matches_spec(body, "/v1/builds")
    assert len(body["data"]) == 5
    uploaded = [b["attributes"]["uploadedDate"] for b in body["data"]]
    assert [datetime.fromisoformat(u) for u in uploaded] == sorted(
        (datetime.fromisoformat(u) for u in uploaded), reverse=True
    )
    included = {(r["type"], r["id"]) for r in body["included"]}
    for build in body["data"]:
        rels = build["relationships"]
        assert (
            rels["preReleaseVersion"]["data"]["type"],
            rels["preReleaseVersion"]["data"]["id"],
        ) in included
        assert ("buildBetaDetails", rels["buildBetaDetail"]["data"]["id"]) in included
        assert rels["app"]["data"] == {"type": "apps", "id": app.id}
    assert {t for t, _ in included} == {"preReleaseVersions", "buildBetaDetails", "apps"}


async def test_fresh_build_is_processing(
    client: httpx.AsyncClient, admin_key: SandboxKey, headers_for: AnyHeaders, clock: FakeClock
) -> None:
    app = team_apps(admin_key.team)[0]
    latest = app_builds(admin_key.team, app, clock.now)[-1]
    clock.now = latest.uploaded + timedelta(minutes=5)
    params = {"filter[app]": app.id, "filter[processingState]": "PROCESSING"}
    body = (await client.get("/v1/builds", params=params, headers=headers_for(admin_key))).json()
    assert [b["id"] for b in body["data"]] == [latest.id]
    clock.advance(minutes=20)
    body = (await client.get("/v1/builds", params=params, headers=headers_for(admin_key))).json()
    assert body["data"] == []


async def test_builds_across_all_apps_page(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = (await client.get("/v1/builds", params={"limit": "200"}, headers=admin_headers)).json()
    assert_matches_spec(body, "/v1/builds")
    assert body["meta"]["paging"]["total"] == len(body["data"]) > 3
    assert len({b["id"] for b in body["data"]}) == len(body["data"])


# --- users and invitations ---------------------------------------------------------------


async def test_users(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.get(
        "/v1/users", params={"include": "visibleApps", "sort": "lastName"}, headers=admin_headers
    )
    body = response.json()
    assert_matches_spec(body, "/v1/users")
    users = body["data"]
    assert len(users) >= 4
    assert any("ACCOUNT_HOLDER" in u["attributes"]["roles"] for u in users)
    last_names = [u["attributes"]["lastName"] for u in users]
    assert last_names == sorted(last_names)
    assert all("@" in u["attributes"]["username"] for u in users)
    assert {r["type"] for r in body.get("included", [])} <= {"apps"}
    admins = await client.get("/v1/users", params={"filter[roles]": "ADMIN"}, headers=admin_headers)
    assert all("ADMIN" in u["attributes"]["roles"] for u in admins.json()["data"])


async def test_user_invitations(
    client: httpx.AsyncClient, admin_headers: dict[str, str], clock: FakeClock
) -> None:
    body = (await client.get("/v1/userInvitations", headers=admin_headers)).json()
    assert_matches_spec(body, "/v1/userInvitations")
    assert body["data"]
    for invitation in body["data"]:
        assert datetime.fromisoformat(invitation["attributes"]["expirationDate"]) > clock.now
    users = (await client.get("/v1/users", headers=admin_headers)).json()["data"]
    member_emails = {u["attributes"]["username"] for u in users}
    assert member_emails.isdisjoint(i["attributes"]["email"] for i in body["data"])


# --- customer reviews --------------------------------------------------------------------


async def test_reviews_shape_and_includes(
    client: httpx.AsyncClient,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    clock: FakeClock,
) -> None:
    app = team_apps(admin_key.team)[0]
    path = f"/v1/apps/{app.id}/customerReviews"
    body = (
        await client.get(
            path,
            params={"include": "response,reviewTerritory", "limit": "100"},
            headers=admin_headers,
        )
    ).json()
    assert_matches_spec(body, "/v1/apps/{id}/customerReviews")
    reviews = body["data"]
    assert len(reviews) == 100 and body["meta"]["paging"]["total"] > 100
    assert "cursor=" in body["links"]["next"]
    created = [datetime.fromisoformat(r["attributes"]["createdDate"]) for r in reviews]
    assert created == sorted(created, reverse=True) and created[0] <= clock.now
    assert all(re.fullmatch(r"[A-Z]{3}", r["attributes"]["territory"]) for r in reviews)
    ratings = [r["attributes"]["rating"] for r in reviews]
    assert sum(r >= 4 for r in ratings) > len(ratings) / 2
    responses = [r for r in body["included"] if r["type"] == "customerReviewResponses"]
    assert responses and all(
        r["attributes"]["state"] in {"PUBLISHED", "PENDING_PUBLISH"} for r in responses
    )
    linked = {
        r["relationships"]["response"]["data"]["id"]
        for r in reviews
        if "data" in r["relationships"]["response"]
    }
    assert linked == {r["id"] for r in responses}
    texts = " ".join(r["attributes"]["body"] for r in reviews)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0600-\u06ff\u0400-\u04ff]", texts)


async def test_review_filters_and_sort(
    client: httpx.AsyncClient, admin_key: SandboxKey, admin_headers: dict[str, str]
) -> None:
    path = f"/v1/apps/{team_apps(admin_key.team)[0].id}/customerReviews"
    low = (await client.get(path, params={"filter[rating]": "1,2"}, headers=admin_headers)).json()
    assert low["data"] and {r["attributes"]["rating"] for r in low["data"]} <= {1, 2}
    usa = (
        await client.get(path, params={"filter[territory]": "USA"}, headers=admin_headers)
    ).json()
    assert usa["data"] and {r["attributes"]["territory"] for r in usa["data"]} == {"USA"}
    by_rating = (await client.get(path, params={"sort": "rating"}, headers=admin_headers)).json()
    ratings = [r["attributes"]["rating"] for r in by_rating["data"]]
    assert ratings == sorted(ratings)
    bad = await client.get(path, params={"filter[territory]": "US"}, headers=admin_headers)
    assert_error(bad, 400, "PARAMETER_ERROR.INVALID")
    bad_rating = await client.get(path, params={"filter[rating]": "6"}, headers=admin_headers)
    assert_error(bad_rating, 400, "PARAMETER_ERROR.INVALID")
    missing = await client.get("/v1/apps/1/customerReviews", headers=admin_headers)
    assert_error(missing, 404, "NOT_FOUND")


async def test_reviews_are_stable_as_time_passes(state: SandboxState, clock: FakeClock) -> None:
    team = state.default_team()
    app = team_apps(team)[0]
    before = {r.id: r for r in app_reviews(team, app, clock.now)}
    assert before == {r.id: r for r in app_reviews(team, app, clock.now)}
    later = clock.now + timedelta(days=30)
    after = {r.id: r for r in app_reviews(team, app, later)}
    window_start = later - timedelta(days=400)
    kept = {i for i, r in before.items() if r.created >= window_start}
    assert kept <= set(after)
    assert all(after[i] == before[i] for i in kept)
    assert any(r.created > clock.now for r in after.values())  # new reviews arrived
