"""The Apple Ads datasets: units with leases through the sync engine's public-unit machinery
(a unit belongs to one Search Ads ad account, not to an App Store Connect account).

* ``search_ads_campaigns`` — campaigns and ad groups of an ad account (snapshot).
* ``search_ads_campaign_daily`` / ``search_ads_ad_group_daily`` / ``search_ads_keyword_daily``
  — DAILY reports by country/region in the ad account's time zone (ORTZ), one unit per ad
  account and window of ``ORCHARD_SEARCHADS_WINDOW_DAYS`` days (v1 DAILY allows ≤ 90 days,
  starting ≤ 90 days back). Windows holding one of the last ``ORCHARD_SEARCHADS_RESTATE_DAYS``
  days run again every cadence and re-fetch those days (Apple restates them: tap installs
  attribute over 30 days); each fetched range replaces its days atomically.

Every request spends the credential's budget (:mod:`.budget`). A 429 defers the unit until
``Retry-After``; a rejected credential is marked ``revoked_or_invalid`` and its units stop (no
retries) until it verifies again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from sqlalchemy import update

from app.asc.searchads.auth import TokenRejected, TokenUnavailable
from app.asc.searchads.client import (
    AdsApiError,
    AdsForbidden,
    AdsRateLimited,
    AdsUnauthorized,
    AdsUnavailable,
    V1Backend,
)
from app.asc.searchads.parsing import AdGroupInfo, CampaignInfo, Level
from app.config import Settings
from app.credentials.crypto import load_cipher
from app.models import SearchAdsAccount, SearchAdsCredential
from app.reports import partitions
from app.searchads import clients, repository
from app.searchads.budget import CredentialBudget
from app.searchads.service import REMEDY, RETIRED, REVOKED
from app.sync.contract import (
    DeferUnit,
    PermanentUnitError,
    PlannedUnit,
    Priority,
    PublicDataset,
    PublicPlanContext,
    PublicUnitContext,
    SourceQuery,
    SourceReporter,
    SourceStatus,
    UnitResult,
)

CAMPAIGNS = "search_ads_campaigns"
REPORTS: dict[Level, str] = {
    "campaign": "search_ads_campaign_daily",
    "ad_group": "search_ads_ad_group_daily",
    "keyword": "search_ads_keyword_daily",
    "search_term": "search_ads_search_term_daily",
}
LANE = "searchads"
MAX_DAYS_BACK = 89  # v1 DAILY: start ≤ 90 days ago (kept one day inside)
T = TypeVar("T")


class CredentialRejected(PermanentUnitError):
    code = "credentials_rejected"


class AdAccountGone(PermanentUnitError):
    code = "no_access"


class RequestRefused(PermanentUnitError):
    code = "request_refused"


def account_today(account: SearchAdsAccount, now: dt.datetime) -> dt.date:
    try:
        zone = ZoneInfo(account.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def window_start(day: dt.date, days: int) -> dt.date:
    return dt.date.fromordinal(day.toordinal() - day.toordinal() % days)


def unit_key(account_id: uuid.UUID, start: dt.date | None = None) -> str:
    return account_id.hex if start is None else f"{account_id.hex}:{start.isoformat()}"


def parse_key(key: str) -> tuple[uuid.UUID, dt.date | None]:
    account, _, start = key.partition(":")
    return uuid.UUID(hex=account), dt.date.fromisoformat(start) if start else None


# --- planning -----------------------------------------------------------------------------


async def plan_campaigns(ctx: PublicPlanContext) -> list[PlannedUnit]:
    accounts = await repository.syncable_accounts(ctx.session)
    return [PlannedUnit(unit_key(a.id), refresh_after=ctx.cadence) for a, _ in accounts]


def report_windows(
    settings: Settings, today: dt.date, since: dt.date | None = None
) -> list[tuple[dt.date, bool]]:
    """(window start, is recent) for the backfill range ending today."""
    size = settings.searchads_window_days
    first = max(
        since or today - dt.timedelta(days=settings.searchads_backfill_days - 1),
        today - dt.timedelta(days=MAX_DAYS_BACK),
    )
    recent_from = today - dt.timedelta(days=max(settings.searchads_restate_days, 1))
    windows = []
    start = window_start(first, size)
    while start <= today:
        end = start + dt.timedelta(days=size - 1)
        windows.append((start, end >= recent_from))
        start = end + dt.timedelta(days=1)
    return windows


async def plan_reports(settings: Settings, ctx: PublicPlanContext) -> list[PlannedUnit]:
    units = []
    for account, _ in await repository.syncable_accounts(ctx.session):
        if account.campaigns_synced_at is None:
            continue  # reports need the campaign ids: planned after the first snapshot
        today = account_today(account, ctx.now)
        for start, recent in report_windows(settings, today):
            # Old windows are a backfill: routine work (anyone's) overtakes them.
            units.append(
                PlannedUnit(
                    unit_key(account.id, start),
                    priority=Priority.ROUTINE if recent else Priority.BACKFILL,
                    refresh_after=ctx.cadence if recent else None,
                )
            )
    return units


# --- running ------------------------------------------------------------------------------


def _usable(account: SearchAdsAccount, credential: SearchAdsCredential) -> bool:
    return (
        account.sync_enabled
        and account.visible
        and not (credential.api_version == "v5" and credential.credential_status == RETIRED)
        and credential.unlinked_at is None
        and credential.encrypted_private_key is not None
        and credential.credential_status in ("active", "unverified")
    )


async def _mark(ctx: PublicUnitContext, credential_id: uuid.UUID, code: str | None) -> None:
    """Record a rejected credential at once (its own transaction: the unit's rolls back)."""
    async with ctx.sessions() as session, session.begin():
        await session.execute(
            update(SearchAdsCredential)
            .where(SearchAdsCredential.id == credential_id)
            .values(
                credential_status=REVOKED,
                status_reason=REMEDY[REVOKED],
                status_code=code,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )


async def _retire(ctx: PublicUnitContext, credential_id: uuid.UUID) -> None:
    """v5 is shut off: the credential stops (no request is sent) and says what to do."""
    async with ctx.sessions() as session, session.begin():
        await session.execute(
            update(SearchAdsCredential)
            .where(SearchAdsCredential.id == credential_id)
            .values(
                credential_status=RETIRED,
                status_reason=REMEDY[RETIRED],
                status_code="V5_SUNSET",
                updated_at=dt.datetime.now(dt.UTC),
            )
        )


async def _hide(ctx: PublicUnitContext, account_id: uuid.UUID) -> None:
    async with ctx.sessions() as session, session.begin():
        await session.execute(
            update(SearchAdsAccount).where(SearchAdsAccount.id == account_id).values(visible=False)
        )


async def _call(
    ctx: PublicUnitContext,
    account: SearchAdsAccount,
    budget: CredentialBudget,
    work: Callable[[], Awaitable[T]],
) -> T:
    """Run Apple calls, turning Apple's answers into what the engine understands."""
    try:
        return await work()
    except AdsRateLimited as exc:
        until = await budget.throttled(exc.retry_after)
        raise DeferUnit(until, "Apple Ads answered 429") from None
    except (TokenRejected, AdsUnauthorized) as exc:
        await _mark(ctx, account.credential_id, exc.code)
        raise CredentialRejected(
            "Apple Ads rejected the credential; its units stop until it verifies again"
        ) from None
    except AdsForbidden:
        await _hide(ctx, account.id)
        raise AdAccountGone("the credential no longer has access to this ad account") from None
    except (AdsUnavailable, TokenUnavailable) as exc:
        raise httpx.HTTPError(f"Apple Ads unavailable ({exc.status})") from None
    except AdsApiError as exc:
        raise RequestRefused(f"Apple Ads refused the request: {exc.code}") from None


async def _open(
    settings: Settings, ctx: PublicUnitContext, account_id: uuid.UUID
) -> tuple[SearchAdsAccount, V1Backend, CredentialBudget] | None:
    found = await repository.account_with_credential(ctx.session, account_id)
    if found is None or not _usable(*found):
        return None
    account, credential = found
    if credential.api_version == "v5" and clients.v5_retired(settings, ctx.now.date()):
        await _retire(ctx, credential.id)
        return None
    budget = CredentialBudget(
        ctx.sessions, credential.id, reserve=settings.searchads_budget_reserve
    )
    backend = clients.backend(
        ctx.http,
        settings,
        clients.credentials_of(load_cipher(settings), credential),
        credential.id,
        on_rate=budget.record,
        before_send=budget.check,
        api_version=credential.api_version,
    )
    return account, backend, budget


async def run_campaigns(settings: Settings, ctx: PublicUnitContext) -> UnitResult:
    account_id, _ = parse_key(ctx.unit_key)
    opened = await _open(settings, ctx, account_id)
    if opened is None:
        return UnitResult(detail="the ad account does not sync now")
    account, backend, budget = opened
    ad_account_id = account.ad_account_id

    async def fetch() -> tuple[list[CampaignInfo], list[AdGroupInfo]]:
        campaigns = await backend.campaigns(ad_account_id)
        ids = [c.campaign_id for c in campaigns]
        groups = await backend.ad_groups(ad_account_id, ids) if ids else []
        return campaigns, groups

    campaigns, groups = await _call(ctx, account, budget, fetch)
    await repository.store_campaigns(ctx.session, account, campaigns, groups, ctx.now)
    return UnitResult(rows=len(campaigns) + len(groups), notes={"requests": backend.requests})


async def run_report(settings: Settings, level: Level, ctx: PublicUnitContext) -> UnitResult:
    account_id, start = parse_key(ctx.unit_key)
    assert start is not None
    opened = await _open(settings, ctx, account_id)
    if opened is None:
        return UnitResult(detail="the ad account does not sync now")
    account, backend, budget = opened
    today = account_today(account, ctx.now)
    end = min(start + dt.timedelta(days=settings.searchads_window_days - 1), today)
    start = max(start, today - dt.timedelta(days=MAX_DAYS_BACK))
    if end < start:
        return UnitResult(detail="the window is out of Apple's DAILY range")
    # Days fetched before and older than the restatement window are final: skip them.
    fetched = await repository.fetched_days(ctx.session, account.id, level, start, end)
    recent_from = today - dt.timedelta(days=settings.searchads_restate_days)
    while start <= end and start in fetched and start < recent_from:
        start += dt.timedelta(days=1)
    if start > end:
        return UnitResult(detail="every day of the window is final and stored")
    # The window's month leaves, before the unit writes (new ones in short transactions).
    for month in _months(start, end):
        await partitions.ensure_leaf(ctx.session, "searchads_daily", "DAILY", month)
    campaign_ids = await repository.campaign_ids(ctx.session, account.id)
    if not campaign_ids:
        rows = await repository.replace_days(ctx.session, account, level, start, end, [], ctx.now)
        return UnitResult(rows=rows, detail="no App Store campaigns")
    ad_account_id, first = account.ad_account_id, start
    lines = await _call(
        ctx,
        account,
        budget,
        partial(backend.daily_report, ad_account_id, level, campaign_ids, first, end),
    )
    rows = await repository.replace_days(ctx.session, account, level, start, end, lines, ctx.now)
    return UnitResult(rows=rows, notes={"requests": backend.requests})


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of each month ``start..end`` touches."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def datasets(settings: Settings) -> list[PublicDataset]:
    return [
        PublicDataset(
            CAMPAIGNS,
            dt.timedelta(hours=6),
            plan_campaigns,
            partial(run_campaigns, settings),
            lane=LANE,
            sources=_sources(None),
        ),
        *[
            PublicDataset(
                name,
                dt.timedelta(hours=6),
                partial(plan_reports, settings),
                partial(run_report, settings, level),
                lane=LANE,
                sources=_sources(level),
            )
            for level, name in REPORTS.items()
        ],
    ]


def _sources(level: str | None) -> SourceReporter:
    """Per workspace: each of its syncing ad accounts as a source of the dataset (the dataset's
    own counts are every workspace's together)."""

    def read(
        rows: list[tuple[Any, ...]], now: dt.datetime, cadence: dt.timedelta
    ) -> list[SourceStatus]:
        sources = []
        for account_id, status, reason, last in sorted(rows, key=lambda row: row[0]):
            if status not in ("active", "unverified"):
                state, detail = "paused_credentials", reason
            elif last is None:
                state, detail = "pending", "not fetched yet"
            elif now - last > 2 * cadence:
                state, detail = "lagging", "not fetched within twice its cadence"
            else:
                state, detail = "ok", None
            sources.append(
                SourceStatus(str(account_id), state, detail, checked_at=last, last_ok_at=last)
            )
        return sources

    def report(workspace_id: uuid.UUID) -> SourceQuery:
        sql, params = repository.workspace_sources(workspace_id, level)
        return SourceQuery(sql, params, read)

    return report
