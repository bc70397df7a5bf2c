"""Orchard's OpenAPI document, finished: what the generated one leaves loose, said exactly.

* value sets the server validates (dataset names, ``group_by`` dimensions, review-queue states)
  as enums, taken from the same enums and registry the server checks against;
* the problem document with every extension member the server sends, and the response headers
  (``X-Request-ID`` everywhere, ``Retry-After`` on 429/503, ``ETag`` and ``304`` on GETs);
* response properties the server always sends marked required;
* schema names without generics punctuation, top-level tags, ``security: []`` on public routes,
  ``servers`` and ``info.license``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from app.kit.openapi import (
    clean_schema_names,
    operations,
    require_every_property,
    response_only_schemas,
)
from app.sales.schemas import Dimension as SalesDimension
from app.subscriptions.schemas import EventDimension, SummaryDimension
from app.sync.contract import DatasetRegistry

TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Liveness, readiness and metrics for ops. No token."},
    {"name": "tokens", "description": "API tokens of the workspace (admin)."},
    {"name": "accounts", "description": "Linked App Store Connect accounts and their keys."},
    {"name": "sync", "description": "Sync status, backfills and per-date availability."},
    {"name": "catalog", "description": "Apps, their versions, builds and TestFlight."},
    {"name": "review queue", "description": "Versions waiting for or in App Review."},
    {"name": "events", "description": "The feed of changes Orchard observed, to poll."},
    {"name": "team", "description": "Team members and invitations of an account."},
    {"name": "reviews", "description": "Customer reviews, ratings and replies."},
    {"name": "sales", "description": "Sales and trends from Apple's daily reports."},
    {"name": "subscriptions", "description": "Subscription summaries, series and events."},
    {"name": "payments", "description": "Finance reports: what Apple paid, per period."},
    {"name": "store", "description": "Public App Store data: ranks and star ratings."},
    {"name": "webhooks", "description": "Outbound webhooks: endpoints and deliveries."},
    {"name": "analytics", "description": "App Analytics: installs, sessions, engagement, crashes."},
    {
        "name": "subscription analytics",
        "description": "Subscription metrics with definitions, cohorts and the rows behind them.",
    },
    {"name": "search-ads", "description": "Apple Ads credentials, campaigns and performance."},
    {"name": "fx", "description": "Currency reference rates and the reporting currency."},
    {
        "name": "apple-webhooks",
        "description": "Where App Store Connect delivers its webhooks (Apple calls these).",
    },
]

#: Where a consumer looks for a route, by path prefix (first match wins).
RETAG = [
    ("/v1/review-queue", "review queue"),
    ("/v1/events", "events"),
    ("/v1/accounts/{account_id}/team", "team"),
]

CONTACT = {"name": "The operators of this Orchard deployment"}
#: The truth, not a placeholder: the repository grants no license (no LICENSE file, no
#: `license` in pyproject.toml, whose classifier says "Other/Proprietary License"), so every
#: right is reserved by its maintainers. Change this together with pyproject.toml and README's
#: "License" section if a license is ever granted.
LICENSE = {
    "name": "Proprietary: no license granted, all rights reserved",
    "identifier": "LicenseRef-Proprietary",
}
SERVERS = [{"url": "/", "description": "This Orchard (paths are relative to where it is served)."}]

#: (path, parameter) → the enum the server validates that parameter against.
GROUP_BY: dict[str, type[StrEnum]] = {
    "/v1/sales": SalesDimension,
    "/v1/subscriptions/summary": SummaryDimension,
    "/v1/subscriptions/events": EventDimension,
}
REVIEW_QUEUE_STATES = ["WAITING_FOR_REVIEW", "IN_REVIEW"]

_HEADER = "#/components/headers/"

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (yours, if you sent a sane `X-Request-ID`); quote it "
        "when reporting a problem.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "ETag": {
        "description": "A weak validator of this representation: send it back in "
        "`If-None-Match` to get `304 Not Modified` while it has not changed.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`private, max-age=300` on report data, `private, no-cache` elsewhere.",
        "schema": {"type": "string"},
    },
}

PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document. Besides the standard members, a problem "
    "carries the extension members its `type` documents (each listed here); clients should "
    "ignore members they do not know.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "additionalProperties": True,
    "properties": {
        "type": {
            "type": "string",
            "description": "A URI reference naming the kind of problem (`/problems/<slug>`, a "
            "short page served by Orchard).",
        },
        "title": {"type": "string", "description": "A short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What happened this time, for a person."},
        "instance": {"type": "string", "description": "The request path."},
        "errors": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/FieldError"},
            "description": "`validation_error`: every invalid field.",
        },
        "required_scope": {
            "type": "string",
            "enum": ["read", "write", "admin"],
            "description": "`forbidden`: the scope the token lacks.",
        },
        "retry_after_seconds": {
            "type": "integer",
            "minimum": 0,
            "description": "`rate_limited` and Apple's rate limit: the `Retry-After` value.",
        },
        "max_body_bytes": {
            "type": "integer",
            "description": "`payload_too_large`: the largest body accepted.",
        },
        "request_id": {
            "type": "string",
            "description": "`internal_error` and `service_unavailable` from the request layer: "
            "the request id to quote.",
        },
        "checks": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Check"},
            "description": "`service_unavailable` from `/health/ready`: every check.",
        },
        "apple_status": {
            "type": ["integer", "null"],
            "description": "Problems caused by App Store Connect: its HTTP status.",
        },
        "apple_code": {
            "type": ["string", "null"],
            "description": "Problems caused by App Store Connect: its error code.",
        },
        "apple_detail": {
            "type": ["string", "null"],
            "description": "Problems caused by App Store Connect: its message.",
        },
        "reason": {
            "type": "string",
            "description": "Why App Store Connect refused (`agreement_required`, `missing_role`).",
        },
        "credential_status": {
            "type": "string",
            "description": "Linking or verifying an account: the key's credential status.",
        },
        "field": {"type": "string", "description": "`conflict`: the field that conflicts."},
        "state": {"type": "string", "description": "`conflict` on a webhook: its state."},
        "tracked_app_id": {
            "type": "string",
            "format": "uuid",
            "description": "`conflict` when tracking an app already tracked: the existing one.",
        },
    },
}


def _header_refs(*names: str) -> dict[str, Any]:
    return {name: {"$ref": _HEADER + name} for name in names}


def _declare_headers(spec: dict[str, Any]) -> None:
    spec["components"]["headers"] = HEADERS
    for _path, method, operation in operations(spec):
        responses = operation["responses"]
        if method == "get" and "200" in responses:
            responses["200"].setdefault("headers", {}).update(_header_refs("ETag", "Cache-Control"))
            responses["304"] = {
                "description": "Not modified: the `ETag` sent in `If-None-Match` still holds.",
                "headers": _header_refs("X-Request-ID", "ETag", "Cache-Control"),
            }
        for status, response in responses.items():
            headers = response.setdefault("headers", {})
            headers.update(_header_refs("X-Request-ID"))
            if status in ("429", "503"):
                headers.update(_header_refs("Retry-After"))
            response["headers"] = dict(sorted(headers.items()))


def _set_enum(schema: dict[str, Any], values: list[str]) -> None:
    """Put ``values`` on the string schema inside ``schema`` (through anyOf / array items)."""
    if schema.get("type") == "array":
        _set_enum(schema["items"], values)
        return
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            if option.get("type") in ("string", "array"):
                _set_enum(option, values)
        return
    if schema.get("type") == "string":
        schema["enum"] = values


def _declare_enums(spec: dict[str, Any], registry: DatasetRegistry) -> None:
    datasets = registry.names()
    schemas = spec["components"]["schemas"]
    for path, method, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "group_by" and path in GROUP_BY:
                _set_enum(parameter["schema"], [d.value for d in GROUP_BY[path]])
                parameter["style"], parameter["explode"] = "form", True
            if parameter["name"] == "dataset" and method == "get":
                _set_enum(parameter["schema"], datasets)
    _set_enum(schemas["SyncRequest"]["properties"]["datasets"], datasets)
    _set_enum(schemas["SyncStatusEntry"]["properties"]["dataset"], datasets)
    _set_enum(schemas["Availability"]["properties"]["dataset"], datasets)
    _set_enum(schemas["ReviewQueueEntry"]["properties"]["state"], REVIEW_QUEUE_STATES)
    public = [d.name for d in registry.public()]
    if public:
        _set_enum(schemas["PublicSyncStatusEntry"]["properties"]["dataset"], public)


def _tags(spec: dict[str, Any]) -> None:
    for path, _method, operation in operations(spec):
        tags = list(dict.fromkeys(operation.get("tags", [])))
        for prefix, tag in RETAG:
            if path.startswith(prefix):
                tags = [tag]
                break
        operation["tags"] = tags
    used = {tag for _p, _m, op in operations(spec) for tag in op["tags"]}
    spec["tags"] = [tag for tag in TAGS if tag["name"] in used]
    undeclared = used - {tag["name"] for tag in TAGS}
    if undeclared:
        raise ValueError(f"tags used but not described in app.apispec.TAGS: {sorted(undeclared)}")


def _every_operation_can_fail(spec: dict[str, Any]) -> None:
    """The request layer answers 422 to a URL holding a NUL character on any route, so even
    the health routes have a client error to declare."""
    for _path, _method, operation in operations(spec):
        responses = operation["responses"]
        if not any(status.startswith("4") for status in responses):
            responses["422"] = {
                "description": "The URL holds a NUL character (refused on every route).",
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }


def _webhooks(spec: dict[str, Any]) -> None:
    """The webhooks Orchard sends: no token of ours involved; the receiver's answers are the
    documented 2xx / 410 (FastAPI adds a validation answer naming a schema we dropped)."""
    for item in spec.get("webhooks", {}).values():
        for operation in item.values():
            operation["responses"].pop("422", None)
            operation.setdefault("security", [])


#: Members a revenue document carries only when a reporting currency is asked (`currency=` or
#: the workspace's default): without one the document is exactly what it was before
#: conversion existed, so these are optional, not required-and-null.
CONVERSION_MEMBERS = frozenset(
    {
        "converted",
        "proceeds_total_converted",
        "customer_sales_total_converted",
        "estimated_mrr_total_converted",
        "amounts_total_converted",
        "per_subscriber_total_converted",
        "values_total_converted",
        "totals_converted",
    }
)


#: Per document, the members written only when they apply: its reporting currency, named only
#: when one is asked; a converted amount's `rates` (only when several rates converted it) and
#: `estimated` (only when true: payments).
CONVERSION_MEMBERS_OF = {
    "PaymentsReport": {"currency"},
    "SubscriptionSummary": {"currency"},
    "MoneySeries": {"currency"},
    "MetricReport": {"currency"},
    "MetricRows": {"currency"},
    "CohortTable": {"currency"},
    "ConvertedAmount": {"rates", "estimated"},
}


def _conversion_only_when_asked(spec: dict[str, Any]) -> None:
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        if "required" in schema:
            optional = CONVERSION_MEMBERS | CONVERSION_MEMBERS_OF.get(name, set())
            schema["required"] = [n for n in schema["required"] if n not in optional]


def finish(spec: dict[str, Any], registry: DatasetRegistry) -> dict[str, Any]:
    """Apply every pass to FastAPI's ``spec`` (in place) and return it."""
    spec["info"]["license"] = LICENSE
    spec["info"]["contact"] = CONTACT
    spec["servers"] = SERVERS
    clean_schema_names(spec)
    spec["components"]["schemas"]["Problem"] = PROBLEM
    require_every_property(spec, response_only_schemas(spec) - {"Problem"})
    _conversion_only_when_asked(spec)
    _declare_enums(spec, registry)
    _every_operation_can_fail(spec)
    _declare_headers(spec)
    _webhooks(spec)
    _tags(spec)
    for _path, _method, operation in operations(spec):
        operation.setdefault("security", [])  # public routes say so
    return spec
