"""API shape of Apple's Pre-Order report rows as Orchard stores them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from app.sales.schemas import REPORT_DATE

COUNT = (
    "A decimal string as Apple wrote it: Apple types the column as a number and the only "
    "sample on record writes decimals (`10.2`), so Orchard does not round it."
)


class PreOrderRead(BaseModel):
    """One line of Apple's PRE_ORDER/SUMMARY daily report: one title in pre-order and one
    storefront. Columns Orchard does not model are kept in `extra`."""

    id: int
    account_id: uuid.UUID
    report_date: dt.date = Field(description=REPORT_DATE)
    title: str | None
    apple_identifier: str | None = Field(description="The pre-ordered title's Apple ID.")
    provider: str | None
    provider_country: str | None
    pre_order_start: dt.date | None = Field(description="`Pre-Order Start Date`.")
    pre_order_end: dt.date | None = Field(description="`Pre-Order End Date` (the release day).")
    ordered: str | None = Field(description="Pre-orders placed in the report period. " + COUNT)
    canceled: str | None = Field(description="Pre-orders canceled in the period. " + COUNT)
    cumulative_ordered: str | None = Field(description="Pre-orders placed so far. " + COUNT)
    cumulative_canceled: str | None = Field(description="Pre-orders canceled so far. " + COUNT)
    begin_date: dt.date | None = Field(description="`Start Date` of the report period.")
    end_date: dt.date | None = Field(description="`End Date` of the report period.")
    country: str | None = Field(description="Storefront, ISO 3166-1 alpha-2 (`Country Code`).")
    category: str | None
    device: str | None
    supported_platforms: str | None
    client: str | None
    extra: dict[str, Any] = Field(description="Columns of Apple's file Orchard does not know.")
