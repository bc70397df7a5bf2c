"""Minimal JSON:API document models for App Store Connect responses.

Only the envelope is modelled (type, id, attributes, relationships, links, included, meta);
attributes stay plain dicts because Apple adds fields and enum values between spec versions
and each domain syncer validates exactly the attributes it stores. Unknown keys are kept.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Document", "Resource", "ResourceKey"]

ResourceKey = tuple[str, str]


class Resource(BaseModel):
    """One resource object (``{"type", "id", "attributes", "relationships", "links"}``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    id: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    relationships: dict[str, Any] = Field(default_factory=dict)
    links: dict[str, Any] | None = None

    @field_validator("attributes", "relationships", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def key(self) -> ResourceKey:
        return (self.type, self.id)

    def relationship_ids(self, name: str) -> list[ResourceKey]:
        """Linkage of a relationship as ``(type, id)`` pairs; ``[]`` when absent or null."""
        rel = self.relationships.get(name)
        if not isinstance(rel, dict):
            return []
        data = rel.get("data")
        items = data if isinstance(data, list) else [data]
        return [
            (str(item["type"]), str(item["id"]))
            for item in items
            if isinstance(item, dict) and "type" in item and "id" in item
        ]


class Document(BaseModel):
    """A top-level JSON:API document: one resource, a page of resources, or nothing."""

    model_config = ConfigDict(extra="allow")

    data: list[Resource] | Resource | None = None
    included: list[Resource] = Field(default_factory=list)
    links: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    @field_validator("included", mode="before")
    @classmethod
    def _null_included(cls, value: Any) -> Any:
        return [] if value is None else value

    def resources(self) -> list[Resource]:
        """Primary data as a list whatever its shape."""
        if self.data is None:
            return []
        if isinstance(self.data, Resource):
            return [self.data]
        return self.data

    def next_url(self) -> str | None:
        """Document-level ``links.next`` (an absolute URL to follow verbatim), if any."""
        if not self.links:
            return None
        value = self.links.get("next")
        return value if isinstance(value, str) and value else None

    def total(self) -> int | None:
        """``meta.paging.total`` when Apple sent it (useful to size work)."""
        paging = (self.meta or {}).get("paging")
        total = paging.get("total") if isinstance(paging, dict) else None
        return total if isinstance(total, int) else None

    def included_index(self) -> dict[ResourceKey, Resource]:
        """``(type, id)`` → resource for every included (and primary) resource."""
        index = {resource.key: resource for resource in self.resources()}
        index.update((resource.key, resource) for resource in self.included)
        return index

    def related(
        self,
        resource: Resource,
        name: str,
        index: dict[ResourceKey, Resource] | None = None,
    ) -> Resource | list[Resource] | None:
        """Resolve relationship ``name`` of ``resource`` against the included resources.

        To-one relationships give a ``Resource`` (or ``None`` when null or not included);
        to-many give a list of the included ones. Pass a prebuilt ``index`` when resolving
        many resources of one page.
        """
        rel = resource.relationships.get(name)
        if not isinstance(rel, dict) or "data" not in rel:
            return None
        lookup = self.included_index() if index is None else index
        data = rel["data"]
        if isinstance(data, list):
            found = (lookup.get(key) for key in resource.relationship_ids(name))
            return [item for item in found if item is not None]
        keys = resource.relationship_ids(name)
        return lookup.get(keys[0]) if keys else None

    def related_one(self, resource: Resource, name: str) -> Resource | None:
        """Typed ``related`` for to-one relationships."""
        value = self.related(resource, name)
        if isinstance(value, list):
            return value[0] if value else None
        return value

    def related_many(self, resource: Resource, name: str) -> list[Resource]:
        """Typed ``related`` for to-many relationships."""
        value = self.related(resource, name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]
