"""SQL for sales: the daily rollup and the queries behind the sales API."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.fx import in_sql
from app.kit.money import amount_sql, minor_units_sql
from app.models import SalesRow
from app.reports.repository import Also
from app.sales import item_sql, planner, rollups
from app.sales.schemas import SalesFilter

#: Rows with 0 units and money (FACTS §8: a real IAY row has Units 0, Customer Price −85.43,
#: Developer Proceeds 59.80): units × proceeds drops their money, so it is summed apart, as
#: given back (negative, like a refund's line amounts). Over ``sales_rows`` aliased ``s``.
PARTIAL_REFUND = (
    "s.units = 0 AND (COALESCE(s.developer_proceeds, 0) <> 0 OR COALESCE(s.customer_price, 0) <> 0)"
)
PARTIAL_REFUND_SUMS = f"""
    count(*) FILTER (WHERE {PARTIAL_REFUND}) AS partial_refunds,
    COALESCE(-sum(abs(s.developer_proceeds)) FILTER (WHERE {PARTIAL_REFUND}), 0)
        AS partial_refund_proceeds,
    COALESCE(-sum(abs(s.customer_price)) FILTER (WHERE {PARTIAL_REFUND}), 0)
        AS partial_refund_customer"""


async def rebuild_daily_rollup(
    session: AsyncSession, account_id: uuid.UUID, report_date: dt.date
) -> None:
    """Re-aggregate one account-day from ``sales_rows`` into every rollup (the full daily one,
    then the measure-set ones of ``app.sales.rollups``); runs in the unit's transaction."""
    await _rebuild_full(session, account_id, report_date)
    await rollups.rebuild(session, account_id, [report_date])


#: The columns of a ``sales_daily_rollup`` row, in the order the build from the stored rows
#: selects them (``stream`` COPYs the same columns, summed from the counted stream).
INSERT_DAILY_ROLLUP = """INSERT INTO sales_daily_rollup (
    workspace_id, account_id, report_date, app_id, app_apple_id, product, sku,
    country_code, device, platform, unit_kind, proceeds_currency, customer_currency,
    units_in, refunds, net_units, proceeds, customer_sales, partial_refunds,
    partial_refund_proceeds, partial_refund_customer)"""


async def _rebuild_full(session: AsyncSession, account_id: uuid.UUID, report_date: dt.date) -> None:
    params = {"a": account_id, "d": report_date}
    await session.execute(
        text("DELETE FROM sales_daily_rollup WHERE account_id = :a AND report_date = :d"), params
    )
    await session.execute(
        text(
            f"""
            {INSERT_DAILY_ROLLUP}
            SELECT account.workspace_id, account.id, CAST(:d AS date), g.app_id, a.apple_id,
                   g.apple_identifier, g.sku, g.country_code, g.device, g.platform,
                   g.unit_kind, g.proceeds_currency, g.customer_currency,
                   g.units_in, g.refunds, g.net_units, g.proceeds, g.customer_sales,
                   g.partial_refunds, g.partial_refund_proceeds, g.partial_refund_customer
            FROM (
                -- Only the varying columns are grouping keys (the account and day are fixed,
                -- the app's Apple id follows from the app): half the sort work of a 1M-row day.
                SELECT s.app_id, s.apple_identifier, s.sku, s.country_code, s.device,
                       s.platform, s.unit_kind, s.proceeds_currency, s.customer_currency,
                       COALESCE(sum(s.units) FILTER (WHERE s.units > 0), 0) AS units_in,
                       COALESCE(-sum(s.units) FILTER (WHERE s.units < 0), 0) AS refunds,
                       sum(s.units) AS net_units,
                       sum(s.units * COALESCE(s.developer_proceeds, 0)) AS proceeds,
                       sum(s.units * abs(COALESCE(s.customer_price, 0))) AS customer_sales,
                       {PARTIAL_REFUND_SUMS}
                FROM sales_rows s
                WHERE s.workspace_id = (SELECT workspace_id FROM asc_accounts WHERE id = :a)
                      AND s.account_id = :a AND s.frequency = 'DAILY' AND s.report_date = :d
                GROUP BY s.app_id, s.apple_identifier, s.sku, s.country_code, s.device,
                         s.platform, s.unit_kind, s.proceeds_currency, s.customer_currency
            ) AS g
            JOIN asc_accounts AS account ON account.id = :a
            LEFT JOIN apps AS a ON a.id = g.app_id
            """  # noqa: S608  (fixed SQL; values are bound)
        ),
        params,
    )


# --- queries behind the sales API -------------------------------------------------------------

BUCKETS = {
    "day": "r.report_date",
    "week": "CAST(date_trunc('week', CAST(r.report_date AS timestamp)) AS date)",
    "month": "CAST(date_trunc('month', CAST(r.report_date AS timestamp)) AS date)",
    "year": "CAST(date_trunc('year', CAST(r.report_date AS timestamp)) AS date)",
}
#: Measure name → the unit kind whose positive units it counts.
KIND_MEASURES = {measure: kind for kind, measure in rollups.KIND_COLUMNS.items()}


_FILTER_COLUMNS = (
    ("account_ids", "account_id", "uuid"),
    ("app_ids", "app_id", "uuid"),
    ("skus", "sku", "text"),
    ("countries", "country_code", "text"),
    ("devices", "device", "text"),
    ("unit_kinds", "unit_kind", "text"),
    ("platforms", "platform", "text"),
)


def _filter_sql(filters: SalesFilter, alias: str, params: dict[str, Any]) -> str:
    clauses = []
    for attribute, column, sql_type in _FILTER_COLUMNS:
        values = getattr(filters, attribute)
        if len(values) == 1:  # plain equality gives the planner exact estimates
            clauses.append(f"{alias}.{column} = :f_{attribute}")
            params[f"f_{attribute}"] = values[0]
        elif values:
            clauses.append(f"{alias}.{column} = ANY(CAST(:f_{attribute} AS {sql_type}[]))")
            params[f"f_{attribute}"] = values
    return "".join(f" AND {clause}" for clause in clauses)


