"""Sync status, backfill requests and per-date availability."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import Reader, Writer
from app.credentials import lookup
from app.kit.dates import Day
from app.kit.deps import Session
from app.kit.pagination import Page, Paging
from app.kit.problems import AUTHED, problem_responses
from app.sync import on_demand, status_pages
from app.sync import status as sync_status_service
from app.sync.deps import Registry
from app.sync.schemas import (
    Availability,
    PublicSyncStatusEntry,
    SyncAccepted,
    SyncRequest,
    SyncRequestProgress,
    SyncStatusEntry,
)

router = APIRouter(tags=["sync"])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get(
    "/v1/sync-status",
    operation_id="list_sync_status",
    responses=problem_responses(*AUTHED),
)
async def get_sync_status(
    principal: Reader,
    session: Session,
    registry: Registry,
    *,
    paging: Paging,
) -> Page[SyncStatusEntry]:
    """Health of every dataset of every linked account in the workspace.

    One entry per (account, dataset): `state` is `ok`, `running`, `lagging`, `failing`,
    `paused_credentials` or `disabled_missing_capability`, with the reason, last success and
    attempt, the next due time, the lag behind what Apple has published, unit counts, the last
    error and the key's remaining hourly request budget. Ordered by account (oldest first),
    then dataset name; `limit` counts entries.
    Public App Store data (charts, star ratings) belongs to no account: see
    `/v1/sync-status/public`.
    """
    return await status_pages.workspace_page(
        session, registry, principal.workspace_id, paging, _now()
    )


@router.get(
    "/v1/sync-status/public",
    operation_id="list_public_sync_status",
    responses=problem_responses(*AUTHED),
)
async def list_public_sync_status(
    principal: Reader, session: Session, registry: Registry, *, paging: Paging
) -> Page[PublicSyncStatusEntry]:
    """Health of the public App Store datasets (chart ranks, star ratings), which Orchard
    fetches once for every workspace without any App Store Connect account.

    Besides the dataset's own state, `sources` lists the feeds and storefronts this
    workspace's data comes from: a chart feed that stops answering is `unavailable` here (and
    its ranks show as unavailable, never as zero) until it answers again.
    """
    return await status_pages.public_page(session, registry, principal.workspace_id, paging, _now())


@router.get(
    "/v1/accounts/{account_id}/sync-status",
    operation_id="list_account_sync_status",
    responses=problem_responses(*AUTHED, 404),
)
async def list_account_sync_status(
    account_id: uuid.UUID,
    principal: Reader,
    session: Session,
    registry: Registry,
    *,
    paging: Paging,
) -> Page[SyncStatusEntry]:
    """Sync status of one account, one entry per dataset by dataset name (see
    `/v1/sync-status`)."""
    account = await lookup.get_account(session, principal.workspace_id, account_id)
    return await status_pages.account_page(session, registry, account, paging, _now())


@router.post(
    "/v1/accounts/{account_id}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(*AUTHED, 400, 404, 413),
)
async def request_sync(
    account_id: uuid.UUID,
    body: SyncRequest,
    principal: Writer,
    session: Session,
    registry: Registry,
) -> SyncAccepted:
    """Refresh now: every unit of the named datasets runs again, ahead of routine work and
    backfills, per-app units included (e.g. `reviews` refreshes every app of the account).

    For dated datasets `from`/`to` pick report dates (bounded by what Apple keeps: 365 days
    for daily reports; the newest 31 dates run first, the rest at backfill priority); without
    them the latest periods refresh. Dates already stored are fetched again (a re-sync
    replaces a day atomically). Units already queued or running are not duplicated: a unit
    running now runs once more after it ends, so the data is at least as new as the request.
    Follow progress at `GET /v1/sync-requests/{sync_request_id}`."""
    account = await lookup.get_account(session, principal.workspace_id, account_id)
    return await on_demand.request_account_sync(session, registry, account, body, _now())


@router.post(
    "/v1/sync",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="request_workspace_sync",
    responses=problem_responses(*AUTHED, 400, 413),
)
async def request_workspace_sync(
    body: SyncRequest, principal: Writer, session: Session, registry: Registry
) -> SyncAccepted:
    """Refresh now, for every linked account of the workspace (see
    `POST /v1/accounts/{id}/sync`). An account that cannot sync a dataset (a missing role,
    broken credentials) is skipped for it and listed in `skipped` with the reason."""
    accounts = await lookup.workspace_accounts(session, principal.workspace_id)
    return await on_demand.request_workspace_sync(
        session, registry, principal.workspace_id, accounts, body, _now()
    )


@router.get(
    "/v1/sync-requests/{sync_request_id}",
    responses=problem_responses(*AUTHED, 404),
)
async def get_sync_request(
    sync_request_id: uuid.UUID, principal: Reader, session: Session
) -> SyncRequestProgress:
    """Progress of an on-demand refresh: its units by state, overall and per dataset, and
    `finished_at` once every unit has run since the request (for "refreshing… done")."""
    return await on_demand.progress(session, principal.workspace_id, sync_request_id)


@router.get(
    "/v1/accounts/{account_id}/availability",
    responses=problem_responses(*AUTHED, 404),
)
async def get_availability(
    account_id: uuid.UUID,
    principal: Reader,
    session: Session,
    registry: Registry,
    dataset: Annotated[str, Query(description="A dated dataset, e.g. `sales_daily`.")],
    # The Annotated form: with `from_date: Day = Query(...)` FastAPI drops Day's range check.
    from_date: Annotated[Day, Query(alias="from", description="First report date (Pacific).")],
    to_date: Annotated[Day, Query(alias="to", description="Last report date (Pacific).")],
) -> Availability:
    """Per report date: `published`, `no_data` (Apple: no sales that day — a real zero),
    `not_yet_published`, `expired`, `failed` or `not_fetched`, with fetch time and row count.

    App Analytics (`dataset=analytics_instances`): one entry per app × report × date, with the
    app, the report, the served vintage's processing date and how many vintages Orchard holds
    (restated dates have several); a date Apple withheld (fewer than 5 users) is `withheld`
    and one before Apple's first instance is `not_covered` — neither is a zero."""
    account = await lookup.get_account(session, principal.workspace_id, account_id)
    return await sync_status_service.availability(
        session, registry, account, dataset, from_date, to_date
    )
