"""``/v1`` webhook endpoints (WEBHOOKS §1–§2, §6; shapes from the spec's ``Webhook*`` schemas).

============================================  ============================================
``POST /v1/webhooks``                         201 ``WebhookResponse`` (secret never shown)
``GET /v1/webhooks/{id}``                     ``fields[webhooks|apps]``, ``include=app``
``PATCH /v1/webhooks/{id}``                   200 ``WebhookResponse``
``DELETE /v1/webhooks/{id}``                  204
``GET /v1/apps/{id}/webhooks``                paged list (no global ``GET /v1/webhooks``)
``GET /v1/apps/{id}/relationships/webhooks``  linkages
``GET /v1/webhooks/{id}/deliveries``          newest first; ``filter[deliveryState]``,
                                              ``filter[createdDate…]``, ``include=event``
``GET /v1/webhooks/{id}/relationships/…``     delivery linkages
``POST /v1/webhookDeliveries``                201: redelivery of a ``template`` delivery
``POST /v1/webhookPings``                     201 ``{"data": {"type": "webhookPings", "id"}}``
============================================  ============================================

Who may call them is :attr:`WebhookOptions.roles` (ADMIN and APP_MANAGER by default; WEBHOOKS
§0.2), checked in the handlers because the choice is per sandbox. Webhooks of another team's
apps do not exist for a key (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import SandboxApp, find_app
from app.sandbox.catalog_routes import APP_FIELDS, app_resource, apple_datetime
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import ApiError, forbidden, invalid_parameter, resource_not_found
from app.sandbox.jsonapi import (
    Included,
    Page,
    ParamSpec,
    Resource,
    collection_document,
    make_resource,
    paginate,
    relationship_links,
    single_document,
    words,
)
from app.sandbox.permissions import ANY_ROLE
from app.sandbox.webhooks.bodies import (
    create_attributes,
    document_data,
    entity_error,
    linked_id,
    update_attributes,
)
from app.sandbox.webhooks.hub import WebhookHub, webhooks
from app.sandbox.webhooks.model import Delivery, Event, Webhook

WEBHOOK_FIELDS = words("enabled eventTypes name url app deliveries")
DELIVERY_FIELDS = words(
    "createdDate deliveryState errorMessage redelivery sentDate request response event"
)
EVENT_FIELDS = words("eventType payload ping createdDate")
WEBHOOK_PARAMS = ParamSpec(
    names=words("include"),
    fields={"webhooks": WEBHOOK_FIELDS, "apps": APP_FIELDS},
    enums={"include": words("app")},
)
APP_WEBHOOKS_PARAMS = ParamSpec(
    names=WEBHOOK_PARAMS.names,
    fields=WEBHOOK_PARAMS.fields,
    enums=WEBHOOK_PARAMS.enums,
    paged=True,
)
DELIVERIES_PARAMS = ParamSpec(
    names=words(
        "filter[deliveryState] filter[createdDateGreaterThanOrEqualTo] "
        "filter[createdDateLessThan] include"
    ),
    fields={"webhookDeliveries": DELIVERY_FIELDS, "webhookEvents": EVENT_FIELDS},
    enums={"filter[deliveryState]": words("SUCCEEDED FAILED PENDING"), "include": words("event")},
    paged=True,
)
LINKAGE_PARAMS = ParamSpec(paged=True)


def _hub(ctx: V1Context) -> WebhookHub:
    hub = webhooks(ctx.state)
    if not hub.options.roles.intersection(ctx.key.roles):
        raise forbidden()
    hub.last_base_url = ctx.base_url
    return hub


def _app(ctx: V1Context) -> SandboxApp:
    app_id = ctx.path_params["id"]
    app = find_app(ctx.team, app_id)
    if app is None:
        raise resource_not_found("apps", app_id)
    return app


def _webhook(ctx: V1Context, hub: WebhookHub) -> Webhook:
    webhook_id = ctx.path_params["id"]
    webhook = hub.find(ctx.team, webhook_id)
    if webhook is None:
        raise resource_not_found("webhooks", webhook_id)
    return webhook


def webhook_resource(ctx: V1Context, webhook: Webhook, included: Included) -> Resource:
    base, q = ctx.base_url, ctx.query
    if "app" in q.includes():
        app = find_app(ctx.team, webhook.app_id)
        if app is not None:
            included.add(app_resource(base, app, q.fields("apps")))
    return make_resource(
        base_url=base,
        resource_type="webhooks",
        resource_id=webhook.id,
        attributes={
            "enabled": webhook.enabled,
            "eventTypes": list(webhook.event_types),
            "name": webhook.name,
            "url": webhook.url,
        },
        relationships={
            "app": {"data": {"type": "apps", "id": webhook.app_id}},
            "deliveries": {"links": relationship_links(base, "webhooks", webhook.id, "deliveries")},
        },
        fields=q.fields("webhooks"),
    )


def _webhook_document(ctx: V1Context, webhook: Webhook, status: int = 200) -> Response:
    included = Included()
    resource = webhook_resource(ctx, webhook, included)
    self_url = f"{ctx.base_url}/v1/webhooks/{webhook.id}"
    return JSONResponse(single_document(resource, self_url, included), status_code=status)


async def create_webhook(ctx: V1Context) -> Response:
    hub = _hub(ctx)
    data = await document_data(ctx, "webhooks")
    fields = create_attributes(data, hub.options)
    app_id = linked_id(data, "app", "apps")
    pointer = "/data/relationships/app/data/id"
    if find_app(ctx.team, app_id) is None:
        raise entity_error("RELATIONSHIP.INVALID", f"There is no app with id '{app_id}'.", pointer)
    if len(hub.for_app(ctx.team, app_id)) >= hub.options.max_per_app:
        raise _over_limit(hub)
    webhook = hub.create(ctx.team, app_id, **fields)
    return _webhook_document(ctx, webhook, status=201)


def _over_limit(hub: WebhookHub) -> ApiError:
    status, limit = hub.options.over_limit_status, hub.options.max_per_app
    code = "ENTITY_UNPROCESSABLE" if status == 422 else "ENTITY_ERROR"
    return ApiError(
        status,
        code,
        "The provided entity is invalid",
        f"An app can have at most {limit} webhooks.",
        pointer="/data/relationships/app",
    )


async def get_webhook(ctx: V1Context) -> Response:
    return _webhook_document(ctx, _webhook(ctx, _hub(ctx)))


async def update_webhook(ctx: V1Context) -> Response:
    hub = _hub(ctx)
    webhook = _webhook(ctx, hub)
    data = await document_data(ctx, "webhooks")
    if data.get("id") != webhook.id:
        raise entity_error("ID.INVALID", "'id' must match the webhook in the path.", "/data/id")
    if "relationships" in data:  # the app is fixed at creation (WEBHOOKS §2)
        raise entity_error(
            "RELATIONSHIP.INVALID", "A webhook's app cannot be changed.", "/data/relationships"
        )
    hub.update(webhook, update_attributes(data, hub.options))
    return _webhook_document(ctx, webhook)


async def delete_webhook(ctx: V1Context) -> Response:
    hub = _hub(ctx)
    hub.delete(_webhook(ctx, hub))
    return Response(status_code=204)


async def list_app_webhooks(ctx: V1Context) -> Response:
    hub, app = _hub(ctx), _app(ctx)
    page = paginate(
        hub.for_app(ctx.team, app.id), base_url=ctx.base_url, path=ctx.path, query=ctx.query
    )
    included = Included()
    data = [webhook_resource(ctx, webhook, included) for webhook in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


def _linkages(ctx: V1Context, resource_type: str, ids: list[str]) -> Response:
    page = paginate(ids, base_url=ctx.base_url, path=ctx.path, query=ctx.query)
    return JSONResponse(linkage_document(resource_type, page, ctx.self_url))


def linkage_document(resource_type: str, page: Page, self_url: str) -> dict[str, Any]:
    refs = [{"type": resource_type, "id": item} for item in page.items]
    document = collection_document([], page, self_url)
    document["data"] = refs
    return document


async def list_app_webhook_ids(ctx: V1Context) -> Response:
    hub, app = _hub(ctx), _app(ctx)
    return _linkages(ctx, "webhooks", [w.id for w in hub.for_app(ctx.team, app.id)])


# --- deliveries ----------------------------------------------------------------------------


def event_resource(base: str, event: Event, fields: set[str] | None) -> Resource:
    attributes: dict[str, Any] = {}
    if event.event_type is not None:  # a ping has no WebhookEventType
        attributes["eventType"] = event.event_type
    attributes["payload"] = event.body.decode()
    attributes["ping"] = event.ping
    attributes["createdDate"] = apple_datetime(event.created)
    return make_resource(
        base_url=base,
        resource_type="webhookEvents",
        resource_id=event.id,
        attributes=attributes,
        fields=fields,
    )


def delivery_resource(
    ctx: V1Context, hub: WebhookHub, item: Delivery, included: Included
) -> Resource:
    base, q = ctx.base_url, ctx.query
    attributes: dict[str, Any] = {
        "createdDate": apple_datetime(item.created),
        "deliveryState": item.state,
        "redelivery": item.redelivery,
    }
    decisive = [attempt for attempt in item.attempts if not attempt.duplicate]
    if decisive:
        last = decisive[-1]
        attributes["sentDate"] = apple_datetime(last.at)
        attributes["request"] = {"url": last.url}
        if last.status is not None:
            attributes["response"] = {"httpStatusCode": last.status, "body": last.response_body}
        if last.error is not None:
            attributes["errorMessage"] = last.error
    event = hub.events[item.event_id]
    if "event" in q.includes():
        included.add(event_resource(base, event, q.fields("webhookEvents")))
    return make_resource(
        base_url=base,
        resource_type="webhookDeliveries",
        resource_id=item.id,
        attributes=attributes,
        relationships={"event": {"data": {"type": "webhookEvents", "id": event.id}}},
        fields=q.fields("webhookDeliveries"),
    )


def _date_filter(ctx: V1Context, name: str) -> datetime | None:
    values = ctx.query.values(name)
    if not values:
        return None
    try:
        moment = datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    except ValueError:
        raise invalid_parameter(name, f"'{values[0]}' is not a valid date-time") from None
    if moment.tzinfo is None:
        raise invalid_parameter(name, f"'{values[0]}' has no time zone")
    return moment


def _visible_deliveries(ctx: V1Context, hub: WebhookHub, webhook: Webhook) -> list[Delivery]:
    retention = hub.options.delivery_retention
    oldest = ctx.now - retention if retention is not None else None
    items = [
        item
        for item in hub.deliveries.values()
        if item.webhook_id == webhook.id and (oldest is None or item.created >= oldest)
    ]
    return sorted(items, key=lambda item: (item.created, item.id), reverse=True)


async def list_deliveries(ctx: V1Context) -> Response:
    hub = _hub(ctx)
    webhook = _webhook(ctx, hub)
    hub.scan()
    states = ctx.query.value_set("filter[deliveryState]")
    since = _date_filter(ctx, "filter[createdDateGreaterThanOrEqualTo]")
    before = _date_filter(ctx, "filter[createdDateLessThan]")
    items = [
        item
        for item in _visible_deliveries(ctx, hub, webhook)
        if (states is None or item.state in states)
        and (since is None or item.created >= since)
        and (before is None or item.created < before)
    ]
    page = paginate(items, base_url=ctx.base_url, path=ctx.path, query=ctx.query)
    included = Included()
    data = [delivery_resource(ctx, hub, item, included) for item in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


async def list_delivery_ids(ctx: V1Context) -> Response:
    hub = _hub(ctx)
    webhook = _webhook(ctx, hub)
    hub.scan()
    ids = [item.id for item in _visible_deliveries(ctx, hub, webhook)]
    return _linkages(ctx, "webhookDeliveries", ids)


async def create_redelivery(ctx: V1Context) -> Response:
    hub = _hub(ctx)
    data = await document_data(ctx, "webhookDeliveries")
    template_id = linked_id(data, "template", "webhookDeliveries")
    template = hub.deliveries.get(template_id)
    owner = hub.find(ctx.team, template.webhook_id) if template is not None else None
    if template is None or owner is None:
        raise entity_error(
            "RELATIONSHIP.INVALID",
            f"There is no webhook delivery with id '{template_id}'.",
            "/data/relationships/template/data/id",
        )
    item = hub.redeliver(template)
    resource = delivery_resource(ctx, hub, item, Included())
    self_url = f"{ctx.base_url}/v1/webhookDeliveries/{item.id}"
    return JSONResponse(single_document(resource, self_url), status_code=201)


async def create_ping(ctx: V1Context) -> Response:
    hub = _hub(ctx)
    data = await document_data(ctx, "webhookPings")
    webhook_id = linked_id(data, "webhook", "webhooks")
    webhook = hub.find(ctx.team, webhook_id)
    if webhook is None:
        raise entity_error(
            "RELATIONSHIP.INVALID",
            f"There is no webhook with id '{webhook_id}'.",
            "/data/relationships/webhook/data/id",
        )
    event = hub.ping(webhook)
    self_url = f"{ctx.base_url}/v1/webhookPings/{event.id}"
    resource = {"type": "webhookPings", "id": event.id, "links": {"self": self_url}}
    return JSONResponse(single_document(resource, self_url), status_code=201)


_EMPTY = ParamSpec()
ROUTES = [
    V1Route("POST", "/v1/webhooks", create_webhook, ANY_ROLE, _EMPTY),
    V1Route("GET", "/v1/webhooks/{id}", get_webhook, ANY_ROLE, WEBHOOK_PARAMS),
    V1Route("PATCH", "/v1/webhooks/{id}", update_webhook, ANY_ROLE, _EMPTY),
    V1Route("DELETE", "/v1/webhooks/{id}", delete_webhook, ANY_ROLE, _EMPTY),
    V1Route("GET", "/v1/apps/{id}/webhooks", list_app_webhooks, ANY_ROLE, APP_WEBHOOKS_PARAMS),
    V1Route(
        "GET",
        "/v1/apps/{id}/relationships/webhooks",
        list_app_webhook_ids,
        ANY_ROLE,
        LINKAGE_PARAMS,
    ),
    V1Route("GET", "/v1/webhooks/{id}/deliveries", list_deliveries, ANY_ROLE, DELIVERIES_PARAMS),
    V1Route(
        "GET",
        "/v1/webhooks/{id}/relationships/deliveries",
        list_delivery_ids,
        ANY_ROLE,
        LINKAGE_PARAMS,
    ),
    V1Route("POST", "/v1/webhookDeliveries", create_redelivery, ANY_ROLE, _EMPTY),
    V1Route("POST", "/v1/webhookPings", create_ping, ANY_ROLE, _EMPTY),
]
