from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.security.world import World, build_world, scratch_database


@pytest.fixture(scope="package")
async def world(
    pg_server_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """Workspaces A and B with synced data, shared by the tests that must change nothing."""
    data_dir: Path = tmp_path_factory.mktemp("security-world")
    async with (
        scratch_database(pg_server_url, template_database) as url,
        build_world(url, data_dir) as built,
    ):
        yield built
