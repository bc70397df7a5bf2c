"""SQL that writes a sales report's items as the API writes them, byte for byte
(``service._items`` serialised by ``pydantic_core``; ``tests/sales/test_written_items.py``).

Used at read time by ``repository.aggregate_written``, and at ingest by the kept items of the
whole-workspace day table (``sales_items_workspace_day``, see :func:`refresh_function`): a
dashboard's 90 days by storefront then joins kept text instead of writing 5,400 items.
"""

from __future__ import annotations

from app.kit.money import amount_sql, minor_units_sql
from app.sales.rollups import COUNT_COLUMNS as COUNTS


def money_json(currencies: str, amounts: str, decimals: str) -> str:
    """A money list as the API writes it (``service._money`` of ``_totals``): per currency
    its non-zero total, by currency (null — written ``XXX`` — last), each
    ``{"amount":"…","currency":"…"}`` with the currency's minor units (``amount_sql``). A
    group of one currency pair (nearly every group split by storefront) is written without
    a subquery, its currency's minor units read from ``decimals`` (``MINOR_UNITS``)."""
    one_code = f"COALESCE(grouped.{currencies}[1], 'XXX')"
    one = f"grouped.{amounts}[1]"
    code = "COALESCE(t.currency, 'XXX')"
    return f"""(CASE
        WHEN cardinality(grouped.{currencies}) = 1 THEN
            CASE WHEN {one} <> 0 THEN
                '{{"amount":"' || {amount_sql(one, decimals)}
                || '","currency":' || CAST(to_json({one_code}) AS text) || '}}'
            ELSE '' END
        ELSE (
            SELECT COALESCE(string_agg(
                       '{{"amount":"' || {amount_sql("m.total", "m.d")} || '","currency":'
                       || CAST(to_json(m.code) AS text) || '}}',
                       ',' ORDER BY m.currency COLLATE "C" NULLS LAST), '')
            FROM (SELECT t.currency, t.total, {code} AS code, {minor_units_sql(code)} AS d
                  FROM (SELECT currency, sum(amount) AS total
                        FROM unnest(grouped.{currencies}, grouped.{amounts})
                             AS pair(currency, amount)
                        GROUP BY currency) AS t
                  WHERE t.total <> 0) AS m)
    END)"""  # noqa: S608  (fixed identifiers)


#: The minor units of a row's first proceeds and customer currencies, computed once per row
#: (``OFFSET 0`` keeps PostgreSQL from inlining them into every use).
MINOR_UNITS = f"""CROSS JOIN LATERAL (
    SELECT {minor_units_sql("COALESCE(grouped.pcs[1], 'XXX')")} AS pd,
           {minor_units_sql("COALESCE(grouped.ccs[1], 'XXX')")} AS cd
    OFFSET 0) AS u"""


def measures_json(proceeds: str, customer_sales: str) -> str:
    """A row of ``_grouped``'s measures as the API writes them (``service._measures``), the
    members of an object without its braces: the counts, then the money (``money_json``);
    ``proceeds`` and ``customer_sales`` write those two lists (converted ones, say)."""
    counts = " || ',' || ".join(
        f"""'"{name}":' || {name}""" for name in COUNTS if name != "partial_refunds"
    )
    # A partial refund's money is summed from partial-refund rows only (``PARTIAL_REFUND``),
    # which ``partial_refunds`` counts: none counted, no money, and the two lists are empty
    # without merging a bucket's currencies (most buckets: a partial refund is rare).
    return f"""{counts} || ',"proceeds":[' || {proceeds}
        || '],"customer_sales":[' || {customer_sales}
        || '],"partial_refunds":{{"rows":' || partial_refunds
        || CASE WHEN partial_refunds = 0 THEN ',"proceeds":[],"customer_amounts":[]}}'
           ELSE ',"proceeds":[' || {money_json("pcs", "rps", "u.pd")}
                || '],"customer_amounts":[' || {money_json("ccs", "rcs", "u.cd")} || ']}}'
           END"""


MEASURES_JSON = measures_json(money_json("pcs", "pas", "u.pd"), money_json("ccs", "cas", "u.cd"))


def group_json(dimensions: list[str], columns: list[str]) -> str:
    """The members of an item's ``group`` object: each dimension's value (``columns``, text
    SQL expressions), null where there is none."""
    return " || ',' || ".join(
        f"""'"{name}":' || COALESCE(CAST(to_json({column}) AS text), 'null')"""
        for name, column in zip(dimensions, columns, strict=True)
    )


