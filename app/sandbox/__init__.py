"""Built-in App Store Connect sandbox: an ASGI app that behaves like the part of Apple's API
Orchard uses, with deterministic data generated from a seed (no Apple credentials needed).

Quick start::

    state = SandboxState(seed=42, clock=lambda: datetime(2025, 6, 1, 12, tzinfo=UTC))
    key = state.add_key(roles=("ADMIN",))          # real EC P-256 key: key.private_key_pem
    app = create_sandbox_app(state)                 # serve with httpx.ASGITransport or uvicorn

Modules by domain: :mod:`.state` (teams, keys, clock, request log), :mod:`.auth` (JWT),
:mod:`.ratelimit`, :mod:`.permissions` (role table), :mod:`.jsonapi` (params, paging,
documents), :mod:`.catalog` / :mod:`.catalog_routes` (apps, builds), :mod:`.people` (users,
invitations), :mod:`.reviews`, :mod:`.sales` / :mod:`.finance` / :mod:`.periods` /
:mod:`.reports` (report files, fiscal calendar, availability), :mod:`.admin` (sandbox-only
``/sandbox`` surface), :mod:`.app` (pipeline), :mod:`.server` (uvicorn), :mod:`.webhooks`
(webhook API and signed deliveries), :mod:`.feedback` (TestFlight feedback).
:mod:`.fidelity` holds the selectable Apple behaviours (``SandboxState.fidelity``, admin
``/sandbox/fidelity``); defaults are the behaviour described by each module.
"""

from app.sandbox.app import create_sandbox_app
from app.sandbox.state import RequestRecord, SandboxKey, SandboxState, SandboxTeam

__all__ = ["RequestRecord", "SandboxKey", "SandboxState", "SandboxTeam", "create_sandbox_app"]
