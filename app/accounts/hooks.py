"""What other domains may do just before an account is unlinked (its key still usable), wired
by the entry point (``app.state.before_unlink``): accounts never import those domains."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.credentials.clients import AscClientFactory
from app.models import AscAccount

BeforeUnlink = Callable[[AsyncSession, AscClientFactory, AscAccount], Awaitable[object]]
