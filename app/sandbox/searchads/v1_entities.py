"""Platform API v1 account and entity routes (FACTS §9 "Base, context, accounts", "Entities").

Without ``X-AP-Context``: ``GET /me``, ``GET /acls``, ``GET /orgs/{id}``,
``GET /ad-accounts/{id}``, ``POST /ad-accounts/query``. With it: ``POST
/{campaigns,adgroups,keywords}/query`` and ``GET /{campaigns,adgroups,keywords}/{id}``.
Deleted objects appear only when a filter asks for ``deleted EQUALS true`` (FACTS §9).
"""

from __future__ import annotations

from typing import Any

from app.sandbox.searchads import v1_shapes as shapes
from app.sandbox.searchads.context import AdsContext, AdsRoute, Body
from app.sandbox.searchads.entities import Campaign
from app.sandbox.searchads.errors import forbidden, invalid, not_found
from app.sandbox.searchads.filtering import Condition
from app.sandbox.searchads.v1_query import V1Query, page, parse_query, select, single

MAX_PAGE = 1000  # FACTS §9: pageSize ≤ 1000 for entity queries


def _visible_accounts(ctx: AdsContext) -> list[Any]:
    return [a for a in ctx.state.world.accounts.values() if ctx.credential.can_see(a)]


async def me(ctx: AdsContext) -> Body:
    return single({"userId": ctx.credential.user_id, "orgId": ctx.credential.org.org_id})


async def acls(ctx: AdsContext) -> Body:
    items = []
    for account in _visible_accounts(ctx):
        role = ctx.credential.role(account)
        assert role is not None
        items.append(shapes.acl(account, role, ctx.options))
    return single({"acls": items})


async def get_org(ctx: AdsContext) -> Body:
    wanted = ctx.params["org_id"]
    org = ctx.credential.org
    known = {str(org.org_id)} | {str(shapes.org_id(a, ctx.options)) for a in _visible_accounts(ctx)}
    if wanted not in known:
        raise forbidden("The user does not have access to the requested org.")
    return single({"id": shapes.plain_id(int(wanted), ctx.options), "name": org.name})


async def get_ad_account(ctx: AdsContext) -> Body:
    for account in _visible_accounts(ctx):
        if ctx.params["ad_account_id"] == str(account.ad_account_id):
            return single(shapes.ad_account(account, ctx.options))
    raise not_found("Ad account")


async def query_ad_accounts(ctx: AdsContext) -> Body:
    query = parse_query(await ctx.body(), max_size=MAX_PAGE)
    records = [shapes.ad_account(a, ctx.options) for a in _visible_accounts(ctx)]
    return _page(records, query, ctx)


def _page(records: list[dict[str, Any]], query: V1Query, ctx: AdsContext) -> Body:
    known = set(records[0]) if records else set()
    if "deleted" in known and query.filter_on("deleted") is None:
        records = [r for r in records if not r["deleted"]]
    return page(select(records, query, known), query.paging, ctx.options)


def _id_filter(query: V1Query, field: str, ctx: AdsContext) -> set[int] | None:
    condition = query.filter_on(field)
    ids = condition.id_values() if condition else None
    if ids is None:
        return None
    return {i for i in (shapes.internal_id(v, ctx.options) for v in ids) if i is not None}


def _campaigns(ctx: AdsContext, only: set[int] | None) -> list[Campaign]:
    return [c for c in ctx.visible_campaigns() if only is None or c.id in only]


async def query_campaigns(ctx: AdsContext) -> Body:
    query = parse_query(await ctx.body(), max_size=MAX_PAGE)
    records = [shapes.campaign(c, ctx.options) for c in _campaigns(ctx, None)]
    return _page(records, query, ctx)


async def query_ad_groups(ctx: AdsContext) -> Body:
    query = parse_query(await ctx.body(), max_size=MAX_PAGE)
    world = ctx.state.world
    records = [
        shapes.ad_group(g, c, ctx.options)
        for c in _campaigns(ctx, _id_filter(query, "campaignId", ctx))
        for g in world.campaign_ad_groups(c.id)
    ]
    return _page(records, query, ctx)


async def query_keywords(ctx: AdsContext) -> Body:
    query = parse_query(await ctx.body(), max_size=MAX_PAGE)
    _require_keyword_scope(query)
    world = ctx.state.world
    groups = _id_filter(query, "adGroupId", ctx)
    records = [
        shapes.keyword(k, c.account, ctx.options)
        for c in _campaigns(ctx, _id_filter(query, "campaignId", ctx))
        for g in world.campaign_ad_groups(c.id)
        if groups is None or g.id in groups
        for k in world.ad_group_keywords(g.id)
    ]
    return _page(records, query, ctx)


def _require_keyword_scope(query: V1Query) -> None:
    """FACTS §9: keyword queries require ``adGroupId`` EQUALS/IN (≤ 1000) or ``campaignId``."""
    group: Condition | None = query.filter_on("adGroupId")
    if group is not None and group.operator in ("EQUALS", "IN"):
        if len(group.values) > MAX_PAGE:
            raise invalid("At most 1000 adGroupId values are allowed.", "adGroupId")
        return
    if query.filter_on("campaignId") is None:
        raise invalid(
            "An adGroupId or campaignId filter is required.", "filters", "MISSING_REQUIRED_FIELD"
        )


async def get_campaign(ctx: AdsContext) -> Body:
    campaign_id = shapes.internal_id(ctx.params["id"], ctx.options)
    if campaign_id is None:
        raise not_found("Campaign")
    return single(shapes.campaign(ctx.campaign(campaign_id), ctx.options))


async def get_ad_group(ctx: AdsContext) -> Body:
    group = ctx.state.world.ad_groups.get(shapes.internal_id(ctx.params["id"], ctx.options) or 0)
    if group is None:
        raise not_found("Ad group")
    campaign = ctx.campaign(group.campaign_id)
    return single(shapes.ad_group(group, campaign, ctx.options))


async def get_keyword(ctx: AdsContext) -> Body:
    keyword = ctx.state.world.keywords.get(shapes.internal_id(ctx.params["id"], ctx.options) or 0)
    if keyword is None:
        raise not_found("Keyword")
    campaign = ctx.campaign(keyword.campaign_id)
    return single(shapes.keyword(keyword, campaign.account, ctx.options))


ROUTES: list[AdsRoute] = [
    AdsRoute("GET", "/me", me, context=False),
    AdsRoute("GET", "/acls", acls, context=False),
    AdsRoute("GET", "/orgs/{org_id}", get_org, context=False),
    AdsRoute("GET", "/ad-accounts/{ad_account_id}", get_ad_account, context=False),
    AdsRoute("POST", "/ad-accounts/query", query_ad_accounts, context=False),
    AdsRoute("POST", "/campaigns/query", query_campaigns),
    AdsRoute("GET", "/campaigns/{id}", get_campaign),
    AdsRoute("POST", "/adgroups/query", query_ad_groups),
    AdsRoute("GET", "/adgroups/{id}", get_ad_group),
    AdsRoute("POST", "/keywords/query", query_keywords),
    AdsRoute("GET", "/keywords/{id}", get_keyword),
]
