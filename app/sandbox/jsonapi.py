"""JSON:API plumbing shared by the endpoints: query parameters, cursor paging, documents.

- Array parameters are comma-separated (``filter[rating]=4,5``; repeating the parameter works
  too). Unknown parameters are rejected like Apple does (400 ``PARAMETER_ERROR.ILLEGAL``);
  known-but-unimplemented filters/includes from the spec are accepted and ignored.
- ``limit`` defaults to 50, maximum 200; ``limit[<relationship>]`` maximum 50.
- ``links.next`` is an absolute URL with the original parameters plus an opaque ``cursor``
  and ``limit``. A cursor is only valid for the request (path and filters) that produced it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from app.sandbox.errors import illegal_parameter, invalid_parameter, invalid_value
from app.sandbox.seeding import stable_hash

Resource = dict[str, Any]
T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_INCLUDED_LIMIT = 50


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` as a set (for spec enums)."""
    return frozenset(text.split())


def word_list(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text`` in order."""
    return tuple(text.split())


@dataclass(frozen=True)
class ParamSpec:
    """The query parameters one operation accepts (names and enums taken from the spec)."""

    names: frozenset[str] = frozenset()
    fields: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    limits: frozenset[str] = frozenset()
    enums: Mapping[str, frozenset[str]] = field(default_factory=dict)
    paged: bool = False


class Query:
    """The request's query string, with JSON:API array semantics."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = list(pairs)

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.pairs))

    def first(self, name: str) -> str | None:
        return next((value for key, value in self.pairs if key == name), None)

    def values(self, name: str) -> list[str] | None:
        """All comma-separated values of ``name``; ``None`` when the parameter is absent."""
        raw = [value for key, value in self.pairs if key == name]
        if not raw:
            return None
        return [part.strip() for value in raw for part in value.split(",") if part.strip()]

    def value_set(self, name: str) -> set[str] | None:
        values = self.values(name)
        return None if values is None else set(values)

    def fields(self, resource_type: str) -> set[str] | None:
        return self.value_set(f"fields[{resource_type}]")

    def includes(self) -> set[str]:
        return self.value_set("include") or set()

    def sort(self, default: str) -> str:
        values = self.values("sort")
        return values[0] if values else default

    def without(self, *names: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.pairs if k not in names]

    def validate(self, spec: ParamSpec) -> None:
        for name in self.names():
            if name.startswith("fields[") and name.endswith("]"):
                allowed_fields = spec.fields.get(name[7:-1], frozenset())
                if name[7:-1] not in spec.fields:
                    raise illegal_parameter(name)
                for value in self.values(name) or []:
                    if allowed_fields is not None and value not in allowed_fields:
                        raise invalid_value(name, value)
            elif name.startswith("limit[") and name.endswith("]"):
                if name[6:-1] not in spec.limits:
                    raise illegal_parameter(name)
                _parse_limit(name, self.first(name), MAX_INCLUDED_LIMIT)
            elif name in ("limit", "cursor") and spec.paged:
                continue
            elif name not in spec.names:
                raise illegal_parameter(name)
        for name, allowed in spec.enums.items():
            for value in self.values(name) or []:
                if value not in allowed:
                    raise invalid_value(name, value)

    def limit(self) -> int:
        return _parse_limit("limit", self.first("limit"), MAX_LIMIT) or DEFAULT_LIMIT

    def included_limit(self, relationship: str, default: int = 10) -> int:
        name = f"limit[{relationship}]"
        return _parse_limit(name, self.first(name), MAX_INCLUDED_LIMIT) or default


def _parse_limit(name: str, raw: str | None, maximum: int) -> int | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise invalid_value(name, raw) from None
    if value > maximum:
        raise invalid_parameter(
            name, f"'{raw}' is not a valid value for '{name}'. The maximum limit is {maximum}."
        )
    if value < 1:
        raise invalid_parameter(name, f"'{raw}' is not a valid value for '{name}'.")
    return value


