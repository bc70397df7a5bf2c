"""The API's operations, read from the app's own OpenAPI, and how to fill their parameters.

The security tests are generated from this table, so a new route is covered the moment it is
added. Filling a route needs to know what each parameter names; a parameter nobody described
here makes the tests FAIL (never skip) with a message saying which mapping to extend.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.config import Settings
from app.main import create_app

HTTP_METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header
    required: bool
    schema: dict[str, Any]

    @property
    def formats(self) -> set[str]:
        """Every `format` in the schema (through anyOf and array items)."""
        found: set[str] = set()
        stack = [self.schema]
        while stack:
            node = stack.pop()
            if "format" in node:
                found.add(node["format"])
            stack.extend(node.get("anyOf", []))
            if isinstance(node.get("items"), dict):
                stack.append(node["items"])
        return found

    def _options(self) -> list[dict[str, Any]]:
        options = [self.schema, *self.schema.get("anyOf", [])]
        return options + [o["items"] for o in options if isinstance(o.get("items"), dict)]

    @property
    def takes_text(self) -> bool:
        """A string (or list of strings) of any format: somewhere text could reach SQL."""
        return any(o.get("type") == "string" or "enum" in o for o in self._options())

    @property
    def is_array(self) -> bool:
        options = [self.schema, *self.schema.get("anyOf", [])]
        return any(option.get("type") == "array" for option in options)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    parameters: tuple[Parameter, ...]
    has_body: bool
    body_required: bool
    authenticated: bool
    statuses: frozenset[str]

    @property
    def path_params(self) -> list[Parameter]:
        return [p for p in self.parameters if p.location == "path"]

    @property
    def query_params(self) -> list[Parameter]:
        return [p for p in self.parameters if p.location == "query"]

    @property
    def is_read(self) -> bool:
        return self.method == "GET"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@functools.cache
def openapi() -> dict[str, Any]:
    """The app's OpenAPI as served (the committed file is checked against it elsewhere)."""
    return create_app(Settings()).openapi()


