"""The HubSpot call counters of the serve process and of its worker process, as one.

The worker process makes nearly all of serve's HubSpot calls, through a gateway of its own; it
sends copies of its per-endpoint counters to the parent (``WorkerSupervisor``), and
``CombinedGatewayMetrics`` answers the parent's own counters plus the worker's, so
``GatewayCollector`` exports serve's calls as before. Counters of a worker process that was
replaced are kept, so the sums never go backwards.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping

from sync.gateway import GatewayMetrics
from sync.gateway.metrics import EndpointStats

__all__ = ["CombinedGatewayMetrics", "copy_stats"]

Stats = Mapping[str, EndpointStats]


def copy_stats(metrics: GatewayMetrics) -> dict[str, EndpointStats]:
    """A picklable copy of every endpoint's counters."""
    return {label: metrics.endpoint(label) for label in metrics.labels()}


def _add(into: dict[str, EndpointStats], stats: Stats) -> None:
    for label, s in stats.items():
        t = into.setdefault(label, EndpointStats())
        t.calls += s.calls
        t.failed_calls += s.failed_calls
        t.attempts += s.attempts
        t.retries += s.retries
        t.rate_limited += s.rate_limited
        t.statuses.update(s.statuses)
        t.latency_s_total += s.latency_s_total
        t.latency_s_max = max(t.latency_s_max, s.latency_s_max)


class CombinedGatewayMetrics(GatewayMetrics):
    """This process's counters (recorded here as usual) plus the worker processes' copies."""

    def __init__(self, own: GatewayMetrics) -> None:
        super().__init__()
        self._own = own
        self._guard = threading.Lock()
        self._retired: dict[str, EndpointStats] = {}
        self._current: dict[str, EndpointStats] = {}
        self._current_pid: int | None = None

    def update(self, pid: int, stats: Stats) -> None:
        """The latest counters of worker process ``pid`` (a new pid: the previous one ended)."""
        with self._guard:
            if pid != self._current_pid:
                _add(self._retired, self._current)
                self._current_pid = pid
            self._current = dict(stats)

    def _merged(self) -> dict[str, EndpointStats]:
        merged = copy_stats(self._own)
        with self._guard:
            _add(merged, self._retired)
            _add(merged, self._current)
        return merged

    def labels(self) -> list[str]:
        return sorted(self._merged())

    def endpoint(self, endpoint: str) -> EndpointStats:
        stats = self._merged().get(endpoint, EndpointStats())
        stats.statuses = Counter(stats.statuses)
        return stats
