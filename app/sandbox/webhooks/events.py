"""What App Store Connect POSTs to a webhook: event kinds, payload documents, the signature.

- The 12 subscribable ``WebhookEventType`` values and their payload ``data.type``, attribute
  names and ``instance`` resource type (WEBHOOKS §3, payload shapes §4 / Apple's webhook-events
  page [D-EVT]); plus the test ping ``webhookPingCreated``, which nobody subscribes to.
- Thin JSON ``{"data": {"type", "id", "version": 1, "attributes", "relationships.instance"}}``
  (WEBHOOKS §0.3). Background-asset events put ``type``/``id``/``links`` straight under
  ``instance`` and carry no ``version``; alternative-distribution events add ``marketplaceApp``
  and link to ``api-appstoreconnect.itunes.apple.com`` (WEBHOOKS §7, [D-EVT]).
- ``x-apple-signature: hmacsha256=<lowercase hex HMAC-SHA256(secret, raw body)>`` (WEBHOOKS §5).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

SIGNATURE_HEADER = "x-apple-signature"
SIGNATURE_PREFIX = "hmacsha256="
APPLE_API = "https://api.appstoreconnect.apple.com"
MARKETPLACE_API = "https://api-appstoreconnect.itunes.apple.com"  # WEBHOOKS §7
PING_DATA_TYPE = "webhookPingCreated"

#: How ``relationships.instance`` is written (WEBHOOKS §4, §7).
InstanceShape = Literal["data", "data+links", "bare", "none"]


@dataclass(frozen=True, slots=True)
class EventKind:
    event_type: str  # WebhookEventType
    instance_type: str | None
    shape: InstanceShape
    old_name: str | None  # attribute holding the old state (None: a "created" event)
    new_name: str | None
    versioned: bool = True  # payload carries "version": 1
    marketplace: bool = False  # alternative distribution: appId + marketplaceApp

    @property
    def data_type(self) -> str:
        """``BUILD_UPLOAD_STATE_UPDATED`` → ``buildUploadStateUpdated`` (WEBHOOKS §3)."""
        first, *rest = self.event_type.lower().split("_")
        return first + "".join(word.capitalize() for word in rest)


def _bg(event_type: str, instance_type: str, *, created: bool = False) -> EventKind:
    old, new = (None, None) if created else ("oldState", "newState")
    return EventKind(event_type, instance_type, "bare", old, new, versioned=False)


def _alt(event_type: str, instance_type: str | None) -> EventKind:
    shape: InstanceShape = "none" if instance_type is None else "data+links"
    return EventKind(event_type, instance_type, shape, None, None, marketplace=True)


#: WEBHOOKS §3 (the spec's ``WebhookEventType`` enum, all 12 values).
EVENT_KINDS: dict[str, EventKind] = {
    kind.event_type: kind
    for kind in (
        EventKind(
            "APP_STORE_VERSION_APP_VERSION_STATE_UPDATED",
            "appStoreVersions",
            "data",
            "oldValue",
            "newValue",
        ),
        EventKind("BUILD_UPLOAD_STATE_UPDATED", "buildUploads", "data", "oldState", "newState"),
        EventKind(
            "BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED",
            "buildBetaDetails",
            "data",
            "oldExternalBuildState",
            "newExternalBuildState",
        ),
        EventKind(
            "BETA_FEEDBACK_CRASH_SUBMISSION_CREATED",
            "betaFeedbackCrashSubmissions",
            "data+links",
            None,
            None,
        ),
        EventKind(
            "BETA_FEEDBACK_SCREENSHOT_SUBMISSION_CREATED",
            "betaFeedbackScreenshotSubmissions",
            "data+links",
            None,
            None,
        ),
        _bg("BACKGROUND_ASSET_VERSION_STATE_UPDATED", "backgroundAssetVersions"),
        _bg(
            "BACKGROUND_ASSET_VERSION_EXTERNAL_BETA_RELEASE_STATE_UPDATED",
            "backgroundAssetVersionExternalBetaReleases",
        ),
        _bg(
            "BACKGROUND_ASSET_VERSION_APP_STORE_RELEASE_STATE_UPDATED",
            "backgroundAssetVersionAppStoreReleases",
        ),
        _bg(
            "BACKGROUND_ASSET_VERSION_INTERNAL_BETA_RELEASE_CREATED",
            "backgroundAssetVersionInternalBetaReleases",
            created=True,
        ),
        _alt(
            "ALTERNATIVE_DISTRIBUTION_PACKAGE_VERSION_CREATED",
            "alternativeDistributionPackageVersions",
        ),
        _alt(
            "ALTERNATIVE_DISTRIBUTION_PACKAGE_AVAILABLE_UPDATED", "alternativeDistributionPackages"
        ),
        _alt("ALTERNATIVE_DISTRIBUTION_TERRITORY_AVAILABILITY_UPDATED", None),
    )
}
EVENT_TYPES = frozenset(EVENT_KINDS)


def format_timestamp(moment: datetime, digits: int) -> str:
    """``2025-04-16T05:00:52.745Z`` with ``digits`` (0–9) fractional digits (WEBHOOKS §7: Apple
    sends 0, 2, 3, 6 or 9). Digits beyond microseconds are zeros."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if digits > 0:
        text += "." + f"{utc.microsecond:06d}{'0' * 3}"[:digits]
    return text + "Z"


