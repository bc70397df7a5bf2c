"""Which table answers an aggregate query: the smallest rollup that has every dimension the
query groups or filters by, at the coarsest period its buckets allow.

Sources, finest first (``raw`` is never planned; it is the reference the tests compare with):

    raw        sales_rows (DAILY)            every column
    full       sales_daily_rollup            + product, SKU, device, unit kind, platform
    app        sales_rollup_app_{day,month}  account, app, country
    account    sales_rollup_account_{...}    account, country
    workspace  sales_rollup_workspace_day    country (months: the account month table)

Month and year buckets read the month tables for the whole months in the range and the day
tables for the partial months at its edges; money converted per report date (``by_day``)
needs day tables. Pure: no SQL is run here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.sales.rollups import COUNT_COLUMNS, KIND_COLUMNS, MONEY_COLUMNS, month_of
from app.sales.schemas import SalesFilter

#: A filter attribute of ``SalesFilter`` → the dimension a source must keep to apply it.
FILTER_DIMENSIONS = {
    "account_ids": "account",
    "app_ids": "app",
    "skus": "sku",
    "countries": "country",
    "devices": "device",
    "unit_kinds": "unit_kind",
    "platforms": "platform",
}
#: Dimension (of ``group_by`` or a filter) → its column in the rollups.
COLUMNS = {
    "account": "account_id",
    "app": "app_id",
    "product": "product",
    "sku": "sku",
    "country": "country_code",
    "device": "device",
    "unit_kind": "unit_kind",
    "platform": "platform",
}
PARTIAL_REFUND = (
    "r.units = 0 AND (COALESCE(r.developer_proceeds, 0) <> 0 OR COALESCE(r.customer_price, 0) <> 0)"
)
_PARTIAL = f"FILTER (WHERE {PARTIAL_REFUND})"
_SET = {c: f"sum(r.{c})" for c in (*COUNT_COLUMNS, *MONEY_COLUMNS)}


@dataclass(frozen=True)
class Source:
    name: str
    day_table: str
    month_table: str | None
    dimensions: frozenset[str]
    #: Measure column → aggregate expression over the table aliased ``r``.
    measures: dict[str, str]
    where: str = ""
    #: Dimension whose column has another name here.
    renamed: tuple[tuple[str, str], ...] = ()

    def column(self, dimension: str) -> str:
        return dict(self.renamed).get(dimension, COLUMNS[dimension])


RAW = Source(
    name="raw",
    day_table="sales_rows",
    month_table=None,
    dimensions=frozenset(COLUMNS),
    measures={
        **{
            column: f"sum(r.units) FILTER (WHERE r.unit_kind = '{kind}' AND r.units > 0)"
            for kind, column in KIND_COLUMNS.items()
        },
        "refunds": "-sum(r.units) FILTER (WHERE r.units < 0)",
        "net_units": "sum(r.units)",
        "partial_refunds": f"count(*) {_PARTIAL}",
        "proceeds": "sum(r.units * COALESCE(r.developer_proceeds, 0))",
        "customer_sales": "sum(r.units * abs(COALESCE(r.customer_price, 0)))",
        "partial_refund_proceeds": f"-sum(abs(r.developer_proceeds)) {_PARTIAL}",
        "partial_refund_customer": f"-sum(abs(r.customer_price)) {_PARTIAL}",
    },
    where=" AND r.frequency = 'DAILY'",
    renamed=(("product", "apple_identifier"),),
)
FULL = Source(
    name="full",
    day_table="sales_daily_rollup",
    month_table=None,
    dimensions=frozenset(COLUMNS),
    measures={
        **{
            column: f"sum(r.units_in) FILTER (WHERE r.unit_kind = '{kind}')"
            for kind, column in KIND_COLUMNS.items()
        },
        **{c: f"sum(r.{c})" for c in ("refunds", "net_units", "partial_refunds", *MONEY_COLUMNS)},
    },
)
APP = Source(
    name="app",
    day_table="sales_rollup_app_day",
    month_table="sales_rollup_app_month",
    dimensions=frozenset({"account", "app", "country"}),
    measures=_SET,
)
ACCOUNT = Source(
    name="account",
    day_table="sales_rollup_account_day",
    month_table="sales_rollup_account_month",
    dimensions=frozenset({"account", "country"}),
    measures=_SET,
)
WORKSPACE = Source(
    name="workspace",
    day_table="sales_rollup_workspace_day",
    # A month has few rows per account: the account table serves the whole workspace too.
    month_table="sales_rollup_account_month",
    dimensions=frozenset({"country"}),
    measures=_SET,
)
SOURCES = {source.name: source for source in (RAW, FULL, APP, ACCOUNT, WORKSPACE)}
#: Coarsest first: the planner takes the first that has every dimension needed.
PREFERENCE = (WORKSPACE, ACCOUNT, APP, FULL)


@dataclass(frozen=True)
class Part:
    """Read ``table`` of ``source`` for report dates (period starts) ``start``…``end``."""

    source: Source
    table: str
    start: dt.date
    end: dt.date


def needed(dimensions: list[str], filters: SalesFilter) -> set[str]:
    used = {dim for attribute, dim in FILTER_DIMENSIONS.items() if getattr(filters, attribute)}
    return set(dimensions) | used


def choose(dimensions: list[str], filters: SalesFilter) -> Source:
    wanted = needed(dimensions, filters)
    return next(s for s in PREFERENCE if wanted <= s.dimensions)


def plan(
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    *,
    by_day: bool = False,
    source: str | None = None,
) -> list[Part]:
    """The table reads that answer the query; ``source`` forces one (for tests)."""
    chosen = SOURCES[source] if source is not None else choose(dimensions, filters)
    if not needed(dimensions, filters) <= chosen.dimensions:
        raise ValueError(f"{chosen.name} cannot answer {sorted(needed(dimensions, filters))}")
    if granularity not in ("month", "year") or by_day or chosen.month_table is None:
        return [Part(chosen, chosen.day_table, start, end)]
    # Whole months inside the range come from the month table; the edges from days.
    first = start if start.day == 1 else month_of(start)[1] + dt.timedelta(days=1)
    last = end if end == month_of(end)[1] else end.replace(day=1) - dt.timedelta(days=1)
    if first > last:
        return [Part(chosen, chosen.day_table, start, end)]
    parts = [Part(chosen, chosen.month_table, first, last)]
    if start < first:
        parts.insert(0, Part(chosen, chosen.day_table, start, first - dt.timedelta(days=1)))
    if last < end:
        parts.append(Part(chosen, chosen.day_table, last + dt.timedelta(days=1), end))
    return parts
