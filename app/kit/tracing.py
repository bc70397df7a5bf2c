"""OpenTelemetry tracing, exported over OTLP only when the standard variables ask for it.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, Orchard
installs the SDK's tracer provider with a batching OTLP/HTTP exporter (every other ``OTEL_*``
variable — service name, headers, sampler — is read by the SDK itself), and instruments
FastAPI, the httpx client that talks to Apple and the SQLAlchemy engine. Each sync unit is one
span (``sync.unit``) with the account, dataset and unit as attributes, parent of the Apple and
database spans it causes.

Unset, nothing is imported beyond ``opentelemetry-api``: the unit span is the API's no-op span
(a few hundred nanoseconds) and no middleware or hook is installed. The SDK and the
instrumentations are the ``otel`` extra (``pip install 'orchard[otel]'``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("orchard.tracing")

#: Resolved at span time against whatever provider is installed (none: no-op spans).
tracer = trace.get_tracer("orchard")

_installed = False

#: FastAPI's native telemetry, off (when Orchard exports no traces).
FASTAPI_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def otlp_configured(environ: Mapping[str, str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _install_otlp_provider() -> None:
    """Once per process: the SDK provider exporting in batches over OTLP/HTTP."""
    global _installed
    if _installed:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "orchard")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _installed = True


def instrument_app(app: FastAPI) -> bool:
    """At build time (middleware cannot be added once the app runs). True when tracing."""
    if not otlp_configured():
        return False
    try:
        _install_otlp_provider()
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry's SDK is not installed "
            "(pip install 'orchard[otel]'): no traces are exported"
        )
        return False
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/health,/metrics")
    return True


def instrument_clients(
    *, http: httpx.AsyncClient, engine: AsyncEngine, provider: Any = None, force: bool = False
) -> bool:
    """The Apple httpx client and the database engine, when tracing is configured (or
    ``force``, with an explicit ``provider``: tests). True when instrumented."""
    if not (force or otlp_configured()):
        return False
    try:
        if not force:
            _install_otlp_provider()
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    except ImportError:
        log.warning("OpenTelemetry instrumentations are not installed: pip install 'orchard[otel]'")
        return False
    HTTPXClientInstrumentor.instrument_client(http, tracer_provider=provider)
    # The instrumentation declares SQLAlchemy < 2.1 but works with 2.1 (its engine events).
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
    return True
