"""The webhooks domain's work inside the worker process: the delivery loop and retention."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.credentials.clients import AscClientFactory
from app.sync.worker import DomainLoop, DomainTask
from app.webhooks import queue
from app.webhooks.dispatcher import DeliveryConfig, Dispatcher
from app.webhooks.sender import WebhookSender


def delivery_config(settings: Settings) -> DeliveryConfig:
    return DeliveryConfig(
        concurrency=settings.webhooks_concurrency,
        # A lease always outlives one attempt (the timeout), however it is configured.
        lease=dt.timedelta(
            seconds=max(settings.webhooks_lease_seconds, settings.webhooks_timeout_seconds + 1)
        ),
        poll_seconds=settings.webhooks_poll_seconds,
        disable_after=settings.webhooks_disable_after,
    )


def delivery_loop(settings: Settings) -> DomainLoop:
    async def run(
        sessionmaker: async_sessionmaker[AsyncSession],
        factory: AscClientFactory,
        stopping: asyncio.Event,
    ) -> None:
        sender = WebhookSender(
            timeout=settings.webhooks_timeout_seconds,
            allow_private=settings.webhooks_allow_private,
        )
        try:
            dispatcher = Dispatcher(sessionmaker, factory.cipher, sender, delivery_config(settings))
            await dispatcher.run_until(stopping)
        finally:
            await sender.aclose()

    return DomainLoop("webhook_deliveries", run)


def retention_task(settings: Settings) -> DomainTask:
    async def run(sessionmaker: async_sessionmaker[AsyncSession], factory: AscClientFactory) -> int:
        before = dt.datetime.now(dt.UTC) - settings.webhooks_retention
        async with sessionmaker() as session, session.begin():
            return await queue.forget_finished(session, before)

    return DomainTask("webhook_retention", run, 3600.0)
