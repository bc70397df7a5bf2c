"""Sales and trends: aggregated measures, the normalised rows, and an app's dashboard card."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from app.asc.enums import ReportPlatform
from app.auth.deps import Reader
from app.fx import convert
from app.kit.dates import Day
from app.kit.deps import AppSettings, Session
from app.kit.pagination import CursorParam, Page, PageRequest, Paging
from app.kit.problems import AUTHED, problem_responses
from app.kit.response_cache import cache_of, respond
from app.reports import calendar, query
from app.sales import service, version_repository, yearly
from app.sales.layout import UnitKind
from app.sales.schemas import (
    AppSalesSummary,
    Dimension,
    Frequency,
    Granularity,
    SalesFilter,
    SalesReport,
    SalesRowRead,
)

router = APIRouter(tags=["sales"])

#: What a kept answer's first statement reads besides the version (``_kept``).
Read = TypeVar("Read")

MAX_REPORT_LIMIT = 5000

FromParam = Annotated[
    Day, Query(alias="from", description="First report date (Apple's Pacific-time day).")
]
ToParam = Annotated[
    Day, Query(alias="to", description="Last report date, inclusive (Pacific-time day).")
]
AccountsParam = Annotated[
    list[uuid.UUID] | None,
    Query(alias="account_id", description="Only these linked accounts (repeat for several)."),
]
AppsParam = Annotated[
    list[uuid.UUID] | None,
    Query(alias="app_id", description="Only these apps, Orchard ids (repeat for several)."),
]
SkusParam = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=255)]] | None,
    Query(alias="sku", description="Only these SKUs, exactly (repeat for several)."),
]
CountriesParam = Annotated[
    list[Annotated[str, Field(pattern="^[A-Za-z]{2}$")]] | None,
    Query(alias="country", description="Only these storefronts, ISO 3166-1 alpha-2 (`US`)."),
]
DevicesParam = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
    Query(
        alias="device",
        description="Only these devices as Apple names them (`iPhone`, `iPad`, `Desktop`, …).",
    ),
]
CurrencyParam = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Reporting currency (ISO 4217, e.g. `USD`): money is also converted into "
        "it, each report date at that date's rate (the latest published on or before it), "
        "with the rates, their dates and sources; amounts without a rate are listed as "
        "`unconverted`, never dropped. Default: the workspace's reporting currency, if set.",
    ),
]
KindsParam = Annotated[
    list[UnitKind] | None,
    Query(alias="unit_kind", description="Only these unit kinds (repeat for several)."),
]
PlatformsParam = Annotated[
    list[ReportPlatform] | None,
    Query(
        alias="platform",
        description="Only these platforms, in Apple's casing (`IOS`, `MAC_OS`, `TV_OS`, "
        "`WATCH_OS`, `VISION_OS`, `UNKNOWN`; repeat for several).",
    ),
]


def _json(document: service.Payload) -> Response:
    # Straight to JSON (see service.Payload); `response_model` documents the shape.
    return Response(service.encode(document), media_type="application/json")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _kept(
    request: Request,
    settings: AppSettings,
    workspace_id: uuid.UUID,
    key: tuple[object, ...],
    read: Callable[[], Awaitable[tuple[str | None, Read]]],
    build: Callable[[Read | None], Awaitable[service.Payload]],
) -> Response:
    """The answer ``build`` makes, kept for the next identical request (see
    ``app.kit.response_cache``) under ``key`` and the version of the data it reads. ``read``
    reads that version together with what ``build`` needs besides its aggregate (the states of
    the range's dates, the rates of a reporting currency), in one statement: a kept answer
    costs that statement, a new one adds the aggregate. A version of None (rates without a
    version to check them by) builds the answer without keeping it."""
    cache = cache_of(request, settings.response_cache_mb)
    if not cache.enabled:
        return _json(await build(None))
    version, known = await read()
    if version is None:
        return _json(await build(known))
    full_key = (request.scope["route"].path, workspace_id, key, version)
    entry = cache.get(full_key)
    if entry is None:
        entry = cache.put(full_key, service.encode(await build(known)))
    return await respond(request, entry)


@router.get(
    "/v1/sales",
    response_model=SalesReport,
    responses=problem_responses(*AUTHED),
)
async def get_sales(
    request: Request,
    principal: Reader,
    settings: AppSettings,
    session: Session,
    from_date: FromParam,
    to_date: ToParam,
    granularity: Granularity = Query(
        Granularity.DAY,
        description="Calendar buckets: `day`, `week` (Monday to Sunday, like Apple's weekly "
        "reports, which are named by their week-ending Sunday), `month` — all from the daily "
        "reports — and `year`, answered from Apple's yearly files where Orchard has them "
        "(see `source`). Edge buckets may be partial (see `partial`).",
    ),
    group_by: list[str] | None = Query(
        None,
        description="Split each bucket by any of `account`, `app`, `product` (Apple "
        "Identifier), `country`, `device`, `unit_kind`, `platform`: comma-separated "
        "(`group_by=country,app`) or repeated.",
    ),
    account_ids: AccountsParam = None,
    app_ids: AppsParam = None,
    skus: SkusParam = None,
    countries: CountriesParam = None,
    devices: DevicesParam = None,
    unit_kinds: KindsParam = None,
    platforms: PlatformsParam = None,
    limit: int = Query(
        1000, ge=1, le=MAX_REPORT_LIMIT, description=f"Items per page, at most {MAX_REPORT_LIMIT}."
    ),
    cursor: CursorParam = None,
    currency: CurrencyParam = None,
) -> Response:
    """Sales measures over a range of report dates, per calendar bucket and optional groups.

    Per bucket: `first_time_downloads`, `redownloads`, `updates`, `iap_units`,
    `subscription_units` and `restores` (positive units of that kind only — a refund is never a
    download), `refunds` (refunded units of any kind), `net_units` (Apple's own units total)
    and money per currency: `proceeds` (Σ units × developer proceeds; refunds are negative)
    and `customer_sales` (Σ units × |customer price|). Currencies are never converted or mixed.

    `incomplete_dates` lists the dates (per linked account in scope) whose daily report is not
    stored yet: Apple has not published it, it failed, or it was never fetched. A day with
    no rows is zero only when it is not listed there. The range may span at most
    `ORCHARD_SALES_MAX_RANGE_DAYS` days (400 by default).

    `granularity=year` reaches further back: Apple keeps daily reports for 365 days but yearly
    reports for ten years. A calendar year lying wholly inside `from`/`to` whose yearly SALES
    file Orchard stored for an account is answered, for that account, from the yearly file
    (`source: yearly`), with the same measures and groups, and none of its days is listed in
    `incomplete_dates`. Any other year (the current year, a year cut by `from`/`to`, a yearly
    file not stored yet) comes from the daily reports (`source: daily`), its missing days
    listed in `incomplete_dates`; an account-year is never counted from both. With
    `granularity=year` the range may span up to 11 calendar years. With a reporting currency,
    a yearly file's money is converted at the rate of the year's last day (the file does not
    split money by day).
    """
    dimensions = query.parse_dimensions(group_by, Dimension)
    filters = _filters(account_ids, app_ids, skus, countries, devices, unit_kinds, platforms)
    if granularity is Granularity.YEAR:
        report = await yearly.sales_report_years(
            session,
            principal.workspace_id,
            span=yearly.year_range(from_date, to_date, settings.sales_max_range_days),
            group_by=dimensions,
            filters=filters,
            paging=PageRequest(limit, cursor),
            now=_now(),
            currency=currency,
            default_currency=principal.reporting_currency,
            max_rate_age_days=settings.fx_max_rate_age_days,
        )
        return _json(report)
    span = query.date_range(from_date, to_date, settings.sales_max_range_days)
    now = _now()

    def build(known: service.Known[list[dict[str, object]]] | None) -> Awaitable[service.Payload]:
        return service.sales_report(
            session,
            principal.workspace_id,
            span=span,
            granularity=granularity,
            group_by=dimensions,
            filters=filters,
            paging=PageRequest(limit, cursor),
            now=now,
            currency=currency,
            default_currency=principal.reporting_currency,
            max_rate_age_days=settings.fx_max_rate_age_days,
            known=known,
        )

    if not version_repository.worth_keeping([d.value for d in dimensions], filters):
        return _json(await build(None))
    target = convert.target_currency(currency, principal.reporting_currency)

    def read() -> Awaitable[tuple[str | None, service.Known[list[dict[str, object]]]]]:
        return service.kept_report_states(
            session,
            principal.workspace_id,
            span=span,
            granularity=granularity,
            group_by=dimensions,
            filters=filters,
            now=now,
            target=target,
            max_rate_age_days=settings.fx_max_rate_age_days,
        )

    key = (span, granularity, tuple(dimensions), _filter_key(filters), limit, cursor,
           calendar.latest_daily(now), target, settings.fx_max_rate_age_days)  # fmt: skip
    return await _kept(request, settings, principal.workspace_id, key, read, build)


def _filter_key(filters: SalesFilter) -> tuple[tuple[object, ...], ...]:
    return tuple(tuple(getattr(filters, f.name)) for f in dataclasses.fields(filters))


def _filters(
    account_ids: list[uuid.UUID] | None,
    app_ids: list[uuid.UUID] | None,
    skus: list[str] | None,
    countries: list[str] | None,
    devices: list[str] | None,
    unit_kinds: list[UnitKind] | None,
    platforms: list[ReportPlatform] | None,
) -> SalesFilter:
    return service.normalise_filter(
        account_ids=account_ids,
        app_ids=app_ids,
        skus=skus,
        countries=countries,
        devices=devices,
        unit_kinds=unit_kinds,
        platforms=platforms,
    )


@router.get(
    "/v1/sales/rows",
    responses=problem_responses(*AUTHED),
)
async def list_sales_rows(
    principal: Reader,
    session: Session,
    from_date: Annotated[
        Day | None, Query(alias="from", description="First report date (Pacific).")
    ] = None,
    to_date: Annotated[
        Day | None, Query(alias="to", description="Last report date, inclusive (Pacific).")
    ] = None,
    frequency: Frequency = Query(
        Frequency.DAILY, description="Which of Apple's reports: daily, weekly, monthly, yearly."
    ),
    account_ids: AccountsParam = None,
    app_ids: AppsParam = None,
    skus: SkusParam = None,
    countries: CountriesParam = None,
    devices: DevicesParam = None,
    unit_kinds: KindsParam = None,
    platforms: PlatformsParam = None,
    *,
    paging: Paging,
) -> Page[SalesRowRead]:
    """The normalised lines of Apple's SALES/SUMMARY reports, for consumers that aggregate
    themselves, ordered by `report_date` then `id`.

    Each row has Apple's columns, the derived `unit_kind`, `platform` and `app_id`, the
    per-unit money as Apple wrote it (`developer_proceeds`, `customer_price`, each with its
    currency) and the line amounts `proceeds` (units × developer proceeds) and
    `customer_sales` (units × |customer price|). Refunds are rows with negative units.
    """
    return await service.list_rows(
        session,
        principal.workspace_id,
        frequency=frequency.value,
        start=from_date,
        end=to_date,
        filters=_filters(account_ids, app_ids, skus, countries, devices, unit_kinds, platforms),
        paging=paging,
    )


@router.get(
    "/v1/apps/{app_id}/sales/summary",
    response_model=AppSalesSummary,
    responses=problem_responses(*AUTHED, 404),
)
async def get_app_sales_summary(
    request: Request,
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    settings: AppSettings,
    from_date: FromParam,
    to_date: ToParam,
    currency: CurrencyParam = None,
) -> Response:
    """A ready-made dashboard card for one app: the sales measures (see `GET /v1/sales`) over
    the range, and a daily series with one entry per day, each with its availability `state`
    (a day is zero only when `published` or `no_data`)."""
    span = query.date_range(from_date, to_date, settings.sales_max_range_days)
    now = _now()

    def build(known: service.Known[query.AppDays] | None) -> Awaitable[service.Payload]:
        return service.app_summary(
            session,
            principal.workspace_id,
            app_id,
            span=span,
            now=now,
            currency=currency,
            default_currency=principal.reporting_currency,
            max_rate_age_days=settings.fx_max_rate_age_days,
            known=known,
        )

    target = convert.target_currency(currency, principal.reporting_currency)

    def read() -> Awaitable[tuple[str | None, service.Known[query.AppDays]]]:
        return service.kept_app_states(
            session,
            principal.workspace_id,
            app_id,
            span=span,
            now=now,
            target=target,
            max_rate_age_days=settings.fx_max_rate_age_days,
        )

    key = (app_id, span, calendar.latest_daily(now), target, settings.fx_max_rate_age_days)
    return await _kept(request, settings, principal.workspace_id, key, read, build)
