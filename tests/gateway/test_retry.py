"""Retries through the whole gateway path: what is retried, how long it waits, when it stops."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from sync.gateway import (
    Gateway,
    HubSpotError,
    NotFound,
    RateLimited,
    TransientError,
    Unreachable,
)
from sync.gateway.errors import Action, ActionKind
from sync.gateway.gateway import LIST
from sync.gateway.retry import RetryPolicy
from tests.gateway.fakes import FakeClock, FakeHubSpot, error, make_gateway, record

OK_PAGE = {"results": [record(1)]}


def script(hub: FakeHubSpot, answers: list[httpx.Response | type[Exception]]) -> None:
    """The list endpoint answers from ``answers`` in order (exception types are raised)."""
    queue: Iterator[httpx.Response | type[Exception]] = iter(answers)

    @hub.route("GET", "/crm/v3/objects/deals")
    def _list(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        answer = next(queue, httpx.Response(200, json=OK_PAGE))
        if isinstance(answer, type):
            raise answer("boom", request=request)  # type: ignore[call-arg]
        return answer


def first_page(gateway: Gateway) -> list[str]:
    return [r.id for r in next(gateway.list_objects("deals", ["dealname"])).records]


def limited(retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after else {}
    response = error(429, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.",
                     policyName="TEN_SECONDLY_ROLLING")
    response.headers.update(headers)
    return response


def test_429_with_retry_after_waits_exactly_that(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock
) -> None:
    script(hub, [limited("3")])
    assert first_page(gateway) == ["1"]
    assert clock.sleeps == [3.0]
    assert len(hub.requests) == 2


def test_429_without_retry_after_waits_out_the_window(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock
) -> None:
    script(hub, [limited()])
    started = clock.now
    assert first_page(gateway) == ["1"]
    assert clock.sleeps == [pytest.approx(10.0)]
    # The pacer was told too: the retry went out after the window, with no extra wait.
    assert clock.now - started == pytest.approx(10.0)


def test_search_429_waits_one_second(gateway: Gateway, hub: FakeHubSpot, clock: FakeClock) -> None:
    answers = iter([error(429, "RATE_LIMITS", "You have reached your secondly limit.")])

    @hub.route("POST", "/crm/v3/objects/deals/search")
    def _search(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        return next(answers, httpx.Response(200, json={"total": 1, "results": [record(5)]}))

    page = gateway.search("deals", [], ["dealname"])
    assert [r.id for r in page.records] == ["5"]
    assert clock.sleeps == [pytest.approx(1.0)]


def test_5xx_burst_is_recovered_with_backoff(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock
) -> None:
    script(hub, [error(502, "", "bad gateway"), error(503, "", "unavailable"),
                 error(504, "", "timeout")])
    assert first_page(gateway) == ["1"]
    assert clock.sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError, httpx.RemoteProtocolError]
)
def test_timeouts_and_dropped_connections_are_retried(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock, exc: type[Exception]
) -> None:
    script(hub, [httpx.Response(200, json=OK_PAGE), exc])
    assert first_page(gateway) == ["1"]  # the host has answered once
    assert first_page(gateway) == ["1"]
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ConnectTimeout])
def test_a_host_that_never_answered_fails_at_once_naming_host_and_url(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock, exc: type[Exception]
) -> None:
    script(hub, [exc])
    with pytest.raises(Unreachable) as caught:
        first_page(gateway)
    assert clock.sleeps == []
    assert len(hub.requests) == 1
    message = str(caught.value)
    assert "cannot reach " in message
    assert "{" not in message
    assert "/crm/v3/objects/deals" in message


def test_a_read_timeout_on_first_contact_is_still_retried(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock
) -> None:
    # The host accepted the connection: it is there, only slow.
    script(hub, [httpx.ReadTimeout])
    assert first_page(gateway) == ["1"]
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (error(400, "VALIDATION_ERROR", "bad"), HubSpotError),
        (error(401, "INVALID_AUTHENTICATION", "no"), HubSpotError),
        (httpx.Response(404, text=""), NotFound),
        (error(409, "CONFLICT", "exists"), HubSpotError),
        (error(500, "", "internal"), HubSpotError),
    ],
)
def test_other_errors_are_not_retried(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock,
    answer: httpx.Response, raised: type[Exception],
) -> None:
    script(hub, [answer])
    with pytest.raises(raised):
        first_page(gateway)
    assert len(hub.requests) == 1
    assert clock.sleeps == []


def test_attempts_are_capped(hub: FakeHubSpot, clock: FakeClock) -> None:
    gateway = make_gateway(hub, clock, max_attempts=3)
    script(hub, [error(503, "", "down")] * 10)
    with pytest.raises(TransientError):
        first_page(gateway)
    assert len(hub.requests) == 3
    assert clock.sleeps == [0.5, 1.0]


def test_total_wait_is_capped(hub: FakeHubSpot, clock: FakeClock) -> None:
    gateway = make_gateway(hub, clock, max_retry_wait_s=5.0)
    script(hub, [limited("3"), limited("3")])
    with pytest.raises(RateLimited):
        first_page(gateway)
    assert clock.sleeps[:1] == [3.0]  # the second 3 s wait would pass 5 s: not started
    assert len(hub.requests) == 2


def test_daily_limit_is_not_retried(gateway: Gateway, hub: FakeHubSpot, clock: FakeClock) -> None:
    script(hub, [error(429, "", "You have reached your daily limit.", policyName="DAILY")])
    with pytest.raises(RateLimited) as exc:
        first_page(gateway)
    assert exc.value.policy == "DAILY"
    assert len(hub.requests) == 1


def test_non_idempotent_calls_run_once() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(sleep=sleeps.append)
    calls = 0

    def fail() -> None:
        nonlocal calls
        calls += 1
        raise TransientError("down", action=Action(ActionKind.RETRY))

    with pytest.raises(TransientError):
        policy.call(fail, idempotent=False)
    assert calls == 1
    with pytest.raises(TransientError):
        policy.call(fail, idempotent=True)
    assert calls == 1 + 6
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_metrics_count_attempts_retries_and_429s(
    gateway: Gateway, hub: FakeHubSpot, clock: FakeClock
) -> None:
    script(hub, [limited("1"), error(503, "", "down")])
    first_page(gateway)
    stats = gateway.metrics.endpoint(LIST)
    assert (stats.calls, stats.attempts, stats.retries, stats.rate_limited) == (1, 3, 2, 1)
    assert dict(stats.statuses) == {200: 1, 429: 1, 503: 1}
    assert gateway.metrics.snapshot()["totals"]["attempts"] == 3


def test_opening_a_connection_has_a_shorter_timeout_than_an_answer() -> None:
    from config.settings import HubSpotSettings

    with Gateway(HubSpotSettings(access_token="t", timeout_s=30)) as gateway:
        timeout = gateway.http.timeout
    assert (timeout.connect, timeout.read) == (10.0, 30.0)
