"""The ``apple_webhooks`` dataset: keeps one Orchard webhook per live app at Apple.

One unit per account (``all``) on its cadence: without ``ORCHARD_PUBLIC_URL`` it only records
why webhooks are off (polling continues as always, no request to Apple). With it, every live
app without Orchard's webhook gets one (name ``Orchard``, a URL naming the account's receiver
and the app, a secret generated for it and stored encrypted, the event types Orchard uses),
and the webhooks of apps that disappeared are deleted at Apple. A key whose role may not
manage webhooks (Apple answers 403) turns webhooks off with that reason; the next pass tries
again, so granting the role is enough.

Before creating one, the app's webhooks are listed and an ``Orchard`` webhook pointing at this
receiver that Orchard does not know (a registration whose transaction was lost) is deleted:
its secret is write-only and cannot be adopted.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.apple_webhooks import repository
from app.apple_webhooks.events import subscribed_types
from app.asc.errors import AscConflict, AscForbidden, AscNotFound
from app.credentials.crypto import CredentialCipher
from app.models import AppleWebhook, AscAccount
from app.resources.app_list import AppsRefreshed
from app.resources.units import plan_per_account, plan_per_account_many
from app.sync import queue
from app.sync.contract import (
    Dataset,
    PlannedUnit,
    Priority,
    UnitContext,
    UnitResult,
)

DATASET = "apple_webhooks"
CADENCE = dt.timedelta(minutes=30)
NAME = "Orchard"
ON, OFF = "on", "off"
NO_PUBLIC_URL = "ORCHARD_PUBLIC_URL is not set: Apple cannot reach Orchard, so data is polled"
NO_ROLE = (
    "the API key may not manage webhooks (App Store Connect allows Account Holder, Admin or "
    "App Manager): data is polled; grant the role and webhooks are registered at the next pass"
)


def receiver_base(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/apple-webhooks/{token}"


def app_url(public_url: str, token: str, app_apple_id: str) -> str:
    return f"{receiver_base(public_url, token)}/apps/{app_apple_id}"


@dataclass
class Registrar:
    public_url: str | None
    cipher: Callable[[], CredentialCipher]
    event_types: list[str]

    async def run(self, ctx: UnitContext) -> UnitResult:
        account = ctx.account
        if not self.public_url:
            await repository.save_receiver_state(
                ctx.session, account_id=account.id, workspace_id=account.workspace_id,
                state=OFF, reason=NO_PUBLIC_URL, now=ctx.now,
            )  # fmt: skip
            return UnitResult(notes={"webhooks": 0})
        token = await self._token(ctx)
        live = await repository.live_app_ids(ctx.session, account.id)
        known = {w.app_apple_id: w for w in await repository.webhooks(ctx.session, account.id)}
        state, reason, rows = ON, None, 0
        try:
            for gone in sorted(set(known) - set(live)):
                await ctx.client.delete(
                    f"/v1/webhooks/{known[gone].apple_webhook_id}", missing_ok=True
                )
                await repository.forget_webhook(ctx.session, known[gone].id)
            for app_id in live:
                current = known.get(app_id)
                if current is not None and sorted(current.event_types) == self.event_types:
                    continue
                if current is not None:  # Orchard uses other events now: replace it
                    await ctx.client.delete(
                        f"/v1/webhooks/{current.apple_webhook_id}", missing_ok=True
                    )
                    await repository.forget_webhook(ctx.session, current.id)
                if await self._register(ctx, token, app_id):
                    rows += 1
        except AscForbidden:
            state, reason = OFF, NO_ROLE
        await repository.save_receiver_state(
            ctx.session, account_id=account.id, workspace_id=account.workspace_id,
            state=state, reason=reason, now=ctx.now,
        )  # fmt: skip
        return UnitResult(rows=rows, notes={"webhooks": len(live)})

    async def _token(self, ctx: UnitContext) -> str:
        found = await repository.receiver(ctx.session, ctx.account.id)
        if found is not None and found.encrypted_token is not None:
            return self.cipher().decrypt(found.encrypted_token)
        token = secrets.token_urlsafe(32)
        await repository.save_receiver_state(
            ctx.session, account_id=ctx.account.id, workspace_id=ctx.account.workspace_id,
            state=OFF, reason="registering", now=ctx.now,
            token=(token, self.cipher().encrypt(token)),
        )  # fmt: skip
        return token

    async def _register(self, ctx: UnitContext, token: str, app_id: str) -> bool:
        assert self.public_url is not None
        ours = receiver_base(self.public_url, token)
        try:
            params: dict[str, Any] = {"fields[webhooks]": "name,url", "limit": 200}
            async for page in ctx.client.paginate(f"/v1/apps/{app_id}/webhooks", params):
                for resource in page.resources():
                    url = str(resource.attributes.get("url") or "")
                    if resource.attributes.get("name") == NAME and url.startswith(ours):
                        await ctx.client.delete(f"/v1/webhooks/{resource.id}", missing_ok=True)
            secret = secrets.token_urlsafe(32)
            document = await ctx.client.post_document(
                "/v1/webhooks", self._body(token, app_id, secret)
            )
        except AscNotFound:
            return False  # the app is gone since the app list was read
        except AscConflict as exc:  # e.g. the app already has Apple's maximum of webhooks
            await repository.mark_error(ctx.session, ctx.account.id, f"app {app_id}: {exc}")
            return False
        created = document.resources()[0]
        ctx.session.add(
            AppleWebhook(
                account_id=ctx.account.id,
                workspace_id=ctx.account.workspace_id,
                app_apple_id=app_id,
                apple_webhook_id=created.id,
                encrypted_secret=self.cipher().encrypt(secret),
                event_types=self.event_types,
            )
        )
        await ctx.session.flush()
        return True

    def _body(self, token: str, app_id: str, secret: str) -> dict[str, Any]:
        assert self.public_url is not None
        return {
            "data": {
                "type": "webhooks",
                "attributes": {
                    "name": NAME,
                    "url": app_url(self.public_url, token, app_id),
                    "secret": secret,
                    "eventTypes": self.event_types,
                    "enabled": True,
                },
                "relationships": {"app": {"data": {"type": "apps", "id": app_id}}},
            }
        }


def dataset(
    public_url: str | None, cipher: Callable[[], CredentialCipher], datasets: set[str]
) -> Dataset:
    registrar = Registrar(public_url, cipher, subscribed_types(datasets))
    return Dataset(
        name=DATASET,
        capability=None,
        cadence=CADENCE,
        plan=plan_per_account,
        plan_many=plan_per_account_many,
        run=registrar.run,
    )


def after_apps_refresh(public_url: str | None) -> AppsRefreshed:
    """The hook the registry wires after an account's app list is stored: when the live apps
    and the registered webhooks differ (a new app, a removed one, the first listing), the
    account's ``apple_webhooks`` unit runs now instead of at its next pass."""

    async def hook(session: AsyncSession, account_id: uuid.UUID) -> None:
        if not public_url:
            return
        live = set(await repository.live_app_ids(session, account_id))
        known = {w.app_apple_id for w in await repository.webhooks(session, account_id)}
        account = await session.get(AscAccount, account_id)
        if live == known or account is None:
            return
        await queue.enqueue(
            session,
            account_id=account.id,
            workspace_id=account.workspace_id,
            key_id=account.key_id,
            dataset=DATASET,
            units=[PlannedUnit("all", priority=Priority.MANUAL)],
            now=dt.datetime.now(dt.UTC),
            force=True,
        )

    return hook
