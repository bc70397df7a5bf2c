"""Run the Python consumer against a live Orchard (``.ci/typed-clients`` starts ``orchard
demo``): every call goes through the generated client, and each raw answer is validated
against its route's schema in openapi/openapi.json (JSON Schema 2020-12, jsonschema).
Exits non-zero on any unexpected status or shape.

    python run.py BASE_URL TOKEN SPEC_PATH
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

from consumer import all_apps, describe, mrr, new_events, orchard, review_queue, sync_status
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs pinned
from orchard_client import AuthenticatedClient
from orchard_client.models.problem import Problem
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:orchard:openapi"
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


class Checker:
    """Raw GETs of the routes the consumer used, each validated against the spec."""

    def __init__(self, client: AuthenticatedClient, spec: dict[str, Any]) -> None:
        self.http = client.get_httpx_client()
        self.spec = spec
        self.registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
        )
        self.checked = 0

    def get(self, template: str, path: str, params: dict[str, str | int], status: int = 200) -> Any:
        response = self.http.get(path, params=params)
        if response.status_code != status:
            raise SystemExit(f"GET {path} {params}: {response.status_code}, expected {status}")
        body = response.json()
        answer = self.spec["paths"][template]["get"]["responses"][str(status)]
        media = "application/problem+json" if status >= 400 else "application/json"
        schema = answer["content"][media]["schema"]
        validator = Draft202012Validator(_absolute(schema), registry=self.registry)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path)
            raise SystemExit(f"GET {path}: not its schema at /{where}: {first.message}")
        self.checked += 1
        return body


def _absolute(schema: dict[str, Any]) -> dict[str, Any]:
    """A route's schema with its local ``#/components/...`` references made absolute."""
    text = json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{SPEC_URI}#/')
    result: dict[str, Any] = json.loads(text)
    return result


def main(base_url: str, token: str, spec_path: str) -> int:
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text())
    client = orchard(base_url, token)
    check = Checker(client, spec)

    # A list walked to its end, small pages and one big page agreeing.
    apps = all_apps(client)
    paged = all_apps(client, limit=1)
    if not apps or [a.id for a in paged] != [a.id for a in apps]:
        raise SystemExit(f"paging apps one by one gave {len(paged)}, one page {len(apps)}")
    check.get("/v1/apps", "/v1/apps", {"limit": 2})

    # Sync status, every page of it.
    entries = sync_status(client, limit=7)
    if len({(e.account_id, e.dataset) for e in entries}) != len(entries) or not entries:
        raise SystemExit(f"sync status: {len(entries)} entries, or one twice")
    for entry in entries:
        if entry.state.value == "failing" and entry.last_error is None:
            raise SystemExit(f"{entry.dataset} failing without its last error")
    check.get("/v1/sync-status", "/v1/sync-status", {"limit": 200})

    # A money series: amounts carry a decimal and a currency, never a null one.
    today = dt.date.today()
    amounts = mrr(client, today - dt.timedelta(days=30), today)
    for line in amounts:
        amount, currency = line.split(": ", 1)[1].split(" ")
        if not DECIMAL.match(amount) or not re.fullmatch(r"[A-Z]{3}", currency):
            raise SystemExit(f"money point {line!r}")
    check.get(
        "/v1/subscriptions/summary/series",
        "/v1/subscriptions/summary/series",
        {"from": str(today - dt.timedelta(days=30)), "to": str(today), "metric": "estimated_mrr"},
    )

    # The events feed walked until `has_more` is false; the review queue.
    events, cursor = new_events(client)
    again, _ = new_events(client, cursor)
    check.get("/v1/events", "/v1/events", {"limit": 50})
    queue = review_queue(client)
    check.get("/v1/review-queue", "/v1/review-queue", {})

    # A refused parameter: a Problem naming it.
    refused = check.get("/v1/apps", "/v1/apps", {"platform": "BOGUS"}, status=422)
    problem = Problem.from_dict(refused)
    if "platform" not in describe(problem):
        raise SystemExit(f"the 422 does not name the parameter: {describe(problem)}")

    print(
        f"Python consumer ran: {len(apps)} apps (paged one by one too), {len(entries)} "
        f"sync-status entries, {len(amounts)} MRR amounts, {len(events)} events "
        f"(+{len(again)} since), {len(queue)} in the review queue; "
        f"{check.checked} answers valid against the spec"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