@dataclass(slots=True)  # not frozen: a report builds thousands (frozen init costs ~3 µs)
class AggregateRow:
    bucket: dt.date
    group: tuple[str | None, ...]  # one value per requested dimension, in request order
    counts: dict[str, int]  # KIND_MEASURES keys, refunds, net_units
    # (currency, amount as decimal text): one entry per currency with a non-zero total,
    # sorted by currency, null (Apple left it empty) last.
    proceeds: list[tuple[str | None, str]]
    customer_sales: list[tuple[str | None, str]]
    partial_refund_proceeds: list[tuple[str | None, str]] = field(default_factory=list)
    partial_refund_customer: list[tuple[str | None, str]] = field(default_factory=list)
    # With ``by_day``: (report date, proceeds currency, proceeds, customer currency, customer
    # sales) per day and currency pair, for conversion at each day's rate.
    daily: list[tuple[dt.date, str | None, Any, str | None, Any]] | None = None
    # With ``fx``: proceeds and customer sales converted in the statement, per currency.
    proceeds_fx: list[in_sql.CurrencySums] | None = None
    customer_sales_fx: list[in_sql.CurrencySums] | None = None

    def sort_key(self) -> list[Any]:
        """The keyset position of this row (what ``aggregate``'s ``after`` takes)."""
        key: list[Any] = [self.bucket.isoformat()]
        for value in self.group:
            key += [value is None, value or ""]
        return key


COUNTS = rollups.COUNT_COLUMNS
#: Exact decimal sums whatever their size (the default context rounds to 28 digits).
_EXACT = decimal.Context(prec=1000)


# One row's money per currency, from its (currency, amount) arrays: non-zero totals as
# decimal text, by currency, null last.
_CURRENCY_TOTALS = """
    SELECT array_agg(currency ORDER BY currency COLLATE "C" NULLS LAST) AS currencies,
           array_agg(CAST(total AS text) ORDER BY currency COLLATE "C" NULLS LAST) AS amounts
    FROM (SELECT currency, sum(CAST(amount AS numeric)) AS total
          FROM unnest(grouped.{currencies}, grouped.{amounts}) AS pair(currency, amount)
          GROUP BY currency) AS per_currency
    WHERE total <> 0
"""


def _is_zero(amount: str) -> bool:
    return not amount.strip("-0.")


def _decimal(amount: str | Decimal) -> Decimal:
    return Decimal(amount) if isinstance(amount, str) else amount


def _text(amount: str | Decimal) -> str | None:
    """Decimal text of a non-zero amount (never an exponent), None for zero."""
    if isinstance(amount, str):
        return None if _is_zero(amount) else amount
    return format(amount, "f") if amount else None


def _totals(
    currencies: list[str | None] | None, amounts: list[Any] | None
) -> list[tuple[str | None, str]]:
    """Money per currency from (currency, amount) pairs — amounts as PostgreSQL's decimal
    text, or decimals — as non-zero totals in decimal text, by currency, null last. Only a
    currency met twice is parsed and added (exactly, whatever the number of digits)."""
    if not currencies or amounts is None:
        return []
    if len(currencies) == 1:  # the common case (one storefront: one currency)
        only = amounts[0]
        text = None if only is None else _text(only)
        return [] if text is None else [(currencies[0], text)]
    totals: dict[str | None, str | Decimal] = {}
    for currency, amount in zip(currencies, amounts, strict=True):
        if amount is not None:
            previous = totals.get(currency)
            totals[currency] = (
                amount if previous is None else _EXACT.add(_decimal(previous), _decimal(amount))
            )
    if len(totals) > 1:
        totals = dict(sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or "")))
    return [(currency, text) for currency, total in totals.items() if (text := _text(total))]


def _part_sql(
    part: planner.Part,
    n: int,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    params: dict[str, Any],
    by_day: bool,
    summed: bool,
) -> str:
    """One table read of the plan: with ``summed``, per (bucket, group, currency pair[, day]);
    else the table's own rows (a measure-set rollup: its columns are already the measures)."""
    source = part.source
    params[f"s{n}"], params[f"e{n}"] = part.start, part.end
    groups = "".join(
        f", CAST(r.{source.column(d)} AS text) AS g{i}" for i, d in enumerate(dimensions)
    )
    columns = source.measures if summed else {m: f"r.{m}" for m in source.measures}
    measures = "".join(f", {columns[m]} AS {m}" for m in rollups.MEASURE_COLUMNS)
    day_column = ", r.report_date AS day" if by_day else ""
    day_group = ", r.report_date" if by_day else ""
    group_by = (
        f"""GROUP BY 1{"".join(f", {i + 2}" for i in range(len(dimensions)))},
                 r.proceeds_currency, r.customer_currency{day_group}"""
        if summed
        else ""
    )
    return f"""
        SELECT {BUCKETS[granularity]} AS bucket{groups},
               r.proceeds_currency, r.customer_currency{day_column}{measures}
        FROM {part.table} AS r
        WHERE r.workspace_id = :ws AND r.report_date BETWEEN :s{n} AND :e{n}{source.where}
              {_filter_sql(filters, "r", params)}
        {group_by}
    """  # noqa: S608  (identifiers from the planner's fixed maps; values are bound)


@dataclass(slots=True)
class _Grouped:
    """The grouping statement of ``aggregate`` and what its outer query needs."""

    sql: str
    params: dict[str, Any]
    keys: str
    order: list[str]
    groups: list[str]
    fx_select: str
    fx_lateral: str


