"""Reply state over time (FACTS §4.4) and review-submission timestamps (FACTS §4.9)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from app.sandbox import SandboxKey, SandboxState
from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.releases import Release, app_releases
from app.sandbox.review_timing import draft_opened, review_attempts
from app.sandbox.reviews import visible_reviews
from tests.sandbox.conftest import FakeClock
from tests.sandbox.fidelity_support import AnyHeaders
from tests.sandbox.helpers import assert_error, assert_matches_spec

RESPONSES = "/v1/customerReviewResponses"


class Replies:
    def __init__(self, client: httpx.AsyncClient, key: SandboxKey, headers_for: AnyHeaders):
        self.client, self.key, self.headers_for = client, key, headers_for

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers_for(self.key))

    async def post(self, review_id: str, text: str) -> dict[str, Any]:
        body = {
            "data": {
                "type": "customerReviewResponses",
                "attributes": {"responseBody": text},
                "relationships": {"review": {"data": {"type": "customerReviews", "id": review_id}}},
            }
        }
        created = await self.client.post(RESPONSES, json=body, headers=self.headers_for(self.key))
        assert created.status_code == 201, created.text
        data: dict[str, Any] = created.json()["data"]
        return data

    async def states(self, app: SandboxApp, review_id: str, response_id: str) -> set[str]:
        """The reply's state as every read path shows it (spec-checked)."""
        by_id = await self.get(f"{RESPONSES}/{response_id}", include="review")
        assert_matches_spec(by_id.json(), f"{RESPONSES}/{{id}}")
        assert by_id.json()["included"][0]["id"] == review_id
        of_review = await self.get(f"/v1/customerReviews/{review_id}/response")
        assert_matches_spec(of_review.json(), "/v1/customerReviews/{id}/response")
        listing = await self.get(
            f"/v1/apps/{app.id}/customerReviews", include="response", limit="200"
        )
        assert_matches_spec(listing.json(), "/v1/apps/{id}/customerReviews")
        [listed] = [r for r in listing.json()["included"] if r["id"] == response_id]
        published = await self.get(
            f"/v1/apps/{app.id}/customerReviews",
            limit="200",
            **{"exists[publishedResponse]": "true"},
        )
        public = review_id in {r["id"] for r in published.json()["data"]}
        states = {
            by_id.json()["data"]["attributes"]["state"],
            of_review.json()["data"]["attributes"]["state"],
            listed["attributes"]["state"],
        }
        assert public == (states == {"PUBLISHED"})
        return states


async def test_reply_stays_pending_for_the_chosen_delay(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    headers_for: AnyHeaders,
    clock: FakeClock,
) -> None:
    app = team_apps(admin_key.team)[0]
    review = next(
        r for r in visible_reviews(state, admin_key.team, app, clock.now) if not r.response
    )
    replies = Replies(client, admin_key, headers_for)
    state.fidelity.set_team(admin_key.team.name, reply_publish_hours=48)
    reply = await replies.post(review.id, "Thanks, fixed in 2.1!")
    assert reply["attributes"]["state"] == "PENDING_PUBLISH"
    assert await replies.states(app, review.id, reply["id"]) == {"PENDING_PUBLISH"}
    clock.advance(hours=12)  # the default delay has passed, the chosen one has not
    assert await replies.states(app, review.id, reply["id"]) == {"PENDING_PUBLISH"}
    clock.advance(hours=36)
    assert await replies.states(app, review.id, reply["id"]) == {"PUBLISHED"}
    by_id = await replies.get(f"{RESPONSES}/{reply['id']}")
    assert (
        by_id.json()["data"]["attributes"]["lastModifiedDate"]
        == reply["attributes"]["lastModifiedDate"]
    )


async def test_reply_default_delay_and_instant_variant(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    headers_for: AnyHeaders,
    clock: FakeClock,
) -> None:
    app = team_apps(admin_key.team)[0]
    open_reviews = [
        r for r in visible_reviews(state, admin_key.team, app, clock.now) if not r.response
    ]
    replies = Replies(client, admin_key, headers_for)
    first = await replies.post(open_reviews[0].id, "Thank you!")
    clock.advance(hours=11, minutes=59)
    assert await replies.states(app, open_reviews[0].id, first["id"]) == {"PENDING_PUBLISH"}
    clock.advance(minutes=1)
    assert await replies.states(app, open_reviews[0].id, first["id"]) == {"PUBLISHED"}
    state.fidelity.set(reply_publish_hours=0)
    instant = await replies.post(open_reviews[1].id, "Thank you too!")
    assert instant["attributes"]["state"] == "PUBLISHED"
    assert_error(await replies.get(f"{RESPONSES}/no-such-reply"), 404, "NOT_FOUND")