# --- paging ------------------------------------------------------------------------------


def _query_fingerprint(path: str, query: Query) -> str:
    pairs = sorted(query.without("cursor", "limit"))
    return format(stable_hash(path, pairs) & 0xFFFFFFFF, "08x")


def encode_cursor(offset: int, path: str, query: Query) -> str:
    raw = json.dumps({"o": offset, "q": _query_fingerprint(path, query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, path: str, query: Query) -> int:
    bad = invalid_parameter("cursor", f"'{cursor}' is not a valid cursor for this request")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict):
        raise bad
    offset = data.get("o")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise bad
    if data.get("q") != _query_fingerprint(path, query):
        raise bad
    return offset


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    limit: int
    next_url: str | None
    next_cursor: str | None


def paginate(items: Sequence[T], *, base_url: str, path: str, query: Query) -> Page:
    limit = query.limit()
    cursor = query.first("cursor")
    offset = decode_cursor(cursor, path, query) if cursor is not None else 0
    if offset > len(items):
        raise invalid_parameter("cursor", f"'{cursor}' is not a valid cursor for this request")
    chunk = list(items[offset : offset + limit])
    next_url = next_cursor = None
    if offset + limit < len(items):
        next_cursor = encode_cursor(offset + limit, path, query)
        params = [*query.without("cursor", "limit"), ("cursor", next_cursor), ("limit", str(limit))]
        next_url = f"{base_url}{path}?{urlencode(params, safe='[],')}"
    return Page(chunk, len(items), limit, next_url, next_cursor)


# --- documents ---------------------------------------------------------------------------


def relationship_links(base_url: str, resource_type: str, resource_id: str, name: str) -> Any:
    own = f"{base_url}/v1/{resource_type}/{resource_id}"
    return {"self": f"{own}/relationships/{name}", "related": f"{own}/{name}"}


def make_resource(
    *,
    base_url: str,
    resource_type: str,
    resource_id: str,
    attributes: Mapping[str, Any],
    relationships: Mapping[str, Resource] | None = None,
    fields: set[str] | None = None,
) -> Resource:
    """A resource object; ``fields`` (sparse fieldset) limits attributes and relationships."""
    resource: Resource = {"type": resource_type, "id": resource_id}
    attrs = {k: v for k, v in attributes.items() if fields is None or k in fields}
    if attrs or fields is None:
        resource["attributes"] = attrs
    rels = {k: v for k, v in (relationships or {}).items() if fields is None or k in fields}
    if rels:
        resource["relationships"] = rels
    resource["links"] = {"self": f"{base_url}/v1/{resource_type}/{resource_id}"}
    return resource


class Included:
    """Resources for the top-level ``included`` array, de-duplicated, in first-seen order."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Resource] = {}

    def add(self, resource: Resource) -> dict[str, str]:
        self._items.setdefault((resource["type"], resource["id"]), resource)
        return {"type": resource["type"], "id": resource["id"]}

    def items(self) -> list[Resource]:
        return list(self._items.values())


def collection_document(
    data: list[Resource], page: Page, self_url: str, included: Included | None = None
) -> dict[str, Any]:
    links: dict[str, str] = {"self": self_url}
    paging: dict[str, Any] = {"total": page.total, "limit": page.limit}
    if page.next_url and page.next_cursor:
        links["next"] = page.next_url
        paging["nextCursor"] = page.next_cursor
    document: dict[str, Any] = {"data": data}
    if included is not None and included.items():
        document["included"] = included.items()
    document["links"] = links
    document["meta"] = {"paging": paging}
    return document


def single_document(
    data: Resource, self_url: str, included: Included | None = None
) -> dict[str, Any]:
    document: dict[str, Any] = {"data": data}
    if included is not None and included.items():
        document["included"] = included.items()
    document["links"] = {"self": self_url}
    return document