def _grouped(
    workspace_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    by_day: bool,
    fx: in_sql.DayRates | None,
    source: str | None,
    money_type: str | None = None,
    written_fx: bool = False,
) -> _Grouped:
    params: dict[str, Any] = {"ws": workspace_id, "limit": limit}
    groups = [f"g{n}" for n in range(len(dimensions))]
    order = ["bucket"]
    for g in groups:
        order += item_sql.group_order(g)
    keyset = ""
    if after is not None:
        placeholders = []
        for n, value in enumerate(after):
            params[f"k{n}"] = dt.date.fromisoformat(value) if n == 0 else value
            placeholders.append(f":k{n}")
        keyset = f"WHERE ({', '.join(order)}) > ({', '.join(placeholders)})"
        # Lets the scan skip days before the cursor's bucket instead of grouping them again.
        start = max(start, params["k0"])
    per_day = by_day or fx is not None
    parts = planner.plan(
        start, end, granularity, dimensions, filters, by_day=per_day, source=source
    )
    # A measure-set rollup's rows go straight into the one GROUP BY below: its money arrays
    # may then repeat a currency pair (one entry per account or app), which ``_totals`` adds
    # up — one aggregation instead of two. Per-day money and the per-dimension sources sum
    # per currency pair first — unless each row of the rollup already is one report date,
    # group and currency pair: a measure-set rollup keyed by exactly the dimensions asked for
    # (a converted month by storefront reads 90 days of them; their GROUP BY was a no-op).
    chosen = parts[0].source
    one_row_per_day = chosen.name not in ("raw", "full") and chosen.dimensions == set(dimensions)
    summed = (per_day and not one_row_per_day) or chosen.name in ("raw", "full")
    base = " UNION ALL ".join(
        _part_sql(part, n, granularity, dimensions, filters, params, per_day, summed)
        for n, part in enumerate(parts)
    )
    keys = "bucket" + "".join(f", {g}" for g in groups)
    counts = ", ".join(f"CAST(COALESCE(sum({m}), 0) AS bigint) AS {m}" for m in COUNTS)
    day_array = ", array_agg(day) AS ds" if by_day else ""
    # Money as decimal text: decoding thousands of numerics into Decimal objects cost more
    # than the query, and a group's only amount is already its total. Per-day money stays
    # numeric (it is converted at each day's rate).
    money_type = money_type or ("numeric" if per_day else "text")
    names = ("pas", "cas", "rps", "rcs")
    amounts = ", ".join(
        f"array_agg(CAST({m} AS {money_type})) AS {name}"
        for m, name in zip(rollups.MONEY_COLUMNS, names, strict=True)
    )
    summed_from, fx_cte, fx_arrays, fx_select, fx_lateral = "base", "", "", "", ""
    if written_fx:
        # Whether a bucket's money is all of one currency, and its total: a converted bucket
        # of one currency is written without merging its arrays per currency
        # (``in_sql.written_one_day``, ``in_sql.written_one_span``).
        fx_arrays = "".join(
            f""", min({c}) AS {n}_min, max({c}) AS {n}_max, count({c}) AS {n}_count,
               count(*) AS {n}_rows, sum({m}) AS {n}_sum"""
            for c, m, n in (
                ("proceeds_currency", "proceeds", "pcs"),
                ("customer_currency", "customer_sales", "ccs"),
            )
        )
    if fx is not None and written_fx:  # the same, for documents written as JSON
        params.update(in_sql.written_params(fx))
        summed_from = "converted"
        lookups = {"fp": ("s.day", "s.proceeds_currency"), "fc": ("s.day", "s.customer_currency")}
        fx_cte = f""", converted AS (
            SELECT k.*,
                   {in_sql.written_columns("fp", "k.proceeds", "k.day", "pfx")},
                   {in_sql.written_columns("fc", "k.customer_sales", "k.day", "cfx")}
            FROM {in_sql.written_marked("base", lookups)}
        )"""  # noqa: S608  (fixed fragments of app.fx.in_sql; values are bound)
        fx_arrays += "".join(
            f", array_agg({p}_{c}) AS {p}_{c}"
            for p in ("pfx", "cfx")
            for c in ("conv", "rid", "miss", "gap")
        )
        # The same summed over the bucket, for a bucket of one currency
        # (``in_sql.written_one_span``).
        fx_arrays += "".join(
            f""", sum({p}_conv) AS {p}_csum,
               array_agg(DISTINCT {p}_rid) FILTER (WHERE {p}_rid IS NOT NULL) AS {p}_rids,
               sum({p}_miss) AS {p}_msum, min({p}_gap) AS {p}_first, max({p}_gap) AS {p}_last"""
            for p in ("pfx", "cfx")
        )
    elif fx is not None:  # each day's sums converted at its rate (see ``app.fx.in_sql``)
        params.update(fx.params())
        summed_from = "converted"
        fx_cte = f""", {in_sql.rates_cte()}, converted AS (
            SELECT base.*,
                   {in_sql.columns("fp", "base.proceeds", "base.day", "pfx")},
                   {in_sql.columns("fc", "base.customer_sales", "base.day", "cfx")}
            FROM base
            {in_sql.join("fp", "base.day", "base.proceeds_currency")}
            {in_sql.join("fc", "base.day", "base.customer_currency")}
        )"""  # noqa: S608  (fixed fragments of app.fx.in_sql; values are bound)
        fx_arrays = "".join(
            f", array_agg({p}_{c}) AS {p}_{c}"
            for p in ("pfx", "cfx")
            for c in ("conv", "days", "miss", "first", "last")
        )
        fx_select = "".join(
            f", {a}.{c}"
            for a in ("pf", "cf")
            for c in ("currencies", "conv", "days", "miss", "first", "last")
        )
        fx_lateral = f"""
        CROSS JOIN LATERAL ({in_sql.merged("pcs", "pfx")}) AS pf
        CROSS JOIN LATERAL ({in_sql.merged("ccs", "cfx")}) AS cf"""
    grouped = f"""
        WITH base AS ({base}){fx_cte}
        SELECT {keys}, {counts},
               array_agg(proceeds_currency) AS pcs, array_agg(customer_currency) AS ccs,
               {amounts}{day_array}{fx_arrays}
        FROM {summed_from}
        {keyset}
        GROUP BY {keys}
        ORDER BY {", ".join(order)}
        LIMIT :limit
    """  # noqa: S608  (every identifier comes from fixed maps; values are bound)
    return _Grouped(grouped, params, keys, order, groups, fx_select, fx_lateral)


