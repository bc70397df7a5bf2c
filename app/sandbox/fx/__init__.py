"""Built-in currency reference-rate sandbox: the ECB's euro reference-rate files and a
Frankfurter server (FACTS fx §2–§3), with deterministic rates from a seed.

Quick start::

    state = FxState(seed=42, clock=lambda: datetime(2025, 6, 10, 15, tzinfo=UTC))
    app = create_fx_app(state)          # httpx.ASGITransport or uvicorn (run_fx_server)
    state.rate(date(2025, 6, 9), "USD") # the simulator's truth: units per EUR

Modules: :mod:`.calendar` (TARGET days, 16:00 CET), :mod:`.currencies` (rosters, levels),
:mod:`.walk` (seeded random walks), :mod:`.ecb` / :mod:`.providers` (who publishes what, when),
:mod:`.blend` (Frankfurter's per-date view), :mod:`.truth`, :mod:`.ecb_files` /
:mod:`.ecb_routes`, :mod:`.frankfurter_v1` / :mod:`.frankfurter_v2` / :mod:`.frankfurter_meta`
/ :mod:`.frankfurter_routes`, :mod:`.admin`, :mod:`.app`, :mod:`.server`.
"""

from app.sandbox.fx.app import create_fx_app
from app.sandbox.fx.server import run_fx_server
from app.sandbox.fx.state import FxState, FxVariants
from app.sandbox.fx.truth import RateQuote

__all__ = ["FxState", "FxVariants", "RateQuote", "create_fx_app", "run_fx_server"]
