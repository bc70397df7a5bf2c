"""Apple Ads (Search Ads): linked credentials, campaigns, performance."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import pydantic_core
from fastapi import APIRouter, Query, Response, status

from app.auth.deps import Admin, Reader
from app.errors import ValidationFailed
from app.kit.dates import Day
from app.kit.deps import AppSettings, Session
from app.kit.pagination import CursorParam, Page, PageRequest, Paging
from app.kit.problems import AUTHED, problem_responses
from app.models import SearchAdsAccount, SearchAdsCredential
from app.searchads import performance, reads, repository, service
from app.searchads.deps import AdsDeps
from app.searchads.schemas import (
    AdAccountRead,
    AppSearchAdsSummary,
    CampaignRead,
    Granularity,
    SearchAdsCredentialCreate,
    SearchAdsCredentialRead,
    SearchAdsCredentialUpdate,
    SearchAdsPerformanceReport,
)

router = APIRouter(prefix="/v1/search-ads", tags=["search-ads"])

CurrencyParam = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Reporting currency (ISO 4217, e.g. `USD`): money is also converted into "
        "it, each report date (the ad account's day) at that date's rate (the latest "
        "published on or before it), an aggregate day by day then summed, with the rates, "
        "their dates and sources; amounts without a rate are listed as `unconverted`, never "
        "dropped. Default: the workspace's reporting currency, if set.",
    ),
]


def _read(
    credential: SearchAdsCredential, accounts: list[SearchAdsAccount]
) -> SearchAdsCredentialRead:
    return SearchAdsCredentialRead(
        id=credential.id,
        name=credential.name,
        client_id=credential.client_id,
        team_id=credential.team_id,
        key_id=credential.key_id,
        api_version="v5" if credential.api_version == "v5" else "v1",
        key_fingerprint=credential.key_fingerprint,
        credential_status=credential.credential_status,
        status_reason=credential.status_reason,
        status_code=credential.status_code,
        last_verified_at=credential.last_verified_at,
        created_at=credential.created_at,
        updated_at=credential.updated_at,
        ad_accounts=[
            AdAccountRead(
                ad_account_id=a.ad_account_id,
                org_id=a.org_id,
                name=a.name,
                currency=a.currency,
                time_zone=a.time_zone,
                roles=list(a.roles or []),
                app_store=repository.is_app_store(a),
                sync_enabled=a.sync_enabled,
                visible=a.visible,
                campaigns_synced_at=a.campaigns_synced_at,
            )
            for a in accounts
            if a.credential_id == credential.id
        ],
    )


async def _one(session: Session, credential: SearchAdsCredential) -> SearchAdsCredentialRead:
    await session.refresh(credential)
    return _read(credential, await repository.accounts_of(session, [credential.id]))


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*AUTHED, 400, 409, 413),
)
async def link_search_ads_account(
    body: SearchAdsCredentialCreate, principal: Admin, session: Session, deps: AdsDeps
) -> SearchAdsCredentialRead:
    """Link an Apple Ads API user's key (admin).

    The key is validated (PEM, EC P-256), then verified live: Orchard mints the ES256 client
    secret, fetches an access token and lists the ad accounts the user can see (`/acls`), with
    their currencies and time zones. A key Apple rejects answers 422 `credentials_rejected`
    and nothing is stored; a user without an API role is stored as `missing_role`. Every App
    Store ad account syncs unless `sync_ad_accounts` names a choice. `api_version` `v5` is
    refused (422 `api_version_refused`): the Campaign Management API is shut off on
    2027-01-26. The private key is stored encrypted and never returned.
    """
    credential = await service.link(session, deps, principal.workspace_id, body)
    return await _one(session, credential)


@router.get("/accounts", responses=problem_responses(*AUTHED))
async def list_search_ads_accounts(
    principal: Reader, session: Session, *, paging: Paging
) -> Page[SearchAdsCredentialRead]:
    """The workspace's linked Apple Ads credentials, oldest first, with their ad accounts and
    credential health."""
    rows, next_cursor = await repository.list_credentials(session, principal.workspace_id, paging)
    accounts = await repository.accounts_of(session, [c.id for c in rows])
    return Page(items=[_read(c, accounts) for c in rows], next_cursor=next_cursor)


@router.get("/accounts/{credential_id}", responses=problem_responses(*AUTHED, 404))
async def get_search_ads_account(
    credential_id: uuid.UUID, principal: Reader, session: Session
) -> SearchAdsCredentialRead:
    """One linked Apple Ads credential with its ad accounts and status."""
    credential = await repository.get_credential(session, principal.workspace_id, credential_id)
    return _read(credential, await repository.accounts_of(session, [credential.id]))


@router.patch("/accounts/{credential_id}", responses=problem_responses(*AUTHED, 400, 404, 413))
async def update_search_ads_account(
    credential_id: uuid.UUID,
    body: SearchAdsCredentialUpdate,
    principal: Admin,
    session: Session,
) -> SearchAdsCredentialRead:
    """Rename, or choose the ad accounts to sync (`sync_ad_accounts`: the full list of ad
    account ids; the others stop syncing, their stored data stays)."""
    credential = await service.update(session, principal.workspace_id, credential_id, body)
    return await _one(session, credential)


@router.delete(
    "/accounts/{credential_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*AUTHED, 404),
)
async def unlink_search_ads_account(
    credential_id: uuid.UUID, principal: Admin, session: Session
) -> None:
    """Unlink an Apple Ads credential: its private key is destroyed at once and its ad
    accounts stop syncing. Synced performance data stays."""
    await service.unlink(session, principal.workspace_id, credential_id)


@router.post("/accounts/{credential_id}/verify", responses=problem_responses(*AUTHED, 404))
async def verify_search_ads_account(
    credential_id: uuid.UUID, principal: Admin, session: Session, deps: AdsDeps
) -> SearchAdsCredentialRead:
    """Verify the key with Apple Ads now: refresh its status and the ad accounts it sees."""
    credential = await repository.get_credential(
        session, principal.workspace_id, credential_id, for_update=True
    )
    credential = await service.reverify(session, deps, credential)
    return await _one(session, credential)


@router.get("/campaigns", responses=problem_responses(*AUTHED))
async def list_search_ads_campaigns(
    principal: Reader,
    session: Session,
    *,
    paging: Paging,
    status: Annotated[
        Literal["ENABLED", "PAUSED"] | None, Query(description="Only campaigns in this status.")
    ] = None,
) -> Page[CampaignRead]:
    """Campaigns of the workspace's synced ad accounts (snapshot), ordered by ad account and
    campaign id: status, daily budget (in the ad account's currency), targeted countries and
    the promoted app (`adam_id`; `app_id` when a linked App Store Connect account lists it)."""
    items, next_cursor = await reads.campaigns(session, principal.workspace_id, paging, status)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/performance",
    response_model=SearchAdsPerformanceReport,
    responses=problem_responses(*AUTHED),
)
async def get_search_ads_performance(
    principal: Reader,
    session: Session,
    from_date: Annotated[
        Day, Query(alias="from", description="First day (in each ad account's time zone).")
    ],
    to_date: Annotated[Day, Query(alias="to", description="Last day, inclusive.")],
    granularity: Annotated[
        Granularity,
        Query(description="`day`, `week` (Monday first), `month`, or `total` over the range."),
    ] = "day",
    group_by: Annotated[
        list[str] | None,
        Query(
            description="Split by any of `org` (the ad account), `campaign`, `ad_group`, "
            "`keyword`, `search_term` (search-term reports: ad account time zone only, "
            "low-volume terms aggregated by Apple), `app`, `country`: comma-separated or "
            "repeated."
        ),
    ] = None,
    ad_account_ids: Annotated[
        list[int] | None, Query(alias="ad_account_id", description="Only these ad accounts.")
    ] = None,
    campaign_ids: Annotated[
        list[int] | None, Query(alias="campaign_id", description="Only these campaigns.")
    ] = None,
    app_ids: Annotated[
        list[uuid.UUID] | None, Query(alias="app_id", description="Only these Orchard apps.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="Items per page.")] = 1000,
    cursor: CursorParam = None,
    currency: CurrencyParam = None,
    *,
    settings: AppSettings,
) -> Response:
    """Apple Search Ads performance per period and group, from Apple's DAILY reports.

    Days are the ad account's own time zone days and amounts its own currency: every item
    carries its `currency`, and rows of different currencies are never added together;
    `currency=` (or the workspace's default) adds each amount converted into one reporting
    currency with its rates, and `spend_total_converted` per row.
    Measures: `spend`, `impressions`, `taps`, `tap_installs` (30-day tap-through) and
    `view_installs` (1-day view-through) as Apple splits them, `installs` (their sum),
    `new_downloads`, `redownloads`, and `ttr`, `conversion_rate`, `cpt`, `cpa` computed from
    the sums (never averaged averages). `incomplete_dates` lists the days not yet fetched for
    every syncing ad account: missing, not zero. Recent days may still change (Apple restates
    them; Orchard re-fetches them on every pass).
    """
    document = await performance.performance(
        session,
        principal.workspace_id,
        start=from_date,
        end=to_date,
        granularity=granularity,
        group_by=parse_group_by(group_by),
        ad_account_ids=ad_account_ids,
        campaign_ids=campaign_ids,
        app_ids=app_ids,
        paging=PageRequest(limit, cursor),
        currency=currency,
        default_currency=principal.reporting_currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )
    # Straight to JSON (see performance.Payload); `response_model` documents the shape.
    return Response(pydantic_core.to_json(document), media_type="application/json")


def parse_group_by(values: list[str] | None) -> list[str]:
    known = ("org", "campaign", "ad_group", "keyword", "search_term", "app", "country")
    chosen: set[str] = set()
    for value in values or []:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            if name not in known:
                raise ValidationFailed.single(
                    "query.group_by",
                    f"unknown dimension '{name[:40]}' (known: {', '.join(known)})",
                    "enum",
                )
            chosen.add(name)
    return [name for name in known if name in chosen]


apps_router = APIRouter(tags=["search-ads"])


@apps_router.get("/v1/apps/{app_id}/search-ads/summary", responses=problem_responses(*AUTHED, 404))
async def get_app_search_ads_summary(
    app_id: uuid.UUID,
    principal: Reader,
    session: Session,
    from_date: Annotated[Day, Query(alias="from", description="First day.")],
    to_date: Annotated[Day, Query(alias="to", description="Last day, inclusive.")],
    currency: CurrencyParam = None,
    *,
    settings: AppSettings,
) -> AppSearchAdsSummary:
    """An app's Search Ads spend, installs and CPA beside its App Store proceeds over the same
    dates, per currency (never added across currencies); with `currency=` (or the
    workspace's default) each amount is also converted, day by day, with converted totals.

    `proceeds_per_ad_spend` divides proceeds by spend where both are in one currency. It is
    an attribution-free ratio of two totals, **not ROAS**: proceeds include every download,
    not only those from ads. Ad days are the ad account's time zone days; proceeds days are
    Apple's Pacific report days. Converted, each at its own day's rate.
    """
    return await reads.app_summary(
        session,
        principal.workspace_id,
        app_id,
        from_date,
        to_date,
        currency=currency,
        default_currency=principal.reporting_currency,
        max_rate_age_days=settings.fx_max_rate_age_days,
    )
