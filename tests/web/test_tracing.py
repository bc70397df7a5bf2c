"""Tracing: one span per sync unit, parent of the Apple and database spans it causes; nothing
is instrumented unless the OTLP variables ask for it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.kit import tracing
from app.sandbox.state import SandboxState
from tests.fixtures.accounts import Tenant, link_account
from tests.fixtures.engine import run_unit
from tests.web.conftest import orchard_app

sdk = pytest.importorskip("opentelemetry.sdk.trace", reason="the [otel] extra is not installed")
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """The process's tracer provider, recording in memory (set once: OpenTelemetry allows one)."""
    exporter = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


async def test_a_sync_unit_is_one_span_over_its_apple_and_database_calls(
    spans: InMemorySpanExporter,
    app: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    sandbox: SandboxState,
) -> None:
    provider = trace.get_tracer_provider()
    instrumented = tracing.instrument_clients(
        http=app.state.asc_clients.http, engine=app.state.engine, provider=provider, force=True
    )
    assert instrumented
    account = await link_account(client, tenant, sandbox.add_key("acme"), verify=False)
    spans.clear()
    await run_unit(app, account, "apps", "all")

    finished = spans.get_finished_spans()
    units = [s for s in finished if s.name == "sync.unit apps"]
    assert len(units) == 1
    unit = units[0]
    assert unit.attributes is not None
    assert unit.attributes["orchard.account_id"] == str(account)
    assert unit.attributes["orchard.dataset"] == "apps"
    assert unit.attributes["orchard.unit"] == "all"
    assert unit.attributes["orchard.outcome"] == "done"
    children = [
        s for s in finished if s.parent is not None and s.parent.span_id == unit.context.span_id
    ]
    apple = [
        s
        for s in children
        if s.attributes
        and "sandbox.test" in str(s.attributes.get("url.full", s.attributes.get("http.url", "")))
    ]
    database = [
        s
        for s in children
        if s.attributes
        and s.attributes.get("db.system", s.attributes.get("db.system.name")) == "postgresql"
    ]
    assert apple, [s.name for s in children]
    assert database, [s.name for s in children]
    assert all(s.context.trace_id == unit.context.trace_id for s in apple + database)


def test_nothing_is_instrumented_without_the_otlp_variables(
    settings: Settings, sandbox: SandboxState, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    app = orchard_app(settings, sandbox)
    assert isinstance(app, FastAPI)
    assert not any("OpenTelemetry" in m.cls.__name__ for m in app.user_middleware)  # type: ignore[attr-defined]
    assert tracing.otlp_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert not tracing.otlp_configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert not tracing.otlp_configured({})


async def test_with_an_endpoint_requests_are_traced(
    spans: InMemorySpanExporter,
    settings: Settings,
    sandbox: SandboxState,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    # The OTLP provider itself is the SDK's; here the session's in-memory one stays installed.
    monkeypatch.setattr(tracing, "_install_otlp_provider", lambda: None)
    app = orchard_app(settings, sandbox)
    assert isinstance(app, FastAPI)
    spans.clear()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://orchard.test") as c:
            assert (await c.get("/v1/apps", headers=tenant.headers())).status_code == 200
    names = [s.name for s in spans.get_finished_spans()]
    assert "GET /v1/apps" in names
