"""Linked App Store Connect accounts."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Query, Request, status

from app.accounts import service
from app.accounts.hooks import BeforeUnlink
from app.accounts.schemas import (
    AccountCreate,
    AccountDetail,
    AccountRead,
    AccountUpdate,
    AppleWebhooksRead,
    PreviousKey,
)
from app.auth.deps import Reader, Writer
from app.credentials import lookup
from app.credentials.deps import AscClients
from app.kit.deps import AppSettings, Session
from app.kit.pagination import Page, Paging, page_of, validate_items
from app.kit.problems import AUTHED, problem_responses
from app.models import AscAccount
from app.resources.apple_webhooks import account_webhooks
from app.sync.deps import Registry

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

VerifyParam = Query(
    True, description="Check the key with App Store Connect now (false: store it unverified)."
)


async def _detail(session: Session, account: AscAccount) -> AccountDetail:
    history = await service.previous_keys(session, account)
    hooks = await account_webhooks(session, account.id)
    return AccountDetail(
        **AccountRead.model_validate(account).model_dump(),
        previous_keys=[PreviousKey.model_validate(item) for item in history],
        apple_webhooks=AppleWebhooksRead.model_validate(hooks),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*AUTHED, 400, 409, 413, 503),
)
async def link_account(
    body: AccountCreate,
    principal: Writer,
    session: Session,
    clients: AscClients,
    registry: Registry,
    settings: AppSettings,
    verify: bool = VerifyParam,
) -> AccountDetail:
    """Link an App Store Connect API key.

    The key is validated (PEM PKCS#8 EC P-256), then verified live with Apple and its
    capabilities probed (sales, finance, reviews, TestFlight, users). A key Apple rejects
    answers 422 `credentials_rejected` with Apple's code in `apple_code`, and nothing is stored.
    The private key is stored encrypted and never returned. The account's first sync is
    queued at once (dated datasets back `ORCHARD_INITIAL_BACKFILL_DAYS`, default 90).
    """
    account = await service.link_account(
        session,
        clients,
        registry,
        principal.workspace_id,
        body,
        verify=verify,
        initial_backfill=dt.timedelta(days=settings.initial_backfill_days),
    )
    return await _detail(session, account)


@router.get(
    "",
    responses=problem_responses(*AUTHED),
)
async def list_accounts(
    principal: Reader,
    session: Session,
    *,
    paging: Paging,
) -> Page[AccountRead]:
    """List the workspace's linked accounts, oldest first, with credential health."""
    accounts, next_cursor = await lookup.list_accounts(
        session, principal.workspace_id, paging=paging
    )
    return page_of(AccountRead, validate_items(AccountRead, accounts), next_cursor)


@router.get(
    "/{account_id}",
    responses=problem_responses(*AUTHED, 404),
)
async def get_account(account_id: uuid.UUID, principal: Reader, session: Session) -> AccountDetail:
    """One linked account with its credential status, capabilities and key history."""
    account = await lookup.get_account(session, principal.workspace_id, account_id)
    return await _detail(session, account)


@router.patch(
    "/{account_id}",
    responses=problem_responses(*AUTHED, 400, 404, 409, 413, 503),
)
async def update_account(
    account_id: uuid.UUID,
    body: AccountUpdate,
    principal: Writer,
    clients: AscClients,
    session: Session,
    verify: bool = VerifyParam,
) -> AccountDetail:
    """Rename, change the vendor number, or rotate the key.

    A new key or vendor number is verified before anything changes; a key Apple rejects
    answers 422 `credentials_rejected` and the account stays as it was. The replaced key's id
    and fingerprint are kept in `previous_keys`; its private key is destroyed.
    """
    account = await service.update_account(
        session, clients, principal.workspace_id, account_id, body, verify=verify
    )
    return await _detail(session, account)


@router.delete(
    "/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*AUTHED, 404),
)
async def unlink_account(
    request: Request,
    account_id: uuid.UUID,
    principal: Writer,
    session: Session,
    clients: AscClients,
    purge: bool = Query(False, description="Also delete every row synced for this account."),
) -> None:
    """Unlink an account: its private key is destroyed at once (after Orchard removed the
    webhooks it registered at App Store Connect). Synced data stays unless `purge=true`."""
    account = await lookup.get_account(session, principal.workspace_id, account_id)
    hooks: list[BeforeUnlink] = getattr(request.app.state, "before_unlink", [])
    for hook in hooks:
        await hook(session, clients, account)
    await service.unlink_account(session, principal.workspace_id, account_id, purge=purge)


@router.post(
    "/{account_id}/verify",
    responses=problem_responses(*AUTHED, 404, 503),
)
async def verify_account(
    account_id: uuid.UUID, principal: Writer, session: Session, clients: AscClients
) -> AccountDetail:
    """Verify the key with App Store Connect now and refresh its status and capabilities."""
    account = await lookup.get_account(session, principal.workspace_id, account_id, for_update=True)
    account = await service.reverify(session, clients, account)
    return await _detail(session, account)
