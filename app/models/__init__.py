"""Every ORM table, imported here so Alembic's autogenerate sees the whole schema."""

from app.models.api_token import ApiToken
from app.models.asc_account import AscAccount, AscKeyHistory
from app.models.catalog import App
from app.models.sales import SalesDailyRollup, SalesRow
from app.models.sync import (
    AscKeyBudget,
    DatasetAvailability,
    SyncDatasetState,
    SyncJob,
    SyncWorkerHeartbeat,
)
from app.models.workspace import Workspace

__all__ = [
    "ApiToken",
    "App",
    "AscAccount",
    "AscKeyBudget",
    "AscKeyHistory",
    "DatasetAvailability",
    "SalesDailyRollup",
    "SalesRow",
    "SyncDatasetState",
    "SyncJob",
    "SyncWorkerHeartbeat",
    "Workspace",
]
