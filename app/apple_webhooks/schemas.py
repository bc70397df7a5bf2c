from __future__ import annotations

from pydantic import BaseModel, Field


class DeliveryAccepted(BaseModel):
    duplicate: bool = Field(description="The event id was delivered before: nothing was done.")
    refreshed: list[str] = Field(description="Datasets whose unit for the app was queued.")
