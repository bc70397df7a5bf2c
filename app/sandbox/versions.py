"""``GET /v1/apps/{id}/appStoreVersions`` and ``GET /v1/reviewSubmissions``.

Both read the release timeline of :mod:`.releases`, so a version's ``appVersionState`` (and
the deprecated ``appStoreState``) and its review submission's ``state`` move with the sandbox
clock (or a script, :mod:`.review_script`). Versions are listed newest first, submissions by
last submission, newest first.
Accepted but ignored: includes other than the ones documented on each route's ParamSpec below
(``build``, ``appStoreVersionPhasedRelease``, ``app``; ``items``, ``appStoreVersionForReview``,
``submittedByActor``, ``lastUpdatedByActor``, ``app``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import SandboxApp, find_app, release_build, team_apps
from app.sandbox.catalog_routes import (
    APP_FIELDS,
    BUILD_FIELDS,
    app_resource,
    apple_datetime,
    build_resource,
)
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import required_parameter, resource_not_found
from app.sandbox.jsonapi import (
    Included,
    ParamSpec,
    Resource,
    collection_document,
    make_resource,
    paginate,
    relationship_links,
    word_list,
    words,
)
from app.sandbox.people import team_users
from app.sandbox.permissions import ANY_ROLE
from app.sandbox.releases import PHASED_RELEASE_DAYS, Release, app_releases
from app.sandbox.review_script import with_scripted
from app.sandbox.review_timing import submission_view
from app.sandbox.seeding import stable_uuid
from app.sandbox.version_overrides import with_forced_states

PLATFORMS = words("IOS MAC_OS TV_OS VISION_OS")
VERSION_FIELDS = words(
    "platform versionString appStoreState appVersionState copyright reviewType releaseType "
    "earliestReleaseDate usesIdfa downloadable createdDate app appStoreVersionLocalizations "
    "build appStoreVersionPhasedRelease gameCenterAppVersion routingAppCoverage "
    "appStoreReviewDetail appStoreVersionSubmission appClipDefaultExperience "
    "appStoreVersionExperiments appStoreVersionExperimentsV2 customerReviews "
    "alternativeDistributionPackage"
)
APP_STORE_STATES = words(
    "ACCEPTED DEVELOPER_REMOVED_FROM_SALE DEVELOPER_REJECTED IN_REVIEW INVALID_BINARY "
    "METADATA_REJECTED PENDING_APPLE_RELEASE PENDING_CONTRACT PENDING_DEVELOPER_RELEASE "
    "PREPARE_FOR_SUBMISSION PREORDER_READY_FOR_SALE PROCESSING_FOR_APP_STORE READY_FOR_REVIEW "
    "READY_FOR_SALE REJECTED REMOVED_FROM_SALE WAITING_FOR_EXPORT_COMPLIANCE WAITING_FOR_REVIEW "
    "REPLACED_WITH_NEW_VERSION NOT_APPLICABLE"
)
APP_VERSION_STATES = words(
    "ACCEPTED DEVELOPER_REJECTED IN_REVIEW INVALID_BINARY METADATA_REJECTED "
    "PENDING_APPLE_RELEASE PENDING_DEVELOPER_RELEASE PREPARE_FOR_SUBMISSION "
    "PROCESSING_FOR_DISTRIBUTION READY_FOR_DISTRIBUTION READY_FOR_REVIEW REJECTED "
    "REPLACED_WITH_NEW_VERSION WAITING_FOR_EXPORT_COMPLIANCE WAITING_FOR_REVIEW"
)
PHASED_FIELDS = words("phasedReleaseState startDate totalPauseDuration currentDayNumber")
VERSIONS_PARAMS = ParamSpec(
    names=words(
        "filter[platform] filter[versionString] filter[appStoreState] filter[appVersionState] "
        "filter[id] include"
    ),
    fields={
        "appStoreVersions": VERSION_FIELDS,
        "apps": APP_FIELDS,
        "builds": BUILD_FIELDS,
        "appStoreVersionPhasedReleases": PHASED_FIELDS,
        **dict.fromkeys(
            words(
                "appStoreVersionLocalizations gameCenterAppVersions routingAppCoverages "
                "appStoreReviewDetails appStoreVersionSubmissions appClipDefaultExperiences "
                "appStoreVersionExperiments alternativeDistributionPackages"
            )
        ),
    },
    limits=words(
        "appStoreVersionLocalizations appStoreVersionExperiments appStoreVersionExperimentsV2"
    ),
    enums={
        "filter[platform]": PLATFORMS,
        "filter[appStoreState]": APP_STORE_STATES,
        "filter[appVersionState]": APP_VERSION_STATES,
        "include": words(
            "app appStoreVersionLocalizations build appStoreVersionPhasedRelease "
            "gameCenterAppVersion routingAppCoverage appStoreReviewDetail "
            "appStoreVersionSubmission appClipDefaultExperience appStoreVersionExperiments "
            "appStoreVersionExperimentsV2 alternativeDistributionPackage"
        ),
    },
    paged=True,
)
SUBMISSION_STATES = words(
    "READY_FOR_REVIEW WAITING_FOR_REVIEW IN_REVIEW UNRESOLVED_ISSUES CANCELING COMPLETING COMPLETE"
)
SUBMISSIONS_PARAMS = ParamSpec(
    names=words("filter[platform] filter[state] filter[app] include"),
    fields={
        "reviewSubmissions": words(
            "platform submittedDate state app items appStoreVersionForReview submittedByActor "
            "lastUpdatedByActor"
        ),
        "apps": APP_FIELDS,
        "reviewSubmissionItems": words(
            "state appStoreVersion appCustomProductPageVersion appStoreVersionExperiment "
            "appStoreVersionExperimentV2 appEvent backgroundAssetVersion "
            "gameCenterAchievementVersion gameCenterActivityVersion gameCenterChallengeVersion "
            "gameCenterLeaderboardSetVersion gameCenterLeaderboardVersion inAppPurchaseVersion "
            "subscriptionVersion subscriptionGroupVersion"
        ),
        "appStoreVersions": VERSION_FIELDS,
        "actors": words("actorType userFirstName userLastName userEmail apiKeyId"),
    },
    limits=words("items"),
    enums={
        "filter[platform]": PLATFORMS,
        "filter[state]": SUBMISSION_STATES,
        "include": words("app items appStoreVersionForReview submittedByActor lastUpdatedByActor"),
    },
    paged=True,
)
_VERSION_LINKED = word_list(
    "appStoreVersionLocalizations build appStoreVersionPhasedRelease appStoreReviewDetail "
    "appStoreVersionSubmission customerReviews"
)
APPLE_ACTOR_ID = "APPLE"


def _filter(values: set[str] | None, value: str) -> bool:
    return values is None or value in values


# --- versions ------------------------------------------------------------------------------


def phased_release_resource(
    base_url: str, item: Release, now: datetime, fields: set[str] | None
) -> Resource:
    attributes: dict[str, Any] = {"phasedReleaseState": "INACTIVE", "totalPauseDuration": 0}
    if now >= item.released:
        day = (now - item.released) // timedelta(days=1) + 1
        attributes["startDate"] = apple_datetime(item.released)
        attributes["currentDayNumber"] = min(day, PHASED_RELEASE_DAYS)
        attributes["phasedReleaseState"] = "ACTIVE" if day <= PHASED_RELEASE_DAYS else "COMPLETE"
    return make_resource(
        base_url=base_url,
        resource_type="appStoreVersionPhasedReleases",
        resource_id=stable_uuid("phasedRelease", item.version_id),
        attributes=attributes,
        fields=fields,
    )


def version_resource(
    ctx: V1Context, app: SandboxApp, item: Release, included: Included, includes: set[str]
) -> Resource:
    base, now, q = ctx.base_url, ctx.now, ctx.query
    attributes = {
        "platform": item.platform,
        "versionString": item.version_string,
        "appStoreState": item.store_state(now),
        "appVersionState": item.version_state(now),
        "copyright": f"{item.created.year} {ctx.team.name}",
        "reviewType": "APP_STORE",
        "releaseType": item.release_type,
        "downloadable": True,
        "createdDate": apple_datetime(item.created),
    }
    relationships: dict[str, Resource] = {"app": {"data": {"type": "apps", "id": app.id}}}
    for name in _VERSION_LINKED:
        relationships[name] = {
            "links": relationship_links(base, "appStoreVersions", item.version_id, name)
        }
    if "build" in includes:
        build = release_build(ctx.team, app, item.index)
        relationships["build"]["data"] = included.add(build_resource(ctx, build, included, set()))
    if "appStoreVersionPhasedRelease" in includes and item.phased:
        phased = phased_release_resource(base, item, now, q.fields("appStoreVersionPhasedReleases"))
        relationships["appStoreVersionPhasedRelease"]["data"] = included.add(phased)
    if "app" in includes:
        included.add(app_resource(base, app, q.fields("apps")))
    return make_resource(
        base_url=base,
        resource_type="appStoreVersions",
        resource_id=item.version_id,
        attributes=attributes,
        relationships=relationships,
        fields=q.fields("appStoreVersions"),
    )


async def list_versions(ctx: V1Context) -> Response:
    app_id = ctx.path_params["id"]
    app = find_app(ctx.team, app_id)
    if app is None:
        raise resource_not_found("apps", app_id)
    q, now = ctx.query, ctx.now
    platforms, strings, store_states, version_states, ids = (
        q.value_set(f"filter[{name}]")
        for name in ("platform", "versionString", "appStoreState", "appVersionState", "id")
    )
    releases = [
        item
        for item in reversed(
            with_forced_states(
                ctx.state, with_scripted(ctx.state, app_releases(ctx.team, app, now), now)
            )
        )
        if _filter(platforms, item.platform)
        and _filter(strings, item.version_string)
        and _filter(store_states, item.store_state(now))
        and _filter(version_states, item.version_state(now))
        and _filter(ids, item.version_id)
    ]
    page = paginate(releases, base_url=ctx.base_url, path=ctx.path, query=q)
    included, includes = Included(), q.includes()
    data = [version_resource(ctx, app, item, included, includes) for item in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


# --- review submissions ---------------------------------------------------------------------


def _actor_resource(ctx: V1Context, item: Release, actor_id: str) -> Resource:
    attributes: dict[str, Any]
    if actor_id == APPLE_ACTOR_ID:
        attributes = {"actorType": "APPLE"}
    elif item.actor_type == "USER":
        users = team_users(ctx.team)
        person = users[int(item.actor_id[:8], 16) % len(users)]
        attributes = {
            "actorType": "USER",
            "userFirstName": person.first_name,
            "userLastName": person.last_name,
            "userEmail": person.email,
        }
    elif item.actor_type == "API_KEY":
        attributes = {"actorType": "API_KEY", "apiKeyId": item.actor_id[:10].upper()}
    else:
        attributes = {"actorType": item.actor_type}
    return make_resource(
        base_url=ctx.base_url,
        resource_type="actors",
        resource_id=actor_id,
        attributes=attributes,
        fields=ctx.query.fields("actors"),
    )


def submission_resource(
    ctx: V1Context, app: SandboxApp, item: Release, included: Included
) -> Resource:
    base, now, q = ctx.base_url, ctx.now, ctx.query
    includes = q.includes()
    view = submission_view(item, now, ctx.state.fidelity.for_team(ctx.team.name))
    state, submitted = view.state, view.submitted  # per the team's fidelity options
    attributes: dict[str, Any] = {"platform": item.platform, "state": state}
    if submitted is not None:
        attributes["submittedDate"] = apple_datetime(submitted)
    by_developer = state in ("WAITING_FOR_REVIEW", "READY_FOR_REVIEW")
    updated_by = item.actor_id if by_developer else APPLE_ACTOR_ID
    relationships: dict[str, Resource] = {
        "app": {"data": {"type": "apps", "id": app.id}},
        "items": {
            "links": relationship_links(base, "reviewSubmissions", item.submission_id, "items")
        },
        "appStoreVersionForReview": {"data": {"type": "appStoreVersions", "id": item.version_id}},
        "submittedByActor": {"data": {"type": "actors", "id": item.actor_id}},
        "lastUpdatedByActor": {"data": {"type": "actors", "id": updated_by}},
    }
    if "items" in includes:
        entry = make_resource(
            base_url=base,
            resource_type="reviewSubmissionItems",
            resource_id=item.item_id,
            attributes={"state": view.item_state},
            relationships={
                "appStoreVersion": {"data": {"type": "appStoreVersions", "id": item.version_id}}
            },
            fields=q.fields("reviewSubmissionItems"),
        )
        relationships["items"]["data"] = [included.add(entry)]
        relationships["items"]["meta"] = {
            "paging": {"total": 1, "limit": q.included_limit("items")}
        }
    if "appStoreVersionForReview" in includes:
        included.add(version_resource(ctx, app, item, included, set()))
    if "submittedByActor" in includes:
        included.add(_actor_resource(ctx, item, item.actor_id))
    if "lastUpdatedByActor" in includes:
        included.add(_actor_resource(ctx, item, updated_by))
    if "app" in includes:
        included.add(app_resource(base, app, q.fields("apps")))
    return make_resource(
        base_url=base,
        resource_type="reviewSubmissions",
        resource_id=item.submission_id,
        attributes=attributes,
        relationships=relationships,
        fields=q.fields("reviewSubmissions"),
    )


async def list_submissions(ctx: V1Context) -> Response:
    q, now = ctx.query, ctx.now
    app_ids = q.value_set("filter[app]")
    if not app_ids:
        raise required_parameter("filter[app]")
    platforms, states = q.value_set("filter[platform]"), q.value_set("filter[state]")
    choice = ctx.state.fidelity.for_team(ctx.team.name)
    found = [
        (app, item, view)
        for app in team_apps(ctx.team)
        if app.id in app_ids
        for item in with_scripted(ctx.state, app_releases(ctx.team, app, now), now)
        for view in [submission_view(item, now, choice)]
        if view.state is not None
        and _filter(platforms, item.platform)
        and _filter(states, view.state)
    ]
    found.sort(key=lambda entry: (entry[2].listed_at, entry[1].submission_id), reverse=True)
    page = paginate(found, base_url=ctx.base_url, path=ctx.path, query=q)
    included = Included()
    data = [submission_resource(ctx, app, item, included) for app, item, _ in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


ROUTES = [
    V1Route("GET", "/v1/apps/{id}/appStoreVersions", list_versions, ANY_ROLE, VERSIONS_PARAMS),
    V1Route("GET", "/v1/reviewSubmissions", list_submissions, ANY_ROLE, SUBMISSIONS_PARAMS),
]
