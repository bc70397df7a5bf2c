"""Simulator of Apple's public App Store data (written from the store fact sheet, not from
Orchard's client): the iTunes Lookup API (star ratings per storefront), the Marketing Tools
RSS v2 charts and the legacy iTunes RSS genre charts.

Quick start::

    state = StoreState(seed=42, clock=lambda: datetime(2025, 6, 1, 12, tzinfo=UTC))
    app = create_store_app(state)     # serve with httpx.ASGITransport or uvicorn
    notes = state.known("Example Notes")
    state.rating(notes.app_id, "de")  # the truth Orchard's snapshot must equal

Modules: :mod:`.storefronts` (storefronts, genres), :mod:`.catalog` (known and filler apps),
:mod:`.ratings` (ratings and versions over time), :mod:`.charts` (rankings, snapshots),
:mod:`.settings` (every knob), :mod:`.state`, :mod:`.lookup`, :mod:`.feeds_v2`,
:mod:`.feeds_legacy`, :mod:`.politeness` (throttling, request log), :mod:`.admin`,
:mod:`.app`, :mod:`.server`.
"""

from app.sandbox.store.app import create_store_app
from app.sandbox.store.catalog import StoreApp
from app.sandbox.store.server import run_store_sandbox
from app.sandbox.store.settings import StoreSettings
from app.sandbox.store.state import StoreState

__all__ = ["StoreApp", "StoreSettings", "StoreState", "create_store_app", "run_store_sandbox"]
