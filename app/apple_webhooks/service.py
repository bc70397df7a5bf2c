"""Receiving Apple's webhook deliveries: verify, deduplicate, refresh exactly what changed.

The answer is fast: a delivery costs a few statements and queues the affected units of that
one app (on demand, ahead of routine work); the data then comes from Apple's API, never
from the payload.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.apple_webhooks import repository
from app.apple_webhooks.events import PING, REFRESHES, signature_valid
from app.asc.errors import AscError
from app.credentials.clients import AscClientFactory
from app.credentials.crypto import CredentialCipher, SecretKeysError
from app.errors import AppError, BadRequest, NotFound
from app.models import AscAccount
from app.sync import queue, requests
from app.sync.contract import DatasetRegistry, PlannedUnit, Priority, missing_requirement

log = logging.getLogger("orchard.apple_webhooks")
UNLINK_SECONDS = 10.0


class InvalidSignature(AppError):
    status = 401
    slug = "invalid_signature"
    title = "The signature does not match"


@dataclass(frozen=True)
class Received:
    duplicate: bool
    refreshed: list[str]
    sync_request_id: str | None = None


def _event(body: bytes) -> tuple[str, str]:
    try:
        document: Any = json.loads(body)
        data = document["data"]
        event_id, data_type = data["id"], data["type"]
    except (ValueError, KeyError, TypeError):
        raise BadRequest("the body is not an App Store Connect webhook event") from None
    if not isinstance(event_id, str) or not isinstance(data_type, str) or not event_id:
        raise BadRequest("the event's data.id and data.type must be strings")
    return event_id[:128], data_type[:100]


async def receive(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    cipher: CredentialCipher,
    registry: DatasetRegistry,
    *,
    token: str,
    app_apple_id: str,
    body: bytes,
    signature: str | None,
    now: dt.datetime,
) -> Received:
    receiver = await repository.receiver_by_token(session, token)
    account = await session.get(AscAccount, receiver.account_id) if receiver else None
    webhook = (
        await repository.webhook_for_app(session, account.id, app_apple_id) if account else None
    )
    if account is None or account.unlinked_at is not None or webhook is None:
        raise NotFound("no webhook here")
    if not signature_valid(cipher.decrypt(webhook.encrypted_secret), body, signature):
        # Recorded in its own transaction: the refusal rolls the request's back.
        async with sessions() as own, own.begin():
            await repository.mark_error(own, account.id, "a delivery had an invalid signature")
        log.warning("apple webhook: bad signature", extra={"account_id": str(account.id)})
        raise InvalidSignature("x-apple-signature does not match the body")
    event_id, data_type = _event(body)
    await repository.mark_delivery(session, account.id, app_apple_id)
    first = await repository.first_delivery(
        session,
        account_id=account.id,
        workspace_id=account.workspace_id,
        event_id=event_id,
        app_apple_id=app_apple_id,
        data_type=data_type,
    )
    if not first:
        return Received(duplicate=True, refreshed=[])
    if data_type == PING:
        return Received(duplicate=False, refreshed=[])
    return await _refresh(session, registry, account, app_apple_id, data_type, now)


async def _refresh(
    session: AsyncSession,
    registry: DatasetRegistry,
    account: AscAccount,
    app_apple_id: str,
    data_type: str,
    now: dt.datetime,
) -> Received:
    """Queue this app's unit of every dataset the event touches (unknown types: nothing —
    Apple adds event types, WEBHOOKS §7)."""
    datasets = [
        dataset
        for name in REFRESHES.get(data_type, ())
        if (dataset := registry.get(name)) is not None
        and missing_requirement(dataset, account) is None
    ]
    if not datasets:
        return Received(duplicate=False, refreshed=[])
    request_id = await requests.create(
        session,
        workspace_id=account.workspace_id,
        account_id=account.id,
        datasets=[d.name for d in datasets],
    )
    for dataset in datasets:
        await queue.enqueue_on_demand(
            session,
            request_id=request_id,
            account_id=account.id,
            workspace_id=account.workspace_id,
            key_id=account.key_id,
            dataset=dataset.name,
            units=[PlannedUnit(app_apple_id, priority=Priority.MANUAL)],
            now=now,
        )
    return Received(
        duplicate=False, refreshed=[d.name for d in datasets], sync_request_id=str(request_id)
    )


async def remove_at_apple(
    session: AsyncSession, clients: AscClientFactory, account: AscAccount
) -> int:
    """Before an account is unlinked (its key is about to be destroyed): delete Orchard's
    webhooks at Apple. Best effort within a few seconds: a failure is logged, never blocks
    the unlink (Apple's deliveries to a forgotten receiver then answer 404)."""
    hooks = await repository.webhooks(session, account.id)
    removed = 0
    if hooks and account.encrypted_private_key is not None:
        try:
            client = clients.for_account(account)
            async with asyncio.timeout(UNLINK_SECONDS):
                for hook in hooks:
                    await client.delete(f"/v1/webhooks/{hook.apple_webhook_id}", missing_ok=True)
                    removed += 1
        except (AscError, SecretKeysError, TimeoutError) as exc:
            log.warning(
                "apple webhooks not all removed at unlink",
                extra={"account_id": str(account.id), "error": type(exc).__name__},
            )
    for hook in hooks:
        await repository.forget_webhook(session, hook.id)
    await repository.save_receiver_state(
        session, account_id=account.id, workspace_id=account.workspace_id,
        state="off", reason="the account is unlinked", now=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    return removed


async def rotate_encryption(session: AsyncSession, cipher: CredentialCipher) -> int:
    """Re-encrypt every App Store Connect webhook secret and receiver token under the first
    ``ORCHARD_SECRET_KEYS`` key (``orchard rotate-keys``)."""
    return await repository.rotate(session, cipher.rotate)
