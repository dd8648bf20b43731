"""Per-endpoint counters of HubSpot calls, in process, for run logs, benchmarks and Prometheus.

Endpoints are labelled by method and path template (``POST /crm/v3/objects/{type}/batch/read``),
never by record id. A *call* is one gateway operation (one SDK call, with its retries); an
*attempt* is one HTTP request. ``snapshot()`` gives plain dicts; ``GatewayCollector`` exposes the
same numbers to ``prometheus_client`` (register it on a registry; nothing is global here).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import CounterMetricFamily, SummaryMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = ["EndpointStats", "GatewayCollector", "GatewayMetrics"]

TRANSPORT_ERROR = 0  # the status recorded for an attempt that got no HTTP answer


@dataclass(slots=True)
class EndpointStats:
    """Counters of one endpoint. ``statuses`` counts attempts by HTTP status (0: no answer)."""

    calls: int = 0
    failed_calls: int = 0
    attempts: int = 0
    retries: int = 0
    rate_limited: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latency_s_total: float = 0.0
    latency_s_max: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "attempts": self.attempts,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "latency_s_total": round(self.latency_s_total, 6),
            "latency_s_max": round(self.latency_s_max, 6),
            "latency_s_mean": round(self.latency_s_total / max(self.attempts, 1), 6),
        }


class GatewayMetrics:
    """Thread-safe counters keyed by endpoint label."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[str, EndpointStats] = {}

    def record_attempt(self, endpoint: str, status: int, latency_s: float) -> None:
        """One HTTP attempt finished with ``status`` (0 when no answer came) after ``latency_s``."""
        with self._lock:
            stats = self._stats.setdefault(endpoint, EndpointStats())
            stats.attempts += 1
            stats.statuses[status] += 1
            stats.rate_limited += status == 429
            stats.latency_s_total += latency_s
            stats.latency_s_max = max(stats.latency_s_max, latency_s)

    def record_call(self, endpoint: str, *, attempts: int, ok: bool) -> None:
        """One gateway call finished after ``attempts`` HTTP attempts."""
        with self._lock:
            stats = self._stats.setdefault(endpoint, EndpointStats())
            stats.calls += 1
            stats.retries += max(attempts - 1, 0)
            stats.failed_calls += not ok

    def endpoint(self, endpoint: str) -> EndpointStats:
        """A copy of one endpoint's counters (zeros when never called)."""
        with self._lock:
            stats = self._stats.get(endpoint, EndpointStats())
            return EndpointStats(
                stats.calls, stats.failed_calls, stats.attempts, stats.retries,
                stats.rate_limited, Counter(stats.statuses), stats.latency_s_total,
                stats.latency_s_max,
            )

    def snapshot(self) -> dict[str, Any]:
        """``{"endpoints": {label: counters}, "totals": counters}`` as plain JSON-able dicts."""
        with self._lock:
            endpoints = {label: s.as_dict() for label, s in sorted(self._stats.items())}
            total = EndpointStats()
            for s in self._stats.values():
                total.calls += s.calls
                total.failed_calls += s.failed_calls
                total.attempts += s.attempts
                total.retries += s.retries
                total.rate_limited += s.rate_limited
                total.statuses.update(s.statuses)
                total.latency_s_total += s.latency_s_total
                total.latency_s_max = max(total.latency_s_max, s.latency_s_max)
        return {"endpoints": endpoints, "totals": total.as_dict()}

    def labels(self) -> list[str]:
        with self._lock:
            return sorted(self._stats)


class GatewayCollector(Collector):
    """``GatewayMetrics`` for prometheus_client: ``registry.register(GatewayCollector(m))``."""

    def __init__(self, metrics: GatewayMetrics, prefix: str = "partner_sync_hubspot") -> None:
        self._metrics = metrics
        self._prefix = prefix

    def collect(self) -> Iterator[Metric]:
        p = self._prefix
        requests = CounterMetricFamily(
            f"{p}_requests", "HTTP attempts by endpoint and status", labels=["endpoint", "status"]
        )
        calls = CounterMetricFamily(f"{p}_calls", "Gateway calls", labels=["endpoint"])
        failed = CounterMetricFamily(f"{p}_failed_calls", "Failed calls", labels=["endpoint"])
        retries = CounterMetricFamily(f"{p}_retries", "Retried attempts", labels=["endpoint"])
        limited = CounterMetricFamily(f"{p}_rate_limited", "429 answers", labels=["endpoint"])
        latency = SummaryMetricFamily(
            f"{p}_request_seconds", "HTTP attempt latency", labels=["endpoint"]
        )
        for label in self._metrics.labels():
            s = self._metrics.endpoint(label)
            for status, count in sorted(s.statuses.items()):
                requests.add_metric([label, str(status)], count)
            calls.add_metric([label], s.calls)
            failed.add_metric([label], s.failed_calls)
            retries.add_metric([label], s.retries)
            limited.add_metric([label], s.rate_limited)
            latency.add_metric([label], count_value=s.attempts, sum_value=s.latency_s_total)
        yield from (requests, calls, failed, retries, limited, latency)