async def aggregate(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    by_day: bool = False,
    fx: in_sql.DayRates | None = None,
    source: str | None = None,
) -> list[AggregateRow]:
    """Sum the measures per calendar bucket and group, ordered by bucket then each group value
    (nulls last); ``after`` is the ``sort_key`` of the last row of the previous page.

    One statement. The planner (``app.sales.planner``) picks the smallest rollup that keeps
    every dimension asked for (``source`` forces one: ``raw`` reads ``sales_rows`` itself).
    ``base`` sums per (bucket, group, proceeds currency, customer currency); the outer query
    per (bucket, group), carrying the money per currency pair as arrays, which ``_totals``
    adds up per currency, so currencies never mix. ``by_day`` keeps each report date apart
    in ``base`` and returns the per-day money too; ``fx`` also keeps report dates apart in
    ``base``, converts each at its rate in the statement and returns the converted sums per
    currency (``app.fx.in_sql``).
    """
    g = _grouped(
        workspace_id, start, end, granularity, dimensions, filters, after, limit, by_day, fx, source
    )
    grouped, params, keys, order, groups = g.sql, g.params, g.keys, g.order, g.groups
    fx_select, fx_lateral = g.fx_select, g.fx_lateral
    # Split by storefront, a group has about one currency pair: its money is totalled here,
    # in Python, cheaply. Otherwise (a day of one app: tens of storefronts, a few dozen
    # currencies) PostgreSQL totals each currency, off the API process's one core; so does
    # a converted query (its conversion is part of the statement).
    totals_in_python = "country" in dimensions and fx is None
    width = len(groups)
    money = 1 + width + len(COUNTS)  # first money column
    rows = []
    if totals_in_python:
        result = await session.execute(text(grouped), params)
        # ``all()`` fetches in bulk: iterating the result row by row cost more than the query.
        for row in result.all():
            pcs, ccs, pas, cas, rps, rcs = row[money : money + 6]
            rows.append(
                AggregateRow(
                    row[0],
                    row[1 : 1 + width],
                    dict(zip(COUNTS, row[1 + width : money], strict=True)),
                    _totals(pcs, pas),
                    _totals(ccs, cas),
                    _totals(pcs, rps),
                    _totals(ccs, rcs),
                    list(zip(row[money + 6], pcs, pas, ccs, cas, strict=True)) if by_day else None,
                )
            )
        return rows
    daily = ", grouped.ds, grouped.pcs, grouped.pas, grouped.ccs, grouped.cas" if by_day else ""
    sql = f"""
        WITH grouped AS ({grouped})
        SELECT {keys}, {", ".join(COUNTS)}, p.currencies, p.amounts, c.currencies, c.amounts,
               rp.currencies, rp.amounts, rc.currencies, rc.amounts{daily}{fx_select}
        FROM grouped
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="pcs", amounts="pas")}) AS p
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="ccs", amounts="cas")}) AS c
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="pcs", amounts="rps")}) AS rp
        CROSS JOIN LATERAL ({_CURRENCY_TOTALS.format(currencies="ccs", amounts="rcs")}) AS rc
        {fx_lateral}
        ORDER BY {", ".join(order)}
    """  # noqa: S608  (every identifier comes from fixed maps; values are bound)
    result = await session.execute(text(sql), params)
    converted = money + 8 + (5 if by_day else 0)  # first ``fx`` column
    for row in result.all():
        rows.append(
            AggregateRow(
                row[0],
                row[1 : 1 + width],
                dict(zip(COUNTS, row[1 + width : money], strict=True)),
                list(zip(row[money] or (), row[money + 1] or (), strict=True)),
                list(zip(row[money + 2] or (), row[money + 3] or (), strict=True)),
                list(zip(row[money + 4] or (), row[money + 5] or (), strict=True)),
                list(zip(row[money + 6] or (), row[money + 7] or (), strict=True)),
                list(zip(*row[money + 8 : money + 13], strict=True)) if by_day else None,
                in_sql.rows_of(row[converted : converted + 6]) if fx else None,
                in_sql.rows_of(row[converted + 6 : converted + 12]) if fx else None,
            )
        )
    return rows


#: Each bucket's last day (``service.bucket_end``), over a row of ``_grouped`` (``bucket``).
_BUCKET_ENDS = {
    "day": "bucket",
    "week": "bucket + 6",
    "month": "CAST(bucket + interval '1 month - 1 day' AS date)",
    "year": "CAST(bucket + interval '1 year - 1 day' AS date)",
}


#: A page's items (rows ``n`` ≤ ``:page`` of a ``written`` relation ordered as the report) as
#: JSON joined by commas, without the array's brackets (``report_json.ArrayItems``), in UTF-8
#: bytes: each item's ``textsend`` (its bytes in the client's encoding, asyncpg's UTF-8) joined
#: as ``bytea``, one value per bucket (``_CHUNKS``). Every whole-page copy costs here (a fresh
#: 5 MB block is ~10 ms of page faults on this project's machine): wrapping the joined text in
#: brackets and ``convert_to`` on it took a 5,000-item converted page 18.8 ms against 3.8 ms
#: for this (pgbench, 2026-12-06). The rows are joined in the order the subquery gives them
#: (an aggregate reads its input in order), not by ``string_agg(… ORDER BY n)``: PostgreSQL 15
#: sorts an aggregate's input itself, and 5,000 converted items (5 MB) passed ``work_mem`` — a
#: sort on disk, a quarter of a converted page's time.
_ITEMS_ARRAY = """COALESCE(
    string_agg(textsend(item), CAST(',' AS bytea)) FILTER (WHERE n <= :page), CAST('' AS bytea))"""

#: The page comes back as one row per bucket (day, month…), each with its items joined, not as
#: one value of the whole page: a single 5 MB value took the converted page's statement
#: 21.5-22.8 ms against 9.2-9.8 ms in rows of a day's items (the unconverted 2 MB page: 11.0-15.6
#: against 9.8-10.0 ms; asyncpg, prepared, medians of 32 runs, 2026-12-06). The relation is
#: ordered by its bucket first, so PostgreSQL groups it as it comes, without a sort (a hash
#: aggregate would also advance each bucket in input order): the items keep the report's order
#: within each bucket. The buckets themselves are put in order by ``_page_of`` (a sort here
#: would copy the page's megabytes once more). ``{bucket}``: the grouping column.
_CHUNKS = "GROUP BY {bucket}"


#: ``text`` of a page's statement, made once per distinct SQL (the values are bound): a
#: converted page's statement is about 30 kB, which ``text`` scans for bind names on every call
#: (1.3 ms of a request, py-spy, 2026-12-06).
_page_statement = functools.lru_cache(maxsize=512)(text)


@dataclass(slots=True)
class WrittenPage:
    """A page of ``aggregate``'s rows as the API writes them: of the ``limit`` rows asked for
    (a page and one more, which tells whether another page follows), the items' JSON
    (``service._items`` of an unconverted report) of all but the ``limit``-th, in parts of
    items joined by commas without the array's brackets (UTF-8; ``report_json.ArrayItems``);
    how many rows there were; and, when there were ``limit``, the keyset position of the
    page's last row (what the next page's ``after`` takes)."""

    items: list[bytes]
    rows: int
    last_key: list[Any] | None
    #: Whether the items were kept ones (``sales_items_workspace_day``), not written now.
    kept: bool = False

    @property
    def joined(self) -> bytes:
        """The items joined by commas (the array's content)."""
        return b",".join(self.items)


