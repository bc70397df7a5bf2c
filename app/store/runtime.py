"""What every store unit builds from the settings: the endpoints, the User-Agent, and a
client spending the shared politeness budget."""

from __future__ import annotations

import datetime as dt

from app.config import Settings
from app.store.apple import Endpoints, StoreClient, user_agent
from app.store.politeness import Politeness
from app.sync.contract import PublicUnitContext


def politeness(settings: Settings, ctx: PublicUnitContext) -> Politeness:
    return Politeness(
        ctx.sessions,
        per_minute=settings.store_requests_per_minute,
        max_wait=dt.timedelta(seconds=settings.store_max_wait_seconds),
        backoff=dt.timedelta(seconds=settings.store_throttle_backoff_seconds),
    )


def client(settings: Settings, ctx: PublicUnitContext) -> StoreClient:
    return StoreClient(
        ctx.http,
        Endpoints(
            lookup=settings.store_lookup_url,
            rss=settings.store_rss_url,
            legacy=settings.store_legacy_rss_url,
        ),
        user_agent(settings.store_contact),
        politeness(settings, ctx),
    )
