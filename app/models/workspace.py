from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAt, UuidPrimaryKey


class Workspace(UuidPrimaryKey, CreatedAt, Base):
    """A tenant. Every other row belongs to exactly one workspace."""

    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(100), unique=True)