def _page_of(chunks: Sequence[Any], limit: int, kept: bool) -> WrittenPage:
    """The page of a statement's rows (``_CHUNKS``): per bucket, its key, its joined items,
    its rows and — in the bucket holding the ``limit``-th row — that row's bucket and group
    values."""
    items: list[bytes] = []
    rows = 0
    last: Sequence[Any] | None = None
    for chunk in sorted(chunks, key=lambda chunk: chunk[0]):
        if chunk[1]:
            items.append(chunk[1])
        rows += chunk[2]
        if chunk[3] is not None:
            last = chunk[3:]
    last_key: list[Any] | None = None
    if rows == limit and last is not None:
        last_key = [last[0].isoformat()]
        for value in last[1:]:
            last_key += [value is None, value or ""]
    return WrittenPage(items, rows, last_key, kept)


def _kept_page_sql(
    table: str,
    params: dict[str, Any],
    workspace_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    also: str = "",
) -> str:
    """The statement reading a page of kept items from ``table`` (``sales_items_workspace_day``
    or its converted twin, whose rows ``also`` narrows to one currency): (items, rows, last
    day, last storefront), as ``aggregate_written``'s page. Binds its values into
    ``params``."""
    params.update({"ws": workspace_id, "s": start, "e": end, "limit": limit, "page": limit - 1})
    keyset = ""
    if after is not None:
        params["k0"], params["k1"], params["k2"] = dt.date.fromisoformat(after[0]), *after[1:]
        order = ", ".join(["r.report_date", *item_sql.group_order("r.country_code")])
        keyset = f"AND ({order}) > (:k0, :k1, :k2)"
        params["s"] = max(start, params["k0"])  # the scan starts at the cursor's day
    return f"""
        SELECT report_date AS chunk, {_ITEMS_ARRAY},
               count(*) AS rows, max(report_date) FILTER (WHERE n = :page) AS bucket,
               max(country_code) FILTER (WHERE n = :page) AS g0
        FROM (SELECT page.*, row_number() OVER (ORDER BY page.report_date, page.position) AS n
              FROM (SELECT r.report_date, r.position, r.country_code, r.item
                    FROM {table} AS r
                    WHERE r.workspace_id = :ws AND r.report_date BETWEEN :s AND :e {also}
                          {_filter_sql(filters, "r", params)} {keyset}
                    ORDER BY r.report_date, r.position
                    LIMIT :limit) AS page
              ORDER BY page.report_date, page.position) AS kept
        {_CHUNKS.format(bucket="report_date")}
    """  # noqa: S608  (fixed identifiers; values are bound)


async def _kept_items(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
) -> WrittenPage:
    """``aggregate_written``'s page of a whole-workspace day report by storefront, from the
    items kept at ingest (``item_sql.refresh_function``): joined, not written (a 90-day
    answer is 5,400 items, ~2 MB). Same order, keyset and page as the written one."""
    params: dict[str, Any] = {}
    sql = _kept_page_sql(
        "sales_items_workspace_day", params, workspace_id, start, end, filters, after, limit
    )
    chunks = (await session.execute(_page_statement(sql), params)).all()
    return _page_of(chunks, limit, kept=True)


async def _kept_converted_items(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    fx: in_sql.DayRates,
) -> WrittenPage | None:
    """``_kept_items`` from the items the worker converted into ``fx``'s currency, in one
    statement that also checks them current (``converted_current``, from the cursor's day on:
    the days the page reads); None, having read no item, when they are not."""
    params: dict[str, Any] = {}
    kept_sql = _kept_page_sql(
        "sales_items_workspace_day_converted", params, workspace_id, start, end, filters,
        after, limit, also="AND r.currency = :cc_kc",  # bound by ``converted_current``
    )  # fmt: skip
    current = converted_current(
        workspace_id, fx.book.target, fx.book.max_age.days, params["s"], end
    )
    params.update(current.params)
    # Whether they are current comes as a row of its own (its chunk is null), so that it is
    # known even when the page is empty.
    sql = f"""
        WITH ready AS MATERIALIZED (SELECT {current.sql} AS ok)
        SELECT NULL, NULL, 0, NULL, NULL, (SELECT ok FROM ready)
        UNION ALL
        SELECT k.*, true FROM ({kept_sql}) AS k WHERE (SELECT ok FROM ready)
    """  # noqa: S608  (fixed identifiers; values are bound)
    found = (await session.execute(_page_statement(sql), params)).all()
    [is_current] = [row[-1] for row in found if row[0] is None]
    if not is_current:
        return None
    return _page_of([row[:-1] for row in found if row[0] is not None], limit, kept=True)


def _unconverted_days(workspace: str, currency: str, also: str = "") -> str:
    """The days (``p.report_date``) of ``workspace`` with kept items whose converted ones into
    ``currency`` (SQL expressions) are missing, or not at the current rates and maximum rate
    age ``:kage`` (``converted_items``); ``also`` narrows them. A day without items has
    nothing to convert; a day's first item stands for the day (read from the index alone)."""
    return f"""SELECT p.report_date FROM sales_items_workspace_day AS p
        WHERE p.workspace_id = {workspace} AND p.position = 1 {also}
        AND NOT EXISTS (
            SELECT FROM sales_items_workspace_day_converted_days AS d
            WHERE d.workspace_id = {workspace} AND d.currency = {currency}
                  AND d.report_date = p.report_date AND d.max_rate_age_days = :kage
                  AND d.fx_version = (SELECT version FROM fx_data_version WHERE id = 1))"""  # noqa: S608  (fixed SQL)


