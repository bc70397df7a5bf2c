"""Campaign Management API v5 account and entity routes (FACTS §1, §2).

Without ``X-AP-Context``: ``GET /acls``, ``GET /me``. With ``orgId=``: campaign, ad group and
targeting-keyword lists (``limit``/``offset``), single objects and ``/find`` with a selector.
Deleted objects are left out unless a condition on ``deleted`` asks for them.
"""

from __future__ import annotations

from typing import Any

from app.sandbox.searchads import v5_shapes as shapes
from app.sandbox.searchads.context import AdsContext, AdsRoute, Body
from app.sandbox.searchads.entities import AdGroup, Campaign
from app.sandbox.searchads.errors import invalid, not_found
from app.sandbox.searchads.filtering import apply, sort_records
from app.sandbox.searchads.v5_selector import (
    Selector,
    envelope,
    pagination,
    parse_selector,
    query_paging,
)


async def acls(ctx: AdsContext) -> Body:
    items = []
    for account in ctx.state.world.accounts.values():
        role = ctx.credential.role(account)
        if role is not None and account.in_v5:
            items.append(shapes.acl(account, role))
    data: Any = items
    if ctx.options.v5_acls_shape == "object":  # FACTS §2: Apple's example shows one object
        data = items[0] if items else None
    return envelope(data, None)


async def me(ctx: AdsContext) -> Body:
    credential = ctx.credential
    return envelope({"userId": credential.user_id, "parentOrgId": credential.org.org_id}, None)


def _list_page(records: list[dict[str, Any]], ctx: AdsContext) -> Body:
    offset, limit = query_paging(ctx.request.query_params, ctx.options)
    records = [r for r in records if not r["deleted"]]
    items = records[offset : offset + limit]
    return envelope(items, pagination(len(records), offset, limit, len(items), ctx.options))


async def _find_page(records: list[dict[str, Any]], ctx: AdsContext) -> Body:
    selector = parse_selector(await ctx.body(), ctx.options)
    known = set(records[0]) if records else set()
    _check_fields(selector, known)
    if not any(c.field == "deleted" for c in selector.conditions):
        records = [r for r in records if not r["deleted"]]
    selected = apply(records, selector.conditions)
    if selector.order_by is not None:
        selected = sort_records(selected, *selector.order_by)
    items = selected[selector.offset : selector.offset + selector.limit]
    if selector.fields is not None:
        items = [{k: v for k, v in r.items() if k in selector.fields} for r in items]
    page = pagination(len(selected), selector.offset, selector.limit, len(items), ctx.options)
    return envelope(items, page)


def _check_fields(selector: Selector, known: set[str]) -> None:
    names = [c.field for c in selector.conditions]
    names += [selector.order_by[0]] if selector.order_by else []
    for name in names:
        if known and name not in known:
            raise invalid(f"Invalid field '{name}'.", name)


def _campaigns(ctx: AdsContext) -> list[Campaign]:
    return ctx.visible_campaigns()


def _ad_group(ctx: AdsContext, campaign: Campaign) -> AdGroup:
    group = ctx.state.world.ad_groups.get(ctx.id_param("ad_group_id", "AdGroup"))
    if group is None or group.campaign_id != campaign.id:
        raise not_found("AdGroup")
    return group


def _campaign(ctx: AdsContext) -> Campaign:
    return ctx.campaign(ctx.id_param("campaign_id", "Campaign"))


async def list_campaigns(ctx: AdsContext) -> Body:
    return _list_page([shapes.campaign(c, ctx.options) for c in _campaigns(ctx)], ctx)


async def find_campaigns(ctx: AdsContext) -> Body:
    return await _find_page([shapes.campaign(c, ctx.options) for c in _campaigns(ctx)], ctx)


async def get_campaign(ctx: AdsContext) -> Body:
    return envelope(shapes.campaign(_campaign(ctx), ctx.options), None)


def _group_records(ctx: AdsContext, campaign: Campaign) -> list[dict[str, Any]]:
    groups = ctx.state.world.campaign_ad_groups(campaign.id)
    return [shapes.ad_group(g, campaign, ctx.options) for g in groups]


async def list_ad_groups(ctx: AdsContext) -> Body:
    return _list_page(_group_records(ctx, _campaign(ctx)), ctx)


async def find_ad_groups(ctx: AdsContext) -> Body:
    return await _find_page(_group_records(ctx, _campaign(ctx)), ctx)


async def get_ad_group(ctx: AdsContext) -> Body:
    campaign = _campaign(ctx)
    return envelope(shapes.ad_group(_ad_group(ctx, campaign), campaign, ctx.options), None)


def _keyword_records(
    ctx: AdsContext, campaign: Campaign, group_id: int | None
) -> list[dict[str, Any]]:
    world = ctx.state.world
    return [
        shapes.keyword(k, campaign.account, ctx.options)
        for k in world.campaign_keywords(campaign.id)
        if group_id is None or k.ad_group_id == group_id
    ]


async def list_keywords(ctx: AdsContext) -> Body:
    campaign = _campaign(ctx)
    group = _ad_group(ctx, campaign)
    return _list_page(_keyword_records(ctx, campaign, group.id), ctx)


async def find_keywords(ctx: AdsContext) -> Body:
    campaign = _campaign(ctx)
    return await _find_page(_keyword_records(ctx, campaign, None), ctx)


async def get_keyword(ctx: AdsContext) -> Body:
    campaign = _campaign(ctx)
    group = _ad_group(ctx, campaign)
    keyword = ctx.state.world.keywords.get(ctx.id_param("keyword_id", "Keyword"))
    if keyword is None or keyword.ad_group_id != group.id:
        raise not_found("Keyword")
    return envelope(shapes.keyword(keyword, campaign.account, ctx.options), None)


_CAMPAIGN = "/campaigns/{campaign_id}"
_GROUP = _CAMPAIGN + "/adgroups/{ad_group_id}"

ROUTES: list[AdsRoute] = [
    AdsRoute("GET", "/acls", acls, context=False),
    AdsRoute("GET", "/me", me, context=False),
    AdsRoute("GET", "/campaigns", list_campaigns),
    AdsRoute("POST", "/campaigns/find", find_campaigns),
    AdsRoute("GET", _CAMPAIGN, get_campaign),
    AdsRoute("GET", _CAMPAIGN + "/adgroups", list_ad_groups),
    AdsRoute("POST", _CAMPAIGN + "/adgroups/find", find_ad_groups),
    AdsRoute("POST", _CAMPAIGN + "/adgroups/targetingkeywords/find", find_keywords),
    AdsRoute("GET", _GROUP, get_ad_group),
    AdsRoute("GET", _GROUP + "/targetingkeywords", list_keywords),
    AdsRoute("GET", _GROUP + "/targetingkeywords/{keyword_id}", get_keyword),
]