def resolve_refs(schema: Any, components: dict[str, Any]) -> Any:
    """Inline `$ref`s (parameter schemas are small; enums live in components)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            target = components[schema["$ref"].rsplit("/", 1)[-1]]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return {**resolve_refs(target, components), **rest}
        return {key: resolve_refs(value, components) for key, value in schema.items()}
    if isinstance(schema, list):
        return [resolve_refs(item, components) for item in schema]
    return schema


@functools.cache
def operations() -> tuple[Operation, ...]:
    components = openapi().get("components", {}).get("schemas", {})
    found = []
    for path, item in sorted(openapi()["paths"].items()):
        for method in HTTP_METHODS:
            spec = item.get(method)
            if spec is None:
                continue
            parameters = tuple(
                Parameter(
                    p["name"],
                    p["in"],
                    bool(p.get("required")),
                    resolve_refs(p.get("schema", {}), components),
                )
                for p in spec.get("parameters", [])
            )
            body = spec.get("requestBody")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    operation_id=spec["operationId"],
                    parameters=parameters,
                    has_body=body is not None,
                    body_required=bool(body and body.get("required")),
                    authenticated=bool(spec.get("security")),
                    statuses=frozenset(spec["responses"]),
                )
            )
    return tuple(found)


# -- what each parameter names ----------------------------------------------------------------

#: Parameters naming one of a workspace's objects: a query returning the text of one such
#: object's value for workspace $1. Another workspace naming it must get 404 (or nothing).
OBJECT_PARAMETERS: dict[str, str] = {
    "account_id": "SELECT id::text FROM asc_accounts WHERE workspace_id = $1 ORDER BY id LIMIT 1",
    "app_id": "SELECT id::text FROM apps WHERE workspace_id = $1 ORDER BY id LIMIT 1",
    # One with a developer response, so deleting "its" response would really delete something.
    "review_id": (
        "SELECT id::text FROM customer_reviews WHERE workspace_id = $1 "
        "AND response_body IS NOT NULL ORDER BY id LIMIT 1"
    ),
    # Not the admin token the workspace's own checks use: the read-only one.
    "token_id": (
        "SELECT id::text FROM api_tokens WHERE workspace_id = $1 "
        "AND NOT ('admin' = ANY(scopes)) ORDER BY id LIMIT 1"
    ),
    "build_id": "SELECT id::text FROM builds WHERE workspace_id = $1 ORDER BY id LIMIT 1",
    "group_id": "SELECT id::text FROM beta_groups WHERE workspace_id = $1 ORDER BY id LIMIT 1",
    # Every linked app is tracked (public store data).
    "tracked_id": (
        "SELECT id::text FROM store_tracked_apps WHERE workspace_id = $1 ORDER BY id LIMIT 1"
    ),
    "webhook_id": (
        "SELECT id::text FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY id LIMIT 1"
    ),
    "credential_id": (
        "SELECT id::text FROM searchads_credentials WHERE workspace_id = $1 "
        "AND unlinked_at IS NULL ORDER BY id LIMIT 1"
    ),
    "sync_request_id": (
        "SELECT id::text FROM sync_requests WHERE workspace_id = $1 ORDER BY id LIMIT 1"
    ),
    "delivery_id": (
        "SELECT id::text FROM webhook_deliveries WHERE workspace_id = $1 ORDER BY id LIMIT 1"
    ),
}

#: Parameters that are values rather than objects (a fiscal month, a dataset name): another
#: workspace may use the same value, but must only ever see its own rows for it.
VALUE_PARAMETERS: dict[str, str] = {
    "period": (
        "SELECT fiscal_request FROM finance_report_rows WHERE workspace_id = $1 "
        "ORDER BY fiscal_request DESC LIMIT 1"
    ),
}

#: Constant values for required parameters that name no object.
CONSTANT_PARAMETERS: dict[str, str] = {
    "dataset": "sales_daily",
    "country": "us",  # a storefront (public store data)
    "metric": "active",  # subscription analytics (QUERY_EXTRAS asks for more)
}

#: Date range parameters (name → is it the range's end), wide enough to hold every synced row.
DATE_PARAMETERS: dict[str, bool] = {"from": False, "since": False, "to": True}
RANGE_DAYS = 365

#: Per operation: extra query parameters that make an answer carry identifying values (a
#: leak into an aggregate is then visible as A's ids in B's groups).
QUERY_EXTRAS: dict[str, dict[str, str]] = {
    "get_sales": {"group_by": "account,app,product,country"},
    "get_analytics": {"group_by": "app,territory"},
    "get_subscription_summary": {"group_by": "subscription,country"},
    "get_subscription_events": {"group_by": "subscription,country"},
    "get_subscription_metrics": {
        "metric": "active,mrr,renewals,net_proceeds,churn_rate",
        "group_by": "app,subscription,country",
        "granularity": "month",
    },
    "list_subscription_metric_rows": {"metric": "net_proceeds"},
}

UNKNOWN_ADS_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    .decode()
)

#: Valid bodies for operations that take one, so a refusal is about ownership, not input.
BODIES: dict[str, dict[str, Any]] = {
    "update_account": {"name": "Renamed by another workspace"},
    "request_sync": {"datasets": ["sales_daily"]},
    "request_workspace_sync": {"datasets": ["apps"]},  # the caller's own accounts only
    "put_review_response": {"body": "A reply from another workspace"},
    "link_account": {},  # creates the caller's own object: no one else's id in it
    "create_token": {"name": "own token", "scopes": ["read"]},
    "track_app": {"apple_id": "1000000001"},  # tracks for the caller's own workspace
    "update_tracked_app": {"storefronts": ["us"]},
    "put_store_storefronts": {"storefronts": ["us"]},
    "create_webhook": {"url": "https://hooks.example.com/own", "event_types": ["*"]},
    "update_webhook": {"description": "Changed by another workspace"},
    "rotate_webhook_secret": {"grace_seconds": "60"},  # text, so a NUL can be slipped in
    # A key Apple Ads does not know: verification refuses it, nothing is stored.
    "link_search_ads_account": {
        "name": "Own ads",
        "client_id": "SEARCHADS.unknown-client",
        "team_id": "SEARCHADS.unknown-team",
        "key_id": "unknown-key",
        "private_key": UNKNOWN_ADS_KEY,
    },
    "update_search_ads_account": {"name": "Renamed by another workspace"},
    # Manual rates and the reporting currency belong to the caller's own workspace.
    "put_fx_manual_rates": {
        "rates": [{"date": "2025-06-02", "base": "EUR", "quote": "KZT", "rate": "580.1"}]
    },
    "update_fx_settings": {"reporting_currency": "USD"},
}


class UnmappedParameter(AssertionError):
    pass


def _unmapped(operation: Operation, parameter: Parameter, table: str) -> UnmappedParameter:
    return UnmappedParameter(
        f"{operation} ({operation.operation_id}): the security tests do not know what the "
        f"{parameter.location} parameter `{parameter.name}` names. Extend {table} in "
        "tests/security/operations.py (a query finding one of a workspace's objects for it), "
        "so tenant isolation and hostile input are tested on this route."
    )


def _date_value(parameter: Parameter, end: bool) -> str:
    today = dt.datetime.now(dt.UTC).date()
    day = today if end else today - dt.timedelta(days=RANGE_DAYS - 1)
    if "date-time" in parameter.formats:
        moment = dt.datetime.combine(day, dt.time(), dt.UTC)
        return (moment + dt.timedelta(days=1) if end else moment).isoformat()
    return day.isoformat()


async def value_for(
    db: asyncpg.Connection,
    workspace_id: Any,
    operation: Operation,
    parameter: Parameter,
) -> str:
    """The value to send for ``parameter``: the workspace's real object or a sensible constant."""
    name = parameter.name
    query = OBJECT_PARAMETERS.get(name) or VALUE_PARAMETERS.get(name)
    if query is not None:
        value = await db.fetchval(query, workspace_id)
        assert value is not None, f"the world has no object for `{name}`: {query}"
        return str(value)
    if name in CONSTANT_PARAMETERS:
        return CONSTANT_PARAMETERS[name]
    if name in DATE_PARAMETERS:
        return _date_value(parameter, end=DATE_PARAMETERS[name])
    table = "OBJECT_PARAMETERS" if parameter.location == "path" else "CONSTANT_PARAMETERS"
    raise _unmapped(operation, parameter, table)


