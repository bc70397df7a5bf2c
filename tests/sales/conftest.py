"""Fixtures of the sales tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant
from tests.sales.world import World, build_world


@pytest.fixture
async def world(
    settings: Settings, tenant: Tenant, sandbox: SandboxState, db: asyncpg.Connection
) -> AsyncIterator[World]:
    """Two accounts, two catalog apps, and a fortnight of daily reports (see world.py)."""
    async for built in build_world(settings, tenant, sandbox, db):
        yield built
