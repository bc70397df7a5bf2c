"""SQL of the inbound webhooks: receivers, webhooks per app, deliveries seen."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AppleWebhook, AppleWebhookReceiver


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def receiver(session: AsyncSession, account_id: uuid.UUID) -> AppleWebhookReceiver | None:
    return await session.get(AppleWebhookReceiver, account_id, with_for_update=True)


async def save_receiver_state(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    workspace_id: uuid.UUID,
    state: str,
    reason: str | None,
    now: dt.datetime,
    token: tuple[str, bytes] | None = None,
) -> None:
    """Upsert the account's receiver state (and, on creation, its token hash and ciphertext)."""
    values: dict[str, object] = {
        "account_id": account_id,
        "workspace_id": workspace_id,
        "state": state,
        "reason": reason,
        "checked_at": now,
    }
    changes = dict(values)
    if token is not None:
        values["token_hash"], values["encrypted_token"] = token_hash(token[0]), token[1]
        changes.update(token_hash=values["token_hash"], encrypted_token=token[1])
    statement = insert(AppleWebhookReceiver).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[AppleWebhookReceiver.account_id],
            set_={k: v for k, v in changes.items() if k != "account_id"},
        )
    )


async def receiver_by_token(session: AsyncSession, token: str) -> AppleWebhookReceiver | None:
    return (
        await session.scalars(
            select(AppleWebhookReceiver).where(AppleWebhookReceiver.token_hash == token_hash(token))
        )
    ).one_or_none()


async def webhooks(session: AsyncSession, account_id: uuid.UUID) -> list[AppleWebhook]:
    return list(
        await session.scalars(
            select(AppleWebhook)
            .where(AppleWebhook.account_id == account_id)
            .order_by(AppleWebhook.app_apple_id)
        )
    )


async def webhook_for_app(
    session: AsyncSession, account_id: uuid.UUID, app_apple_id: str
) -> AppleWebhook | None:
    return (
        await session.scalars(
            select(AppleWebhook).where(
                AppleWebhook.account_id == account_id, AppleWebhook.app_apple_id == app_apple_id
            )
        )
    ).one_or_none()


async def live_app_ids(session: AsyncSession, account_id: uuid.UUID) -> list[str]:
    rows = await session.execute(
        text(
            "SELECT apple_id FROM apps WHERE account_id = :a AND removed_at IS NULL "
            "ORDER BY apple_id"
        ),
        {"a": account_id},
    )
    return [row[0] for row in rows]


async def forget_webhook(session: AsyncSession, webhook_id: uuid.UUID) -> None:
    await session.execute(delete(AppleWebhook).where(AppleWebhook.id == webhook_id))


async def first_delivery(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    workspace_id: uuid.UUID,
    event_id: str,
    app_apple_id: str,
    data_type: str,
) -> bool:
    """Record a delivery; False when its event id was seen before (a duplicate or replay)."""
    result = await session.execute(
        text(
            """
            INSERT INTO apple_webhook_deliveries (account_id, event_id, workspace_id,
                                                  app_apple_id, data_type, received_at)
            VALUES (:a, :e, :w, :app, :t, now())
            ON CONFLICT DO NOTHING RETURNING event_id
            """
        ),
        {"a": account_id, "e": event_id, "w": workspace_id, "app": app_apple_id, "t": data_type},
    )
    return result.first() is not None


async def mark_delivery(session: AsyncSession, account_id: uuid.UUID, app_apple_id: str) -> None:
    await session.execute(
        update(AppleWebhookReceiver)
        .where(AppleWebhookReceiver.account_id == account_id)
        .values(last_delivery_at=text("now()"))
    )
    await session.execute(
        update(AppleWebhook)
        .where(AppleWebhook.account_id == account_id, AppleWebhook.app_apple_id == app_apple_id)
        .values(last_delivery_at=text("now()"))
    )


async def mark_error(session: AsyncSession, account_id: uuid.UUID, message: str) -> None:
    await session.execute(
        update(AppleWebhookReceiver)
        .where(AppleWebhookReceiver.account_id == account_id)
        .values(last_error=message[:500], last_error_at=text("now()"))
    )


async def rotate(session: AsyncSession, rotate_one: Callable[[bytes], bytes]) -> int:
    count = 0
    for hook in await session.scalars(select(AppleWebhook).with_for_update()):
        hook.encrypted_secret = rotate_one(hook.encrypted_secret)
        count += 1
    receivers = select(AppleWebhookReceiver).where(
        AppleWebhookReceiver.encrypted_token.is_not(None)
    )
    for found in await session.scalars(receivers.with_for_update()):
        assert found.encrypted_token is not None
        found.encrypted_token = rotate_one(found.encrypted_token)
        count += 1
    await session.flush()
    return count
