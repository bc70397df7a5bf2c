"""v5 paging and ``Selector`` (FACTS §2 "Pagination", §3 ReportingRequest ``selector``).

GET lists take ``limit`` (default 20, max 1000) and ``offset`` (default 0) query parameters;
``/find`` and reports take ``selector{conditions[{field, operator, values[]}], orderBy[{field,
sortOrder}] (one field), pagination{offset, limit}}``. Responses carry
``pagination{totalResults, startIndex, itemsPerPage}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.sandbox.searchads.errors import invalid
from app.sandbox.searchads.filtering import OPERATORS, Condition
from app.sandbox.searchads.options import AdsOptions

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
SELECTOR_KEYS = frozenset({"conditions", "orderBy", "pagination", "fields"})


@dataclass(frozen=True)
class Selector:
    conditions: tuple[Condition, ...] = ()
    order_by: tuple[str, bool] | None = None  # (field, descending)
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    fields: tuple[str, ...] | None = None


def _limit(value: Any, options: AdsOptions) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise invalid("limit must be a positive integer.", "limit")
    if value > MAX_LIMIT:
        if options.v5_limit_over_max == "clamp":
            return MAX_LIMIT
        raise invalid(f"limit must not exceed {MAX_LIMIT}.", "limit")
    return value


def _offset(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid("offset must be a non-negative integer.", "offset")
    return value


def query_paging(query: Mapping[str, str], options: AdsOptions) -> tuple[int, int]:
    """``(offset, limit)`` from GET query parameters."""
    try:
        offset = int(query.get("offset", "0"))
        limit = int(query.get("limit", str(DEFAULT_LIMIT)))
    except ValueError:
        raise invalid("offset and limit must be integers.", "limit") from None
    return _offset(offset), _limit(limit, options)


def _conditions(raw: Any) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise invalid("selector.conditions must be an array.", "conditions")
    result = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise invalid("Each condition needs a field.", "conditions")
        values = item.get("values")
        if item.get("operator") not in OPERATORS or not isinstance(values, list):
            raise invalid("Each condition needs an operator and a values array.", "conditions")
        result.append(Condition(item["field"], item["operator"], tuple(values)))
    return tuple(result)


def _order_by(raw: Any) -> tuple[str, bool] | None:
    if not raw:
        return None
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
        raise invalid("orderBy takes exactly one field.", "orderBy")  # FACTS §3
    order = raw[0].get("sortOrder", "ASCENDING")
    if order not in ("ASCENDING", "DESCENDING") or not isinstance(raw[0].get("field"), str):
        raise invalid("orderBy needs a field and sortOrder ASCENDING or DESCENDING.", "orderBy")
    return raw[0]["field"], order == "DESCENDING"


def parse_selector(raw: Any, options: AdsOptions) -> Selector:
    if raw is None:
        return Selector()
    if not isinstance(raw, dict):
        raise invalid("selector must be an object.", "selector")
    unknown = sorted(set(raw) - SELECTOR_KEYS)
    if unknown:
        raise invalid(f"Unknown selector field '{unknown[0]}'.", unknown[0])
    paging = raw.get("pagination") or {}
    if not isinstance(paging, dict):
        raise invalid("selector.pagination must be an object.", "pagination")
    fields = raw.get("fields")
    return Selector(
        _conditions(raw.get("conditions")),
        _order_by(raw.get("orderBy")),
        _offset(paging.get("offset", 0)),
        _limit(paging.get("limit", DEFAULT_LIMIT), options),
        tuple(fields) if isinstance(fields, list) else None,
    )


def pagination(
    total: int, offset: int, limit: int, returned: int, options: AdsOptions
) -> dict[str, int]:
    per_page = returned if options.v5_items_per_page == "returned" else limit
    return {"totalResults": total, "startIndex": offset, "itemsPerPage": per_page}


def envelope(data: Any, page: dict[str, int] | None) -> dict[str, Any]:
    return {"data": data, "pagination": page, "error": None}
