"""The SALES report's columns computed in Python while its rows stream into ``sales_rows``
(``app.reports.ingest.Streamed``): unit kind, platform and catalog app, the same as the SQL
classifications in ``app.sales.layout`` and ``app.resources.app_links.APP_JOINS``.

A daily report's rows are also counted on the way (``Tally``): per distinct combination of
the rollup's grouping columns and the two prices, the units. Those combinations (a few per
hundred rows) are then grouped in Python (exact ``Decimal`` sums) into the day's
``sales_daily_rollup`` rows, COPYed in: the same sums ``repository.rebuild_daily_rollup`` takes
over the stored rows, without reading a million rows back. A file whose units are not whole
numbers, or whose prices are not plain decimals, is summed from the stored rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.engine import asyncpg_connection
from app.reports.ingest import COPY_NULL, Streamed, Tally, copy_text
from app.resources import app_links
from app.sales import rollups
from app.sales.layout import platform, unit_kind
from app.sales.repository import rebuild_daily_rollup

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


async def daily_sales_columns(
    session: AsyncSession, account_id: uuid.UUID, day: dt.date
) -> Streamed:
    """``sales_columns``, and the day's rollups from what the stream counted."""
    apps = await app_links.app_index(session, account_id)
    derive = _deriver(apps)
    tally = Tally(keys=TALLY_KEYS, count="units")

    async def after(session: AsyncSession) -> None:
        # A count that is not a whole number, or a price that is not a plain decimal: summed
        # from the stored rows.
        if tally.exact and await _write_daily_rollup(session, account_id, day, tally, derive, apps):
            await rollups.rebuild(session, account_id, [day])
        else:
            await rebuild_daily_rollup(session, account_id, day)

    return Streamed(columns=COLUMNS, inputs=INPUTS, derive=derive, tally=tally, after=after)


#: A price cell summed in Python: a plain decimal, as Apple writes them. Any other spelling
#: PostgreSQL reads (``1e3``, ``NaN``) makes the day's rollup summed from the stored rows.
_PLAIN_DECIMAL = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?")
#: Exact arithmetic: no rounding at any size, like PostgreSQL's ``numeric``.
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
_ZERO = Decimal(0)
_UNREAD = Decimal("NaN")  # a price cell not parsed yet (never a parsed cell: NaN is refused)
#: The columns of a ``sales_daily_rollup`` row COPYed by ``_write_daily_rollup``.
ROLLUP_COLUMNS = (
    "workspace_id", "account_id", "report_date", "app_id", "app_apple_id", "product", "sku",
    "country_code", "device", "platform", "unit_kind", "proceeds_currency", "customer_currency",
    "units_in", "refunds", "net_units", "proceeds", "customer_sales", "partial_refunds",
    "partial_refund_proceeds", "partial_refund_customer",
)  # fmt: skip


class _Sums:
    """One daily rollup row's measures, summed over the counted combinations of its group as
    ``repository.rebuild_daily_rollup`` sums them over the rows: a combination's units times
    its prices is the sum of its rows' (same values; Decimal keeps ``numeric``'s scales)."""

    __slots__ = (
        "customer", "partial", "partial_customer", "partial_proceeds", "proceeds", "units_in",
        "units_out",
    )  # fmt: skip

    def __init__(self) -> None:
        self.units_in = 0
        self.units_out = 0
        self.proceeds = _ZERO
        self.customer = _ZERO
        self.partial = 0
        # None: no partial refund with that price yet (SQL's sum of no values, then 0).
        self.partial_proceeds: Decimal | None = None
        self.partial_customer: Decimal | None = None

    def line(self) -> bytes:
        """The measures as COPY text, in ``ROLLUP_COLUMNS`` order."""
        partial_proceeds = _ZERO if self.partial_proceeds is None else -self.partial_proceeds
        partial_customer = _ZERO if self.partial_customer is None else -self.partial_customer
        return b"%d\t%d\t%d\t%b\t%b\t%d\t%b\t%b\n" % (
            self.units_in, -self.units_out, self.units_in + self.units_out,
            _number(self.proceeds), _number(self.customer), self.partial,
            _number(partial_proceeds), _number(partial_customer),
        )  # fmt: skip


def _plus(total: Decimal | None, part: Decimal) -> Decimal:
    """SQL's ``sum`` of one more value: None (no value yet) plus ``part`` is ``part``."""
    return part if total is None else total + part


def _number(value: Decimal) -> bytes:
    return format(value, "f").encode()


