"""What a ``/v1`` handler receives, and how a domain module declares its routes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from starlette.requests import Request
from starlette.responses import Response

from app.sandbox.jsonapi import ParamSpec, Query
from app.sandbox.permissions import Permission
from app.sandbox.state import SandboxKey, SandboxState, SandboxTeam


@dataclass
class V1Context:
    request: Request
    state: SandboxState
    key: SandboxKey
    path_params: dict[str, str]
    query: Query

    @property
    def team(self) -> SandboxTeam:
        return self.key.team

    @property
    def now(self) -> datetime:
        return self.state.now()

    @property
    def base_url(self) -> str:
        """Scheme and host of the request, without a trailing slash."""
        return str(self.request.base_url).rstrip("/")

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def self_url(self) -> str:
        return str(self.request.url)


Handler = Callable[[V1Context], Awaitable[Response]]


@dataclass(frozen=True)
class V1Route:
    """``GET /v1/apps/{id}`` → handler, with the permission rule and accepted parameters."""

    method: str
    template: str
    handler: Handler
    permission: Permission
    params: ParamSpec

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        return re.compile(f"^{regex}$")

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.match(path)
        return None if found is None else found.groupdict()
