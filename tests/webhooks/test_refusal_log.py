"""Every refused webhook delivery is logged once with its reason and what to check, and a flood
of refusals is rate-limited per reason (webhooks/refusals.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from config.settings import Settings
from sync.clock import FixedClock
from sync.store import Store
from tests.webhooks.conftest import SECRET, FakeEngine, event, serve_app, signed
from webhooks.app import ServeParts, create_app
from webhooks.refusals import REFUSAL_LOGGER, RefusalLog

URL = "/webhooks/hubspot"


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == REFUSAL_LOGGER]


async def test_a_wrong_secret_is_logged_with_its_reason_and_the_fix(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=REFUSAL_LOGGER)
    app = create_app(ServeParts(settings, store, engine, clock=clock))
    body, headers = signed([event(1)], clock, secret="not-the-secret")
    async with serve_app(app) as client:
        response = await client.post(URL, content=body, headers=headers)

    assert response.status_code == 401
    assert response.content == b""  # the caller learns nothing
    [record] = _refusals(caplog)
    message = record.getMessage()
    assert "webhook refused with 401: signature_mismatch" in message
    assert "PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET" in message
    assert "signed_uri=https://" in message
    assert SECRET not in message
    assert "not-the-secret" not in message


@pytest.mark.parametrize(
    ("content", "headers", "status", "reason"),
    [
        (b"[]", {}, 401, "missing_headers"),
        (b"x" * 5000, {}, 413, "body_too_large"),
    ],
)
async def test_other_refusals_are_logged_too(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock,
    caplog: pytest.LogCaptureFixture, content: bytes, headers: dict[str, str], status: int,
    reason: str,
) -> None:
    caplog.set_level(logging.WARNING, logger=REFUSAL_LOGGER)
    app = create_app(ServeParts(settings, store, engine, clock=clock))
    async with serve_app(app) as client:
        response = await client.post(URL, content=content, headers=headers)

    assert response.status_code == status
    [record] = _refusals(caplog)
    assert f"webhook refused with {status}: {reason}" in record.getMessage()


async def test_a_malformed_signed_body_is_logged(
    settings: Settings, store: Store, engine: FakeEngine, clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=REFUSAL_LOGGER)
    app = create_app(ServeParts(settings, store, engine, clock=clock))
    body, headers = signed(b'{"not": "a list"}', clock)
    async with serve_app(app) as client:
        response = await client.post(URL, content=body, headers=headers)

    assert response.status_code == 400
    [record] = _refusals(caplog)
    assert "malformed_body" in record.getMessage()


def test_a_flood_is_rate_limited_per_reason_and_counted() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    records: list[logging.LogRecord] = []
    logger = logging.getLogger("test.refusals")
    logger.propagate = False
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    log = RefusalLog(clock, window_s=60, burst=2, logger=logger)
    try:
        logged = [log.refused(401, "signature_mismatch", "fix") for _ in range(1000)]
        other = log.refused(413, "body_too_large", "fix")
        clock.advance(timedelta(seconds=61))
        after = log.refused(401, "signature_mismatch", "fix")
    finally:
        logger.removeHandler(handler)

    assert logged.count(True) == 2
    assert other
    assert after
    assert len(records) == 4
    assert "998 more refused for this reason were not logged" in records[-1].getMessage()
