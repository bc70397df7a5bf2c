"""Every ORM table, imported here so Alembic's autogenerate sees the whole schema."""

from app.models.api_token import ApiToken
from app.models.apple_webhooks import AppleWebhook, AppleWebhookDelivery, AppleWebhookReceiver
from app.models.asc_account import AscAccount, AscKeyHistory
from app.models.catalog import (
    App,
    AppVersion,
    AppVersionStateChange,
    BetaGroup,
    BetaTester,
    Build,
    CatalogEvent,
    ReviewSubmission,
    TeamInvitation,
    TeamMember,
)
from app.models.feedback import BetaFeedback
from app.models.finance import FinanceReportRow
from app.models.reviews import CustomerReview, ReviewReplyRequest, ReviewSyncState
from app.models.sales import SalesDailyRollup, SalesRow
from app.models.store import (
    StoreApp,
    StoreChartSnapshot,
    StoreRatingSnapshot,
    StoreRequestBudget,
    StoreTrackedApp,
    StoreWorkspaceSettings,
)
from app.models.subscriptions import (
    SubscriberTransactionRow,
    SubscriptionEventRow,
    SubscriptionSnapshotRow,
)
from app.models.sync import (
    AscKeyBudget,
    DatasetAvailability,
    SyncDatasetState,
    SyncJob,
    SyncPublicState,
    SyncRequest,
    SyncRequestUnit,
    SyncWorkerHeartbeat,
)
from app.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from app.models.workspace import Workspace

__all__ = [
    "ApiToken",
    "App",
    "AppVersion",
    "AppVersionStateChange",
    "AppleWebhook",
    "AppleWebhookDelivery",
    "AppleWebhookReceiver",
    "AscAccount",
    "AscKeyBudget",
    "AscKeyHistory",
    "BetaFeedback",
    "BetaGroup",
    "BetaTester",
    "Build",
    "CatalogEvent",
    "CustomerReview",
    "DatasetAvailability",
    "FinanceReportRow",
    "ReviewReplyRequest",
    "ReviewSubmission",
    "ReviewSyncState",
    "SalesDailyRollup",
    "SalesRow",
    "StoreApp",
    "StoreChartSnapshot",
    "StoreRatingSnapshot",
    "StoreRequestBudget",
    "StoreTrackedApp",
    "StoreWorkspaceSettings",
    "SubscriberTransactionRow",
    "SubscriptionEventRow",
    "SubscriptionSnapshotRow",
    "SyncDatasetState",
    "SyncJob",
    "SyncPublicState",
    "SyncRequest",
    "SyncRequestUnit",
    "SyncWorkerHeartbeat",
    "TeamInvitation",
    "TeamMember",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "Workspace",
]
