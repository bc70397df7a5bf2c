"""Built-in Apple Ads sandbox: the OAuth token endpoint, the Apple Ads Platform API v1 and the
Campaign Management API v5 (sunset 2027-01-26), written from ``FACTS.md`` of the Apple Ads
research, with deterministic data from a seed (no Apple credentials needed).

Quick start::

    state = AppleAdsState(seed=42, clock=lambda: datetime(2026, 12, 1, 12, tzinfo=UTC))
    credential = state.add_credential()      # real EC P-256 key: credential.private_key_pem
    app = create_apple_ads_app(state)        # serve with httpx.ASGITransport or uvicorn
    state.truth.spend(campaign_id, day)      # what the reports must add up to

Modules: :mod:`.state` (clock, world, credentials, tokens, log), :mod:`.world` /
:mod:`.entities` (orgs, accounts, campaigns …), :mod:`.delivery` / :mod:`.metrics` (daily
metrics, restatement), :mod:`.truth`, :mod:`.oauth`, :mod:`.pipeline` (auth, budget,
context), :mod:`.v1_entities` / :mod:`.v1_reports`, :mod:`.v5_entities` / :mod:`.v5_reports`,
:mod:`.engine` (report rows), :mod:`.options` (variants of unconfirmed behaviour),
:mod:`.admin` (``/sandbox-ads``), :mod:`.server` (uvicorn).
"""

from app.sandbox.searchads.app import create_apple_ads_app
from app.sandbox.searchads.credentials import AdsCredential
from app.sandbox.searchads.entities import AdsAccount, AdsApp, Campaign
from app.sandbox.searchads.metrics import Metrics
from app.sandbox.searchads.options import V5_SUNSET_AT, AdsOptions
from app.sandbox.searchads.state import AppleAdsState
from app.sandbox.searchads.world import AccountSpec

__all__ = [
    "V5_SUNSET_AT",
    "AccountSpec",
    "AdsAccount",
    "AdsApp",
    "AdsCredential",
    "AdsOptions",
    "AppleAdsState",
    "Campaign",
    "Metrics",
    "create_apple_ads_app",
]
