"""Test helpers: Apple's OpenAPI spec as a JSON Schema validator, JWT minting, TSV parsing."""

from __future__ import annotations

import copy
import gzip
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import jwt
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from app.sandbox import SandboxKey
from tests.fixtures.apple_files import asc_openapi_spec

SPEC_URI = "urn:asc-openapi"


def _tighten(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable`` becomes a null type, and objects with declared
    properties reject undeclared ones (Apple's spec never says so, but a sandbox attribute
    Apple does not define is exactly the drift these tests must catch)."""
    if isinstance(node, list):
        return [_tighten(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _tighten(value) for key, value in node.items()}
    if node.pop("nullable", False) and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


@cache
def _raw_spec() -> dict[str, Any]:
    return asc_openapi_spec()


@cache
def openapi_spec() -> dict[str, Any]:
    """Apple's spec components as JSON Schema, converted once per test session."""
    raw = _raw_spec()
    return {"openapi": raw["openapi"], "components": _tighten(copy.deepcopy(raw["components"]))}


def _raw_paths() -> dict[str, Any]:
    paths: dict[str, Any] = _raw_spec()["paths"]
    return paths


@cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, DRAFT4.create_resource(openapi_spec())
    )
    return registry


def response_schema_ref(path: str, status: int = 200, method: str = "get") -> str:
    """The ``$ref`` of an operation's JSON response schema in the spec."""
    response = _raw_paths()[path][method]["responses"][str(status)]
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref


def validator(ref: str) -> Draft4Validator:
    return Draft4Validator(
        {"$ref": f"{SPEC_URI}{ref}"},
        registry=_registry(),
        format_checker=Draft4Validator.FORMAT_CHECKER,
    )


def assert_matches_spec(body: Any, path: str, status: int = 200) -> None:
    """Validate a response body against the operation's schema for ``status``."""
    validator(response_schema_ref(path, status)).validate(body)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is one JSON:API error with ``status``/``code`` valid per ``ErrorResponse``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    validator("#/components/schemas/ErrorResponse").validate(body)
    [error] = body["errors"]
    assert error["status"] == str(status)
    assert error["code"] == code, error
    assert error["id"] and error["title"] and error["detail"]
    return dict(error)


def mint(
    key: SandboxKey,
    now: datetime,
    *,
    lifetime: timedelta = timedelta(minutes=15),
    claims: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    kid: str | None = None,
    signing_pem: str | None = None,
    algorithm: str = "ES256",
) -> str:
    """A token for ``key`` minted with pyjwt directly (independent of Orchard's ASC client)."""
    payload: dict[str, Any] = {
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "aud": "appstoreconnect-v1",
    }
    if key.is_team_key:
        payload["iss"] = key.issuer_id
    else:
        payload["sub"] = "user"
    payload.update(claims or {})
    for name in drop:
        payload.pop(name, None)
    signing_key: Any = signing_pem or key.private_key_pem
    if algorithm.startswith("HS"):
        signing_key = "not-a-real-secret-but-long-enough-for-hmac-sha256"
    return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid or key.key_id})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def parse_tsv(content: bytes) -> tuple[list[str], list[dict[str, str]], list[str]]:
    """gunzip + split a report into header, rows and ``Total_*`` footer lines."""
    assert content[:2] == b"\x1f\x8b", "report bodies are gzip"
    lines = gzip.decompress(content).decode("utf-8").split("\n")
    assert lines[-1] == "", "file ends with a newline"
    header = lines[0].split("\t")
    rows, footer = [], []
    for line in lines[1:-1]:
        if line.startswith("Total_"):
            footer.append(line)
            continue
        assert not footer, "no rows after the footer"
        cells = line.split("\t")
        assert len(cells) == len(header)
        rows.append(dict(zip(header, cells, strict=True)))
    return header, rows, footer
