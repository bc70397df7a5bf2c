"""The FastAPI application: lifespan (database, metrics), error handlers, routers, OpenAPI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app import __version__, apispec
from app.accounts.router import router as accounts_router
from app.analytics.router import router as analytics_router
from app.apple_webhooks import service as apple_webhooks_service
from app.apple_webhooks.router import router as apple_webhooks_router
from app.asc.http_client import asc_timeout, create_http_client
from app.asc.retry import RetryPolicy
from app.auth.ratelimit import TokenRateLimiter
from app.auth.router import router as tokens_router
from app.catalog.router import router as catalog_router
from app.config import Settings, get_settings
from app.credentials.clients import AscClientFactory
from app.credentials.crypto import load_cipher
from app.db.runtime import open_database
from app.errors import FieldError, Problem
from app.finance.router import router as payments_router
from app.fx.router import router as fx_router
from app.fx.schemas import ManualRatesWrite
from app.health.router import get_liveness
from app.health.router import router as health_router
from app.health.schemas import Liveness
from app.health.status_router import router as status_router
from app.kit import routing, strict_query, tracing
from app.kit.cors import CorsMiddleware
from app.kit.docs import install_docs
from app.kit.handlers import install_handlers
from app.kit.metrics import Metrics
from app.kit.middleware import RequestContextMiddleware, skip_idle_layers
from app.kit.problem_pages import install_problem_pages
from app.kit.problems import problem_responses
from app.registry import webhook_catalogue, worker_parts
from app.releases.router import router as releases_router
from app.reviews.router import router as reviews_router
from app.sales.pre_order_router import router as pre_orders_router
from app.sales.router import router as sales_router
from app.searchads.router import apps_router as searchads_apps_router
from app.searchads.router import router as searchads_router
from app.store.router import router as store_router
from app.subscriptions.analytics_router import router as subscription_analytics_router
from app.subscriptions.report_rows_router import router as subscription_rows_router
from app.subscriptions.router import router as subscriptions_router
from app.sync.router import router as sync_router
from app.sync.worker import SyncWorker
from app.team.router import router as team_router
from app.webhooks import docs as webhook_docs
from app.webhooks.router import router as webhooks_router
from app.webhooks.sender import WebhookSender

DESCRIPTION = """\
One normalised JSON API over linked App Store Connect accounts.

* Authenticate with `Authorization: Bearer <token>`; tokens belong to one workspace and carry
  the scopes `read`, `write` or `admin`.
