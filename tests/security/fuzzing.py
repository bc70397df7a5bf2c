"""Schemathesis against Orchard's committed OpenAPI, in-process, shared by the CI test and the
long-running script (``tests/benchmarks/fuzz_long.py``).

Schemathesis generates the requests and judges the responses (status code declared, content
type, headers, body schema, no 5xx, invalid input refused); Orchard is called through its own
ASGI app on the test's event loop, so the app, its database pool and the sandbox all live where
the fixtures built them. Requests carry a valid admin token; path ids are swapped for the
workspace's real objects in part of the cases, so handlers run against real rows, not only
against "not found".
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from app.cli import OPENAPI_PATH
from tests.secrets_guard import scan
from tests.security.operations import OBJECT_PARAMETERS, VALUE_PARAMETERS, resolve_refs
from tests.security.world import World

BASE_URL = "http://orchard.test"


#: What every response must satisfy. Left out: checks that send requests of their own through
#: schemathesis's transport (we drive the app ourselves) and `positive_data_acceptance`, which
#: expects a 2xx for any schema-valid id (random ids are rightly 404).
def negative_data_rejection_on_the_wire(ctx: Any, response: Any, case: Any) -> bool | None:
    """``negative_data_rejection``, judged on what was really sent.

    A value generated to break a query parameter's schema can serialise into a valid one: the
    boolean ``true`` for a list of SKUs is sent as ``sku=true``, a perfectly good SKU. Such a
    request is not invalid, so accepting it is right.
    """
    if response.status_code == 413:
        # Refused for its size before anything read it (ORCHARD_MAX_BODY_BYTES): a rejection,
        # though schemathesis's list of rejecting statuses leaves 413 out.
        return None
    try:
        return negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData:
        if _query_valid_as_sent(case, response):
            return None
        raise


def _query_valid_as_sent(case: Any, response: Any) -> bool:
    data = case.meta.phase.data
    if data.parameter_location is not ParameterLocation.QUERY:
        return False
    names = [data.parameter] if data.parameter else [m.parameter for m in data.mutations]
    sent = parse_qs(urlsplit(str(response.request.url)).query, keep_blank_values=True)
    declared = {
        p["name"]: resolve_refs(p.get("schema", {}), _components())
        for p in case.operation.definition.raw.get("parameters", [])
        if p.get("in") == "query"
    }
    for name in names:
        values, schema = sent.get(name), declared.get(name)
        if not values or schema is None:
            return False
        validator = jsonschema.Draft202012Validator(schema)
        candidates: list[Any] = [values] + ([values[0]] if len(values) == 1 else [])
        if not any(validator.is_valid(candidate) for candidate in candidates):
            return False
    return True


@functools.cache
def _components() -> dict[str, Any]:
    components: dict[str, Any] = json.loads(OPENAPI_PATH.read_text())["components"]["schemas"]
    return components


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection_on_the_wire,
    missing_required_header,
    unsupported_method,
]


def load_schema(*, examples: int, seed: int) -> Any:
    """The committed spec with a deterministic, bounded generation profile."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "generation": {
                "max-examples": examples,
                "deterministic": True,
                "database": "none",
                "with-security-parameters": False,  # we send a valid token ourselves
            },
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        }
    )
    return schemathesis.openapi.from_path(OPENAPI_PATH, config=config)


@dataclass
class Tally:
    """What the fuzzer did, for the summary the long run prints."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    real_ids: int = 0


async def real_values(world: World) -> dict[str, str]:
    """One real object per path parameter name, for the owner's workspace."""
    values: dict[str, str] = {}
    for name, query in {**OBJECT_PARAMETERS, **VALUE_PARAMETERS}.items():
        value = await world.db.fetchval(query, world.victim.workspace_id)
        if value is not None:
            values[name] = str(value)
    values["own_token_id"] = str(
        await world.db.fetchval(
            "SELECT id FROM api_tokens WHERE workspace_id = $1 AND 'admin' = ANY(scopes)",
            world.victim.workspace_id,
        )
    )
    return values


def _use_real_ids(case: Any) -> bool:
    """Half the positive cases, chosen from the case itself so a run is reproducible."""
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    if mode is None or getattr(mode, "value", str(mode)) != "positive":
        return False
    digest = hashlib.sha256(repr(case.path_parameters).encode()).digest()
    return digest[0] % 2 == 0


#: Operations a fuzzer must not aim at the shared objects: they would destroy them (or the
#: token the fuzzer itself uses) and leave the rest of the run nothing real to hit.
DESTRUCTIVE = frozenset({"unlink_account", "revoke_token", "delete_webhook"})


#: Every run's figures, for the long run's summary.
TALLY = Tally()


async def send(
    world: World, case: Any, real: dict[str, str], *, swap_ids: bool = True
) -> httpx.Response:
    operation_id = case.operation.definition.raw.get("operationId", "")
    if (
        swap_ids
        and case.path_parameters
        and operation_id not in DESTRUCTIVE
        and set(case.path_parameters) <= set(real)
        and _use_real_ids(case)
    ):
        case.path_parameters = {name: real[name] for name in case.path_parameters}
        TALLY.real_ids += 1
    if case.path_parameters and real.get("own_token_id") in case.path_parameters.values():
        # Links can lead the stateful run to its own token; revoking it would end the run.
        case.path_parameters = {
            name: fresh_id() if value == real["own_token_id"] else value
            for name, value in case.path_parameters.items()
        }
    tally = TALLY
    kwargs = case.as_transport_kwargs(
        base_url=BASE_URL, headers={"Authorization": f"Bearer {world.victim.admin_token}"}
    )
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        data=kwargs.get("data"),
        json=kwargs.get("json"),
        files=kwargs.get("files"),
        cookies=kwargs.get("cookies"),
    ).prepare()
    response = await world.client.request(
        prepared.method or "GET",
        prepared.url or BASE_URL,
        headers=dict(prepared.headers),
        content=prepared.body,
    )
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    tally.operations[f"{case.method} {case.path}"] += 1
    return response


#: The one answer that carries a secret by design: a new token, shown once.
SHOWS_A_SECRET = frozenset(
    {
        ("POST", "/v1/tokens", 201),
        ("POST", "/v1/webhooks", 201),  # the signing secret, shown once
        ("POST", "/v1/webhooks/{webhook_id}/rotate-secret", 200),
    }
)


def validate(case: Any, response: httpx.Response) -> None:
    case.validate_response(response, checks=CHECKS)
    if (case.method, case.path, response.status_code) not in SHOWS_A_SECRET:
        assert not scan(response.text), f"{case.method} {case.path} answered a secret"


def fresh_id() -> str:
    return str(uuid.uuid4())
