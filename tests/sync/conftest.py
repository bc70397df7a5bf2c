import pytest

from app.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small windows and quick retries so engine tests run many units in little time."""
    return settings.model_copy(
        update={
            "initial_backfill_days": 6,
            "retry_base_seconds": 0.01,
            "lease_seconds": 5.0,
            "worker_poll_seconds": 0.05,
            "budget_reserve": 3,
        }
    )
