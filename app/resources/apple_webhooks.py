"""An account's App Store Connect webhooks as the accounts domain shows them (the
``apple_webhooks`` domain writes them; domains share through this floor, never sideways)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AppleWebhook, AppleWebhookReceiver


@dataclass(frozen=True)
class WebhookState:
    state: str  # on | off | pending
    reason: str | None
    registered_apps: list[str]
    checked_at: dt.datetime | None
    last_delivery_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None


async def account_webhooks(session: AsyncSession, account_id: uuid.UUID) -> WebhookState:
    receiver = await session.get(AppleWebhookReceiver, account_id)
    apps = list(
        await session.scalars(
            select(AppleWebhook.app_apple_id)
            .where(AppleWebhook.account_id == account_id)
            .order_by(func.length(AppleWebhook.app_apple_id), AppleWebhook.app_apple_id)
        )
    )
    if receiver is None:
        return WebhookState("pending", "not checked yet", apps, None, None, None, None)
    return WebhookState(
        state=receiver.state,
        reason=receiver.reason,
        registered_apps=apps,
        checked_at=receiver.checked_at,
        last_delivery_at=receiver.last_delivery_at,
        last_error=receiver.last_error,
        last_error_at=receiver.last_error_at,
    )
