"""Prometheus metrics of the serve process, on a registry of its own (nothing global).

``ServeMetrics`` holds the receiver's, inbox's and sync runs' metrics; ``observe_run`` turns a
finished run report into records read/written counters and a duration sample. HubSpot API calls
and 429s come from the gateway's own collector (``GatewayCollector``), and inbox depth and lag
are read from the store at scrape time, so a scrape always shows the durable truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from sync.ports import RunSummary
from webhooks.worker import PassResult

__all__ = ["CONTENT_TYPE", "InboxCollector", "ServeMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_P = "partner_sync"


class InboxCollector(Collector):
    """Inbox depth (rows pending or claimed) and lag (age of the oldest open row), read on scrape.

    A store that cannot answer yields no samples rather than failing the whole scrape.
    """

    def __init__(self, depth: Callable[[], int], oldest_age_s: Callable[[], float | None]) -> None:
        self._depth = depth
        self._oldest_age_s = oldest_age_s

    def collect(self) -> Iterator[Metric]:
        try:
            depth, age = self._depth(), self._oldest_age_s()
        except Exception:  # the store is down: /readyz says so; keep the scrape alive
            return
        yield GaugeMetricFamily(f"{_P}_inbox_depth", "Inbox events not yet processed", depth)
        yield GaugeMetricFamily(
            f"{_P}_inbox_lag_seconds", "Age of the oldest unprocessed inbox event", age or 0.0
        )


class ServeMetrics:
    """Every metric the serve process exports. ``render()`` gives the exposition text."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.webhook_requests = Counter(
            f"{_P}_webhook_requests", "Webhook POSTs by answer status", ["status"], registry=r
        )
        self.webhook_seconds = Histogram(
            f"{_P}_webhook_request_seconds", "Webhook request handling time", registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
        )
        self.signature_failures = Counter(
            f"{_P}_webhook_signature_failures", "Rejected signatures by reason", ["reason"],
            registry=r,
        )
        self.events_received = Counter(
            f"{_P}_webhook_events", "Events received in verified deliveries", registry=r
        )
        self.events_queued = Counter(
            f"{_P}_inbox_events_queued", "Events newly queued (duplicates excluded)", registry=r
        )
        self.events_settled = Counter(
            f"{_P}_inbox_events_settled", "Events queued as needing no work (echoes, "
            "properties and types the engine does not read)", registry=r,
        )
        self.inbox_commits = Counter(
            f"{_P}_inbox_commits", "Group-commit transactions of the inbox writer", registry=r
        )
        self.worker_events = Counter(
            f"{_P}_worker_events", "Inbox events the worker finished, by outcome", ["outcome"],
            registry=r,
        )
        self.sync_runs = Counter(
            f"{_P}_sync_runs", "Sync runs by kind and status", ["kind", "status"], registry=r
        )
        self.sync_seconds = Histogram(
            f"{_P}_sync_duration_seconds", "Sync run durations", ["kind"], registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
        )
        self.records_read = Counter(
            f"{_P}_records_read", "HubSpot records read by syncs", ["object_type"], registry=r
        )
        self.records_written = Counter(
            f"{_P}_records_written", "HubSpot records updated by syncs", ["object_type"],
            registry=r,
        )

    def register(self, collector: Collector) -> None:
        """Add an outside collector (the gateway's, the inbox's)."""
        self.registry.register(collector)

    def observe_run(self, report: RunSummary) -> None:
        """Count one finished run: status, duration, records read and written."""
        self.sync_runs.labels(report.kind, report.status).inc()
        seconds = (report.finished_at - report.started_at).total_seconds()
        self.sync_seconds.labels(report.kind).observe(max(seconds, 0.0))
        for object_type, n in report.records_read.items():
            self.records_read.labels(object_type).inc(n)
        for object_type, n in report.written.items():
            self.records_written.labels(object_type).inc(n)

    def observe_pass(self, result: PassResult) -> None:
        """Count what one inbox-worker pass did with its events."""
        for outcome in ("done", "echoes", "ignored", "retried", "dead", "busy"):
            n = getattr(result, outcome)
            if n:
                self.worker_events.labels(outcome).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
