"""The SALES report's columns computed in Python while its rows stream into ``sales_rows``
(``app.reports.ingest.Streamed``): unit kind, platform and catalog app, the same as the SQL
classifications in ``app.sales.layout`` and ``app.resources.app_links.APP_JOINS``.

A daily report's rows are also counted on the way (``Tally``): per distinct combination of
the rollup's grouping columns and the two prices, the units. Those combinations (a few per
hundred rows) then become the day's ``sales_daily_rollup`` rows in SQL, the same sums
``repository.rebuild_daily_rollup`` takes over the stored rows, without reading a million
rows back. A file whose units are not whole numbers is summed from the stored rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.ingest import Streamed, Tally
from app.resources import app_links
from app.sales import rollups
from app.sales.layout import platform, unit_kind
from app.sales.repository import INSERT_DAILY_ROLLUP, rebuild_daily_rollup

Derive = Callable[[tuple[bytes | None, ...]], tuple[str | None, ...]]

#: The layout columns the derived ones are computed from, in the order ``derive`` takes them.
INPUTS = ("product_type", "device", "apple_identifier", "parent_identifier")
COLUMNS = ("unit_kind", "platform", "app_id")


def _text(cell: bytes | None) -> str | None:
    # A cell that is not UTF-8 fails the COPY itself; here it only must not raise first.
    return None if cell is None else cell.decode("utf-8", "replace")


def _deriver(apps: app_links.AppIndex) -> Derive:
    def derive(cells: tuple[bytes | None, ...]) -> tuple[str | None, ...]:
        product_type, device, apple_identifier, parent_identifier = map(_text, cells)
        app_id = apps.app_id(apple_identifier, parent_identifier)
        return (
            unit_kind(product_type).value,
            platform(product_type, device),
            None if app_id is None else str(app_id),
        )

    return derive


async def sales_columns(session: AsyncSession, account_id: uuid.UUID, day: dt.date) -> Streamed:
    apps = await app_links.app_index(session, account_id)
    return Streamed(columns=COLUMNS, inputs=INPUTS, derive=_deriver(apps))


#: What a daily rollup row is summed per: its grouping columns (the derived ones through
#: their inputs), and the two prices (so that only units are summed per row, as integers).
TALLY_KEYS = (
    *INPUTS, "sku", "country_code", "proceeds_currency", "customer_currency",
    "developer_proceeds", "customer_price",
)  # fmt: skip
_NULL = b"\\N"


async def daily_sales_columns(
    session: AsyncSession, account_id: uuid.UUID, day: dt.date
) -> Streamed:
    """``sales_columns``, and the day's rollups from what the stream counted."""
    apps = await app_links.app_index(session, account_id)
    derive = _deriver(apps)
    tally = Tally(keys=TALLY_KEYS, count="units")

    async def after(session: AsyncSession) -> None:
        if tally.exact:
            await _write_daily_rollup(session, account_id, day, tally, derive)
            await rollups.rebuild(session, account_id, [day])
        else:  # a count that is not a whole number: summed from the stored rows
            await rebuild_daily_rollup(session, account_id, day)

    return Streamed(columns=COLUMNS, inputs=INPUTS, derive=derive, tally=tally, after=after)


