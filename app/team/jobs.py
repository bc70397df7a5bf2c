"""The ``team`` dataset: an account's team members and pending invitations (Admin keys).

Two requests per account (200 a page): ``/v1/users`` and ``/v1/userInvitations``, each with
``include=visibleApps`` for the apps a member limited to some apps can see (ids only; Apple
sends at most 50 per person, with the full count in the relationship's paging total).
Members and invitations Apple stops listing are marked removed: an invitation disappears when
it is accepted, cancelled or expires.
"""

from __future__ import annotations

from typing import Any

from app.asc.client import Params
from app.asc.jsonapi import Resource
from app.models import TeamInvitation, TeamMember
from app.resources import bulk
from app.resources.units import (
    CATALOG_CADENCE,
    apple_datetime,
    bool_or_none,
    plan_per_account,
    plan_per_account_many,
    text_or_none,
    unique,
)
from app.sync.contract import Dataset, UnitContext, UnitResult

DATASET = "team"
COMMON_FIELDS = "firstName,lastName,roles,allAppsVisible,provisioningAllowed,visibleApps"
USER_PARAMS: Params = {
    "include": "visibleApps",
    "fields[users]": f"username,{COMMON_FIELDS}",
    "fields[apps]": "bundleId",
    "limit[visibleApps]": 50,
    "limit": 200,
}
INVITATION_PARAMS: Params = {
    "include": "visibleApps",
    "fields[userInvitations]": f"email,expirationDate,{COMMON_FIELDS}",
    "fields[apps]": "bundleId",
    "limit[visibleApps]": 50,
    "limit": 200,
}


def _person(resource: Resource) -> dict[str, Any]:
    attributes = resource.attributes
    roles = attributes.get("roles")
    visible = resource.relationships.get("visibleApps")
    paging = visible.get("meta", {}).get("paging", {}) if isinstance(visible, dict) else {}
    visible_ids = [app_id for _, app_id in resource.relationship_ids("visibleApps")]
    total = paging.get("total") if isinstance(paging, dict) else None
    return {
        "apple_id": resource.id,
        "first_name": text_or_none(attributes.get("firstName")),
        "last_name": text_or_none(attributes.get("lastName")),
        "roles": [role for role in roles if isinstance(role, str)]
        if isinstance(roles, list)
        else [],
        "all_apps_visible": attributes.get("allAppsVisible") is True,
        "provisioning_allowed": bool_or_none(attributes.get("provisioningAllowed")),
        "visible_app_apple_ids": visible_ids,
        "visible_app_total": total if isinstance(total, int) else len(visible_ids),
    }


async def run(ctx: UnitContext) -> UnitResult:
    session, now, account = ctx.session, ctx.now, ctx.account
    owned = {"workspace_id": account.workspace_id, "account_id": account.id}
    members = unique(
        [
            {
                **owned,
                **_person(resource),
                "username": str(resource.attributes.get("username") or ""),
            }
            async for page in ctx.client.paginate("/v1/users", USER_PARAMS)
            for resource in page.resources()
        ]
    )
    invitations = unique(
        [
            {
                **owned,
                **_person(resource),
                "email": str(resource.attributes.get("email") or ""),
                "expires_at": apple_datetime(resource.attributes.get("expirationDate")),
            }
            async for page in ctx.client.paginate("/v1/userInvitations", INVITATION_PARAMS)
            for resource in page.resources()
        ]
    )
    scope = {"account_id": account.id}
    conflict = ("account_id", "apple_id")
    seen = await bulk.upsert(session, TeamMember, members, conflict=conflict, now=now)
    await bulk.mark_removed(session, TeamMember, scope=scope, seen=seen, now=now)
    seen = await bulk.upsert(session, TeamInvitation, invitations, conflict=conflict, now=now)
    await bulk.mark_removed(session, TeamInvitation, scope=scope, seen=seen, now=now)
    return UnitResult(rows=len(members) + len(invitations))


TEAM = Dataset(
    name=DATASET,
    capability="users",
    cadence=CATALOG_CADENCE,
    plan=plan_per_account,
    plan_many=plan_per_account_many,
    run=run,
)
