from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UuidPrimaryKey


class AscAccount(UuidPrimaryKey, CreatedAt, Base):
    """A linked App Store Connect API key and what it can do.

    The private key is stored only as ciphertext (``encrypted_private_key``). Unlinking destroys
    it and sets ``unlinked_at``; the row stays so synced data keeps its owner unless purged.
    """

    __tablename__ = "asc_accounts"
    __table_args__ = (
        # One live link per key and workspace; unlinked rows do not block relinking.
        Index(
            "uq_asc_accounts_workspace_id_key_id_live",
            "workspace_id",
            "key_id",
            unique=True,
            postgresql_where=text("unlinked_at IS NULL"),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    issuer_id: Mapped[str | None] = mapped_column(String(36))
    key_id: Mapped[str] = mapped_column(String(10))
    key_type: Mapped[str] = mapped_column(String(16))
    vendor_number: Mapped[str | None] = mapped_column(String(16))
    encrypted_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    credential_status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_code: Mapped[str | None] = mapped_column(String(100))
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    last_verified_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    unlinked_at: Mapped[datetime | None] = mapped_column()


class AscKeyHistory(UuidPrimaryKey, Base):
    """Keys an account used before a rotation: ids and fingerprints only, never key material."""

    __tablename__ = "asc_key_history"

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asc_accounts.id", ondelete="CASCADE"), index=True
    )
    key_id: Mapped[str] = mapped_column(String(10))
    issuer_id: Mapped[str | None] = mapped_column(String(36))
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    replaced_at: Mapped[datetime] = mapped_column(server_default=func.now())
