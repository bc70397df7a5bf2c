"""Generic passes over a generated OpenAPI document, so it says what the server does.

FastAPI's document is close but loose where consumers generating typed clients feel it:
generic names (``Page_AppRead_``), optional-looking fields the server always sends, headers
nobody declared. These functions fix such things in place; ``app.apispec`` says what to apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

REF_PREFIX = "#/components/schemas/"
_PAGE = re.compile(r"^Page_(?P<item>[A-Za-z0-9]+?)(Read)?_$")
_MODULE_PATH = re.compile(r"^app__(?P<domain>[a-z_]+?)__schemas__(?P<name>[A-Za-z0-9]+)$")


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``node``, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def clean_schema_names(spec: dict[str, Any]) -> dict[str, str]:
    """``Page_AppRead_`` → ``AppPage``; ``app__sales__schemas__Granularity`` →
    ``SalesGranularity``; ``Granularity-Output`` → ``Granularity`` when there is no other.
    Every ``$ref`` follows. Returns the renames made."""
    schemas = spec.get("components", {}).get("schemas", {})
    renames: dict[str, str] = {}
    for name in list(schemas):
        page = _PAGE.match(name)
        module = _MODULE_PATH.match(name)
        if page:
            renames[name] = page["item"] + "Page"
        elif module:
            domain = "".join(part.title() for part in module["domain"].split("_"))
            renames[name] = domain + module["name"]
        elif name.endswith(("-Output", "-Input")):
            base = name.rsplit("-", 1)[0]
            twin = base + ("-Input" if name.endswith("-Output") else "-Output")
            if base not in schemas and twin not in schemas:
                renames[name] = base
    rename_schemas(spec, renames)
    return renames


def rename_schemas(spec: dict[str, Any], renames: dict[str, str]) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    clashes = {new for old, new in renames.items() if new in schemas and new not in renames}
    if clashes:
        raise ValueError(f"schema renames collide with existing schemas: {sorted(clashes)}")
    for old, new in renames.items():
        schema = schemas.pop(old)
        schema["title"] = new
        schemas[new] = schema
    refs = {REF_PREFIX + old: REF_PREFIX + new for old, new in renames.items()}
    for node in walk(spec):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in refs:
            node["$ref"] = refs[ref]
    spec["components"]["schemas"] = dict(sorted(schemas.items()))


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation of ``paths``."""
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete", "head", "options"):
                yield path, method, operation


def _refs_in(node: Any) -> set[str]:
    return {
        n["$ref"].removeprefix(REF_PREFIX)
        for n in walk(node)
        if isinstance(n.get("$ref"), str) and n["$ref"].startswith(REF_PREFIX)
    }


def _closure(spec: dict[str, Any], roots: set[str]) -> set[str]:
    schemas = spec.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(_refs_in(schemas[name]))
    return seen


def response_only_schemas(spec: dict[str, Any]) -> set[str]:
    """Schemas reachable from what the server sends (responses, and the webhooks' bodies, which
    are resources dumped whole) and from nothing a caller sends (bodies, parameters)."""
    sent: set[str] = set()
    answered: set[str] = set()
    for _path, _method, operation in operations(spec):
        sent |= _refs_in(operation.get("requestBody", {}))
        sent |= _refs_in(operation.get("parameters", []))
        answered |= _refs_in(operation.get("responses", {}))
    answered |= _refs_in(spec.get("webhooks", {}))
    return _closure(spec, answered) - _closure(spec, sent)


def require_every_property(spec: dict[str, Any], names: set[str]) -> None:
    """The server serializes every field of its response models (defaults and nulls
    included), so in a response a property is never absent: say so."""
    schemas = spec.get("components", {}).get("schemas", {})
    for name in names:
        schema = schemas.get(name, {})
        properties = schema.get("properties")
        if properties and schema.get("additionalProperties") is not True:
            schema["required"] = sorted(properties)
