"""Conditions, sorting and offset paging over JSON records, for v5 selectors (FACTS §2) and
v1 ``filters`` / ``sorting`` (FACTS §9).

Values compare leniently: ids as ``900001`` or ``"900001"`` are equal, booleans match
``"true"``, Money compares by amount; ``ignoreCase`` lower-cases strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

OPERATORS = frozenset(
    {
        "EQUALS",
        "NOT_EQUALS",
        "IN",
        "NOT_IN",
        "LESS_THAN",
        "GREATER_THAN",
        "BETWEEN",
        "STARTSWITH",
        "ENDSWITH",
        "CONTAINS",
        "CONTAINS_ANY",
        "CONTAINS_ALL",
        "LIKE",
    }
)


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    values: tuple[Any, ...]
    ignore_case: bool = False

    def id_values(self) -> set[int] | None:
        """The ids an EQUALS/IN condition names (None for other operators or non-ids)."""
        if self.operator not in ("EQUALS", "IN"):
            return None
        try:
            return {int(str(v)) for v in self.values}
        except ValueError:
            return None


def _text(value: Any, ignore_case: bool) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict) and "amount" in value:
        text = str(value["amount"])
    else:
        text = str(value)
    return text.lower() if ignore_case else text


def _number(value: Any) -> Decimal | None:
    raw = value["amount"] if isinstance(value, dict) and "amount" in value else value
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def _compare(left: Any, right: Any) -> int:
    a, b = _number(left), _number(right)
    if a is None or b is None:
        sa, sb = _text(left, False), _text(right, False)
        return (sa > sb) - (sa < sb)
    return (a > b) - (a < b)


def _scalar_matches(value: Any, cond: Condition) -> bool:
    op, case = cond.operator, cond.ignore_case
    text = _text(value, case)
    wanted = [_text(v, case) for v in cond.values]
    if op in ("EQUALS", "IN", "CONTAINS_ANY"):
        return text in wanted
    if op in ("NOT_EQUALS", "NOT_IN"):
        return text not in wanted
    if op == "STARTSWITH":
        return any(text.startswith(w) for w in wanted)
    if op == "ENDSWITH":
        return any(text.endswith(w) for w in wanted)
    if op in ("CONTAINS", "LIKE"):
        return any(w in text for w in wanted)
    if op == "LESS_THAN":
        return _compare(value, cond.values[0]) < 0
    if op == "GREATER_THAN":
        return _compare(value, cond.values[0]) > 0
    if op == "BETWEEN":
        return _compare(value, cond.values[0]) >= 0 and _compare(value, cond.values[-1]) <= 0
    return False


def matches(record: dict[str, Any], cond: Condition) -> bool:
    value = record.get(cond.field)
    if isinstance(value, list):
        texts = {_text(v, cond.ignore_case) for v in value}
        wanted = {_text(v, cond.ignore_case) for v in cond.values}
        if cond.operator == "CONTAINS_ALL":
            return wanted <= texts
        if cond.operator in ("NOT_EQUALS", "NOT_IN"):
            return not texts & wanted
        return any(_scalar_matches(v, cond) for v in value)
    return _scalar_matches(value, cond)


def apply(
    records: Iterable[dict[str, Any]], conditions: Sequence[Condition]
) -> list[dict[str, Any]]:
    return [r for r in records if all(matches(r, c) for c in conditions)]


def sorted_indices(records: Sequence[dict[str, Any]], field: str, descending: bool) -> list[int]:
    """Positions of ``records`` stably sorted by ``field`` (numbers numerically, Money by
    amount); records without the field come last."""
    present = [i for i, r in enumerate(records) if r.get(field) is not None]
    missing = [i for i, r in enumerate(records) if r.get(field) is None]

    def key(index: int) -> tuple[int, Decimal, str]:
        value = records[index][field]
        number = _number(value)
        return (0, number, "") if number is not None else (1, Decimal(0), _text(value, False))

    return sorted(present, key=key, reverse=descending) + missing


def sort_records(
    records: list[dict[str, Any]], field: str, descending: bool
) -> list[dict[str, Any]]:
    return [records[i] for i in sorted_indices(records, field, descending)]


def select_indices(
    flat: Sequence[dict[str, Any]],
    conditions: Sequence[Condition],
    sorting: Sequence[tuple[str, bool]],
) -> list[int]:
    """Positions of the ``flat`` records that pass ``conditions``, in ``sorting`` order."""
    keep = [i for i, record in enumerate(flat) if all(matches(record, c) for c in conditions)]
    for field, descending in reversed(sorting):
        subset = [flat[i] for i in keep]
        keep = [keep[j] for j in sorted_indices(subset, field, descending)]
    return keep