def item_json(bucket_end: str, partial: str, group: str, measures: str) -> str:
    """An item (``SalesBucket``) over a ``grouped`` row whose bucket starts at ``bucket``:
    its period (``bucket_end``, an SQL date), ``partial`` (SQL yielding ``'true'`` or
    ``'false'``), the ``group`` members (:func:`group_json`, or ``''``) and ``measures``
    (:func:`measures_json`, and any converted totals after them)."""
    return f"""'{{"period_start":"' || to_char(bucket, 'YYYY-MM-DD')
        || '","period_end":"' || to_char({bucket_end}, 'YYYY-MM-DD')
        || '","partial":' || {partial}
        || ',"group":{{' || {group or "''"} || '}},"source":"daily",' || {measures} || '}}'"""


#: The money columns of a measure-set row and the names ``measures_json`` reads their arrays by.
_MONEY_ARRAYS = (
    ("proceeds", "pas"),
    ("customer_sales", "cas"),
    ("partial_refund_proceeds", "rps"),
    ("partial_refund_customer", "rcs"),
)


def group_order(column: str) -> list[str]:
    """The sort keys of a group value (``column``) as the report orders its groups: nulls
    last, the others in byte order (what a cursor's keyset compares)."""
    return [f"({column} IS NULL)", f"COALESCE({column}, '') COLLATE \"C\""]


#: A storefront group's order within its bucket, as the report lists them (over ``grouped``).
ORDER = ", ".join(group_order("grouped.g0"))

#: Kept items answer a report of exactly this shape: day buckets, grouped by storefront alone,
#: every account of the workspace, no filter but storefronts, no reporting currency.
KEPT_DIMENSIONS = ["country"]


def refresh_function() -> str:
    """``sales_items_workspace_refresh(workspace, first, last)``: the kept items of those
    days written again from ``sales_rollup_workspace_day`` — each (day, storefront) as the
    item ``repository.aggregate_written`` writes for a day report grouped by storefront (the
    same fragments over the same rows). Run wherever the workspace day table changes, in the
    same transaction: ``rollups.rebuild_days`` (under its lock on the workspace's day) and
    the account purge trigger; migrations create it and re-create it when the item's JSON
    changes (:data:`FUNCTION_SHA256`)."""
    counts = ", ".join(f"CAST(COALESCE(sum(r.{m}), 0) AS bigint) AS {m}" for m in COUNTS)
    arrays = ", ".join(f"array_agg(r.{column}) AS {name}" for column, name in _MONEY_ARRAYS)
    item = item_json(
        "bucket", "'false'", group_json(KEPT_DIMENSIONS, ["grouped.g0"]), MEASURES_JSON
    )
    return f"""
    CREATE OR REPLACE FUNCTION sales_items_workspace_refresh(
        p_workspace uuid, p_first date, p_last date) RETURNS void
    LANGUAGE sql AS $refresh$
        DELETE FROM sales_items_workspace_day
        WHERE workspace_id = p_workspace AND report_date BETWEEN p_first AND p_last;
        INSERT INTO sales_items_workspace_day
            (workspace_id, report_date, country_code, position, item)
        SELECT p_workspace, grouped.bucket, grouped.g0,
               row_number() OVER (PARTITION BY grouped.bucket ORDER BY {ORDER}), {item}
        FROM (SELECT r.report_date AS bucket, r.country_code AS g0, {counts},
                     array_agg(r.proceeds_currency) AS pcs,
                     array_agg(r.customer_currency) AS ccs, {arrays}
              FROM sales_rollup_workspace_day AS r
              WHERE r.workspace_id = p_workspace AND r.report_date BETWEEN p_first AND p_last
              GROUP BY 1, 2) AS grouped
        {MINOR_UNITS};
    $refresh$"""  # noqa: S608  (fixed identifiers)


#: SHA-256 of :func:`refresh_function`'s text as the newest migration that creates it
#: (``21_kept_items``) wrote it. Items kept in the database are written by the function a
#: migration created, not by this code: when the item's JSON changes, this no longer matches
#: (``tests/sales/test_kept_items.py``) until a new migration re-creates the function and
#: rewrites the kept items with it.
FUNCTION_SHA256 = "3686fc847157b37fbbca06cef84351eede4469e23f0b5c38df640a19d0ec78c0"
