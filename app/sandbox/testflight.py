"""TestFlight: beta groups (``GET /v1/betaGroups``) and beta testers (``GET /v1/betaTesters``).

Each app has an internal group (created before launch) and one to three external groups, some
with a public link; a group created after the sandbox clock's ``now`` does not exist yet.
Testers live on an absolute timeline of 30-day blocks like builds: each block draws the testers
invited in it. An e-mail invitee is ``INVITED`` until they accept (some never do), then
``ACCEPTED``, then ``INSTALLED`` once they install a build; a public-link tester joins
accepted. Only testers invited in the last :data:`TESTER_HISTORY_DAYS` days are listed.
Accepted but ignored: build filters and includes, recruitment criteria.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import SandboxApp, team_apps
from app.sandbox.catalog_routes import APP_FIELDS, BUILD_FIELDS, app_resource, apple_datetime
from app.sandbox.context import V1Context, V1Route
from app.sandbox.jsonapi import (
    Included,
    ParamSpec,
    Resource,
    collection_document,
    make_resource,
    paginate,
    relationship_links,
    words,
)
from app.sandbox.permissions import BUILDS
from app.sandbox.seeding import rng, stable_uuid
from app.sandbox.state import SandboxTeam
from app.sandbox.text import FIRST_NAMES, LAST_NAMES

TESTER_HISTORY_DAYS = 180
TESTER_BLOCK_DAYS = 30
INTERNAL_GROUP_NAME = "Internal Testers"
EXTERNAL_GROUP_NAMES = ("Public Beta", "Friends & Family", "Beta Club", "QA", "Early Access")
MAIL_DOMAINS = ("icloud.example.com", "mail.example.com", "inbox.example.net")


@dataclass(frozen=True, slots=True)
class BetaGroup:
    id: str
    app: SandboxApp
    name: str
    created: datetime
    internal: bool
    public_link_id: str | None
    public_link_limit: int | None
    feedback_enabled: bool
    apple_silicon: bool

    @property
    def public_link(self) -> str | None:
        if self.public_link_id is None:
            return None
        return f"https://testflight.apple.com/join/{self.public_link_id}"


@dataclass(frozen=True, slots=True)
class BetaTester:
    id: str
    app: SandboxApp
    first_name: str
    last_name: str
    email: str
    invite_type: str  # EMAIL or PUBLIC_LINK
    invited: datetime
    accepted: datetime | None
    installed: datetime | None
    group_ids: tuple[str, ...]

    def state(self, now: datetime) -> str:
        if self.installed is not None and now >= self.installed:
            return "INSTALLED"
        if self.accepted is not None and now >= self.accepted:
            return "ACCEPTED"
        return "INVITED"


@lru_cache(maxsize=1024)
def all_groups(team: SandboxTeam, app: SandboxApp) -> tuple[BetaGroup, ...]:
    """Every group the app will ever have, oldest first (filter by ``created``)."""
    r = rng(team.seed, "beta-groups", app.id)
    launch = datetime.combine(app.launch_date, time(), UTC)
    groups = [
        BetaGroup(
            id=stable_uuid(team.seed, "betaGroup", app.id, 0),
            app=app,
            name=INTERNAL_GROUP_NAME,
            created=launch - timedelta(days=30),
            internal=True,
            public_link_id=None,
            public_link_limit=None,
            feedback_enabled=True,
            apple_silicon=False,
        )
    ]
    for index, name in enumerate(r.sample(EXTERNAL_GROUP_NAMES, r.randrange(1, 4)), start=1):
        public = r.random() < 0.6
        groups.append(
            BetaGroup(
                id=stable_uuid(team.seed, "betaGroup", app.id, index),
                app=app,
                name=name,
                created=launch + timedelta(days=r.randrange(1500), seconds=r.randrange(86400)),
                internal=False,
                public_link_id=stable_uuid(team.seed, "link", app.id, index)[:8]
                if public
                else None,
                public_link_limit=r.choice((100, 500, 1000, 10000)) if public else None,
                feedback_enabled=r.random() < 0.8,
                apple_silicon=r.random() < 0.3,
            )
        )
    groups.sort(key=lambda group: group.created)
    return tuple(groups)


def app_groups(team: SandboxTeam, app: SandboxApp, now: datetime) -> list[BetaGroup]:
    return [group for group in all_groups(team, app) if group.created <= now]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "tester"


@lru_cache(maxsize=4096)
def block_testers(team: SandboxTeam, app: SandboxApp, block: int) -> tuple[BetaTester, ...]:
    """Testers of ``app`` invited in 30-day ``block``, in invitation order."""
    r = rng(team.seed, "testers", app.id, block)
    start = datetime.fromordinal(block * TESTER_BLOCK_DAYS).replace(tzinfo=UTC)
    testers = []
    for index in range(r.choice((0, 1, 1, 2, 2, 3))):
        invited = start + timedelta(seconds=r.randrange(TESTER_BLOCK_DAYS * 86400))
        groups = [g for g in all_groups(team, app) if g.created <= invited]
        public = [g for g in groups if g.public_link_id is not None]
        external = [g for g in groups if not g.internal]
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        accepted: datetime | None
        if public and r.random() < 0.35:
            invite_type, chosen, accepted = "PUBLIC_LINK", [r.choice(public)], invited
        else:
            invite_type = "EMAIL"
            if external and r.random() < 0.6:
                chosen = r.sample(external, min(len(external), r.randrange(1, 3)))
            else:
                chosen = [groups[0]]
            accepted = invited + timedelta(seconds=r.randrange(3600, 4 * 86400))
            if r.random() < 0.25:
                accepted = None
        installed = None
        if accepted is not None and r.random() < 0.8:
            installed = accepted + timedelta(seconds=r.randrange(600, 2 * 86400))
        testers.append(
            BetaTester(
                id=stable_uuid(team.seed, "betaTester", app.id, block, index),
                app=app,
                first_name=first,
                last_name=last,
                email=f"{_ascii(first)}.{_ascii(last)}.{block % 1000}{index}@"
                f"{r.choice(MAIL_DOMAINS)}",
                invite_type=invite_type,
                invited=invited,
                accepted=accepted,
                installed=installed,
                group_ids=tuple(g.id for g in chosen),
            )
        )
    return tuple(sorted(testers, key=lambda tester: tester.invited))


def app_testers(team: SandboxTeam, app: SandboxApp, now: datetime) -> list[BetaTester]:
    """Testers invited in the last 180 days up to ``now``, oldest invitation first."""
    first = now - timedelta(days=TESTER_HISTORY_DAYS)
    blocks = range(
        first.date().toordinal() // TESTER_BLOCK_DAYS,
        now.date().toordinal() // TESTER_BLOCK_DAYS + 1,
    )
    return [
        tester
        for block in blocks
        for tester in block_testers(team, app, block)
        if first <= tester.invited <= now
    ]


# --- endpoints ------------------------------------------------------------------------------

GROUP_FIELDS = words(
    "name createdDate isInternalGroup hasAccessToAllBuilds publicLinkEnabled publicLinkId "
    "publicLinkLimitEnabled publicLinkLimit publicLink feedbackEnabled "
    "iosBuildsAvailableForAppleSiliconMac iosBuildsAvailableForAppleVision app builds "
    "betaTesters betaRecruitmentCriteria betaRecruitmentCriterionCompatibleBuildCheck"
)
TESTER_FIELDS = words("firstName lastName email inviteType state appDevices apps betaGroups builds")
GROUPS_PARAMS = ParamSpec(
    names=words(
        "filter[name] filter[isInternalGroup] filter[publicLinkEnabled] "
        "filter[publicLinkLimitEnabled] filter[publicLink] filter[app] filter[builds] "
        "filter[id] sort include"
    ),
    fields={
        "betaGroups": GROUP_FIELDS,
        "apps": APP_FIELDS,
        "builds": BUILD_FIELDS,
        "betaTesters": TESTER_FIELDS,
        "betaRecruitmentCriteria": words("lastModifiedDate deviceFamilyOsVersionFilters"),
    },
    limits=words("betaTesters builds"),
    enums={
        "sort": words(
            "name -name createdDate -createdDate publicLinkEnabled -publicLinkEnabled "
            "publicLinkLimit -publicLinkLimit"
        ),
        "include": words("app builds betaTesters betaRecruitmentCriteria"),
    },
    paged=True,
)
TESTERS_PARAMS = ParamSpec(
    names=words(
        "filter[firstName] filter[lastName] filter[email] filter[inviteType] filter[apps] "
        "filter[betaGroups] filter[builds] filter[id] sort include"
    ),
    fields={
        "betaTesters": TESTER_FIELDS,
        "apps": APP_FIELDS,
        "betaGroups": GROUP_FIELDS,
        "builds": BUILD_FIELDS,
    },
    limits=words("apps betaGroups builds"),
    enums={
        "sort": words(
            "firstName -firstName lastName -lastName email -email inviteType -inviteType "
            "state -state"
        ),
        "filter[inviteType]": words("EMAIL PUBLIC_LINK"),
        "include": words("apps betaGroups builds"),
    },
    paged=True,
)


def _bool_filter(values: set[str] | None, value: bool) -> bool:
    return values is None or str(value).lower() in values


def _filter(values: set[str] | None, value: str) -> bool:
    return values is None or value in values


def group_resource(
    ctx: V1Context, group: BetaGroup, included: Included, testers: list[BetaTester] | None
) -> Resource:
    base, q = ctx.base_url, ctx.query
    attributes: dict[str, Any] = {
        "name": group.name,
        "createdDate": apple_datetime(group.created),
        "isInternalGroup": group.internal,
        "hasAccessToAllBuilds": group.internal,
        "publicLinkEnabled": group.public_link_id is not None,
        "publicLinkLimitEnabled": group.public_link_limit is not None,
        "feedbackEnabled": group.feedback_enabled,
        "iosBuildsAvailableForAppleSiliconMac": group.apple_silicon,
        "iosBuildsAvailableForAppleVision": False,
    }
    if group.public_link_id is not None:
        attributes["publicLinkId"] = group.public_link_id
        attributes["publicLink"] = group.public_link
        attributes["publicLinkLimit"] = group.public_link_limit
    relationships: dict[str, Resource] = {
        name: {"links": relationship_links(base, "betaGroups", group.id, name)}
        for name in ("app", "builds", "betaTesters", "betaRecruitmentCriteria")
    }
    relationships["app"]["data"] = {"type": "apps", "id": group.app.id}
    if testers is not None:
        limit = q.included_limit("betaTesters")
        members = [t for t in testers if group.id in t.group_ids]
        relationships["betaTesters"]["data"] = [
            included.add(tester_resource(ctx, t, included, set())) for t in members[:limit]
        ]
        relationships["betaTesters"]["meta"] = {"paging": {"total": len(members), "limit": limit}}
    if "app" in q.includes():
        included.add(app_resource(base, group.app, q.fields("apps")))
    return make_resource(
        base_url=base,
        resource_type="betaGroups",
        resource_id=group.id,
        attributes=attributes,
        relationships=relationships,
        fields=q.fields("betaGroups"),
    )


def tester_resource(
    ctx: V1Context, tester: BetaTester, included: Included, includes: set[str]
) -> Resource:
    base, q = ctx.base_url, ctx.query
    relationships: dict[str, Resource] = {
        name: {"links": relationship_links(base, "betaTesters", tester.id, name)}
        for name in ("apps", "betaGroups", "builds")
    }
    if "betaGroups" in includes:
        limit = q.included_limit("betaGroups")
        groups = [g for g in app_groups(ctx.team, tester.app, ctx.now) if g.id in tester.group_ids]
        relationships["betaGroups"]["data"] = [
            included.add(group_resource(ctx, g, included, None)) for g in groups[:limit]
        ]
        relationships["betaGroups"]["meta"] = {"paging": {"total": len(groups), "limit": limit}}
    if "apps" in includes:
        ref = included.add(app_resource(base, tester.app, q.fields("apps")))
        relationships["apps"]["data"] = [ref]
        relationships["apps"]["meta"] = {"paging": {"total": 1, "limit": q.included_limit("apps")}}
    return make_resource(
        base_url=base,
        resource_type="betaTesters",
        resource_id=tester.id,
        attributes={
            "firstName": tester.first_name,
            "lastName": tester.last_name,
            "email": tester.email,
            "inviteType": tester.invite_type,
            "state": tester.state(ctx.now),
        },
        relationships=relationships,
        fields=q.fields("betaTesters"),
    )


def _sorted(items: list[Any], sort: str, keys: dict[str, Any]) -> list[Any]:
    if not sort:
        return items
    return sorted(items, key=keys[sort.lstrip("-")], reverse=sort.startswith("-"))


async def list_groups(ctx: V1Context) -> Response:
    q, now = ctx.query, ctx.now
    app_ids = q.value_set("filter[app]")
    names, ids = q.value_set("filter[name]"), q.value_set("filter[id]")
    internal, public = (
        q.value_set("filter[isInternalGroup]"),
        q.value_set("filter[publicLinkEnabled]"),
    )
    limited, links = (
        q.value_set("filter[publicLinkLimitEnabled]"),
        q.value_set("filter[publicLink]"),
    )
    groups = [
        group
        for app in team_apps(ctx.team)
        if _filter(app_ids, app.id)
        for group in app_groups(ctx.team, app, now)
        if _filter(names, group.name)
        and _filter(ids, group.id)
        and _bool_filter(internal, group.internal)
        and _bool_filter(public, group.public_link_id is not None)
        and _bool_filter(limited, group.public_link_limit is not None)
        and (links is None or group.public_link in links)
    ]
    groups = _sorted(
        groups,
        q.sort(""),
        {
            "name": lambda g: (g.name, g.id),
            "createdDate": lambda g: (g.created, g.id),
            "publicLinkEnabled": lambda g: (g.public_link_id is not None, g.id),
            "publicLinkLimit": lambda g: (g.public_link_limit or 0, g.id),
        },
    )
    page = paginate(groups, base_url=ctx.base_url, path=ctx.path, query=q)
    included = Included()
    with_testers = "betaTesters" in q.includes()
    data = []
    for group in page.items:
        testers = app_testers(ctx.team, group.app, now) if with_testers else None
        data.append(group_resource(ctx, group, included, testers))
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


async def list_testers(ctx: V1Context) -> Response:
    q, now = ctx.query, ctx.now
    app_ids, group_ids = q.value_set("filter[apps]"), q.value_set("filter[betaGroups]")
    emails, kinds, ids = (
        q.value_set("filter[email]"),
        q.value_set("filter[inviteType]"),
        q.value_set("filter[id]"),
    )
    firsts, lasts = q.value_set("filter[firstName]"), q.value_set("filter[lastName]")
    testers = [
        tester
        for app in team_apps(ctx.team)
        if _filter(app_ids, app.id)
        for tester in app_testers(ctx.team, app, now)
        if _filter(emails, tester.email)
        and _filter(kinds, tester.invite_type)
        and _filter(ids, tester.id)
        and _filter(firsts, tester.first_name)
        and _filter(lasts, tester.last_name)
        and (group_ids is None or bool(group_ids.intersection(tester.group_ids)))
    ]
    testers = _sorted(
        testers,
        q.sort(""),
        {
            "firstName": lambda t: (t.first_name, t.id),
            "lastName": lambda t: (t.last_name, t.id),
            "email": lambda t: (t.email, t.id),
            "inviteType": lambda t: (t.invite_type, t.id),
            "state": lambda t: (t.state(now), t.id),
        },
    )
    page = paginate(testers, base_url=ctx.base_url, path=ctx.path, query=q)
    included, includes = Included(), q.includes()
    data = [tester_resource(ctx, tester, included, includes) for tester in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


ROUTES = [
    V1Route("GET", "/v1/betaGroups", list_groups, BUILDS, GROUPS_PARAMS),
    V1Route("GET", "/v1/betaTesters", list_testers, BUILDS, TESTERS_PARAMS),
]
