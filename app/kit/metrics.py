"""Prometheus metrics. Each app owns a registry, so tests can build many apps in one process."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = HttpMetrics()
        self.registry.register(self.http)

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
        self.http.observe(method, route, status, seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class HttpMetrics(Collector):
    """Requests by route and status, and their latency histogram, counted without locks.

    ``prometheus_client``'s labelled metrics take a lock per ``labels()`` and per ``inc()`` /
    ``observe()``: three lock round trips on every request. Requests are observed on the event
    loop's thread only, and a scrape reads the plain counters from that thread too, so plain
    integers suffice; the exposition is the same ``orchard_http_requests_total`` counter and
    ``orchard_http_request_duration_seconds`` histogram.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        # Per (method, route): a count per bucket (the last one is +Inf), and the sum.
        self._buckets: dict[tuple[str, str], list[int]] = {}
        self._sums: dict[tuple[str, str], float] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        series = (method, route)
        buckets = self._buckets.get(series)
        if buckets is None:
            buckets = self._buckets[series] = [0] * (len(LATENCY_BUCKETS) + 1)
            self._sums[series] = 0.0
        buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self._sums[series] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "orchard_http_requests",
            "HTTP requests served, by route template and status.",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in list(self._counts.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "orchard_http_request_duration_seconds",
            "HTTP request latency, by route template.",
            labels=["method", "route"],
        )
        bounds = [*(str(bound) for bound in LATENCY_BUCKETS), "+Inf"]
        for series, buckets in list(self._buckets.items()):
            cumulative, running = [], 0
            for bound, count in zip(bounds, buckets, strict=True):
                running += count
                cumulative.append((bound, running))
            latency.add_metric(list(series), cumulative, self._sums[series])
        yield latency
