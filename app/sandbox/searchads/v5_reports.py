"""Campaign Management API v5 reports (FACTS §3): ``POST /reports/campaigns``,
``/reports/campaigns/{cid}/{adgroups,keywords,searchterms}`` and
``/reports/campaigns/{cid}/adgroups/{agid}/{keywords,searchterms}``.

Body ``ReportingRequest``: ``startTime``, ``endTime``, ``selector`` (required), ``granularity``,
``groupBy`` (``countryOrRegion``, ``deviceClass``), ``timeZone`` (UTC | ORTZ),
``returnRowTotals``, ``returnGrandTotals``, ``returnRecordsWithNoMetrics``. Answer
``{"data": {"reportingDataResponse": {"row": [...], "grandTotals": {...}}}, "pagination",
"error": null}`` (without the wrapper under option ``v5_report_wrapper=bare``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.sandbox.searchads.context import AdsContext, AdsRoute, Body, Handler
from app.sandbox.searchads.engine import (
    Bucket,
    Level,
    ReportRow,
    ReportScope,
    all_buckets,
    build_report,
    empty_rows,
    fold_low_volume,
)
from app.sandbox.searchads.entities import Campaign
from app.sandbox.searchads.errors import (
    NO_KEYWORDS_MESSAGE,
    ROW_TOTALS_MESSAGE,
    invalid,
    not_found,
)
from app.sandbox.searchads.filtering import select_indices
from app.sandbox.searchads.formats import metric_values
from app.sandbox.searchads.metrics import ZERO, total
from app.sandbox.searchads.options import AdsOptions
from app.sandbox.searchads.report_rules import (
    check_group_by,
    check_span,
    check_v5_range,
    parse_day,
    parse_granularity,
    parse_time_zone,
    today,
)
from app.sandbox.searchads.v5_report_meta import bucket_fields, insights, metadata
from app.sandbox.searchads.v5_selector import Selector, envelope, pagination, parse_selector

BODY_KEYS = frozenset(
    {
        "startTime",
        "endTime",
        "selector",
        "granularity",
        "groupBy",
        "timeZone",
        "returnRowTotals",
        "returnGrandTotals",
        "returnRecordsWithNoMetrics",
    }
)
V5_DIMENSIONS = ("countryOrRegion", "deviceClass")


@dataclass(frozen=True)
class V5ReportRequest:
    start: date
    end: date
    selector: Selector
    granularity: str | None
    group_by: tuple[str, ...]
    utc: bool
    row_totals: bool
    grand_totals: bool
    with_empty: bool


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise invalid(f"'{name}' must be a boolean.", name)
    return value


def parse_request(body: dict[str, Any], options: AdsOptions) -> V5ReportRequest:
    unknown = sorted(set(body) - BODY_KEYS)
    if unknown:
        raise invalid(f"Unknown field '{unknown[0]}'.", unknown[0])
    if "selector" not in body:
        raise invalid("'selector' is required.", "selector")
    return V5ReportRequest(
        start=parse_day(body.get("startTime"), "startTime"),
        end=parse_day(body.get("endTime"), "endTime"),
        selector=parse_selector(body["selector"], options),
        granularity=parse_granularity(body.get("granularity")),
        group_by=check_group_by(body.get("groupBy"), V5_DIMENSIONS),
        utc=parse_time_zone(body.get("timeZone")),
        row_totals=_flag(body, "returnRowTotals"),
        grand_totals=_flag(body, "returnGrandTotals"),
        with_empty=_flag(body, "returnRecordsWithNoMetrics"),
    )


def _check_rules(request: V5ReportRequest, level: Level, ctx: AdsContext) -> None:
    """FACTS §3 "Rules": totals vs granularity, search-term limits, ranges."""
    if request.granularity is not None and (request.row_totals or request.grand_totals):
        raise invalid(
            "returnRowTotals and returnGrandTotals must be false with granularity.",
            "returnRowTotals",
        )
    if request.granularity is None and not request.row_totals:
        raise invalid(ROW_TOTALS_MESSAGE, "returnRowTotals")
    if level == "searchterm" and request.utc:
        raise invalid("Search term reports support only timeZone ORTZ.", "timeZone")
    if level == "searchterm" and request.granularity == "HOURLY":
        raise invalid("Search term reports do not support HOURLY granularity.", "granularity")
    current = today(ctx.now, ctx.scoped_account, request.utc)
    check_span(request.start, request.end, current, ctx.options)
    check_v5_range(request.granularity, request.start, request.end, current)


def _scope_campaigns(ctx: AdsContext, request: V5ReportRequest) -> list[Campaign]:
    campaigns = ctx.visible_campaigns()
    for condition in request.selector.conditions:
        ids = condition.id_values() if condition.field == "campaignId" else None
        if ids is not None:
            campaigns = [c for c in campaigns if c.id in ids]
    return campaigns


def _report(
    ctx: AdsContext,
    request: V5ReportRequest,
    level: Level,
    campaigns: list[Campaign],
    ad_group: int | None = None,
) -> Body:
    _check_rules(request, level, ctx)
    if level == "keyword" and campaigns and not campaigns[0].has_keywords:
        raise invalid(NO_KEYWORDS_MESSAGE)  # FACTS §4 (search-tab campaigns)
    scope = ReportScope(
        level,
        ctx.scoped_account,
        tuple(c.id for c in campaigns),
        request.start,
        request.end,
        request.utc,
        request.granularity,
        request.group_by,
        None if ad_group is None else frozenset({ad_group}),
    )
    world = ctx.state.world
    rows = build_report(world, ctx.state.observer(), scope)
    if level == "searchterm":
        rows = fold_low_volume(rows, suppress=False)
    elif request.with_empty and not request.group_by:
        rows = empty_rows(world, scope, rows)
    return _answer(ctx, request, rows, level, all_buckets(scope))


def _answer(
    ctx: AdsContext,
    request: V5ReportRequest,
    rows: list[ReportRow],
    level: Level,
    buckets: list[Bucket],
) -> Body:
    account, options, selector = ctx.scoped_account, ctx.options, request.selector
    records = [_render(ctx, row, level, request, buckets) for row in rows]
    flat = [{**(r.get("total") or {}), **r["metadata"]} for r in records]
    conditions = [c for c in selector.conditions if c.field != "campaignId"]
    order = [selector.order_by] if selector.order_by else []
    chosen = select_indices(flat, conditions, order)
    page = chosen[selector.offset : selector.offset + selector.limit]
    content: dict[str, Any] = {"row": [records[i] for i in page]}
    if request.grand_totals:
        grand = total(rows[i].total for i in chosen)
        content["grandTotals"] = {
            "other": False,
            "total": metric_values(grand, account, options, "v5"),
        }
    data = content if options.v5_report_wrapper == "bare" else {"reportingDataResponse": content}
    return envelope(
        data, pagination(len(chosen), selector.offset, selector.limit, len(page), options)
    )


def _render(
    ctx: AdsContext, row: ReportRow, level: Level, request: V5ReportRequest, buckets: list[Bucket]
) -> dict[str, Any]:
    account, options = ctx.scoped_account, ctx.options
    record: dict[str, Any] = {
        "other": row.other,
        "metadata": metadata(ctx.state.world, row, level, options),
    }
    if request.granularity is None:
        record["total"] = metric_values(row.total, account, options, "v5")
    else:
        record["granularity"] = [
            {
                **bucket_fields(bucket, request.granularity, options),
                **metric_values(row.buckets.get(bucket, ZERO), account, options, "v5"),
            }
            for bucket in buckets
        ]
    if level == "keyword" and row.keyword_id is not None:
        record["insights"] = insights(ctx.state.world, row.keyword_id, account, options)
    return record


def _campaign(ctx: AdsContext) -> Campaign:
    return ctx.campaign(ctx.id_param("campaign_id", "Campaign"))


def _ad_group_id(ctx: AdsContext, campaign: Campaign) -> int:
    group_id = ctx.id_param("ad_group_id", "AdGroup")
    if group_id not in ctx.state.world.ad_group_ids.get(campaign.id, []):
        raise not_found("AdGroup")
    return group_id


async def campaigns_report(ctx: AdsContext) -> Body:
    request = parse_request(await ctx.body(), ctx.options)
    return _report(ctx, request, "campaign", _scope_campaigns(ctx, request))


def _campaign_level(level: Level) -> Handler:
    async def handler(ctx: AdsContext) -> Body:
        campaign = _campaign(ctx)
        return _report(ctx, parse_request(await ctx.body(), ctx.options), level, [campaign])

    return handler


def _ad_group_level(level: Level) -> Handler:
    async def handler(ctx: AdsContext) -> Body:
        campaign = _campaign(ctx)
        group_id = _ad_group_id(ctx, campaign)
        request = parse_request(await ctx.body(), ctx.options)
        return _report(ctx, request, level, [campaign], group_id)

    return handler


_C = "/reports/campaigns/{campaign_id}"
ROUTES: list[AdsRoute] = [
    AdsRoute("POST", "/reports/campaigns", campaigns_report),
    AdsRoute("POST", _C + "/adgroups", _campaign_level("adgroup")),
    AdsRoute("POST", _C + "/keywords", _campaign_level("keyword")),
    AdsRoute("POST", _C + "/searchterms", _campaign_level("searchterm")),
    AdsRoute("POST", _C + "/adgroups/{ad_group_id}/keywords", _ad_group_level("keyword")),
    AdsRoute("POST", _C + "/adgroups/{ad_group_id}/searchterms", _ad_group_level("searchterm")),
]