# --- review submissions -------------------------------------------------------------------


def _rejected_release(key: SandboxKey, now: datetime) -> tuple[SandboxApp, Release]:
    for app in team_apps(key.team):
        for item in app_releases(key.team, app, now):
            if len(review_attempts(item)) == 2 and item.released < now:
                return app, item
    raise AssertionError("no release with a rejection in the generated history")


async def _submission(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    app: SandboxApp,
    submission_id: str,
    **params: str,
) -> dict[str, Any] | None:
    response = await client.get(
        "/v1/reviewSubmissions",
        params={"filter[app]": app.id, "limit": "200", **params},
        headers=headers,
    )
    assert_matches_spec(response.json(), "/v1/reviewSubmissions")
    found = [s for s in response.json()["data"] if s["id"] == submission_id]
    return found[0] if found else None


async def test_submitted_date_after_a_rejection(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    headers_for: AnyHeaders,
    clock: FakeClock,
) -> None:
    app, item = _rejected_release(admin_key, clock.now)
    first, second = review_attempts(item)
    assert first.outcome == "REJECTED" and second.outcome == "APPROVED"
    assert item.created < first.submitted < first.review_started < first.decided
    assert first.decided < second.submitted < second.review_started < second.decided
    clock.now = second.review_started + timedelta(minutes=1)
    headers = headers_for(admin_key)
    shown = await _submission(client, headers, app, item.submission_id)
    assert shown is not None and shown["attributes"]["state"] == "IN_REVIEW"
    assert datetime.fromisoformat(shown["attributes"]["submittedDate"]) == (
        second.submitted.replace(microsecond=0)
    )
    state.fidelity.set_team(admin_key.team.name, submitted_date="first_submission")
    shown = await _submission(client, headers, app, item.submission_id)
    assert shown is not None
    assert datetime.fromisoformat(shown["attributes"]["submittedDate"]) == (
        first.submitted.replace(microsecond=0)
    )


async def test_submitted_dates_follow_the_state_history(
    client: httpx.AsyncClient,
    admin_key: SandboxKey,
    admin_headers: dict[str, str],
    clock: FakeClock,
) -> None:
    for app in team_apps(admin_key.team):
        response = await client.get(
            "/v1/reviewSubmissions",
            params={"filter[app]": app.id, "include": "appStoreVersionForReview", "limit": "200"},
            headers=admin_headers,
        )
        body = response.json()
        assert_matches_spec(body, "/v1/reviewSubmissions")
        created = {
            v["id"]: datetime.fromisoformat(v["attributes"]["createdDate"])
            for v in body["included"]
        }
        listed = [datetime.fromisoformat(s["attributes"]["submittedDate"]) for s in body["data"]]
        assert listed == sorted(listed, reverse=True)
        for submission in body["data"]:
            submitted = datetime.fromisoformat(submission["attributes"]["submittedDate"])
            version = submission["relationships"]["appStoreVersionForReview"]["data"]["id"]
            assert created[version] < submitted <= clock.now


async def test_draft_submission_without_submitted_date(
    client: httpx.AsyncClient,
    state: SandboxState,
    admin_key: SandboxKey,
    headers_for: AnyHeaders,
    clock: FakeClock,
) -> None:
    app = team_apps(admin_key.team)[0]
    item = app_releases(admin_key.team, app, clock.now)[-2]
    clock.now = draft_opened(item) + timedelta(seconds=30)
    assert clock.now < item.submitted
    headers = headers_for(admin_key)
    assert await _submission(client, headers, app, item.submission_id) is None  # default
    state.fidelity.set_team(admin_key.team.name, draft_submissions=True)
    draft = await _submission(
        client,
        headers,
        app,
        item.submission_id,
        include="items",
        **{"filter[state]": "READY_FOR_REVIEW"},
    )
    assert draft is not None
    assert draft["attributes"]["state"] == "READY_FOR_REVIEW"
    assert draft["relationships"]["items"]["data"][0]["id"] == item.item_id
    assert "submittedDate" not in draft["attributes"]
    clock.now = item.submitted + timedelta(seconds=1)
    sent = await _submission(client, headers_for(admin_key), app, item.submission_id)
    assert sent is not None and sent["attributes"]["state"] == "WAITING_FOR_REVIEW"
    assert datetime.fromisoformat(sent["attributes"]["submittedDate"]) == item.submitted.replace(
        microsecond=0
    )
