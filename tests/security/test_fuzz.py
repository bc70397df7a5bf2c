"""Schemathesis over every operation of the committed spec: zero 5xx, every response as declared.

A bounded, deterministic profile for CI (a few examples per operation, a fixed seed, every
phase: schema examples, coverage of boundaries and invalid values, random fuzzing, and a short
stateful run following the links schemathesis infers between operations). The long run is
``python tests/benchmarks/fuzz_long.py --examples N``, which sets the environment variables
below. The fuzzer writes (it links, renames, revokes), so it gets a world of its own.
"""

from __future__ import annotations

import asyncio
import datetime
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import hypothesis
import pytest
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response

from tests.security.fuzzing import load_schema, real_values, send, validate
from tests.security.world import World, build_world, scratch_database

EXAMPLES_PER_OPERATION = int(os.environ.get("ORCHARD_FUZZ_EXAMPLES", "5"))
STATEFUL_SCENARIOS = int(os.environ.get("ORCHARD_FUZZ_SCENARIOS", "10"))
SEED = int(os.environ.get("ORCHARD_FUZZ_SEED", "20261121"))

schema = load_schema(examples=EXAMPLES_PER_OPERATION, seed=SEED)

FuzzWorld = tuple[World, dict[str, str]]


@pytest.fixture(scope="module")
async def fuzz_world(
    pg_server_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FuzzWorld]:
    async with (
        scratch_database(pg_server_url, template_database) as url,
        build_world(url, tmp_path_factory.mktemp("fuzz"), intruder_data=False) as world,
    ):
        yield world, await real_values(world)


@schema.parametrize()
async def test_fuzz(case: Any, fuzz_world: FuzzWorld) -> None:
    world, real = fuzz_world
    response = await send(world, case, real)
    validate(case, response)


def test_stateful(fuzz_world: FuzzWorld) -> None:
    """Sequences along inferred links (list → item, create → delete), fed by real answers."""
    world, real = fuzz_world
    # A sync test: the fixtures' event loop is idle, so each call runs on it to completion.
    loop = asyncio.get_event_loop()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Response:
            return Response.from_any(loop.run_until_complete(send(world, case, real)))

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            validate(case, response)

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


async def test_the_checks_catch_a_response_that_breaks_the_spec(fuzz_world: FuzzWorld) -> None:
    """The validation is not a no-op: undeclared statuses, wrong bodies and 5xx all fail."""
    world, real = fuzz_world
    case = schema["/v1/tokens"]["GET"].Case()
    good = await send(world, case, real)
    validate(case, good)
    request = good.request
    broken = [
        httpx.Response(418, json={"type": "x"}, request=request),  # status not declared
        httpx.Response(500, json={}, request=request),  # a server error
        httpx.Response(200, json={"items": "not a list"}, request=request),  # body schema
        httpx.Response(200, text="<html>", headers={"content-type": "text/html"}, request=request),
    ]
    for response in broken:
        response.elapsed = datetime.timedelta(milliseconds=1)
        with pytest.raises((FailureGroup, AssertionError)):
            validate(case, response)
