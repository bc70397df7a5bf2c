"""TestFlight feedback in the sandbox: listings, paging, includes, filters, single submissions,
crash logs, deletion, roles, and screenshot URLs that expire by the sandbox clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import pytest

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import SandboxApp, app_builds
from app.sandbox.feedback.model import Feedback, FeedbackKind, app_feedback, feedback_ledger
from app.sandbox.testflight import app_testers
from tests.sandbox.conftest import FakeClock
from tests.sandbox.helpers import assert_error, assert_matches_spec

AnyHeaders = Callable[..., dict[str, str]]
CRASHES = "betaFeedbackCrashSubmissions"
SCREENSHOTS = "betaFeedbackScreenshotSubmissions"


@pytest.mark.parametrize("resource", [CRASHES, SCREENSHOTS])
async def test_listing_pages_newest_first_with_includes(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    app0: SandboxApp,
    clock: FakeClock,
    resource: str,
) -> None:
    kind: FeedbackKind = "crash" if resource == CRASHES else "screenshot"
    truth = app_feedback(state, admin_key.team, app0, kind, clock.now)
    assert len(truth) >= 3
    path = f"/v1/apps/{app0.id}/{resource}"
    seen: list[str] = []
    url: str | None = path
    params: dict[str, str] | None = {"limit": "2", "include": "build,tester"}
    while url:
        page = await client.get(url, params=params, headers=admin_headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert_matches_spec(body, f"/v1/apps/{{id}}/{resource}")
        assert body["meta"]["paging"]["total"] == len(truth)
        included = {(i["type"], i["id"]) for i in body["included"]}
        for item in body["data"]:
            relationships = item["relationships"]
            assert ("builds", relationships["build"]["data"]["id"]) in included
            assert ("betaTesters", relationships["tester"]["data"]["id"]) in included
        seen += [item["id"] for item in body["data"]]
        url, params = body["links"].get("next"), None
    assert seen == [item.id for item in reversed(truth)]

    oldest = await client.get(
        path, params={"sort": "createdDate", "limit": "1"}, headers=admin_headers
    )
    assert oldest.json()["data"][0]["id"] == truth[0].id
    ids = await client.get(f"/v1/apps/{app0.id}/relationships/{resource}", headers=admin_headers)
    assert_matches_spec(ids.json(), f"/v1/apps/{{id}}/relationships/{resource}")
    assert len(ids.json()["data"]) == len(truth)


async def test_feedback_is_tied_to_installed_testers_and_valid_builds(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    app0: SandboxApp,
    clock: FakeClock,
) -> None:
    team = admin_key.team
    for item in app_feedback(state, team, app0, "crash", clock.now):
        assert item.tester.installed is not None and item.tester.installed <= item.created
        assert item.tester in app_testers(team, app0, item.created)
        assert item.build in app_builds(team, app0, item.created)
        assert item.build.state(item.created) == "VALID"


async def test_filters_select_by_device_build_and_tester(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    app0: SandboxApp,
    clock: FakeClock,
) -> None:
    truth = app_feedback(state, admin_key.team, app0, "screenshot", clock.now)
    sample = truth[-1]
    path = f"/v1/apps/{app0.id}/{SCREENSHOTS}"
    cases: dict[str, tuple[str, Callable[[Feedback], str]]] = {
        "filter[deviceModel]": (sample.device.model, lambda i: i.device.model),
        "filter[osVersion]": (sample.os_version, lambda i: i.os_version),
        "filter[build]": (sample.build.id, lambda i: i.build.id),
        "filter[tester]": (sample.tester.id, lambda i: i.tester.id),
        "filter[build.preReleaseVersion]": (
            sample.build.pre_release_version_id,
            lambda i: i.build.pre_release_version_id,
        ),
    }
    for name, (value, read) in cases.items():
        response = await client.get(
            path, params={name: value, "limit": "200"}, headers=admin_headers
        )
        expected = {i.id for i in truth if read(i) == value}
        assert {d["id"] for d in response.json()["data"]} == expected, name
    both = f"{sample.device.model},{truth[0].device.model}"  # models contain commas themselves
    response = await client.get(
        path, params={"filter[deviceModel]": both, "limit": "200"}, headers=admin_headers
    )
    models = {sample.device.model, truth[0].device.model}
    assert {d["id"] for d in response.json()["data"]} == {
        i.id for i in truth if i.device.model in models
    }
    none = await client.get(path, params={"filter[appPlatform]": "MAC_OS"}, headers=admin_headers)
    assert none.json()["data"] == []
    bad = await client.get(path, params={"filter[appPlatform]": "PALM_OS"}, headers=admin_headers)
    assert_error(bad, 400, "PARAMETER_ERROR.INVALID")


async def test_single_submission_crash_log_and_sparse_fields(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    app0: SandboxApp,
    clock: FakeClock,
) -> None:
    crash = app_feedback(state, admin_key.team, app0, "crash", clock.now)[-1]
    path = f"/v1/{CRASHES}/{crash.id}"
    got = await client.get(path, params={"include": "tester"}, headers=admin_headers)
    assert_matches_spec(got.json(), f"/v1/{CRASHES}/{{id}}")
    attributes = got.json()["data"]["attributes"]
    assert attributes["email"] == crash.tester.email
    assert attributes["buildBundleId"] == app0.bundle_id
    assert attributes["deviceModel"] == crash.device.model
    assert got.json()["included"][0]["id"] == crash.tester.id

    log = await client.get(f"{path}/crashLog", headers=admin_headers)
    assert_matches_spec(log.json(), f"/v1/{CRASHES}/{{id}}/crashLog")
    text = log.json()["data"]["attributes"]["logText"]
    assert app0.bundle_id in text and crash.device.model in text
    assert f"({crash.build.number})" in text
    linkage = await client.get(f"{path}/relationships/crashLog", headers=admin_headers)
    assert_matches_spec(linkage.json(), f"/v1/{CRASHES}/{{id}}/relationships/crashLog")
    assert linkage.json()["data"]["id"] == log.json()["data"]["id"]

    sparse = await client.get(
        path, params={f"fields[{CRASHES}]": "comment,deviceModel"}, headers=admin_headers
    )
    assert set(sparse.json()["data"]["attributes"]) <= {"comment", "deviceModel"}
    assert_error(await client.get(f"/v1/{CRASHES}/nope", headers=admin_headers), 404, "NOT_FOUND")
    wrong_kind = await client.get(f"/v1/{SCREENSHOTS}/{crash.id}", headers=admin_headers)
    assert_error(wrong_kind, 404, "NOT_FOUND")


async def test_delete_removes_a_submission(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    app0: SandboxApp,
    clock: FakeClock,
) -> None:
    item = app_feedback(state, admin_key.team, app0, "screenshot", clock.now)[0]
    path = f"/v1/{SCREENSHOTS}/{item.id}"
    got = await client.get(path, params={"include": "build"}, headers=admin_headers)
    assert_matches_spec(got.json(), f"/v1/{SCREENSHOTS}/{{id}}")
    assert got.json()["included"][0]["id"] == item.build.id
    assert (await client.delete(path, headers=admin_headers)).status_code == 204
    assert_error(await client.get(path, headers=admin_headers), 404, "NOT_FOUND")
    assert_error(await client.delete(path, headers=admin_headers), 404, "NOT_FOUND")


@pytest.mark.parametrize(("roles", "allowed"), [(("DEVELOPER",), True), (("SALES",), False)])
async def test_roles_are_admin_app_manager_developer(
    client: httpx.AsyncClient,
    state: SandboxState,
    headers_for: AnyHeaders,
    app0: SandboxApp,
    roles: tuple[str, ...],
    allowed: bool,
) -> None:
    key = state.add_key(roles=roles, key_type="individual")
    response = await client.get(f"/v1/apps/{app0.id}/{CRASHES}", headers=headers_for(key))
    if allowed:
        assert response.status_code == 200
    else:
        assert_error(response, 403, "FORBIDDEN_ERROR")


async def test_screenshot_urls_serve_png_until_they_expire(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_headers: dict[str, str],
    app0: SandboxApp,
    clock: FakeClock,
) -> None:
    feedback_ledger(state).screenshot_url_ttl = feedback_ledger(state).screenshot_url_ttl / 4
    listing = await client.get(f"/v1/apps/{app0.id}/{SCREENSHOTS}", headers=admin_headers)
    image = listing.json()["data"][0]["attributes"]["screenshots"][0]
    expires = datetime.fromisoformat(image["expirationDate"])
    assert expires == clock.now + feedback_ledger(state).screenshot_url_ttl

    fetched = await client.get(image["url"])  # no API token: a CDN-style URL
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(fetched.content[16:20]), int.from_bytes(fetched.content[20:24])
    assert (width, height) == (image["width"], image["height"])

    tampered = image["url"].replace("signature=", "signature=0")
    assert (await client.get(tampered)).status_code == 403
    clock.now = expires
    assert (await client.get(image["url"])).status_code == 403

    fresh = await client.get(
        f"/v1/apps/{app0.id}/{SCREENSHOTS}",
        params={"limit": "1"},
        headers={"Authorization": admin_headers["Authorization"]},
    )
    if fresh.status_code == 200:  # token still valid: a new response hands out a new URL
        renewed = fresh.json()["data"][0]["attributes"]["screenshots"][0]["url"]
        assert renewed != image["url"]
        assert (await client.get(renewed)).status_code == 200


async def test_new_feedback_appears_as_the_clock_moves(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    headers_for: AnyHeaders,
    app0: SandboxApp,
    clock: FakeClock,
) -> None:
    before = await client.get(f"/v1/apps/{app0.id}/{CRASHES}", headers=headers_for(admin_key))
    clock.advance(days=90)
    after = await client.get(f"/v1/apps/{app0.id}/{CRASHES}", headers=headers_for(admin_key))
    newest_before = datetime.fromisoformat(before.json()["data"][0]["attributes"]["createdDate"])
    newest_after = datetime.fromisoformat(after.json()["data"][0]["attributes"]["createdDate"])
    assert newest_after > newest_before


async def test_feedback_admin_options(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    app0: SandboxApp,
    clock: FakeClock,
) -> None:
    normal = len(app_feedback(state, admin_key.team, app0, "crash", clock.now))
    patched = await client.patch("/sandbox/betaFeedback/options", json={"volume": 5})
    assert patched.status_code == 200, patched.text
    assert len(app_feedback(state, admin_key.team, app0, "crash", clock.now)) > normal
    bad = await client.patch("/sandbox/betaFeedback/options", json={"volume": "lots"})
    assert bad.status_code == 400
    missing = await client.post("/sandbox/apps/1/betaFeedback", json={"kind": "crash"})
    assert missing.status_code == 404
