"""The schema checks have teeth: Apple's spec rejects what the sandbox must never send."""

from __future__ import annotations

import copy

import httpx
import jsonschema
import pytest

from tests.fixtures.apple_files import ASC_DATA
from tests.sandbox.helpers import assert_matches_spec


def test_spec_is_in_the_repository() -> None:
    assert (ASC_DATA / "app-store-connect-openapi.json.gz").is_file()


async def test_drift_is_caught(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    body = (await client.get("/v1/apps", headers=admin_headers)).json()
    assert_matches_spec(body, "/v1/apps")
    mutations = [
        ("data", 0, "attributes", "colour"),  # attribute Apple does not define
        ("data", 0, "type"),  # wrong resource type
        ("meta", "paging", "limit"),  # paging without a limit
        ("data", 0, "attributes", "isOrEverWasMadeForKids"),  # wrong attribute type
    ]
    for path in mutations:
        broken = copy.deepcopy(body)
        target = broken
        for part in path[:-1]:
            target = target[part]
        last = path[-1]
        if last == "colour":
            target[last] = "blue"
        elif last == "type":
            target[last] = "app"
        elif last == "limit":
            del target[last]
        else:
            target[last] = "no"
        with pytest.raises(jsonschema.ValidationError):
            assert_matches_spec(broken, "/v1/apps")