def _written_rows(
    workspace_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    span: tuple[dt.date, dt.date],
    fx: in_sql.DayRates | None,
) -> tuple[str, str, _Grouped]:
    """``aggregate_written``'s rows: (the ``WITH`` clause they need, a query of ``keys``,
    ``item`` and ``n`` — the report's order — in that order, the grouping whose ``params``
    both bind)."""
    several_days = fx is not None and granularity != "day"
    g = _grouped(
        workspace_id, start, end, granularity, dimensions, filters, after, limit, False,
        fx if several_days else None, None, money_type="numeric", written_fx=True,
    )  # fmt: skip
    params = g.params
    params["span_start"], params["span_end"] = span
    bucket_end = _BUCKET_ENDS[granularity]
    measures = item_sql.MEASURES_JSON
    if fx is not None:
        # Buckets of one currency are written by p1 and c1; the others by pw and cw.
        measures = (
            item_sql.measures_json("COALESCE(p1.list, pw.list)", "COALESCE(c1.list, cw.list)")
            + """ || ',"proceeds_total_converted":' || COALESCE(p1.total, pw.total)
        || ',"customer_sales_total_converted":' || COALESCE(c1.total, cw.total)"""
        )
    partial = (
        f"CASE WHEN bucket < :span_start OR {bucket_end} > :span_end THEN 'true' ELSE 'false' END"
    )
    item = item_sql.item_json(
        bucket_end, partial, item_sql.group_json(dimensions, g.groups), measures
    )
    with_fx, converting = "", ""
    if fx is not None:
        if not several_days:
            params.update(in_sql.written_params(fx))
        with_fx = f"{in_sql.written_cte()}, "
        # (``u``'s minor units are those of a one-currency bucket's currency.)
        if several_days:
            proceeds = in_sql.written_span("pcs", "pas", "pfx")
            customer = in_sql.written_span("ccs", "cas", "cfx")
            p1 = in_sql.written_one_span("pcs", "pfx", "u.pd")
            c1 = in_sql.written_one_span("ccs", "cfx", "u.cd")
        else:
            proceeds = in_sql.written_day("pcs", "pas", "grouped.bucket")
            customer = in_sql.written_day("ccs", "cas", "grouped.bucket")
            p1 = in_sql.written_one_day("pcs", "grouped.bucket", "u.pd")
            c1 = in_sql.written_one_day("ccs", "grouped.bucket", "u.cd")
        converting = f"""
        {in_sql.WRITTEN_ROW}
        LEFT JOIN LATERAL ({proceeds}) AS pw ON true
        LEFT JOIN LATERAL ({customer}) AS cw ON true
        LEFT JOIN LATERAL ({p1}) AS p1 ON true
        LEFT JOIN LATERAL ({c1}) AS c1 ON true"""
    rows = f"""
        SELECT {g.keys}, {item} AS item, row_number() OVER (ORDER BY {", ".join(g.order)}) AS n
        FROM grouped {item_sql.MINOR_UNITS}{converting}
        ORDER BY {", ".join(g.order)}
    """  # noqa: S608  (every identifier comes from fixed maps; values are bound)
    return f"WITH {with_fx}grouped AS ({g.sql})", rows, g


def kept_shape(granularity: str, dimensions: list[str], filters: SalesFilter) -> bool:
    """Whether kept items can answer such a report: a whole-workspace day report by
    storefront (unconverted ones always, converted ones while the worker keeps them current:
    :func:`converted_current`)."""
    return (
        granularity == "day"
        and dimensions == item_sql.KEPT_DIMENSIONS
        and planner.choose(dimensions, filters) is planner.WORKSPACE
    )


def converted_current(
    workspace_id: uuid.UUID, currency: str, max_rate_age_days: int, start: dt.date, end: dt.date
) -> Also:
    """Whether every day of ``start``..``end`` with kept items has them converted into
    ``currency`` at the current rates and ``max_rate_age_days`` (``'true'``/``'false'``), read
    in the route's first statement: its page then reads the kept converted items alone,
    without the rates a page written now binds (200 kB for 90 days)."""
    days = _unconverted_days(":cc_ws", ":cc_kc", "AND p.report_date BETWEEN :cc_s AND :cc_e")
    params = {"cc_ws": workspace_id, "cc_kc": currency, "cc_s": start, "cc_e": end,
              "kage": max_rate_age_days}  # fmt: skip
    return Also(f"NOT EXISTS ({days})", params)


async def aggregate_written(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    start: dt.date,
    end: dt.date,
    granularity: str,
    dimensions: list[str],
    filters: SalesFilter,
    after: list[Any] | None,
    limit: int,
    span: tuple[dt.date, dt.date],
    fx: in_sql.DayRates | None = None,
    kept: bool = True,
) -> WrittenPage:
    """``aggregate`` (no per-day money), each row written as its report item's JSON by
    PostgreSQL, byte for byte what ``service._items`` and ``pydantic_core`` write
    (``tests/sales/test_written_items.py``): the API process only joins them. One
    statement. ``span``: the report's range (what makes a bucket ``partial``).

    ``fx``: the money also converted into its book's currency, as ``service._convert``
    converts it (``tests/fx/test_converted_written.py``): a bucket of several days per report
    date inside the aggregate (``in_sql.written_span``, the rule of ``in_sql.convert_sums``),
    a one-day bucket per listed entry (``in_sql.written_day``, that of
    ``convert.convert_day``).

    A whole-workspace day report by storefront (``kept_shape``) is read from kept items
    instead, unless not ``kept``: unconverted ones always (kept at ingest); converted ones
    (kept by the worker, ``converted_items``) when every day of the range has them at the
    current rates, which the statement checks — the caller passes ``kept`` when its first
    statement found them so (``converted_current``). Should a unit have changed those days
    in between, the page is written now, in a second statement (the only case with two)."""
    from_kept = kept and kept_shape(granularity, dimensions, filters)
    if from_kept and fx is None:
        return await _kept_items(session, workspace_id, start, end, filters, after, limit)
    if from_kept and fx is not None:
        page = await _kept_converted_items(
            session, workspace_id, start, end, filters, after, limit, fx
        )
        if page is not None:
            return page
    with_clause, rows, g = _written_rows(
        workspace_id, start, end, granularity, dimensions, filters, after, limit, span, fx
    )
    params = g.params
    # The page comes back in a few texts (one per bucket, ``_CHUNKS``), its items joined in
    # PostgreSQL: 5,000 rows of a few hundred bytes each cost the API process (one core for
    # every request) about 13 ms to receive, wrap and join, PostgreSQL's join about 2 ms
    # (38.5 → 40.8 ms for the page, prepared, alternating; 2026-12-06). The window's order is
    # the report's; ``written`` keeps it (no second sort) for ``_ITEMS_ARRAY``.
    params["page"] = limit - 1
    last = "".join(f", max({key}) FILTER (WHERE n = :page)" for key in ("bucket", *g.groups))
    sql = f"""
        {with_clause}
        SELECT bucket AS chunk, {_ITEMS_ARRAY},
               count(*){last}
        FROM ({rows}) AS written
        {_CHUNKS.format(bucket="bucket")}
    """  # noqa: S608  (every identifier comes from fixed maps; values are bound)
    chunks = (await session.execute(_page_statement(sql), params)).all()
    return _page_of(chunks, limit, kept=False)


