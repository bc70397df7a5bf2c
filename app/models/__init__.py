"""Every ORM table, imported here so Alembic's autogenerate sees the whole schema."""

from app.models.analytics import (
    AnalyticsInstance,
    AnalyticsReportRequest,
    AnalyticsRollup,
    AnalyticsRow,
    AnalyticsVintage,
)
from app.models.api_token import ApiRequestBudget, ApiToken
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
from app.models.fx import FxManualRate, FxRate, FxWorkspaceSettings
from app.models.reviews import CustomerReview, ReviewReplyRequest, ReviewSyncState
from app.models.sales import PreOrderRow, SalesDailyRollup, SalesRow
from app.models.searchads import (
    SearchAdsAccount,
    SearchAdsAdGroup,
    SearchAdsBudget,
    SearchAdsCampaign,
    SearchAdsCredential,
    SearchAdsDaily,
    SearchAdsDay,
)
from app.models.store import (
    StoreApp,
    StoreChartSnapshot,
    StoreRatingSnapshot,
    StoreRequestBudget,
    StoreTrackedApp,
    StoreWorkspaceSettings,
)
from app.models.subscriptions import (
    OfferCodeRedemptionRow,
    SubscriberTransactionRow,
    SubscriptionEventRow,
    SubscriptionSnapshotRow,
    WinBackEligibilityRow,
)
from app.models.sync import (
    AscKeyBudget,
    AvailabilityChange,
    DatasetAvailability,
    ReportVersion,
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
    "AnalyticsInstance",
    "AnalyticsReportRequest",
    "AnalyticsRollup",
    "AnalyticsRow",
    "AnalyticsVintage",
    "ApiRequestBudget",
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
    "AvailabilityChange",
    "BetaFeedback",
    "BetaGroup",
    "BetaTester",
    "Build",
    "CatalogEvent",
    "CustomerReview",
    "DatasetAvailability",
    "FinanceReportRow",
    "FxManualRate",
    "FxRate",
    "FxWorkspaceSettings",
    "OfferCodeRedemptionRow",
    "PreOrderRow",
    "ReportVersion",
    "ReviewReplyRequest",
    "ReviewSubmission",
    "ReviewSyncState",
    "SalesDailyRollup",
    "SalesRow",
    "SearchAdsAccount",
    "SearchAdsAdGroup",
    "SearchAdsBudget",
    "SearchAdsCampaign",
    "SearchAdsCredential",
    "SearchAdsDaily",
    "SearchAdsDay",
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
    "WinBackEligibilityRow",
    "Workspace",
]
