"""Response parts every report query shares."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from app.sync.schemas import AvailabilityState

REPORT_DATE = "Apple's reporting day (a Pacific-time calendar day), as Apple's report names it."


class IncompleteDate(BaseModel):
    report_date: dt.date = Field(description=REPORT_DATE)
    account_id: uuid.UUID
    state: AvailabilityState = Field(
        description="`not_yet_published`, `expired`, `failed` or `not_fetched` (never asked)."
    )
