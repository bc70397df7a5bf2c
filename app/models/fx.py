"""Currency reference rates (issue 17): public sources side by side, workspace manual rates,
and each workspace's default reporting currency.

Every rate is "1 ``base`` = ``rate`` ``quote``" for one calendar ``day``. Public sources (the
ECB's euro reference rates, a Frankfurter server) are stored once for every workspace; manual
rates belong to the workspace whose admin uploaded them. A re-fetched rate that differs from
the stored one is never overwritten silently: the row keeps ``previous_rate`` and
``revised_at``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UuidPrimaryKey


class FxRate(Base):
    """A rate from a public source: ``ecb`` (base EUR) or ``frankfurter`` (``provider`` names
    the central bank or other provider Frankfurter said it used; empty for the ECB)."""

    __tablename__ = "fx_rates"
    __table_args__ = (
        UniqueConstraint("source", "provider", "day", "base", "quote"),
        # Conversion reads every rate of a report span (``app.fx.repository.rates_for``).
        Index("ix_fx_rates_day", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32), server_default=text("''"))
    day: Mapped[dt.date] = mapped_column(Date)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric)
    source_url: Mapped[str] = mapped_column(String(2048))
    fetched_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    previous_rate: Mapped[Decimal | None] = mapped_column(Numeric)
    revised_at: Mapped[dt.datetime | None]


class FxManualRate(UuidPrimaryKey, Base):
    """A rate a workspace admin uploaded (``PUT /v1/fx/rates``); seen by that workspace only."""

    __tablename__ = "fx_manual_rates"
    __table_args__ = (UniqueConstraint("workspace_id", "day", "base", "quote"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(Numeric)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    previous_rate: Mapped[Decimal | None] = mapped_column(Numeric)


class FxWorkspaceSettings(Base):
    """A workspace's default reporting currency (a request's ``currency=`` overrides it)."""

    __tablename__ = "fx_workspace_settings"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    reporting_currency: Mapped[str | None] = mapped_column(String(3))
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class FxDataVersion(Base):
    """One row: a new random ``version`` after every statement that changes a row of
    ``fx_rates`` or ``fx_manual_rates`` (triggers of migrations ``17_fx_version`` and
    ``17_fx_version_on_change``), so rates resolved once can be reused while it is unchanged
    (``app.fx.kept``, ``app.sales.converted_items``)."""

    __tablename__ = "fx_data_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[uuid.UUID] = mapped_column()