async def list_rows(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    frequency: str,
    start: dt.date | None,
    end: dt.date | None,
    filters: SalesFilter,
    after: tuple[dt.date, int] | None,
    limit: int,
) -> list[SalesRow]:
    """Rows in (report_date, id) order — the order of ``ix_sales_rows_workspace_date``."""
    statement = select(SalesRow).where(
        SalesRow.workspace_id == workspace_id, SalesRow.frequency == frequency
    )
    if start is not None:
        statement = statement.where(SalesRow.report_date >= start)
    if end is not None:
        statement = statement.where(SalesRow.report_date <= end)
    for attribute, column, _ in _FILTER_COLUMNS:
        values = getattr(filters, attribute)
        if values:
            statement = statement.where(getattr(SalesRow, column).in_(values))
    if after is not None:
        statement = statement.where(tuple_(SalesRow.report_date, SalesRow.id) > tuple_(*after))
    statement = statement.order_by(SalesRow.report_date, SalesRow.id).limit(limit)
    return list(await session.scalars(statement))


async def link_rows_to_apps(session: AsyncSession, account_id: uuid.UUID) -> list[dt.date]:
    """Give rows loaded before their app was in the catalog their ``app_id`` now.

    Units run in any order (a report day can land before the account's first app list, or a
    new app's first sales before the next catalog refresh), so the catalog calls this after
    each refresh; the days touched get their rollup rebuilt. Returns those DAILY days.
    """
    result = await session.execute(
        text(
            """
            UPDATE sales_rows AS s SET app_id = matched.app_id
            FROM (
                SELECT r.id AS row_id, COALESCE(direct.id, parent.id) AS app_id
                FROM sales_rows AS r
                LEFT JOIN apps AS direct
                    ON direct.account_id = :a AND direct.apple_id = r.apple_identifier
                LEFT JOIN (SELECT DISTINCT ON (sku) id, sku FROM apps WHERE account_id = :a
                           ORDER BY sku, removed_at NULLS FIRST, id) AS parent
                    ON parent.sku = r.parent_identifier
                WHERE r.account_id = :a AND r.app_id IS NULL
            ) AS matched
            WHERE s.id = matched.row_id AND matched.app_id IS NOT NULL
            RETURNING s.frequency, s.report_date
            """
        ),
        {"a": account_id},
    )
    days = sorted({day for frequency, day in result if frequency == "DAILY"})
    for day in days:
        await _rebuild_full(session, account_id, day)
    await rollups.rebuild(session, account_id, days)
    return days


#: One money entry as the API writes it, of a row of ``amount`` and ``code`` (its currency,
#: null written ``XXX``) and ``d`` (its minor units).
_ENTRY_JSON = (
    f"""'{{"amount":"' || {amount_sql("m.amount", "m.d")} || '","currency":'"""
    """ || CAST(to_json(m.code) AS text) || '}'"""
)


def _entries_json(amount: str) -> str:
    """The money list of a group of ``m`` rows (one per currency): its non-zero amounts in
    column ``amount``, by currency (null last), as ``item_sql.money_json`` writes them."""
    return (
        f"COALESCE(string_agg({_ENTRY_JSON.replace('m.amount', f'm.{amount}')}, ','"
        f""" ORDER BY m.currency COLLATE "C" NULLS LAST) FILTER (WHERE m.{amount} <> 0), '')"""
    )


def _per_currency(side: str, currency: str, amount: str, refund: str) -> str:
    """``side``: the money of one side (proceeds or customer) per day and currency, from
    ``base``; then each day's two lists written, and the totals' per currency."""
    code = "COALESCE(t.currency, 'XXX')"
    return f"""
        {side} AS (
            SELECT t.*, {code} AS code, {minor_units_sql(code)} AS d
            FROM (SELECT bucket, {currency} AS currency, sum({amount}) AS amount,
                         sum({refund}) AS refund
                  FROM base GROUP BY bucket, {currency}) AS t),
        {side}_days AS (
            SELECT m.bucket, {_entries_json("amount")} AS amounts,
                   {_entries_json("refund")} AS refunds
            FROM {side} AS m GROUP BY m.bucket),
        {side}_total AS (
            SELECT {_entries_json("amount")} AS amounts, {_entries_json("refund")} AS refunds
            FROM (SELECT currency, code, d, sum(amount) AS amount, sum(refund) AS refund
                  FROM {side} GROUP BY currency, code, d) AS m)"""  # noqa: S608


def _card_measures(counts: str, proceeds: str, customer: str) -> str:
    """The members of a card's measures (``item_sql.MEASURES_JSON``): counts from ``counts``, money
    lists from the ``proceeds`` and ``customer`` rows of ``_per_currency``."""
    return (
        " || ',' || ".join(
            f"""'"{name}":' || {counts}.{name}""" for name in COUNTS if name != "partial_refunds"
        )
        + f""" || ',"proceeds":[' || COALESCE({proceeds}.amounts, '')
        || '],"customer_sales":[' || COALESCE({customer}.amounts, '')
        || '],"partial_refunds":{{"rows":' || {counts}.partial_refunds
        || ',"proceeds":[' || COALESCE({proceeds}.refunds, '')
        || '],"customer_amounts":[' || COALESCE({customer}.refunds, '') || ']}}'"""
    )


@dataclass(slots=True)
class WrittenDays:
    """An app's days as its card writes them: each day's measures (the members of its series
    entry after ``report_date`` and ``state``), and the totals' members, as JSON text."""

    days: dict[dt.date, str]
    totals: str