* Every error is `application/problem+json` (RFC 9457).
* Lists return `{"items": [...], "next_cursor": ...}`; pass `next_cursor` back as `cursor`.
"""

#: Smaller JSON is not worth compressing (the headers alone are a few hundred bytes).
GZIP_MIN_BYTES = 1024


def asc_http_timeout(settings: Settings) -> httpx.Timeout:
    """Apple timeouts, with the read timeout from settings (a stalled read holds a lease)."""
    return asc_timeout(settings.asc_read_timeout_seconds)


def create_app(
    settings: Settings | None = None,
    *,
    asc_transport: httpx.AsyncBaseTransport | None = None,
    asc_retry: RetryPolicy | None = None,
) -> FastAPI:
    """Build the app. ``asc_transport`` routes App Store Connect calls elsewhere (the sandbox
    in-process, or a fault injector); by default they go over the network to
    ``asc_base_url``. ``asc_retry`` overrides the retry policy (tests make it instant)."""
    settings = settings or get_settings()
    metrics = Metrics()
    parts = worker_parts(settings)  # every dataset; fails fast on unknown ORCHARD_CADENCES

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cipher = load_cipher(settings)  # fails fast on bad or missing keys
        async with (
            open_database(settings) as database,
            create_http_client(transport=asc_transport, timeout=asc_http_timeout(settings)) as http,
        ):
            http.event_hooks["response"].append(metrics.count_apple_response)
            tracing.instrument_clients(http=http, engine=database.engine)  # OTEL_* only
            app.state.engine = database.engine
            app.state.sessionmaker = database.sessionmaker
            app.state.read_sessionmaker = database.read_sessionmaker
            app.state.asc_clients = AscClientFactory(
                http, settings.asc_base_url, cipher, retry=asc_retry
            )
            worker = None
            if settings.run_worker:
                worker = SyncWorker(
                    settings, database.sessionmaker, app.state.asc_clients, parts, metrics
                )
                await worker.start()
            app.state.worker = worker
            app.state.webhook_sender = WebhookSender(
                timeout=settings.webhooks_timeout_seconds,
                allow_private=settings.webhooks_allow_private,
            )
            # Everything allocated so far lives as long as the process: keep it out of the
            # cyclic GC's generations, whose full passes otherwise stall requests (100-200 ms
            # measured under the sales benchmark).
            gc.freeze()
            try:
                yield
            finally:
                if worker is not None:
                    await worker.stop()
                await app.state.webhook_sender.aclose()

    app = FastAPI(
        title="Orchard",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours is local
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,
        # FastAPI's own OpenTelemetry hooks look up the global providers on every request
        # (about a tenth of what serving /health costs); Orchard traces through the OTLP
        # setup in app.kit.tracing, so without it there is nothing for them to find.
        telemetry=None if tracing.otlp_configured() else tracing.FASTAPI_TELEMETRY_OFF,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.registry = parts.registry
    app.state.before_unlink = [apple_webhooks_service.remove_at_apple]
    app.state.rate_limiter = TokenRateLimiter(
        settings.rate_limit_per_minute, settings.rate_limit_burst
    )
    install_handlers(app)
    tracing.instrument_app(app)  # only when OTEL_EXPORTER_OTLP_ENDPOINT is set
    install_docs(app)
    install_problem_pages(app)
    app.include_router(health_router)
    app.include_router(status_router)
    app.include_router(tokens_router)
    app.include_router(accounts_router)
    app.include_router(sync_router)
    app.include_router(catalog_router)
    app.include_router(releases_router)
    app.include_router(team_router)
    app.include_router(reviews_router)
    app.include_router(sales_router)
    app.include_router(pre_orders_router)
    app.include_router(analytics_router)
    app.include_router(subscriptions_router)
    app.include_router(subscription_analytics_router)
    app.include_router(subscription_rows_router)
    app.include_router(payments_router)
    app.include_router(store_router)
    app.include_router(searchads_router)
    app.include_router(searchads_apps_router)
    app.include_router(fx_router)
    app.include_router(webhooks_router)
    app.include_router(apple_webhooks_router)
    strict_query.install(app)  # after every router: an unknown query parameter is a 422
    routing.install_prefilters(app)  # after every router: one pattern per router, not a walk
    # Liveness never changes: its bytes are rendered once (the whole stack still runs).
    routes = strict_query.api_routes(app.router.routes)
    liveness = next(route for route in routes if route.endpoint is get_liveness)
    live = routing.answer_statically(app, liveness, Liveness().model_dump_json().encode())
    # One layer: request ids / limits / the access log (which so logs 304s) around gzip around
    # validators and HEAD (next to the routes); then CORS. The layer sends liveness itself,
    # unless FastAPI's native telemetry (on with OTLP) must see the router name the route.
    app.add_middleware(
        RequestContextMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        validators=True,
        gzip_minimum_size=GZIP_MIN_BYTES,
        static_answers=() if tracing.otlp_configured() else (live,),
    )
    if settings.cors_origin_list:  # added last: the outermost layer
        app.add_middleware(CorsMiddleware, origins=settings.cors_origin_list)
    skip_idle_layers(app, native_telemetry=tracing.otlp_configured())
    app.state.webhook_catalogue = webhook_catalogue()
    webhook_docs.document(app.webhooks, app.state.webhook_catalogue)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error response described as our problem document."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        webhooks=app.webhooks.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    # Problems, and bodies a route reads from the raw request and documents by hand
    # (manual rates come as JSON or CSV).
    for model in (FieldError, Problem, ManualRatesWrite):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in body.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = body
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                # The request layer refuses any body it cannot parse (400) or that exceeds
                # ORCHARD_MAX_BODY_BYTES (413), whatever the route declared.
                for code, declared in problem_responses(400, 413).items():
                    operation["responses"].setdefault(str(code), declared)
            operation["responses"]["500"] = {
                "description": "Unexpected error; the problem carries the request id to report."
            }
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    response["content"] = problem
    app.openapi_schema = apispec.finish(schema, app.state.registry)
    return app.openapi_schema
