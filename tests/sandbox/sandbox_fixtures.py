"""Helpers for the sandbox contract tests: a stepping clock, a config without rate limits, seeds."""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.config import RateLimitConfig, SandboxConfig
from sandbox.dataset import Dataset, SeedProperty, SeedRecord

TOKEN = "contract-token"
BASE_MS = 1_700_000_000_000  # 2023-11-14T22:13:20Z


class SteppingClock:
    """Each call returns one second later than the previous (deterministic timestamps)."""

    def __init__(self, start_ms: int = BASE_MS) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        self.now += 1000
        return self.now


def config(**overrides: Any) -> SandboxConfig:
    cfg = SandboxConfig(token=TOKEN, rate_limits=RateLimitConfig(enabled=False))
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


def companies(count: int, start_id: int = 1) -> Dataset:
    """``count`` companies with a tier property, ids from ``start_id``."""
    tier = SeedProperty("companies", "partner_tier", "Tier", "enumeration", "select",
                        "companyinformation", ("untiered", "gold", "platinum"))
    records = (
        SeedRecord("companies", str(start_id + i),
                   {"name": f"Company {i}", "domain": f"c{i}.example.com",
                    "partner_tier": ("untiered", "gold", "platinum")[i % 3]},
                   BASE_MS + i * 1000, BASE_MS + i * 1000)
        for i in range(count)
    )
    return Dataset(properties=[tier], records=records)


def assert_error_shape(body: dict[str, Any], status: int, category: str) -> None:
    """HubSpot's error envelope: status "error", message, uuid correlationId, category."""
    assert body["status"] == "error"
    assert body["category"] == category
    assert isinstance(body["message"], str)
    assert body["message"]
    uuid.UUID(body["correlationId"])
    assert status >= 400