async def app_days_written(
    session: AsyncSession, workspace_id: uuid.UUID, app_id: uuid.UUID, start: dt.date, end: dt.date
) -> WrittenDays:
    """``aggregate`` of one app by day over ``start``…``end`` and the measures of them all
    together, written by PostgreSQL as an app's card writes them (``service._measures`` and
    ``service._merged``, byte for byte: ``tests/sales/test_written_card.py``). One statement:
    the days, then one row (bucket null) with the totals.

    Set-based: the money is summed per (day, currency) in one grouping per side, and the
    totals per currency from those sums. (Per row, as ``aggregate_written`` does, a day of one
    app — tens of storefronts and currencies — summed its currencies in a subquery of its
    own: 90 hash aggregates per list.)"""
    params: dict[str, Any] = {"ws": workspace_id}
    filters = SalesFilter(app_ids=[app_id])
    parts = planner.plan(start, end, "day", [], filters)
    base = " UNION ALL ".join(
        _part_sql(part, n, "day", [], filters, params, False, part.source.name in ("raw", "full"))
        for n, part in enumerate(parts)
    )
    sums = ", ".join(f"CAST(COALESCE(sum({m}), 0) AS bigint) AS {m}" for m in COUNTS)
    # ``base`` is read three times (counts, each side's money): NOT MATERIALIZED, each read
    # takes only the columns it needs from the rollup's pages instead of writing and reading
    # back every column of 5,400 rows (90 days of an app, prepared as the API runs it,
    # alternating: PostgreSQL CPU 25.1 → 23.5 ms; 2026-12-06).
    sql = f"""
        WITH base AS NOT MATERIALIZED ({base}),
        counts AS (SELECT bucket, {sums} FROM base GROUP BY bucket),
        total AS (SELECT {sums} FROM counts),
        {_per_currency("p", "proceeds_currency", "proceeds", "partial_refund_proceeds")},
        {_per_currency("c", "customer_currency", "customer_sales", "partial_refund_customer")}
        SELECT counts.bucket, {_card_measures("counts", "pd", "cd")}
        FROM counts
        LEFT JOIN p_days AS pd ON pd.bucket = counts.bucket
        LEFT JOIN c_days AS cd ON cd.bucket = counts.bucket
        UNION ALL
        SELECT NULL, {_card_measures("total", "pt", "ct")}
        FROM total CROSS JOIN p_total AS pt CROSS JOIN c_total AS ct
    """  # noqa: S608  (every identifier comes from fixed maps; values are bound)
    result = await session.execute(text(sql), params)
    written = WrittenDays({}, "")
    for bucket, measures in result.all():
        if bucket is None:
            written.totals = measures
        else:
            written.days[bucket] = measures
    return written


#: The converted kept items, and the days kept.
_CONVERTED_TABLES = (
    "sales_items_workspace_day_converted",
    "sales_items_workspace_day_converted_days",
)
#: A limit no report reaches: every row of the span.
_EVERY_ROW = 2**31 - 1


async def keep_converted_items(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    first: dt.date,
    last: dt.date,
    fx: in_sql.DayRates,
    fx_version: uuid.UUID,
) -> int:
    """Write the converted kept items of ``first``..``last`` (``fx``'s currency): each
    (day, storefront)'s item as ``aggregate_written`` writes it converted, and mark every day
    of the span that has kept items as converted at ``fx_version``. Returns the days marked.
    The caller holds the days' locks (``rollups.lock_workspace_days``)."""
    target, age = fx.book.target, fx.book.max_age.days
    span = {"ws": workspace_id, "kc": target, "first": first, "last": last}
    for table in _CONVERTED_TABLES:
        await session.execute(
            text(
                f"DELETE FROM {table} WHERE workspace_id = :ws AND currency = :kc "  # noqa: S608
                "AND report_date BETWEEN :first AND :last"
            ),
            span,
        )
    with_clause, rows, g = _written_rows(
        workspace_id, first, last, "day", item_sql.KEPT_DIMENSIONS, SalesFilter(), None,
        _EVERY_ROW, (first, last), fx,
    )  # fmt: skip
    sql = f"""
        {with_clause}
        INSERT INTO sales_items_workspace_day_converted
            (workspace_id, currency, report_date, country_code, position, item)
        SELECT CAST(:ws AS uuid), CAST(:kc AS text), w.bucket, w.g0,
               row_number() OVER (PARTITION BY w.bucket ORDER BY w.n), w.item
        FROM ({rows}) AS w
    """  # noqa: S608  (fixed identifiers; values are bound)
    await session.execute(text(sql), {**g.params, "kc": target})
    marked = await session.execute(
        text(
            """
            INSERT INTO sales_items_workspace_day_converted_days
                (workspace_id, currency, report_date, fx_version, max_rate_age_days)
            SELECT DISTINCT CAST(:ws AS uuid), CAST(:kc AS text), report_date,
                   CAST(:kv AS uuid), CAST(:kage AS integer)
            FROM sales_items_workspace_day
            WHERE workspace_id = :ws AND report_date BETWEEN :first AND :last
            """
        ),
        {**span, "kv": fx_version, "kage": age},
    )
    return int(marked.rowcount or 0)  # type: ignore[attr-defined]


async def workspaces_to_convert(
    session: AsyncSession, max_rate_age_days: int
) -> list[tuple[uuid.UUID, str]]:
    """The workspaces with a reporting currency that have a day with kept items not kept
    converted into it at the current rates, or converted items in another currency; with
    their reporting currency. One statement for every workspace (the worker asks often).

    Its cost is estimated per workspace at hundreds of index probes: past PostgreSQL's JIT
    threshold it was compiled (190 ms) for 1.5 ms of work, so not in this transaction."""
    await session.execute(text("SET LOCAL jit = off"))
    unconverted = _unconverted_days("s.workspace_id", "s.reporting_currency")
    rows = await session.execute(
        text(
            f"""
            SELECT s.workspace_id, s.reporting_currency
            FROM fx_workspace_settings AS s
            WHERE s.reporting_currency IS NOT NULL AND (
                EXISTS ({unconverted})
                OR EXISTS (
                    SELECT FROM sales_items_workspace_day_converted_days AS d
                    WHERE d.workspace_id = s.workspace_id
                          AND d.currency <> s.reporting_currency))
            ORDER BY s.workspace_id
            """  # noqa: S608  (fixed SQL)
        ),
        {"kage": max_rate_age_days},
    )
    return [(workspace_id, currency) for workspace_id, currency in rows]


async def converted_days_to_keep(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    currency: str,
    max_rate_age_days: int,
    within: tuple[dt.date, dt.date] | None = None,
) -> list[dt.date]:
    """The days (of ``within``, first and last, if given) with kept items whose converted
    ones into ``currency`` are missing or not at the current rates; converted items into any
    other currency are dropped (the workspace's reporting currency changed)."""
    params: dict[str, Any] = {"ws": workspace_id, "kc": currency, "kage": max_rate_age_days}
    for table in _CONVERTED_TABLES:
        await session.execute(
            text(f"DELETE FROM {table} WHERE workspace_id = :ws AND currency <> :kc"),  # noqa: S608
            params,
        )
    also = ""
    if within is not None:
        params["s"], params["e"] = within
        also = "AND p.report_date BETWEEN :s AND :e"
    days = _unconverted_days(":ws", ":kc", also)
    return list((await session.execute(text(f"{days} ORDER BY 1"), params)).scalars())
