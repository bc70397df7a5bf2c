from __future__ import annotations

import pytest

from app.config import Settings


@pytest.fixture
def finance_regions() -> str:
    """``ORCHARD_FINANCE_REGIONS`` of the app under test (a test parametrizes it)."""
    return ""


@pytest.fixture
def settings(settings: Settings, finance_regions: str) -> Settings:
    return Settings.model_validate({**settings.model_dump(), "finance_regions": finance_regions})
