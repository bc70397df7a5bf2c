"""An unknown query parameter is a 422 naming it, on every route.

Silently ignoring one ships wrong dashboards: `/v1/sales?platform=ios` (no such filter) used
to answer the unfiltered totals. The known names are the route's declared query parameters
(its own and its dependencies'), read once per route from FastAPI's dependency tree.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.errors import FieldError, ValidationFailed


def _query_names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        for field in current.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                # A query-parameter model: its fields are the parameters.
                names.update(f.alias or n for n, f in annotation.model_fields.items())
            else:
                names.add(field.alias)
        stack.extend(current.dependencies)
    return names


#: Per route object (routes are unhashable; they live as long as their app).
_KNOWN: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def known_query_parameters(route: APIRoute) -> frozenset[str]:
    cached = _KNOWN.get(id(route))
    if cached is None or cached[0] is not route:
        cached = (route, frozenset(_query_names(route.dependant)))
        _KNOWN[id(route)] = cached
    return cached[1]


async def reject_unknown_query_parameters(request: Request) -> None:
    """An app-wide dependency: runs before the route, after routing."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.query:
        return
    known = known_query_parameters(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if not unknown:
        return
    accepted = ", ".join(sorted(known)) or "none"
    raise ValidationFailed(
        "; ".join(f"query.{name[:40]}: unknown query parameter" for name in unknown[:5])
        + f" (this route accepts: {accepted})",
        [
            FieldError(
                field=f"query.{name[:40]}",
                message=f"unknown query parameter (this route accepts: {accepted})",
                type="unknown_parameter",
            )
            for name in unknown[:20]
        ],
    )
