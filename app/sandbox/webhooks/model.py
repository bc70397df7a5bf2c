"""The webhook registry's records and the knobs that pick among Apple's unconfirmed behaviours.

Every knob cites the WEBHOOKS facts section that leaves the behaviour open; the defaults are
the facts' best reading, the alternatives are what tests switch to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from app.sandbox.webhooks.events import APPLE_API, BodyFormat

DeliveryState = Literal["SUCCEEDED", "FAILED", "PENDING"]
SignatureMode = Literal["valid", "wrong_secret", "missing", "no_prefix"]
ExternalStateValues = Literal["external_beta_state", "early_doc_example"]

#: App Store Server Notifications v2 retry after 1, 12, 24, 48 and 72 hours (WEBHOOKS §6,
#: [D-ASSN]) — a different Apple product, the closest documented schedule.
ASN_V2_RETRIES = tuple(timedelta(hours=h) for h in (1, 12, 24, 48, 72))
#: Standard Webhooks' example schedule after the first attempt (WEBHOOKS §8).
STANDARD_WEBHOOKS_RETRIES = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    *(timedelta(hours=h) for h in (2, 5, 10, 14, 20, 24)),
)
RETRY_SCHEDULES: dict[str, tuple[timedelta, ...]] = {
    "none": (),
    "asn_v2": ASN_V2_RETRIES,
    "standard_webhooks": STANDARD_WEBHOOKS_RETRIES,
}


@dataclass
class WebhookOptions:
    """Per-sandbox choices: ``webhooks(state).options`` or ``PATCH /sandbox/webhooks/options``."""

    #: API-key roles that may manage webhooks; the UI allows Account Holder, Admin, App Manager
    #: and the API role is unconfirmed — "assume the same" (WEBHOOKS §0.2).
    roles: frozenset[str] = frozenset({"ADMIN", "APP_MANAGER"})
    max_per_app: int = 10  # WEBHOOKS §0.1
    #: Status of the refusal of an 11th webhook (unconfirmed, WEBHOOKS §2): 409 or 422.
    over_limit_status: int = 409
    require_https: bool = False  # HTTPS-only URLs: unconfirmed (WEBHOOKS §2)
    max_name_length: int | None = None  # length limits: unconfirmed (WEBHOOKS §2)
    max_secret_length: int | None = None
    #: Automatic retries after a failed delivery: unconfirmed (WEBHOOKS §6).
    retry_schedule: tuple[timedelta, ...] = ASN_V2_RETRIES
    #: A redelivery resends the same ``data.id`` (unconfirmed, WEBHOOKS §5) …
    redelivery_keeps_event_id: bool = True
    #: … and is flagged ``redelivery: true`` (unconfirmed, WEBHOOKS §6).
    redelivery_flag: bool = True
    #: Build upload events carry ``oldState`` and ``timestamp`` besides ``newState`` (seen by
    #: integrators, not in Apple's example — WEBHOOKS §3).
    build_upload_old_state: bool = True
    #: External build states as ``ExternalBetaState`` values, or as in Apple's first example
    #: (``PREPARE_FOR_SUBMISSION`` → ``READY_FOR_REVIEW``) (WEBHOOKS §3).
    external_state_values: ExternalStateValues = "external_beta_state"
    #: Background-asset instances without ``data`` as in Apple's examples (WEBHOOKS §7).
    bare_background_asset_instance: bool = True
    #: Fractional digits of ``timestamp``; ``None`` cycles 3, 0, 2, 6, 9 (WEBHOOKS §7).
    timestamp_digits: int | None = 3
    body_format: BodyFormat = "compact"
    #: Other request headers: unconfirmed (WEBHOOKS §5).
    extra_headers: dict[str, str] = field(default_factory=dict)
    #: Deliveries older than this are no longer listed (retention unconfirmed, WEBHOOKS §6).
    delivery_retention: timedelta | None = None
    # --- failure knobs (not Apple behaviours: ways to exercise a receiver) ---
    signature: SignatureMode = "valid"
    duplicates: bool = False  # POST every delivery twice, byte for byte
    out_of_order: bool = False  # send each batch of due deliveries newest first
    #: Base of ``links.self`` in payloads; ``None``: the base URL of the latest /v1 webhook call.
    links_base_url: str | None = None


@dataclass
class Webhook:
    id: str
    team_name: str
    app_id: str
    name: str
    url: str
    secret: str  # write-only in the API (WEBHOOKS §2)
    event_types: list[str]
    enabled: bool
    created: datetime

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "team": self.team_name,
            "app_id": self.app_id,
            "name": self.name,
            "url": self.url,
            "secret": self.secret,
            "event_types": list(self.event_types),
            "enabled": self.enabled,
            "created": self.created.isoformat(),
        }


@dataclass
class Event:
    """One change notification; ``document`` is the JSON body, ``body`` its raw bytes."""

    id: str
    team_name: str
    app_id: str
    event_type: str | None  # None: a ping
    created: datetime
    document: dict[str, Any]
    body: bytes

    @property
    def ping(self) -> bool:
        return self.event_type is None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app_id": self.app_id,
            "event_type": self.event_type,
            "ping": self.ping,
            "created": self.created.isoformat(),
            "payload": self.document,
        }


@dataclass
class Attempt:
    """One POST to the receiver."""

    at: datetime
    url: str
    headers: dict[str, str]
    status: int | None  # None: no HTTP answer (connection error, timeout)
    response_body: str | None
    error: str | None
    duplicate: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def summary(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "url": self.url,
            "headers": dict(self.headers),
            "status": self.status,
            "response_body": self.response_body,
            "error": self.error,
            "duplicate": self.duplicate,
        }


@dataclass
class Delivery:
    id: str
    webhook_id: str
    event_id: str
    created: datetime
    redelivery: bool = False
    state: DeliveryState = "PENDING"
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: datetime | None = None
    failures: int = 0

    @property
    def last_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event_id": self.event_id,
            "created": self.created.isoformat(),
            "redelivery": self.redelivery,
            "state": self.state,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "attempts": [attempt.summary() for attempt in self.attempts],
        }


def default_links_base(options: WebhookOptions, last_seen: str | None) -> str:
    return options.links_base_url or last_seen or APPLE_API