def _fillable(parameter: Parameter) -> bool:
    return parameter.location == "query" and (
        parameter.name in OBJECT_PARAMETERS
        or parameter.name in VALUE_PARAMETERS
        or parameter.name in CONSTANT_PARAMETERS
        or parameter.name in DATE_PARAMETERS
    )


def names_object(parameter: Parameter) -> bool:
    return parameter.name in OBJECT_PARAMETERS


def check_mapped(operation: Operation) -> None:
    """Fail for any parameter the tests could not fill meaningfully."""
    for parameter in operation.parameters:
        if parameter.location == "path" and not (
            parameter.name in OBJECT_PARAMETERS or parameter.name in VALUE_PARAMETERS
        ):
            raise _unmapped(operation, parameter, "OBJECT_PARAMETERS or VALUE_PARAMETERS")
        # An id filter must name a real object, so the tests can offer another workspace's.
        if (
            parameter.location == "query"
            and "uuid" in parameter.formats
            and parameter.name not in OBJECT_PARAMETERS
        ):
            raise _unmapped(operation, parameter, "OBJECT_PARAMETERS")
        if parameter.required and parameter.location != "path" and not _fillable(parameter):
            raise _unmapped(operation, parameter, "CONSTANT_PARAMETERS")
    if operation.body_required and operation.operation_id not in BODIES:
        raise AssertionError(
            f"{operation} ({operation.operation_id}) takes a body the security tests cannot "
            "fill: add a valid one to BODIES in tests/security/operations.py."
        )
