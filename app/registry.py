"""The dataset registry: the one module that lists every dataset Orchard syncs.

Like a web framework's task registry, it is built once by the entry points (``main``, ``cli``,
``demo``) and handed to the sync engine, which knows datasets only through their contract
(:mod:`app.sync.contract`) and never imports a domain. It also wires what crosses domains:
the catalog's app list tells the sales rows their apps.

A new dataset goes into its domain's ``jobs.py`` (for an Apple report, a
:class:`~app.reports.spec.ReportSpec`) and is listed here.
"""

from __future__ import annotations

import dataclasses
import functools

from app.accounts import events as account_events
from app.accounts.jobs import verification_task
from app.analytics import jobs as analytics
from app.apple_webhooks import jobs as apple_webhooks
from app.catalog import events as catalog_events
from app.catalog import jobs as catalog
from app.config import Settings
from app.credentials.crypto import load_cipher
from app.finance import jobs as finance
from app.fx import jobs as fx
from app.outbox.catalogue import EventCatalogue
from app.releases import jobs as releases
from app.releases.jobs import feedback as releases_feedback
from app.reports import partitions
from app.resources.app_list import AppListing
from app.reviews import events as review_events
from app.reviews import jobs as reviews
from app.sales import converted_items
from app.sales import events as sales_events
from app.sales import jobs as sales
from app.searchads import jobs as searchads
from app.searchads import verification as searchads_verification
from app.store import jobs as store
from app.subscriptions import jobs as subscriptions
from app.sync import events as sync_events
from app.sync.contract import Dataset, DatasetRegistry, PublicDataset
from app.sync.worker import DomainTask, WorkerParts
from app.team import jobs as team
from app.webhooks import catalogue as webhook_events
from app.webhooks import jobs as webhooks

__all__ = ["build_registry", "webhook_catalogue", "worker_parts"]


def _datasets(settings: Settings) -> list[Dataset]:
    listing = AppListing(
        after_refresh=(
            sales.AFTER_APPS_REFRESH,
            store.after_apps_refresh(settings),
            apple_webhooks.after_apps_refresh(settings.public_url),
        )
    )
    datasets = [
        catalog.apps_dataset(listing),
        *releases.datasets(listing),
        releases_feedback.DATASET_SPEC,
        team.TEAM,
        reviews.REVIEWS,
        *sales.DATASETS,
        *subscriptions.DATASETS,
        finance.dataset(settings.finance_region_codes),
        *analytics.datasets(settings),
    ]
    # Apple's webhooks refresh what this deployment runs: the registrar subscribes to those.
    cipher = functools.cache(lambda: load_cipher(settings))
    names = {dataset.name for dataset in datasets}
    return [*datasets, apple_webhooks.dataset(settings.public_url, cipher, names)]


def _public_datasets(settings: Settings) -> list[PublicDataset]:
    """Data owned by no App Store Connect account: the App Store's charts and star ratings,
    Apple Ads ad accounts, currency reference rates."""
    return [*store.datasets(settings), *searchads.datasets(settings), *fx.datasets(settings)]


def build_registry(settings: Settings) -> DatasetRegistry:
    """Every dataset, with the cadences ``ORCHARD_CADENCES`` overrides."""
    datasets: list[Dataset | PublicDataset] = [*_datasets(settings), *_public_datasets(settings)]
    overrides = settings.cadence_overrides
    unknown = sorted(set(overrides) - {dataset.name for dataset in datasets})
    if unknown:
        known = ", ".join(sorted(dataset.name for dataset in datasets))
        raise ValueError(f"ORCHARD_CADENCES names unknown datasets {unknown} (known: {known})")
    return DatasetRegistry(
        dataclasses.replace(dataset, cadence=overrides.get(dataset.name, dataset.cadence))
        for dataset in datasets
    )


def worker_parts(settings: Settings) -> WorkerParts:
    """What a sync worker runs besides the engine's own loops: the datasets and the domains'
    periodic tasks (background re-verification of keys)."""
    return WorkerParts(
        registry=build_registry(settings),
        tasks=[
            DomainTask("verify_accounts", verification_task(settings.verify_interval), 60.0),
            DomainTask(
                "verify_search_ads",
                searchads_verification.verification_task(settings),
                60.0,
            ),
            webhooks.retention_task(settings),
            partitions.retention_task(settings),
            converted_items.keeping_task(settings),
        ],
        loops=[webhooks.delivery_loop(settings)] if settings.webhooks_deliver else [],
    )


def webhook_catalogue() -> EventCatalogue:
    """Every webhook event type, declared by the floor or domain that writes it."""
    return EventCatalogue(
        [
            *catalog_events.EVENT_TYPES,
            *review_events.EVENT_TYPES,
            *sales_events.EVENT_TYPES,
            *sync_events.EVENT_TYPES,
            *account_events.EVENT_TYPES,
            *webhook_events.EVENT_TYPES,
        ]
    )
