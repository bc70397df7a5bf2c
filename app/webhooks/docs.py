"""The OpenAPI document's ``webhooks`` section: one operation per event type, with the
signature headers and the typed payload, so consumers can generate receivers' types."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, Header

from app.outbox.catalogue import EventCatalogue, EventTypeSpec
from app.webhooks.catalogue import envelope

_HEADERS = (
    ("webhook_id", "webhook-id", "The event id: the same on every retry (dedupe on it)."),
    ("webhook_timestamp", "webhook-timestamp", "Unix seconds when this attempt was sent."),
    (
        "webhook_signature",
        "webhook-signature",
        "Space-separated `v1,<base64>` HMAC-SHA256 signatures of `{webhook-id}."
        "{webhook-timestamp}.{body}` (two during a secret rotation).",
    ),
)


def _receiver(spec: EventTypeSpec) -> Any:
    async def receive(**_: Any) -> None:
        return None

    parameters = [
        inspect.Parameter("event", inspect.Parameter.KEYWORD_ONLY, annotation=envelope(spec))
    ]
    parameters += [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=str,
            default=Header(alias=alias, description=description),
        )
        for name, alias, description in _HEADERS
    ]
    receive.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    return receive


def document(webhooks: APIRouter, catalogue: EventCatalogue) -> None:
    """Add every event type of ``catalogue`` to an app's ``webhooks`` router."""
    for spec in catalogue.all():
        webhooks.add_api_route(
            spec.name,
            _receiver(spec),
            methods=["POST"],
            name=f"webhook_{spec.name.replace('.', '_')}",
            operation_id=f"webhook_{spec.name.replace('.', '_')}",
            summary=spec.summary,
            description=spec.description,
            tags=["webhook events"],
            status_code=200,
            responses={
                410: {"description": "Gone: Orchard disables the webhook at once."},
            },
            response_description="Any 2xx: received. Anything else (3xx included) is a "
            "failure and is retried.",
        )