#: Memory for grouping a day's counted combinations (~40 MB for 100,000), for the rest of
#: the unit's transaction.
_GROUPING_MEMORY = "128MB"
#: The counted combinations, typed by COPY, in a temporary table (dropped at commit).
_COUNTED = f"""
    CREATE TEMP TABLE orchard_sales_counted (
        {", ".join(f"{name} text" for name in TALLY_KEYS[:-2])},
        developer_proceeds numeric, customer_price numeric,
        unit_kind text, platform text, app_id uuid,
        units_in bigint, units_out bigint, zero_rows bigint
    ) ON COMMIT DROP
"""
#: A row of the counted combinations is a partial refund (``repository.PARTIAL_REFUND``).
_PARTIAL = (
    "c.zero_rows > 0 AND (COALESCE(c.developer_proceeds, 0) <> 0 "
    "OR COALESCE(c.customer_price, 0) <> 0)"
)
#: ``repository.rebuild_daily_rollup``'s sums, over the counted combinations instead of the
#: rows: a combination's units times its prices is the sum of its rows' (same values, same
#: numeric scales).
_FROM_COUNTED = f"""
    {INSERT_DAILY_ROLLUP}
    SELECT account.workspace_id, account.id, CAST(:d AS date), g.app_id, a.apple_id,
           g.product, g.sku, g.country_code, g.device, g.platform, g.unit_kind,
           g.proceeds_currency, g.customer_currency, g.units_in, g.refunds, g.net_units,
           g.proceeds, g.customer_sales, g.partial_refunds, g.partial_refund_proceeds,
           g.partial_refund_customer
    FROM (
        SELECT c.apple_identifier, c.sku, c.country_code, c.device, c.platform,
               c.unit_kind, c.proceeds_currency, c.customer_currency,
               sum(c.units_in), -sum(c.units_out), sum(c.units_in + c.units_out),
               sum((c.units_in + c.units_out) * COALESCE(c.developer_proceeds, 0)),
               sum((c.units_in + c.units_out) * abs(COALESCE(c.customer_price, 0))),
               COALESCE(sum(c.zero_rows) FILTER (WHERE {_PARTIAL}), 0),
               COALESCE(-sum(c.zero_rows * abs(c.developer_proceeds))
                        FILTER (WHERE {_PARTIAL}), 0),
               COALESCE(-sum(c.zero_rows * abs(c.customer_price)) FILTER (WHERE {_PARTIAL}), 0),
               c.app_id
        FROM orchard_sales_counted AS c
        GROUP BY c.app_id, c.apple_identifier, c.sku, c.country_code, c.device, c.platform,
                 c.unit_kind, c.proceeds_currency, c.customer_currency
    ) AS g (product, sku, country_code, device, platform, unit_kind, proceeds_currency,
            customer_currency, units_in, refunds, net_units, proceeds, customer_sales,
            partial_refunds, partial_refund_proceeds, partial_refund_customer, app_id)
    JOIN asc_accounts AS account ON account.id = :a
    LEFT JOIN apps AS a ON a.id = g.app_id
"""  # noqa: S608  (fixed SQL; values are bound)


async def _write_daily_rollup(
    session: AsyncSession, account_id: uuid.UUID, day: dt.date, tally: Tally, derive: Derive
) -> None:
    """The day's ``sales_daily_rollup`` rows from ``tally``: its combinations (a few per
    hundred rows) COPYed with their derived columns, then grouped like the rows would be."""
    derived: dict[bytes, bytes] = {}

    async def lines() -> AsyncIterator[bytes]:
        out: list[bytes] = []
        for key, (units_in, units_out, zero_rows) in tally.groups.items():
            inputs = key.split(b"\t", len(INPUTS))[: len(INPUTS)]
            joined = b"\t".join(inputs)
            columns = derived.get(joined)
            if columns is None:
                values = derive(
                    tuple(None if v == _NULL else v.replace(b"\\\\", b"\\") for v in inputs)
                )
                columns = derived[joined] = b"\t".join(
                    _NULL if v is None else v.encode() for v in values
                )
            out.append(b"%b\t%b\t%d\t%d\t%d\n" % (key, columns, units_in, units_out, zero_rows))
            if len(out) >= 2000:
                yield b"".join(out)
                out = []
        if out:
            yield b"".join(out)

    await session.execute(text(_COUNTED))
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    await driver.copy_to_table(
        "orchard_sales_counted",
        source=lines(),
        columns=[*TALLY_KEYS, *COLUMNS, "units_in", "units_out", "zero_rows"],
        format="text",
    )
    tally.restart()  # the memory goes back now, not at the end of the unit
    # Statistics, so that the grouping is planned for its size: a hash in memory (a
    # default-sized work_mem would sort ~100,000 rows on disk instead).
    await session.execute(text("ANALYZE orchard_sales_counted"))
    await session.execute(text(f"SET LOCAL work_mem = '{_GROUPING_MEMORY}'"))
    params = {"a": account_id, "d": day}
    await session.execute(
        text("DELETE FROM sales_daily_rollup WHERE account_id = :a AND report_date = :d"), params
    )
    await session.execute(text(_FROM_COUNTED), params)
    await session.execute(text("DROP TABLE orchard_sales_counted"))
