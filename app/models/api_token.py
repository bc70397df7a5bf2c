from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Double, ForeignKey, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UuidPrimaryKey


class ApiToken(UuidPrimaryKey, CreatedAt, Base):
    """A consumer's bearer token. Only its SHA-256 hash is kept; the secret is shown once."""

    __tablename__ = "api_tokens"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token (`orch_` + 6), enough for a person to recognise it.
    display_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiRequestBudget(Base):
    """A token's request budget, shared by every API process (see app/auth/ratelimit.py).

    ``tokens`` is what was left at ``refilled_at``; the refill since then is computed when a
    process takes its next allowance, so nothing has to tick.
    """

    __tablename__ = "api_request_budgets"

    token_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[float] = mapped_column(Double)
    refilled_at: Mapped[datetime]
