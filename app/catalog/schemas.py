from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class AppRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    apple_id: str = Field(description="Apple's id; equals `Apple Identifier` in reports.")
    name: str
    bundle_id: str
    sku: str
    primary_locale: str | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    removed_at: dt.datetime | None = Field(
        description="When App Store Connect stopped listing the app (null while listed)."
    )
