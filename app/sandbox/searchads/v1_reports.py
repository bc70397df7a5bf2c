"""Platform API v1 synchronous reports (FACTS §9 "Reports"):
``POST /reports/apps/{campaigns,adgroups,keywords,searchterms}/query``.

Body ``{timeRange{start, end, timeZone UTC|ORTZ, granularity?}, filters (campaignId required
per option ``v1_campaign_filter_required``), sorting, pagination{offset, pageSize ≤ 5000,
default 100}, fields[], groupBy[], options{includeRows[GRAND_TOTAL, EMPTY_METRICS]}}`` →
``{"result": {"rows": [{metadata, totalMetrics, granularMetrics?, insights?}],
"summary": {"grandTotal"}?}, "pagination": {offset, pageSize, totalCount}, "error": null}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.sandbox.searchads import v1_shapes as shapes
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
from app.sandbox.searchads.errors import invalid
from app.sandbox.searchads.filtering import Condition, select_indices
from app.sandbox.searchads.formats import V1_METRIC_NAMES, is_zero_value, metric_values
from app.sandbox.searchads.metrics import ZERO, Metrics, total
from app.sandbox.searchads.options import AdsOptions
from app.sandbox.searchads.report_rules import (
    check_group_by,
    check_span,
    check_v1_range,
    parse_day,
    parse_granularity,
    parse_time_zone,
    today,
)
from app.sandbox.searchads.v1_query import (
    Paging,
    parse_filters,
    parse_paging,
    parse_sorting,
    reject_unknown,
)
from app.sandbox.searchads.v5_report_meta import insights

BODY_KEYS = frozenset(
    {"timeRange", "filters", "sorting", "pagination", "fields", "groupBy", "options"}
)
_TIME_RANGE_KEYS = frozenset({"start", "end", "timeZone", "granularity"})
_ENTITY_DIMENSIONS = ("countryOrRegion", "storefront", "deviceClass")
_ID_FILTERS = ("campaignId", "adGroupId", "keywordId")
MAX_PAGE, DEFAULT_PAGE = 5000, 100


@dataclass(frozen=True)
class V1ReportRequest:
    start: date
    end: date
    utc: bool
    granularity: str | None
    filters: tuple[Condition, ...]
    sorting: tuple[tuple[str, bool], ...]
    paging: Paging
    fields: tuple[str, ...] | None
    group_by: tuple[str, ...]
    include_rows: frozenset[str]

    def ids(self, field: str, options: AdsOptions) -> frozenset[int] | None:
        condition = next((c for c in self.filters if c.field == field), None)
        ids = condition.id_values() if condition else None
        if ids is None:
            return None
        return frozenset(i for i in (shapes.internal_id(v, options) for v in ids) if i)


def _time_range(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise invalid("'timeRange' is required.", "timeRange", "MISSING_REQUIRED_FIELD")
    reject_unknown(raw, _TIME_RANGE_KEYS, "timeRange")
    return raw


def _names(raw: Any, field: str, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(v, str) and v in allowed for v in raw):
        raise invalid(f"'{field}' may contain only: {', '.join(allowed)}.", field)
    return tuple(raw)


def parse_request(body: dict[str, Any]) -> V1ReportRequest:
    reject_unknown(body, BODY_KEYS, "the report request")  # e.g. v5 startTime / selector
    time_range = _time_range(body.get("timeRange"))
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise invalid("'options' must be an object.", "options")
    reject_unknown(options, frozenset({"includeRows"}), "options")
    include = _names(options.get("includeRows"), "includeRows", ("GRAND_TOTAL", "EMPTY_METRICS"))
    return V1ReportRequest(
        start=parse_day(time_range.get("start"), "timeRange.start"),
        end=parse_day(time_range.get("end"), "timeRange.end"),
        utc=parse_time_zone(time_range.get("timeZone")),
        granularity=parse_granularity(time_range.get("granularity")),
        filters=parse_filters(body.get("filters")),
        sorting=parse_sorting(body.get("sorting")),
        paging=parse_paging(body.get("pagination"), max_size=MAX_PAGE, default_size=DEFAULT_PAGE),
        fields=_names(body.get("fields"), "fields", V1_METRIC_NAMES),
        group_by=check_group_by(body.get("groupBy"), _ENTITY_DIMENSIONS),
        include_rows=frozenset(include or ()),
    )


def _check_rules(ctx: AdsContext, request: V1ReportRequest, level: Level) -> None:
    if level == "searchterm":
        if request.utc:
            raise invalid("Search term reports support only timeZone ORTZ.", "timeZone")
        if request.granularity == "HOURLY":
            raise invalid("Search term reports do not support HOURLY.", "granularity")
    if "EMPTY_METRICS" in request.include_rows and (request.group_by or level == "searchterm"):
        raise invalid(
            "EMPTY_METRICS cannot be combined with groupBy or search terms.", "includeRows"
        )
    options = ctx.options
    if options.v1_campaign_filter_required and request.ids("campaignId", options) is None:
        raise invalid("A campaignId filter is required.", "filters", "MISSING_REQUIRED_FIELD")
    current = today(ctx.now, ctx.scoped_account, request.utc)
    check_span(request.start, request.end, current, options)
    check_v1_range(request.granularity, request.start, request.end, current, options)


def _report(ctx: AdsContext, level: Level, request: V1ReportRequest) -> Body:
    _check_rules(ctx, request, level)
    options = ctx.options
    wanted = request.ids("campaignId", options)
    campaigns = [
        c
        for c in ctx.visible_campaigns()
        if c.app is not None and (wanted is None or c.id in wanted)
    ]
    scope = ReportScope(
        level,
        ctx.scoped_account,
        tuple(c.id for c in campaigns),
        request.start,
        request.end,
        request.utc,
        request.granularity,
        request.group_by,
        request.ids("adGroupId", options),
        request.ids("keywordId", options),
    )
    world = ctx.state.world
    rows = build_report(world, ctx.state.observer(), scope)
    if level == "searchterm":
        suppress = options.v1_searchterm_low_volume == "suppress"
        rows = fold_low_volume(rows, suppress=suppress)
    elif "EMPTY_METRICS" in request.include_rows:
        rows = empty_rows(world, scope, rows)
    return _answer(ctx, request, rows, level, all_buckets(scope))


def _answer(
    ctx: AdsContext,
    request: V1ReportRequest,
    rows: list[ReportRow],
    level: Level,
    buckets: list[Bucket],
) -> Body:
    records = [_render(ctx, request, row, level, buckets) for row in rows]
    flat = [{**r["totalMetrics"], **r["metadata"]} for r in records]
    conditions = [c for c in request.filters if c.field not in _ID_FILTERS]
    chosen = select_indices(flat, conditions, request.sorting)
    paging = request.paging
    page = chosen[paging.offset : paging.offset + paging.page_size]
    result: dict[str, Any] = {"rows": [records[i] for i in page]}
    if "GRAND_TOTAL" in request.include_rows:
        grand = total(rows[i].total for i in chosen)
        result["summary"] = {"grandTotal": _metrics(ctx, request, grand)}
    size = paging.page_size if ctx.options.v1_page_size_echo == "requested" else len(page)
    pagination = {"offset": paging.offset, "pageSize": size, "totalCount": len(chosen)}
    return {"result": result, "pagination": pagination, "error": None}


def _metrics(ctx: AdsContext, request: V1ReportRequest, metrics: Metrics) -> dict[str, Any]:
    values = metric_values(metrics, ctx.scoped_account, ctx.options, "v1")
    if request.fields is not None:
        values = {k: v for k, v in values.items() if k in request.fields}
    if ctx.options.v1_zero_metrics == "sparse":  # FACTS §9 [R-TVG]: absent = 0
        values = {k: v for k, v in values.items() if not is_zero_value(v)}
    return values


def _bucket_date(bucket: Bucket) -> str:
    day, hour = bucket
    return day.isoformat() if hour is None else f"{day.isoformat()} {hour:02d}"


def _render(
    ctx: AdsContext, request: V1ReportRequest, row: ReportRow, level: Level, buckets: list[Bucket]
) -> dict[str, Any]:
    placement = ctx.options.v1_group_values
    meta = _metadata(ctx, row, level)
    dims = row.dimensions
    if placement in ("metadata", "both"):
        meta.update(dims)
    totals = _metrics(ctx, request, row.total)
    record: dict[str, Any] = {"metadata": meta, "totalMetrics": totals}
    in_buckets = dims if placement in ("bucket", "both") else {}
    if request.granularity is not None:
        record["granularMetrics"] = [
            {
                "date": _bucket_date(bucket),
                **in_buckets,
                **_metrics(ctx, request, row.buckets.get(bucket, ZERO)),
            }
            for bucket in buckets
        ]
    elif in_buckets:
        totals.update(in_buckets)
    if level == "keyword" and row.keyword_id is not None:
        record["insights"] = insights(
            ctx.state.world, row.keyword_id, ctx.scoped_account, ctx.options
        )
    return record


def _metadata(ctx: AdsContext, row: ReportRow, level: Level) -> dict[str, Any]:
    world, options = ctx.state.world, ctx.options
    campaign = world.campaigns[row.campaign_id]
    if level == "campaign":
        return shapes.campaign(campaign, options)
    if level == "adgroup":
        assert row.ad_group_id is not None
        return shapes.ad_group(world.ad_groups[row.ad_group_id], campaign, options)
    keyword = world.keywords.get(row.keyword_id or 0)
    keyword_record = shapes.keyword(keyword, campaign.account, options) if keyword else None
    if level == "keyword":
        assert keyword_record is not None
        return keyword_record
    return {
        "searchTermText": row.term.text if row.term else None,
        "searchTermSource": row.term.source if row.term else None,
        "campaignId": shapes.entity_id(row.campaign_id, options),
        "adGroupId": shapes.entity_id(row.ad_group_id or 0, options),
        "keyword": keyword_record,
    }


def _handler(level: Level) -> Handler:
    async def handler(ctx: AdsContext) -> Body:
        return _report(ctx, level, parse_request(await ctx.body()))

    return handler


ROUTES: list[AdsRoute] = [
    AdsRoute("POST", "/reports/apps/campaigns/query", _handler("campaign")),
    AdsRoute("POST", "/reports/apps/adgroups/query", _handler("adgroup")),
    AdsRoute("POST", "/reports/apps/keywords/query", _handler("keyword")),
    AdsRoute("POST", "/reports/apps/searchterms/query", _handler("searchterm")),
]
