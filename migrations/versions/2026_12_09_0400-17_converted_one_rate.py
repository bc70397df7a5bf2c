"""Kept converted items without the ``rates`` list of a single-rate ``converted``.

A ``converted`` document made at one rate (every amount of a day) named that rate twice: in
``rate``, ``rate_date`` and ``source``, and again as the one entry of ``rates``. It now names
it once (``app.fx.rates.RateBook``, ``app.fx.in_sql``); ``rates`` is listed only when several
rates converted the amount. The converted items the worker kept (``17_kept_converted_items``)
were written in the old shape: they are dropped here with their days' marks, so that no
request reads them, and the worker writes them again in the new shape on its next pass (until
then a request converts its page itself, as it does for any day not kept).

Revision ID: 17_converted_one_rate
Revises: 21_sales_rows_one_index
Create Date: 2026-12-09 04:00:00
"""

from __future__ import annotations

from alembic import op

revision: str = "17_converted_one_rate"
down_revision: str | None = "21_sales_rows_one_index"
branch_labels: str | None = None
depends_on: str | None = None

#: Kept in the shape of the code that wrote them: either way, they go.
FORGET = "TRUNCATE sales_items_workspace_day_converted, sales_items_workspace_day_converted_days"


def upgrade() -> None:
    op.execute(FORGET)


def downgrade() -> None:
    op.execute(FORGET)
