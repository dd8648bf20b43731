"""How one sandbox instance behaves: token, rate limits, faults, webhooks, search lag.

Plain dataclasses so tests build them directly; ``partner-sync sandbox`` builds one from flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FaultKind", "FaultRule", "RateLimitConfig", "SandboxConfig", "WebhookConfig"]

FaultKind = Literal[
    "429",  # rate-limit 429 with Retry-After
    "429_no_retry_after",  # rate-limit 429 without Retry-After
    "500",
    "502",
    "503",
    "504",
    "slow",  # answer normally after `slow_s` seconds
    "drop",  # close the connection without an answer
]


@dataclass(slots=True)
class RateLimitConfig:
    enabled: bool = True
    per_10s: int = 190  # rolling 10-second window, per token
    daily: int = 1_000_000  # per token, per UTC day
    search_per_s: int = 5  # search endpoints, per token


@dataclass(slots=True)
class FaultRule:
    """Inject ``kind`` on requests whose path matches ``path_regex`` (None: any path).

    ``rate`` is the probability per matching request (seeded, so runs repeat); ``count`` caps how
    many times the rule fires (None: unlimited).
    """

    kind: FaultKind
    path_regex: str | None = None
    method: str | None = None
    rate: float = 1.0
    count: int | None = None
    slow_s: float = 2.0
    retry_after_s: int = 1


@dataclass(slots=True)
class WebhookConfig:
    url: str | None = None  # None: no deliveries
    client_secret: str = "sandbox-client-secret"
    app_id: int = 1000001
    max_batch: int = 100
    max_concurrency: int = 10
    timeout_s: float = 5.0
    max_attempts: int = 10  # first try + retries
    retry_base_s: float = 1.0  # delay before retry k is retry_base_s * 2**(k-1), capped
    retry_max_s: float = 300.0
    batch_window_s: float = 0.05  # how long events gather before a batch is sent
    sign_v1: bool = True
    sign_v3: bool = True


@dataclass(slots=True)
class SandboxConfig:
    token: str = "sandbox-token"
    portal_id: int = 62515
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    faults: list[FaultRule] = field(default_factory=list)
    fault_seed: int = 0
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    search_lag_s: float = 0.0  # records become searchable this long after a write
