"""Prometheus metrics. Each app owns a registry, so tests can build many apps in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "orchard_http_requests",
            "HTTP requests served, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "orchard_http_request_duration_seconds",
            "HTTP request latency, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

        self.units = Counter(
            "orchard_sync_units",
            "Sync units finished, by dataset and outcome (published, no_data, failed, ...).",
            ["dataset", "outcome"],
            registry=self.registry,
        )
        self.lease_expiries = Counter(
            "orchard_sync_lease_expiries",
            "Units returned to the queue because their worker stopped renewing the lease.",
            registry=self.registry,
        )
        self.apple_requests = Counter(
            "orchard_asc_requests",
            "Requests sent to App Store Connect, by response status (or 'error').",
            ["status"],
            registry=self.registry,
        )
        self.budget_remaining = Gauge(
            "orchard_asc_budget_remaining",
            "Requests left in the rolling hour per App Store Connect key (last seen).",
            ["key_id"],
            registry=self.registry,
        )
        self.budget_limit = Gauge(
            "orchard_asc_budget_limit",
            "Hourly request limit per App Store Connect key (last seen).",
            ["key_id"],
            registry=self.registry,
        )
        self.data_age = Gauge(
            "orchard_sync_data_age_seconds",
            "Age of the stalest linked account's data per dataset, as of the last scrape "
            "(per-account ages: GET /v1/sync-status).",
            ["dataset"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "orchard_sync_queue_depth",
            "Sync units by state, as of the last scrape.",
            ["state"],
            registry=self.registry,
        )

    async def count_apple_response(self, response: object) -> None:
        """httpx response hook on the App Store Connect client."""
        self.apple_requests.labels(str(getattr(response, "status_code", "error"))).inc()

    def observe_budget(self, key_id: str, remaining: int, limit: int) -> None:
        self.budget_remaining.labels(key_id).set(remaining)
        self.budget_limit.labels(key_id).set(limit)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
