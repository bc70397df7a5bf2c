"""Team members (``/v1/users``) and pending invitations (``/v1/userInvitations``).

Users are a pure function of the team; the first is the Account Holder. Invitations were
sent within the last 30 days (relative to the sandbox clock's day) and expire 30 days after
sending, so they are always pending.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import team_apps
from app.sandbox.catalog_routes import APP_FIELDS, app_resource, apple_datetime
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
from app.sandbox.permissions import ADMIN_ONLY
from app.sandbox.seeding import rng, stable_uuid
from app.sandbox.state import SandboxTeam
from app.sandbox.text import FIRST_NAMES, LAST_NAMES

USER_ROLES = words(
    "ADMIN FINANCE ACCOUNT_HOLDER SALES MARKETING APP_MANAGER DEVELOPER ACCESS_TO_REPORTS "
    "CUSTOMER_SUPPORT CREATE_APPS CLOUD_MANAGED_DEVELOPER_ID CLOUD_MANAGED_APP_DISTRIBUTION "
    "GENERATE_INDIVIDUAL_KEYS"
)
_ROLE_SETS: tuple[tuple[str, ...], ...] = (
    ("ADMIN",),
    ("FINANCE",),
    ("SALES",),
    ("APP_MANAGER",),
    ("DEVELOPER",),
    ("APP_MANAGER", "DEVELOPER"),
    ("MARKETING",),
    ("CUSTOMER_SUPPORT",),
    ("SALES", "ACCESS_TO_REPORTS"),
    ("FINANCE", "SALES"),
)
_BROAD_ROLES = {"ADMIN", "FINANCE", "ACCOUNT_HOLDER", "SALES"}


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    email: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    all_apps_visible: bool
    provisioning_allowed: bool
    visible_app_ids: tuple[str, ...]


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _people(team: SandboxTeam, kind: str, count: int) -> list[Person]:
    r = rng(team.seed, kind)
    names = [(f, ln) for f in FIRST_NAMES for ln in LAST_NAMES]
    rng(team.seed, "people-names").shuffle(names)
    if kind == "invitations":
        names = names[::-1]  # members come from the front, invitees from the back
    app_ids = [app.id for app in team_apps(team)]
    people = []
    for index in range(count):
        first, last = names[index]
        roles: tuple[str, ...] = (
            ("ACCOUNT_HOLDER", "ADMIN") if kind == "users" and index == 0 else r.choice(_ROLE_SETS)
        )
        broad = bool(_BROAD_ROLES.intersection(roles))
        all_visible = broad or r.random() < 0.4 or not app_ids
        visible = () if all_visible else tuple(r.sample(app_ids, min(len(app_ids), 2)))
        people.append(
            Person(
                id=stable_uuid(team.seed, kind, index),
                email=f"{_ascii(first)}.{_ascii(last)}@{team.slug}.example.com",
                first_name=first,
                last_name=last,
                roles=roles,
                all_apps_visible=all_visible,
                provisioning_allowed="ADMIN" in roles or r.random() < 0.5,
                visible_app_ids=visible,
            )
        )
    return people


@lru_cache(maxsize=128)
def team_users(team: SandboxTeam) -> tuple[Person, ...]:
    return tuple(_people(team, "users", 4 + rng(team.seed, "user-count").randrange(8)))


def team_invitations(team: SandboxTeam, now: datetime) -> list[tuple[Person, datetime]]:
    """Pending invitations with their expiration dates."""
    r = rng(team.seed, "invitation-count")
    count = r.randrange(1, 4)
    today = datetime.combine(now.astimezone(UTC).date(), time(), UTC)
    result = []
    for person in _people(team, "invitations", count):
        sent = today - timedelta(days=rng(team.seed, "sent", person.id).randrange(30))
        result.append((person, sent + timedelta(days=30, hours=7)))
    return result


# --- endpoints ---------------------------------------------------------------------------


def _params(kind: str, attributes: str, filters: str, sorts: str) -> ParamSpec:
    return ParamSpec(
        names=words(f"{filters} filter[roles] filter[visibleApps] sort include"),
        fields={kind: words(f"{attributes} visibleApps"), "apps": APP_FIELDS},
        limits=words("visibleApps"),
        enums={
            "sort": words(" ".join(f"{s} -{s}" for s in sorts.split())),
            "include": words("visibleApps"),
            "filter[roles]": USER_ROLES,
        },
        paged=True,
    )


USERS_PARAMS = _params(
    "users",
    "username firstName lastName roles allAppsVisible provisioningAllowed",
    "filter[username]",
    "username lastName",
)
INVITATIONS_PARAMS = _params(
    "userInvitations",
    "email firstName lastName expirationDate roles allAppsVisible provisioningAllowed",
    "filter[email]",
    "email lastName",
)


def _keep(ctx: V1Context, person: Person, own_filter: str) -> bool:
    q = ctx.query
    emails = q.value_set(own_filter)
    roles = q.value_set("filter[roles]")
    apps = q.value_set("filter[visibleApps]")
    if emails is not None and person.email not in emails:
        return False
    if roles is not None and not roles.intersection(person.roles):
        return False
    return apps is None or person.all_apps_visible or bool(apps & set(person.visible_app_ids))


def _person_resource(
    ctx: V1Context,
    kind: str,
    person: Person,
    extra: dict[str, Any],
    included: Included,
) -> Resource:
    base, q = ctx.base_url, ctx.query
    attributes: dict[str, Any] = {
        "firstName": person.first_name,
        "lastName": person.last_name,
        **extra,
        "roles": list(person.roles),
        "allAppsVisible": person.all_apps_visible,
        "provisioningAllowed": person.provisioning_allowed,
    }
    visible: Resource = {"links": relationship_links(base, kind, person.id, "visibleApps")}
    if "visibleApps" in q.includes():
        apps = team_apps(ctx.team)
        chosen = (
            list(apps)
            if person.all_apps_visible
            else [a for a in apps if a.id in person.visible_app_ids]
        )
        limit = q.included_limit("visibleApps")
        fields = q.fields("apps")
        visible["data"] = [included.add(app_resource(base, a, fields)) for a in chosen[:limit]]
        visible["meta"] = {"paging": {"total": len(chosen), "limit": limit}}
    return make_resource(
        base_url=base,
        resource_type=kind,
        resource_id=person.id,
        attributes=attributes,
        relationships={"visibleApps": visible},
        fields=q.fields(kind),
    )


def _sorted(items: list[Any], sort: str, key_of: dict[str, Any]) -> list[Any]:
    if not sort:
        return items
    return sorted(items, key=key_of[sort.lstrip("-")], reverse=sort.startswith("-"))


async def list_users(ctx: V1Context) -> Response:
    users = [u for u in team_users(ctx.team) if _keep(ctx, u, "filter[username]")]
    users = _sorted(
        users,
        ctx.query.sort(""),
        {
            "username": lambda u: (u.email, u.id),
            "lastName": lambda u: (u.last_name, u.first_name, u.id),
        },
    )
    page = paginate(users, base_url=ctx.base_url, path=ctx.path, query=ctx.query)
    included = Included()
    data = [_person_resource(ctx, "users", u, {"username": u.email}, included) for u in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


async def list_invitations(ctx: V1Context) -> Response:
    invitations = [
        (p, expires)
        for p, expires in team_invitations(ctx.team, ctx.now)
        if _keep(ctx, p, "filter[email]")
    ]
    invitations = _sorted(
        invitations,
        ctx.query.sort(""),
        {
            "email": lambda i: (i[0].email, i[0].id),
            "lastName": lambda i: (i[0].last_name, i[0].first_name, i[0].id),
        },
    )
    page = paginate(invitations, base_url=ctx.base_url, path=ctx.path, query=ctx.query)
    included = Included()
    data = [
        _person_resource(
            ctx,
            "userInvitations",
            person,
            {"email": person.email, "expirationDate": apple_datetime(expires)},
            included,
        )
        for person, expires in page.items
    ]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


ROUTES = [
    V1Route("GET", "/v1/users", list_users, ADMIN_ONLY, USERS_PARAMS),
    V1Route("GET", "/v1/userInvitations", list_invitations, ADMIN_ONLY, INVITATIONS_PARAMS),
]
