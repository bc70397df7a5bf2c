"""The webhook hub of one sandbox: registry, events, deliveries.

``webhooks(state)`` returns the hub of a :class:`~app.sandbox.state.SandboxState` (created on
first use; it lives beside the state in a weak mapping, like the review ledger).

- Registry: webhooks belong to one app of one team, at most ``options.max_per_app`` each
  (WEBHOOKS §0.1).
- Events: :meth:`WebhookHub.scan` turns the catalogue changes of every watched app since the
  last scan into events (:mod:`.scanner`); each event gets one delivery per webhook of its app
  that existed, was enabled and subscribed to the type when it happened. Forced version
  states, synthetic events, added feedback and pings are recorded the moment they are made.
  Every mutating call scans first, so a change before it is judged by the old settings.
- Deliveries: :meth:`WebhookHub.deliver_due` sends what is due by the sandbox clock through
  :attr:`WebhookHub.sender` and schedules retries (:mod:`.delivery`).
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from app.sandbox.catalog import SandboxApp, find_app
from app.sandbox.releases import app_releases
from app.sandbox.seeding import numeric_id, stable_uuid
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.version_overrides import force_version_state
from app.sandbox.webhooks import delivery as sending
from app.sandbox.webhooks.events import (
    EVENT_KINDS,
    event_attributes,
    event_document,
    format_timestamp,
    ping_document,
    serialize,
)
from app.sandbox.webhooks.model import (
    Attempt,
    Delivery,
    Event,
    Webhook,
    WebhookOptions,
    default_links_base,
)
from app.sandbox.webhooks.scanner import BUILD_UPLOAD, EXTERNAL_STATE, VERSION_STATE, app_changes

#: ExternalBetaState → the values of Apple's first external-build example (WEBHOOKS §3).
EARLY_DOC_EXTERNAL_STATES = {
    "READY_FOR_BETA_SUBMISSION": "PREPARE_FOR_SUBMISSION",
    "WAITING_FOR_BETA_REVIEW": "READY_FOR_REVIEW",
    "IN_BETA_REVIEW": "IN_REVIEW",
    "BETA_APPROVED": "ACCEPTED",
    "BETA_REJECTED": "REJECTED",
}
VARYING_DIGITS = (3, 0, 2, 6, 9)


class WebhookHub:
    def __init__(self, state: SandboxState) -> None:
        self._state = weakref.ref(state)
        self.options = WebhookOptions()
        self.sender: sending.Sender = sending.httpx_sender
        self.webhooks: dict[str, Webhook] = {}
        self.events: dict[str, Event] = {}
        self.deliveries: dict[str, Delivery] = {}
        #: Base URL of the latest ``/v1`` webhook request (for ``links.self`` in payloads).
        self.last_base_url: str | None = None
        self._watermarks: dict[tuple[str, str], datetime] = {}
        self._serial = 0

    @property
    def state(self) -> SandboxState:
        state = self._state()
        if state is None:
            raise RuntimeError("the sandbox state of this webhook hub is gone")
        return state

    def now(self) -> datetime:
        return self.state.now()

    def _new_id(self, kind: str) -> str:
        self._serial += 1
        return stable_uuid(self.state.seed, kind, self._serial)

    # --- registry -------------------------------------------------------------------------
    def find(self, team: SandboxTeam, webhook_id: str) -> Webhook | None:
        found = self.webhooks.get(webhook_id)
        return found if found is not None and found.team_name == team.name else None

    def for_app(self, team: SandboxTeam, app_id: str) -> list[Webhook]:
        return [
            w for w in self.webhooks.values() if w.team_name == team.name and w.app_id == app_id
        ]

    def create(
        self,
        team: SandboxTeam,
        app_id: str,
        *,
        name: str,
        url: str,
        secret: str,
        event_types: list[str],
        enabled: bool,
    ) -> Webhook:
        self.scan()
        now = self.now()
        webhook = Webhook(
            self._new_id("webhook"), team.name, app_id, name, url, secret, event_types, enabled, now
        )
        self.webhooks[webhook.id] = webhook
        self._watermarks.setdefault((team.name, app_id), now)
        return webhook

    def update(self, webhook: Webhook, changes: dict[str, Any]) -> None:
        """Apply ``changes`` (``name``, ``url``, ``secret``, ``event_types``, ``enabled``)."""
        self.scan()
        for name, value in changes.items():
            setattr(webhook, name, value)

    def delete(self, webhook: Webhook) -> None:
        """Remove ``webhook``; its deliveries stop (their history stays in :attr:`deliveries`)."""
        self.scan()
        del self.webhooks[webhook.id]
        for item in self.deliveries.values():
            if item.webhook_id == webhook.id:
                item.next_attempt_at = None
        if not any(w.app_id == webhook.app_id for w in self.webhooks.values()):
            self._watermarks.pop((webhook.team_name, webhook.app_id), None)

    # --- events ---------------------------------------------------------------------------
    def scan(self) -> list[Event]:
        """Record the catalogue changes of watched apps up to now; returns the new events."""
        state, now = self.state, self.now()
        found = []
        for (team_name, app_id), since in list(self._watermarks.items()):
            team = state.teams.get(team_name)
            app = find_app(team, app_id) if team is not None else None
            if team is None or app is None:
                continue
            for change in app_changes(state, team, app, since, now):
                found.append(
                    self._record_change(
                        team,
                        app,
                        change.event_type,
                        change.instance_id,
                        change.at,
                        change.old,
                        change.new,
                    )
                )
            # Never backwards: a clock set back must not report the same changes twice.
            self._watermarks[(team_name, app_id)] = max(since, now)
        return found

    def emit(
        self,
        team: SandboxTeam,
        app: SandboxApp,
        event_type: str,
        instance_id: str,
        *,
        old: str | None = None,
        new: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Event:
        """Record an event that happens now (forced states, added feedback, admin events)."""
        self.scan()
        return self._record_change(
            team, app, event_type, instance_id, self.now(), old, new, extra or {}
        )

    def force_version_state(
        self, team: SandboxTeam, app: SandboxApp, version_id: str, new_state: str
    ) -> Event | None:
        """Move App Store version ``version_id`` to ``new_state`` now; the event, or ``None``
        when it already was in that state. Raises ``KeyError`` for an unknown version."""
        self.scan()
        now = self.now()
        found = [r for r in app_releases(team, app, now) if r.version_id == version_id]
        if not found:
            raise KeyError(version_id)
        old_state = force_version_state(self.state, found[0], now, new_state)
        if old_state == new_state:
            return None
        return self.emit(team, app, VERSION_STATE, version_id, old=old_state, new=new_state)

    def _timestamp(self, moment: datetime) -> str:
        digits = self.options.timestamp_digits
        if digits is None:
            digits = VARYING_DIGITS[len(self.events) % len(VARYING_DIGITS)]
        return format_timestamp(moment, digits)

    def _record_change(
        self,
        team: SandboxTeam,
        app: SandboxApp,
        event_type: str,
        instance_id: str,
        at: datetime,
        old: str | None,
        new: str | None,
        extra: dict[str, Any] | None = None,
    ) -> Event:
        options, kind = self.options, EVENT_KINDS[event_type]
        if event_type == EXTERNAL_STATE and options.external_state_values == "early_doc_example":
            old = EARLY_DOC_EXTERNAL_STATES.get(old or "", old)
            new = EARLY_DOC_EXTERNAL_STATES.get(new or "", new)
        terse = event_type == BUILD_UPLOAD and not options.build_upload_old_state
        timestamp = self._timestamp(at)
        attributes = dict(extra or {})
        if kind.marketplace:
            attributes["appId"] = app.id
        attributes.update(
            event_attributes(
                kind, timestamp, old, new, include_old=not terse, include_timestamp=not terse
            )
        )
        seed = team.seed
        document = event_document(
            kind,
            stable_uuid(
                seed, "webhookEvent", event_type, instance_id, at.isoformat(), len(self.events)
            ),
            attributes,
            instance_id,
            links_base=default_links_base(options, self.last_base_url),
            marketplace_app_id=numeric_id(11, 1, seed, "marketplaceApp", app.id),
            bare_instance=options.bare_background_asset_instance,
        )
        targets = [
            w
            for w in self.for_app(team, app.id)
            if w.enabled and event_type in w.event_types and w.created <= at
        ]
        return self._record(team, app.id, event_type, at, document, targets)

    def _record(
        self,
        team: SandboxTeam,
        app_id: str,
        event_type: str | None,
        at: datetime,
        document: dict[str, Any],
        targets: list[Webhook],
    ) -> Event:
        body = serialize(document, self.options.body_format)
        event = Event(document["data"]["id"], team.name, app_id, event_type, at, document, body)
        self.events[event.id] = event
        for webhook in targets:
            self._new_delivery(webhook, event, at)
        return event

    def _new_delivery(
        self, webhook: Webhook, event: Event, at: datetime, *, redelivery: bool = False
    ) -> Delivery:
        item = Delivery(self._new_id("webhookDelivery"), webhook.id, event.id, at, redelivery)
        item.next_attempt_at = at
        self.deliveries[item.id] = item
        return item

    def ping(self, webhook: Webhook) -> Event:
        """A test delivery to ``webhook`` whatever its event types (WEBHOOKS §6)."""
        self.scan()
        now, team = self.now(), self.state.teams[webhook.team_name]
        event_id = self._new_id("webhookPing")
        document = ping_document(event_id, self._timestamp(now))
        return self._record(team, webhook.app_id, None, now, document, [webhook])

    def redeliver(self, template: Delivery) -> Delivery:
        """Resend the event of ``template`` as a new delivery (``POST /v1/webhookDeliveries``)."""
        self.scan()
        now, options = self.now(), self.options
        webhook = self.webhooks[template.webhook_id]
        event = self.events[template.event_id]
        if not options.redelivery_keeps_event_id:
            document = {"data": {**event.document["data"], "id": self._new_id("webhookEvent")}}
            body = serialize(document, options.body_format)
            event = Event(
                document["data"]["id"],
                event.team_name,
                event.app_id,
                event.event_type,
                event.created,
                document,
                body,
            )
            self.events[event.id] = event
        return self._new_delivery(webhook, event, now, redelivery=options.redelivery_flag)

    # --- sending --------------------------------------------------------------------------
    def due(self) -> list[Delivery]:
        now = self.now()
        found = [
            item
            for item in self.deliveries.values()
            if item.next_attempt_at is not None
            and item.next_attempt_at <= now
            and item.webhook_id in self.webhooks
            and self.webhooks[item.webhook_id].enabled
        ]
        found.sort(key=lambda item: (item.next_attempt_at or now, item.created))
        return found[::-1] if self.options.out_of_order else found

    async def deliver_due(self) -> list[Attempt]:
        """Scan, then send every due delivery once (twice with ``duplicates``); the attempts."""
        self.scan()
        made: list[Attempt] = []
        for item in self.due():
            webhook, event = self.webhooks[item.webhook_id], self.events[item.event_id]
            now, options = self.now(), self.options
            headers = sending.signed_headers(options, webhook.secret, event.body)
            attempt = await sending.post_once(self.sender, webhook.url, headers, event.body, now)
            made.append(attempt)
            item.attempts.append(attempt)
            sending.record_outcome(item, attempt, options)
            if options.duplicates:
                again = await sending.post_once(self.sender, webhook.url, headers, event.body, now)
                again.duplicate = True
                made.append(again)
                item.attempts.append(again)
        return made


_HUBS: WeakKeyDictionary[SandboxState, WebhookHub] = WeakKeyDictionary()


def webhooks(state: SandboxState) -> WebhookHub:
    """The webhook hub of ``state`` (created on first use)."""
    found = _HUBS.get(state)
    if found is None:
        found = _HUBS[state] = WebhookHub(state)
    return found
