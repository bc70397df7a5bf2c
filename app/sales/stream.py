"""The SALES report's columns computed in Python while its rows stream into ``sales_rows``
(``app.reports.ingest.Streamed``): unit kind, platform and catalog app, the same as the SQL
classifications in ``app.sales.layout`` and ``app.resources.app_links.APP_JOINS``."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.ingest import Streamed
from app.resources import app_links
from app.sales.layout import platform, unit_kind

#: The layout columns the derived ones are computed from, in the order ``derive`` takes them.
INPUTS = ("product_type", "device", "apple_identifier", "parent_identifier")
COLUMNS = ("unit_kind", "platform", "app_id")


def _text(cell: bytes | None) -> str | None:
    # A cell that is not UTF-8 fails the COPY itself; here it only must not raise first.
    return None if cell is None else cell.decode("utf-8", "replace")


async def sales_columns(session: AsyncSession, account_id: uuid.UUID, day: dt.date) -> Streamed:
    apps = await app_links.app_index(session, account_id)

    def derive(cells: tuple[bytes | None, ...]) -> tuple[str | None, ...]:
        product_type, device, apple_identifier, parent_identifier = map(_text, cells)
        app_id = apps.app_id(apple_identifier, parent_identifier)
        return (
            unit_kind(product_type).value,
            platform(product_type, device),
            None if app_id is None else str(app_id),
        )

    return Streamed(columns=COLUMNS, inputs=INPUTS, derive=derive)
