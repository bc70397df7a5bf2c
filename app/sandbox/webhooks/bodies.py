"""Reading the JSON:API request bodies of the webhook endpoints (spec ``Webhook*Request``).

Refusals follow the operations' documented statuses (no 404 for the POSTs, WEBHOOKS §1), as
the review-response endpoint does: an unreadable body is 422 ``ENTITY_UNPROCESSABLE``; a
missing, mistyped or invalid member is 409 ``ENTITY_ERROR.*`` with a ``source.pointer``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from app.sandbox.context import V1Context
from app.sandbox.errors import ApiError
from app.sandbox.webhooks.events import EVENT_TYPES
from app.sandbox.webhooks.model import WebhookOptions

_ATTRIBUTE_TYPES: dict[str, type] = {
    "name": str,
    "url": str,
    "secret": str,
    "enabled": bool,
    "eventTypes": list,
}
#: API attribute → :class:`~.model.Webhook` field.
FIELD_NAMES = {
    "name": "name",
    "url": "url",
    "secret": "secret",
    "enabled": "enabled",
    "eventTypes": "event_types",
}


def unprocessable(detail: str) -> ApiError:
    return ApiError(422, "ENTITY_UNPROCESSABLE", "The request entity is not processable.", detail)


def entity_error(code: str, detail: str, pointer: str) -> ApiError:
    return ApiError(
        409, f"ENTITY_ERROR.{code}", "The provided entity is invalid", detail, pointer=pointer
    )


def member(node: Any, name: str, pointer: str) -> Any:
    if not isinstance(node, dict) or name not in node:
        code = "ATTRIBUTE.REQUIRED" if "attributes" in pointer else "REQUIRED"
        raise entity_error(code, f"'{name}' is required.", f"{pointer}/{name}")
    return node[name]


async def document_data(ctx: V1Context, resource_type: str) -> dict[str, Any]:
    """``data`` of the request document, checked to be of ``resource_type``."""
    try:
        document = json.loads(await ctx.request.body())
    except ValueError:
        raise unprocessable("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise unprocessable("The request body must be a JSON object.")
    data = member(document, "data", "")
    if member(data, "type", "/data") != resource_type:
        raise entity_error("INVALID", f"'type' must be '{resource_type}'.", "/data/type")
    if not isinstance(data, dict):
        raise unprocessable("'data' must be a JSON object.")
    return data


def linked_id(data: dict[str, Any], relationship: str, resource_type: str) -> str:
    """The id in ``data.relationships.<relationship>.data`` (checked to be ``resource_type``)."""
    base = "/data/relationships"
    pointer = f"{base}/{relationship}/data"
    node = member(
        member(member(data, "relationships", "/data"), relationship, base),
        "data",
        f"{base}/{relationship}",
    )
    if member(node, "type", pointer) != resource_type:
        raise entity_error("RELATIONSHIP.INVALID", f"'type' must be '{resource_type}'.", pointer)
    linked = member(node, "id", pointer)
    if not isinstance(linked, str):
        raise entity_error("RELATIONSHIP.INVALID", "'id' must be a string.", f"{pointer}/id")
    return linked


def _check_value(name: str, value: Any, options: WebhookOptions) -> Any:
    pointer = f"/data/attributes/{name}"
    kind = _ATTRIBUTE_TYPES[name]
    if not isinstance(value, kind):
        raise entity_error("ATTRIBUTE.TYPE", f"'{name}' must be a {kind.__name__}.", pointer)
    if isinstance(value, list):
        return _event_types(value, pointer)
    if not isinstance(value, str):
        return value
    if name == "url":
        return _url(value, options, pointer)
    if not value.strip():
        raise entity_error("ATTRIBUTE.INVALID", f"'{name}' must not be empty.", pointer)
    limit = {"name": options.max_name_length, "secret": options.max_secret_length}.get(name)
    if limit is not None and len(value) > limit:
        raise entity_error(
            "ATTRIBUTE.INVALID.TOO_LONG",
            f"'{name}' can't be longer than {limit} characters.",
            pointer,
        )
    return value


def _event_types(values: list[Any], pointer: str) -> list[str]:
    if not values:  # the UI requires at least one trigger (WEBHOOKS §2)
        raise entity_error("ATTRIBUTE.INVALID", "Choose at least one event type.", pointer)
    for value in values:
        if value not in EVENT_TYPES:
            raise entity_error(
                "ATTRIBUTE.INVALID", f"'{value}' is not a valid webhook event type.", pointer
            )
    return list(dict.fromkeys(values))


def _url(value: str, options: WebhookOptions, pointer: str) -> str:
    parts = urlsplit(value)
    schemes = ("https",) if options.require_https else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc:
        wanted = "an https URL" if options.require_https else "an absolute http(s) URL"
        raise entity_error("ATTRIBUTE.INVALID", f"'url' must be {wanted}.", pointer)
    return value


def create_attributes(data: dict[str, Any], options: WebhookOptions) -> dict[str, Any]:
    """Webhook fields from a ``WebhookCreateRequest`` (every attribute is required)."""
    attributes = member(data, "attributes", "/data")
    return {
        FIELD_NAMES[name]: _check_value(name, member(attributes, name, "/data/attributes"), options)
        for name in ("name", "url", "secret", "eventTypes", "enabled")
    }


def update_attributes(data: dict[str, Any], options: WebhookOptions) -> dict[str, Any]:
    """Changed webhook fields from a ``WebhookUpdateRequest`` (absent or null: unchanged)."""
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise entity_error("ATTRIBUTE.TYPE", "'attributes' must be an object.", "/data/attributes")
    unknown = sorted(set(attributes) - set(FIELD_NAMES))
    if unknown:
        raise entity_error(
            "ATTRIBUTE.UNKNOWN",
            f"'{unknown[0]}' is not an attribute of webhooks.",
            f"/data/attributes/{unknown[0]}",
        )
    return {
        FIELD_NAMES[name]: _check_value(name, value, options)
        for name, value in attributes.items()
        if value is not None
    }
