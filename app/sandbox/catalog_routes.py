"""``/v1/apps``, ``/v1/apps/{id}`` and ``/v1/builds`` over the generated catalogue.

Not implemented yet (accepted, ignored): app ``include``s and the appStoreVersions /
reviewSubmissions / betaGroups filters; build filters on beta review state, groups and app
store versions. Default order: apps in creation order; builds newest upload first. App Store
versions and review submissions are in :mod:`.versions`, TestFlight groups and testers in
:mod:`.testflight`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import Build, SandboxApp, app_builds, find_app, team_apps
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import resource_not_found
from app.sandbox.jsonapi import (
    Included,
    ParamSpec,
    Resource,
    collection_document,
    make_resource,
    paginate,
    relationship_links,
    single_document,
    word_list,
    words,
)
from app.sandbox.periods import PACIFIC
from app.sandbox.permissions import ANY_ROLE, BUILDS
from app.sandbox.seeding import stable_hash

APP_FIELDS = words(
    "accessibilityUrl name bundleId sku primaryLocale isOrEverWasMadeForKids "
    "subscriptionStatusUrl subscriptionStatusUrlVersion subscriptionStatusUrlForSandbox "
    "subscriptionStatusUrlVersionForSandbox contentRightsDeclaration "
    "streamlinedPurchasingEnabled accessibilityDeclarations appEncryptionDeclarations "
    "appStoreIcon ciProduct betaTesters betaGroups appStoreVersions appTags preReleaseVersions "
    "betaAppLocalizations builds betaLicenseAgreement betaAppReviewDetail appInfos appClips "
    "appPricePoints endUserLicenseAgreement appPriceSchedule appAvailabilityV2 inAppPurchases "
    "subscriptionGroups gameCenterEnabledVersions perfPowerMetrics appCustomProductPages "
    "inAppPurchasesV2 promotedPurchases appEvents reviewSubmissions subscriptionGracePeriod "
    "customerReviews customerReviewSummarizations gameCenterDetail appStoreVersionExperimentsV2 "
    "alternativeDistributionKey analyticsReportRequests marketplaceSearchDetail buildUploads "
    "backgroundAssets betaFeedbackScreenshotSubmissions betaFeedbackCrashSubmissions "
    "searchKeywords webhooks androidToIosAppMappingDetails"
)
BUILD_FIELDS = words(
    "version uploadedDate expirationDate expired minOsVersion lsMinimumSystemVersion "
    "computedMinMacOsVersion computedMinVisionOsVersion iconAssetToken processingState "
    "buildAudienceType usesNonExemptEncryption preReleaseVersion individualTesters betaGroups "
    "betaBuildLocalizations appEncryptionDeclaration betaAppReviewSubmission app "
    "buildBetaDetail appStoreVersion icons buildBundles buildUpload perfPowerMetrics "
    "diagnosticSignatures"
)
PRE_RELEASE_FIELDS = words("version platform builds app")
BETA_DETAIL_FIELDS = words("autoNotifyEnabled internalBuildState externalBuildState build")
_APP_INCLUDES = words(
    "appEncryptionDeclarations appStoreIcon ciProduct betaGroups appStoreVersions "
    "preReleaseVersions betaAppLocalizations builds betaLicenseAgreement betaAppReviewDetail "
    "appInfos appClips endUserLicenseAgreement inAppPurchases subscriptionGroups "
    "gameCenterEnabledVersions appCustomProductPages inAppPurchasesV2 promotedPurchases "
    "appEvents reviewSubmissions subscriptionGracePeriod gameCenterDetail "
    "appStoreVersionExperimentsV2 androidToIosAppMappingDetails"
)
_APP_RELATED_FIELDS: dict[str, frozenset[str] | None] = dict.fromkeys(
    words(
        "appEncryptionDeclarations buildIcons ciProducts betaGroups appStoreVersions "
        "betaAppLocalizations betaLicenseAgreements betaAppReviewDetails appInfos "
        "appClips endUserLicenseAgreements inAppPurchases subscriptionGroups "
        "gameCenterEnabledVersions appCustomProductPages promotedPurchases appEvents "
        "reviewSubmissions subscriptionGracePeriods gameCenterDetails "
        "appStoreVersionExperiments androidToIosAppMappingDetails"
    )
)
_APP_FIELD_SPEC: dict[str, frozenset[str] | None] = {
    **_APP_RELATED_FIELDS,
    "apps": APP_FIELDS,
    "builds": BUILD_FIELDS,
    "preReleaseVersions": PRE_RELEASE_FIELDS,
}
_APP_LIMITS = words(
    "androidToIosAppMappingDetails appClips appCustomProductPages appEncryptionDeclarations "
    "appEvents appInfos appStoreVersionExperimentsV2 appStoreVersions betaAppLocalizations "
    "betaGroups builds gameCenterEnabledVersions inAppPurchases inAppPurchasesV2 "
    "preReleaseVersions promotedPurchases reviewSubmissions subscriptionGroups"
)
APPS_PARAMS = ParamSpec(
    names=words(
        "filter[name] filter[bundleId] filter[sku] filter[appStoreVersions.appStoreState] "
        "filter[appStoreVersions.platform] filter[appStoreVersions.appVersionState] "
        "filter[reviewSubmissions.state] filter[reviewSubmissions.platform] "
        "filter[appStoreVersions] filter[id] exists[gameCenterEnabledVersions] sort include"
    ),
    fields=_APP_FIELD_SPEC,
    limits=_APP_LIMITS,
    enums={
        "sort": words("name -name bundleId -bundleId sku -sku"),
        "include": _APP_INCLUDES,
    },
    paged=True,
)
APP_PARAMS = ParamSpec(
    names=words("include"),
    fields=_APP_FIELD_SPEC,
    limits=_APP_LIMITS,
    enums={"include": _APP_INCLUDES},
)
BUILDS_PARAMS = ParamSpec(
    names=words(
        "filter[version] filter[expired] filter[processingState] "
        "filter[betaAppReviewSubmission.betaReviewState] filter[usesNonExemptEncryption] "
        "filter[preReleaseVersion.version] filter[preReleaseVersion.platform] "
        "filter[buildAudienceType] filter[preReleaseVersion] filter[app] filter[betaGroups] "
        "filter[appStoreVersion] filter[id] exists[usesNonExemptEncryption] sort include"
    ),
    fields={
        "builds": BUILD_FIELDS,
        "preReleaseVersions": PRE_RELEASE_FIELDS,
        "apps": APP_FIELDS,
        "buildBetaDetails": BETA_DETAIL_FIELDS,
        **dict.fromkeys(
            words(
                "betaTesters betaGroups betaBuildLocalizations appEncryptionDeclarations "
                "betaAppReviewSubmissions appStoreVersions buildIcons buildBundles buildUploads"
            )
        ),
    },
    limits=words("betaBuildLocalizations betaGroups buildBundles icons individualTesters"),
    enums={
        "sort": words(
            "version -version uploadedDate -uploadedDate preReleaseVersion -preReleaseVersion"
        ),
        "include": words(
            "preReleaseVersion individualTesters betaGroups betaBuildLocalizations "
            "appEncryptionDeclaration betaAppReviewSubmission app buildBetaDetail "
            "appStoreVersion icons buildBundles buildUpload"
        ),
        "filter[processingState]": words("PROCESSING FAILED INVALID VALID"),
        "filter[buildAudienceType]": words("INTERNAL_ONLY APP_STORE_ELIGIBLE"),
        "filter[preReleaseVersion.platform]": words("IOS MAC_OS TV_OS VISION_OS"),
    },
    paged=True,
)

_APP_RELATIONSHIPS = word_list(
    "appEncryptionDeclarations ciProduct betaTesters betaGroups appStoreVersions "
    "preReleaseVersions betaAppLocalizations builds betaLicenseAgreement "
    "betaAppReviewDetail appInfos appClips endUserLicenseAgreement inAppPurchasesV2 "
    "subscriptionGroups appCustomProductPages appEvents reviewSubmissions "
    "customerReviews analyticsReportRequests"
)
_BUILD_RELATIONSHIPS = word_list(
    "preReleaseVersion individualTesters betaGroups betaBuildLocalizations "
    "appEncryptionDeclaration betaAppReviewSubmission app buildBetaDetail "
    "appStoreVersion icons"
)


ICON_BASE = "https://is1-ssl.mzstatic.com/image/thumb/Purple/v4"


def apple_datetime(moment: datetime) -> str:
    """Apple-style timestamp: seconds precision with the Pacific offset."""
    return moment.astimezone(PACIFIC).isoformat(timespec="seconds")


def app_resource(base_url: str, app: SandboxApp, fields: set[str] | None) -> Resource:
    attributes: dict[str, Any] = {
        "name": app.name,
        "bundleId": app.bundle_id,
        "sku": app.sku,
        "primaryLocale": app.primary_locale,
        "isOrEverWasMadeForKids": app.made_for_kids,
        "contentRightsDeclaration": (
            "USES_THIRD_PARTY_CONTENT"
            if app.uses_third_party_content
            else "DOES_NOT_USE_THIRD_PARTY_CONTENT"
        ),
        "streamlinedPurchasingEnabled": True,
    }
    if app.subscriptions:
        domain = app.bundle_id.split(".")[1]
        attributes["subscriptionStatusUrl"] = f"https://api.{domain}.example.com/asn/v2"
        attributes["subscriptionStatusUrlVersion"] = "V2"
        attributes["subscriptionStatusUrlForSandbox"] = f"https://sandbox.{domain}.example.com/asn"
        attributes["subscriptionStatusUrlVersionForSandbox"] = "V2"
    relationships = {
        name: {"links": relationship_links(base_url, "apps", app.id, name)}
        for name in _APP_RELATIONSHIPS
    }
    return make_resource(
        base_url=base_url,
        resource_type="apps",
        resource_id=app.id,
        attributes=attributes,
        relationships=relationships,
        fields=fields,
    )


def _filter(values: set[str] | None, value: str) -> bool:
    return values is None or value in values


async def list_apps(ctx: V1Context) -> Response:
    q = ctx.query
    names, bundles, skus, ids = (
        q.value_set(f"filter[{n}]") for n in ("name", "bundleId", "sku", "id")
    )
    apps = [
        app
        for app in team_apps(ctx.team)
        if _filter(names, app.name)
        and _filter(bundles, app.bundle_id)
        and _filter(skus, app.sku)
        and _filter(ids, app.id)
    ]
    sort = q.sort("")
    if sort:
        attribute = {"name": "name", "bundleId": "bundle_id", "sku": "sku"}[sort.lstrip("-")]
        apps.sort(key=lambda a: (getattr(a, attribute), a.id), reverse=sort.startswith("-"))
    page = paginate(apps, base_url=ctx.base_url, path=ctx.path, query=q)
    fields = q.fields("apps")
    data = [app_resource(ctx.base_url, app, fields) for app in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url))


async def get_app(ctx: V1Context) -> Response:
    app_id = ctx.path_params["id"]
    app = find_app(ctx.team, app_id)
    if app is None:
        raise resource_not_found("apps", app_id)
    resource = app_resource(ctx.base_url, app, ctx.query.fields("apps"))
    return JSONResponse(single_document(resource, ctx.self_url))


# --- builds ------------------------------------------------------------------------------


def pre_release_resource(base_url: str, build: Build, fields: set[str] | None) -> Resource:
    rid = build.pre_release_version_id
    return make_resource(
        base_url=base_url,
        resource_type="preReleaseVersions",
        resource_id=rid,
        attributes={"version": build.version, "platform": build.platform},
        relationships={
            "builds": {"links": relationship_links(base_url, "preReleaseVersions", rid, "builds")},
            "app": {"links": relationship_links(base_url, "preReleaseVersions", rid, "app")},
        },
        fields=fields,
    )


def beta_detail_resource(
    base_url: str, build: Build, now: datetime, fields: set[str] | None
) -> Resource:
    state = build.state(now)
    if state == "PROCESSING":
        internal = external = "PROCESSING"
    elif state != "VALID":
        internal = external = "PROCESSING_EXCEPTION"
    elif build.expired(now):
        internal = external = "EXPIRED"
    else:
        internal = "IN_BETA_TESTING"
        if build.audience == "INTERNAL_ONLY":
            external = "NOT_APPLICABLE"
        elif now - build.uploaded < (build.expiration - build.uploaded) / 45:
            external = "WAITING_FOR_BETA_REVIEW"
        else:
            external = "BETA_APPROVED" if build.number % 3 else "READY_FOR_BETA_SUBMISSION"
    rid = build.beta_detail_id
    return make_resource(
        base_url=base_url,
        resource_type="buildBetaDetails",
        resource_id=rid,
        attributes={
            "autoNotifyEnabled": build.number % 2 == 0,
            "internalBuildState": internal,
            "externalBuildState": external,
        },
        relationships={
            "build": {"links": relationship_links(base_url, "buildBetaDetails", rid, "build")}
        },
        fields=fields,
    )


def build_resource(
    ctx: V1Context, build: Build, included: Included, includes: set[str] | None = None
) -> Resource:
    """A build; ``includes`` defaults to the request's (pass ``set()`` for an included build,
    whose own relationships Apple does not expand)."""
    now, base = ctx.now, ctx.base_url
    includes = ctx.query.includes() if includes is None else includes
    token = format(stable_hash(build.id, "icon"), "016x")
    attributes = {
        "version": str(build.number),
        "uploadedDate": apple_datetime(build.uploaded),
        "expirationDate": apple_datetime(build.expiration),
        "expired": build.expired(now),
        "minOsVersion": build.min_os,
        "iconAssetToken": {
            "templateUrl": f"{ICON_BASE}/{token}/{{w}}x{{h}}bb.{{f}}",
            "width": 1024,
            "height": 1024,
        },
        "processingState": build.state(now),
        "buildAudienceType": build.audience,
        "usesNonExemptEncryption": False,
    }
    relationships: dict[str, Resource] = {
        name: {"links": relationship_links(base, "builds", build.id, name)}
        for name in _BUILD_RELATIONSHIPS
    }
    q = ctx.query
    if "preReleaseVersion" in includes:
        ref = included.add(pre_release_resource(base, build, q.fields("preReleaseVersions")))
        relationships["preReleaseVersion"]["data"] = ref
    if "buildBetaDetail" in includes:
        ref = included.add(beta_detail_resource(base, build, now, q.fields("buildBetaDetails")))
        relationships["buildBetaDetail"]["data"] = ref
    if "app" in includes:
        ref = included.add(app_resource(base, build.app, q.fields("apps")))
        relationships["app"]["data"] = ref
    return make_resource(
        base_url=base,
        resource_type="builds",
        resource_id=build.id,
        attributes=attributes,
        relationships=relationships,
        fields=q.fields("builds"),
    )


def _build_sort_key(sort: str) -> Any:
    name = sort.lstrip("-")
    if name == "version":
        return lambda b: (b.number, b.id)
    if name == "preReleaseVersion":
        return lambda b: (tuple(int(p) for p in b.version.split(".")), b.number, b.id)
    return lambda b: (b.uploaded, b.id)


async def list_builds(ctx: V1Context) -> Response:
    q, now = ctx.query, ctx.now
    app_ids = q.value_set("filter[app]")
    apps = [app for app in team_apps(ctx.team) if _filter(app_ids, app.id)]
    versions = q.value_set("filter[version]")
    states = q.value_set("filter[processingState]")
    expired = q.value_set("filter[expired]")
    pre_versions = q.value_set("filter[preReleaseVersion.version]")
    platforms = q.value_set("filter[preReleaseVersion.platform]")
    audiences = q.value_set("filter[buildAudienceType]")
    pre_ids = q.value_set("filter[preReleaseVersion]")
    ids = q.value_set("filter[id]")
    builds = [
        build
        for app in apps
        for build in app_builds(ctx.team, app, now)
        if _filter(versions, str(build.number))
        and _filter(states, build.state(now))
        and _filter(expired, str(build.expired(now)).lower())
        and _filter(pre_versions, build.version)
        and _filter(platforms, build.platform)
        and _filter(audiences, build.audience)
        and _filter(pre_ids, build.pre_release_version_id)
        and _filter(ids, build.id)
    ]
    sort = q.sort("-uploadedDate")
    builds.sort(key=_build_sort_key(sort), reverse=sort.startswith("-"))
    page = paginate(builds, base_url=ctx.base_url, path=ctx.path, query=q)
    included = Included()
    data = [build_resource(ctx, build, included) for build in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


ROUTES = [
    V1Route("GET", "/v1/apps", list_apps, ANY_ROLE, APPS_PARAMS),
    V1Route("GET", "/v1/apps/{id}", get_app, ANY_ROLE, APP_PARAMS),
    V1Route("GET", "/v1/builds", list_builds, BUILDS, BUILDS_PARAMS),
]
