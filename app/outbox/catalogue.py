"""What an event type is: its name, what it means, and the shape of its ``data``.

Each floor or domain that writes events declares its types next to the model of their
``data`` (the REST resource the event refers to); the entry points collect them into one
:class:`EventCatalogue`, which the webhooks domain publishes and validates subscriptions
against.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel

#: Standard Webhooks: ``[a-zA-Z0-9_]`` words, dot-separated, most general first.
TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True)
class EventTypeSpec:
    name: str
    summary: str
    description: str
    #: The model of the payload's ``data`` (the REST resource the event refers to).
    data: type[BaseModel]
    #: False for events a subscription cannot ask for (the test ping, sent on request).
    subscribable: bool = True

    def __post_init__(self) -> None:
        if not TYPE_NAME.match(self.name):
            raise ValueError(f"{self.name!r} is not a dot-separated event type name")


class EventCatalogue:
    """Every event type Orchard sends, by name, in a stable order."""

    def __init__(self, specs: Iterable[EventTypeSpec]) -> None:
        self._by_name: dict[str, EventTypeSpec] = {}
        for spec in specs:
            if spec.name in self._by_name:
                raise ValueError(f"event type {spec.name} declared twice")
            self._by_name[spec.name] = spec

    def get(self, name: str) -> EventTypeSpec | None:
        return self._by_name.get(name)

    def all(self) -> list[EventTypeSpec]:
        return sorted(self._by_name.values(), key=lambda spec: spec.name)

    def subscribable(self) -> list[str]:
        return [spec.name for spec in self.all() if spec.subscribable]
