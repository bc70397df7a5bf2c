"""The committed spec is the app's spec, and every operation documents its problems."""

import json

from app.cli import OPENAPI_PATH, render_openapi


def test_committed_spec_matches_app() -> None:
    assert OPENAPI_PATH.read_text() == render_openapi(), (
        "openapi/openapi.json is stale: run `orchard openapi` and commit it"
    )


def test_operations_are_documented() -> None:
    spec = json.loads(render_openapi())
    operation_ids = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            assert operation.get("description"), f"{method} {path} has no docstring"
            responses = operation["responses"]
            assert "500" in responses
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], status
            if path.startswith("/v1/"):
                assert operation["security"] == [{"OrchardToken": []}], path
                assert {"401", "403"} <= set(responses), path
    assert len(operation_ids) == len(set(operation_ids))
    assert spec["components"]["securitySchemes"]["OrchardToken"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in spec["components"]["schemas"]
