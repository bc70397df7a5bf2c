"""Every ORM table, imported here so Alembic's autogenerate sees the whole schema."""

from app.models.api_token import ApiToken
from app.models.workspace import Workspace

__all__ = ["ApiToken", "Workspace"]