def _daily_rollup(
    tally: Tally, derive: Derive, apple_ids: dict[str, str]
) -> dict[bytes, _Sums] | None:
    """The day's ``sales_daily_rollup`` rows (their grouping columns as COPY text → their
    sums), grouped from ``tally``'s counted combinations like ``repository.rebuild_daily_rollup``
    groups the rows (by app, product, SKU, storefront, device, platform, unit kind and currency
    pair); None when a price is not a plain decimal (the caller sums the stored rows instead).
    Takes the combinations out of ``tally`` as it goes: both never take their full memory at
    once."""
    derived: dict[tuple[bytes, ...], tuple[bytes, bytes, bytes, bytes]] = {}
    prices: dict[bytes, Decimal | None] = {COPY_NULL: None}  # a cell's value, parsed once
    groups: dict[bytes, _Sums] = {}
    counted = tally.groups
    with decimal.localcontext(_EXACT):
        while counted:
            key, (units_in, units_out, zero_rows) = counted.popitem()
            # An empty cell as this COPY's NULL (a file COPYed as written counted it as
            # ``FAST_NULL``).
            (product_type, device, apple_identifier, parent, sku, country, proceeds_currency,
             customer_currency, proceeds_cell, price_cell) = [
                cell or COPY_NULL for cell in key.split(b"\t")
            ]  # fmt: skip
            inputs = (product_type, device, apple_identifier, parent)
            columns = derived.get(inputs)
            if columns is None:
                kind, platform, app_id = derive(
                    tuple(None if v == COPY_NULL else v.replace(b"\\\\", b"\\") for v in inputs)
                )
                apple_id = None if app_id is None else apple_ids.get(app_id)
                columns = derived[inputs] = (
                    copy_text(app_id), copy_text(apple_id), copy_text(platform),
                    copy_text(kind),
                )  # fmt: skip
            group = b"\t".join(
                (columns[0], columns[1], apple_identifier, sku, country, device, columns[2],
                 columns[3], proceeds_currency, customer_currency)
            )  # fmt: skip
            sums = groups.get(group)
            if sums is None:
                groups[group] = sums = _Sums()
            proceeds, price = prices.get(proceeds_cell, _UNREAD), prices.get(price_cell, _UNREAD)
            if proceeds is _UNREAD or price is _UNREAD:
                for cell in (proceeds_cell, price_cell):
                    if cell not in prices:
                        if not _PLAIN_DECIMAL.fullmatch(cell):
                            return None
                        prices[cell] = Decimal(cell.decode())
                proceeds, price = prices[proceeds_cell], prices[price_cell]
            units = units_in + units_out
            sums.units_in += units_in
            sums.units_out += units_out
            sums.proceeds += units * (_ZERO if proceeds is None else proceeds)
            sums.customer += units * (_ZERO if price is None else abs(price))
            if zero_rows and (proceeds or price):  # a partial refund (repository.PARTIAL_REFUND)
                sums.partial += zero_rows
                if proceeds is not None:
                    sums.partial_proceeds = _plus(sums.partial_proceeds, zero_rows * abs(proceeds))
                if price is not None:
                    sums.partial_customer = _plus(sums.partial_customer, zero_rows * abs(price))
    return groups


async def _write_daily_rollup(
    session: AsyncSession,
    account_id: uuid.UUID,
    day: dt.date,
    tally: Tally,
    derive: Derive,
    apps: app_links.AppIndex,
) -> bool:
    """The day's ``sales_daily_rollup`` rows from ``tally``, grouped in Python and COPYed in
    (a few per hundred report rows); False, having written nothing, when they must be summed
    from the stored rows instead (a price that is not a plain decimal)."""
    workspace_id = await session.scalar(
        text("SELECT workspace_id FROM asc_accounts WHERE id = :a"), {"a": account_id}
    )
    prefix = f"{workspace_id}\t{account_id}\t{day.isoformat()}\t".encode()
    apple_ids = {str(app_id): apple_id for apple_id, app_id in apps.by_apple_id.items()}
    groups = _daily_rollup(tally, derive, apple_ids)
    tally.restart()  # the memory goes back now, not at the end of the unit
    if groups is None:
        return False
    await session.execute(
        text("DELETE FROM sales_daily_rollup WHERE account_id = :a AND report_date = :d"),
        {"a": account_id, "d": day},
    )

    async def lines() -> AsyncIterator[bytes]:
        out: list[bytes] = []
        with decimal.localcontext(_EXACT):
            while groups:  # taken out as they go, so that their memory goes back meanwhile
                group, sums = groups.popitem()
                out.append(b"%b%b\t%b" % (prefix, group, sums.line()))
                if len(out) >= 2000:
                    yield b"".join(out)
                    out = []
        if out:
            yield b"".join(out)

    driver = await asyncpg_connection(session)
    await driver.copy_to_table(
        "sales_daily_rollup", source=lines(), columns=list(ROLLUP_COLUMNS), format="text"
    )
    return True