def parse_timestamp(text: str) -> datetime:
    """Inverse of :func:`format_timestamp` (any fraction length) — for tests and receivers."""
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    if found is None:
        raise ValueError(f"not an Apple webhook timestamp: {text!r}")
    moment = datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC)
    fraction = (found.group(2) or "").ljust(6, "0")[:6]
    return moment.replace(microsecond=int(fraction))


def event_attributes(
    kind: EventKind,
    timestamp: str,
    old: str | None,
    new: str | None,
    *,
    include_old: bool = True,
    include_timestamp: bool = True,
) -> dict[str, Any]:
    """Payload ``attributes`` in Apple's order (new value first, as in WEBHOOKS §4)."""
    attributes: dict[str, Any] = {}
    if kind.new_name is not None:
        attributes[kind.new_name] = new
    if kind.old_name is not None and include_old:
        attributes[kind.old_name] = old
    if include_timestamp:
        attributes["timestamp"] = timestamp
    return attributes


def _instance(
    kind: EventKind, shape: InstanceShape, instance_id: str, links_base: str
) -> dict[str, Any] | None:
    if kind.instance_type is None or shape == "none":
        return None
    base = MARKETPLACE_API if kind.marketplace else links_base
    ref = {"type": kind.instance_type, "id": instance_id}
    links = {"self": f"{base}/v1/{kind.instance_type}/{instance_id}"}
    if shape == "bare":
        return {"id": instance_id, "type": kind.instance_type, "links": links}
    if shape == "data+links":
        return {"data": ref, "links": links}
    return {"data": ref}


def event_document(
    kind: EventKind,
    event_id: str,
    attributes: dict[str, Any],
    instance_id: str,
    *,
    links_base: str = APPLE_API,
    marketplace_app_id: str | None = None,
    bare_instance: bool = True,
) -> dict[str, Any]:
    """The JSON document POSTed for one event (WEBHOOKS §4)."""
    data: dict[str, Any] = {"type": kind.data_type, "id": event_id}
    if kind.versioned:
        data["version"] = 1
    data["attributes"] = attributes
    # ``bare_instance=False`` writes background-asset instances the way every other event does.
    shape: InstanceShape = (
        "data+links" if kind.shape == "bare" and not bare_instance else kind.shape
    )
    relationships: dict[str, Any] = {}
    instance = _instance(kind, shape, instance_id, links_base)
    if instance is not None:
        relationships["instance"] = instance
    if kind.marketplace and marketplace_app_id is not None:
        relationships["marketplaceApp"] = {
            "data": {"type": "apps", "id": marketplace_app_id},
            "links": {"self": f"{MARKETPLACE_API}/v1/apps/{marketplace_app_id}"},
        }
    if relationships:
        data["relationships"] = relationships
    return {"data": data}


def ping_document(event_id: str, timestamp: str) -> dict[str, Any]:
    """The test ping (WEBHOOKS §3, §4): no relationships."""
    return {
        "data": {
            "type": PING_DATA_TYPE,
            "id": event_id,
            "version": 1,
            "attributes": {"timestamp": timestamp},
        }
    }


BodyFormat = Literal["compact", "spaced", "indented"]


def serialize(document: dict[str, Any], body_format: BodyFormat) -> bytes:
    """Raw body bytes. Apple's exact formatting is not documented; receivers must verify the
    raw bytes (WEBHOOKS §5), so the sandbox can vary it to catch re-serialising receivers."""
    if body_format == "indented":
        return json.dumps(document, indent=2).encode()
    if body_format == "spaced":
        return json.dumps(document).encode()
    return json.dumps(document, separators=(",", ":")).encode()


def apple_signature(secret: str, body: bytes) -> str:
    """``hmacsha256=`` + lowercase hex HMAC-SHA256 of the raw body keyed with the secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest
