"""The Platform API's ``QueryRequest`` (FACTS §9 "Envelope & paging"):
``{filters[{field, operator, value, ignoreCase}], sorting[{field, order ASC|DESC}],
pagination{offset, pageSize, fetchTotalCount=false}}`` → ``pagination{offset, pageSize,
totalCount}`` (``totalCount`` only when asked for). v5 shapes (``selector``, ``conditions``,
``values``, ``orderBy``, ``ASCENDING``, ``limit``) are rejected as live Apple does [R-ASC].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.sandbox.searchads.errors import invalid
from app.sandbox.searchads.filtering import OPERATORS, Condition, apply, sort_records
from app.sandbox.searchads.options import AdsOptions

QUERY_KEYS = frozenset({"filters", "sorting", "pagination"})
_FILTER_KEYS = frozenset({"field", "operator", "value", "ignoreCase"})
_SORT_KEYS = frozenset({"field", "order"})
_PAGINATION_KEYS = frozenset({"offset", "pageSize", "fetchTotalCount"})


@dataclass(frozen=True)
class Paging:
    offset: int
    page_size: int
    fetch_total: bool


@dataclass(frozen=True)
class V1Query:
    filters: tuple[Condition, ...]
    sorting: tuple[tuple[str, bool], ...]  # (field, descending)
    paging: Paging

    def filter_on(self, field: str) -> Condition | None:
        return next((c for c in self.filters if c.field == field), None)


def reject_unknown(obj: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise invalid(f"Unknown field '{unknown[0]}' in {where}.", unknown[0], "UNKNOWN_FIELD")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"'{where}' must be an object.", where)
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"'{where}' must be an array.", where)
    return value


def parse_filters(raw: Any) -> tuple[Condition, ...]:
    conditions = []
    for item in _list(raw, "filters"):
        item = _object(item, "filters[]")
        reject_unknown(item, _FILTER_KEYS, "filters")
        field, operator = item.get("field"), item.get("operator")
        if not isinstance(field, str) or not field:
            raise invalid("Each filter needs a 'field'.", "filters.field", "MISSING_REQUIRED_FIELD")
        if operator not in OPERATORS:
            raise invalid(f"Unsupported operator '{operator}'.", "filters.operator")
        if "value" not in item:
            raise invalid("Each filter needs a 'value'.", "filters.value", "MISSING_REQUIRED_FIELD")
        value = item["value"]
        values = tuple(value) if isinstance(value, list) else (value,)
        conditions.append(Condition(field, operator, values, bool(item.get("ignoreCase"))))
    return tuple(conditions)


def parse_sorting(raw: Any) -> tuple[tuple[str, bool], ...]:
    sorting = []
    for item in _list(raw, "sorting"):
        item = _object(item, "sorting[]")
        reject_unknown(item, _SORT_KEYS, "sorting")
        order = item.get("order", "ASC")
        if order not in ("ASC", "DESC") or not isinstance(item.get("field"), str):
            raise invalid("Sorting needs a 'field' and 'order' ASC or DESC.", "sorting.order")
        sorting.append((item["field"], order == "DESC"))
    return tuple(sorting)


def parse_paging(raw: Any, *, max_size: int, default_size: int) -> Paging:
    data = _object(raw if raw is not None else {}, "pagination")
    reject_unknown(data, _PAGINATION_KEYS, "pagination")
    offset, size = data.get("offset", 0), data.get("pageSize", default_size)
    for name, value in (("offset", offset), ("pageSize", size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise invalid(f"'pagination.{name}' must be a non-negative integer.", name)
    if not 1 <= size <= max_size:
        raise invalid(f"'pagination.pageSize' must be between 1 and {max_size}.", "pageSize")
    return Paging(offset, size, bool(data.get("fetchTotalCount", False)))


def parse_query(body: dict[str, Any], *, max_size: int = 1000, default_size: int = 100) -> V1Query:
    reject_unknown(body, QUERY_KEYS, "the query request")
    return V1Query(
        parse_filters(body.get("filters")),
        parse_sorting(body.get("sorting")),
        parse_paging(body.get("pagination"), max_size=max_size, default_size=default_size),
    )


def check_fields(
    conditions: Sequence[Condition], sorting: Sequence[tuple[str, bool]], known: set[str]
) -> None:
    for name in [c.field for c in conditions] + [s[0] for s in sorting]:
        if known and name not in known:
            raise invalid(f"Unknown field '{name}'.", name, "INVALID_FIELD")


def select(records: list[dict[str, Any]], query: V1Query, known: set[str]) -> list[dict[str, Any]]:
    """Filter and sort ``records`` (all of them; paging is :func:`page`'s job)."""
    check_fields(query.filters, query.sorting, known)
    selected = apply(records, query.filters)
    for field, descending in reversed(query.sorting):
        selected = sort_records(selected, field, descending)
    return selected


def page(
    records: list[dict[str, Any]],
    paging: Paging,
    options: AdsOptions,
    *,
    always_total: bool = False,
) -> dict[str, Any]:
    """The envelope ``{result, pagination, error}`` for one page of ``records``."""
    items = records[paging.offset : paging.offset + paging.page_size]
    size = paging.page_size if options.v1_page_size_echo == "requested" else len(items)
    pagination: dict[str, Any] = {"offset": paging.offset, "pageSize": size}
    if paging.fetch_total or always_total:
        pagination["totalCount"] = len(records)
    return {"result": items, "pagination": pagination, "error": None}


def single(result: Any) -> dict[str, Any]:
    return {"result": result, "pagination": None, "error": None}
