from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.auth.tokens import Scope


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the token is for.")
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=3,
        description="`read`, `write` and/or `admin`; admin implies write, write implies read.",
    )


class TokenRead(BaseModel):
    """A token's metadata. The secret itself is never shown again after creation."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    display_prefix: str = Field(description="The token's first characters, to recognise it.")
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None = Field(description="Approximate (to the minute).")
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret. Shown once: store it now.")
