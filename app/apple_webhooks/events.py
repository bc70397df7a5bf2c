"""What Apple's webhook events mean to Orchard: which datasets of the app to refresh, and the
signature check. Nothing in a payload is trusted beyond "this app's X changed": the data
itself is fetched from Apple's API again (WEBHOOKS §0.3).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "x-apple-signature"
SIGNATURE_PREFIX = "hmacsha256="
PING = "webhookPingCreated"

#: ``data.type`` (WEBHOOKS §3) → the per-app datasets whose unit for that app runs now.
REFRESHES: dict[str, tuple[str, ...]] = {
    "appStoreVersionAppVersionStateUpdated": ("app_versions", "review_submissions"),
    "buildUploadStateUpdated": ("builds",),
    "buildBetaDetailExternalBuildStateUpdated": ("builds", "testflight"),
    "betaFeedbackCrashSubmissionCreated": ("beta_feedback",),
    "betaFeedbackScreenshotSubmissionCreated": ("beta_feedback",),
}
#: ``eventTypes`` Orchard subscribes to, with the datasets each needs (a dataset this
#: deployment does not run is not subscribed to).
EVENT_TYPES: dict[str, str] = {
    "APP_STORE_VERSION_APP_VERSION_STATE_UPDATED": "app_versions",
    "BUILD_UPLOAD_STATE_UPDATED": "builds",
    "BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED": "builds",
    "BETA_FEEDBACK_CRASH_SUBMISSION_CREATED": "beta_feedback",
    "BETA_FEEDBACK_SCREENSHOT_SUBMISSION_CREATED": "beta_feedback",
}


def subscribed_types(datasets: set[str]) -> list[str]:
    return sorted(t for t, dataset in EVENT_TYPES.items() if dataset in datasets)


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """``x-apple-signature: hmacsha256=<lowercase hex HMAC-SHA256(secret, raw body)>``
    (WEBHOOKS §5), compared in constant time. The prefix is stripped when present."""
    if not header:
        return False
    given = header.strip()
    if given.lower().startswith(SIGNATURE_PREFIX):
        given = given[len(SIGNATURE_PREFIX) :]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given.lower())
