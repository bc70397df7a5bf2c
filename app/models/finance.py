"""Apple's monthly finance reports (FACTS §4.6, §5.6), one row per report line."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class FinanceReportRow(Base):
    """One line of a ``FINANCIAL`` (region ``ZZ`` or one region) or ``FINANCE_DETAIL`` (``Z1``)
    report.

    A file is one partition (account, ``fiscal_request``, report type, region) and is replaced
    atomically. ``fiscal_request`` is the ``YYYY-MM`` Orchard asked Apple for; the fiscal period
    itself comes from the file's Start/End Date (``period_start``/``period_end``) and is named
    ``fiscal_period`` after the calendar month holding its middle day, as Apple names its fiscal
    months (08/31/2014–09/27/2014 is "2014-09"). ``quantity`` and ``extended_partner_share`` are
    signed (returns are negative); ``partner_share`` is per unit and always positive.
    """

    __tablename__ = "finance_report_rows"
    __table_args__ = (
        Index(
            "ix_finance_report_rows_partition",
            "account_id",
            "fiscal_request",
            "report_type",
            "region_code",
        ),
        Index(
            "ix_finance_report_rows_workspace_period",
            "workspace_id",
            "fiscal_period",
            "region_code",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("asc_accounts.id", ondelete="CASCADE"))
    fiscal_request: Mapped[str] = mapped_column(String(7))
    report_type: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str] = mapped_column(String(4))
    fiscal_period: Mapped[str | None] = mapped_column(String(7))
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    vendor_identifier: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int | None] = mapped_column(Integer)
    partner_share: Mapped[Decimal | None] = mapped_column(Numeric)
    extended_partner_share: Mapped[Decimal | None] = mapped_column(Numeric)
    partner_share_currency: Mapped[str | None] = mapped_column(Text)
    sale_or_return: Mapped[str | None] = mapped_column(Text)
    apple_identifier: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    product_type: Mapped[str | None] = mapped_column(Text)
    country_of_sale: Mapped[str | None] = mapped_column(Text)
    preorder_flag: Mapped[str | None] = mapped_column(Text)
    promo_code: Mapped[str | None] = mapped_column(Text)
    customer_price: Mapped[Decimal | None] = mapped_column(Numeric)
    customer_currency: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
