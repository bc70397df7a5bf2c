import pytest

from app.config import Settings
from app.sandbox.state import SandboxState
from tests.reliability.world import Reference, clean_reference, frozen_sandbox, world_settings


@pytest.fixture
def sandbox() -> SandboxState:
    """The world's sandbox: seed 7, its clock frozen for the session (see world.py)."""
    return frozen_sandbox()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return world_settings(settings)


@pytest.fixture
async def reference(pg_server_url: str, template_database: str, settings: Settings) -> Reference:
    """The world after a clean backfill (computed once per session)."""
    return await clean_reference(pg_server_url, template_database, settings)
