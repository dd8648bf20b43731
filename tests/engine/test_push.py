"""The push under HubSpot's batch rule: 207 errors mapped by trace id; whole-call 400/409
refusals bisected down to the bad inputs, the rest written in as few calls as the split allows."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from config.settings import HubSpotSettings
from mappers import Patch
from sandbox.dataset import Dataset, SeedProperty, SeedRecord
from sandbox.server import RunningSandbox
from sync.engine.push import Outcome, push_patches
from sync.gateway import AuthError, BatchResult, Gateway
from tests.gateway.fakes import FakeClock, FakeHubSpot, body, error, make_gateway, record

STAMP = "2024-03-31T23:59:59.000Z"
UPDATE = "/crm/v3/objects/deals/batch/update"


@pytest.fixture
def hub() -> FakeHubSpot:
    return FakeHubSpot()


@pytest.fixture
def gateway(hub: FakeHubSpot) -> Iterator[Gateway]:
    clock = FakeClock()
    gw = make_gateway(hub, clock, max_attempts=1)
    yield gw
    gw.close()


def _deals(count: int, bad: set[int]) -> list[Patch]:
    return [Patch("deals", str(i), {"amount": "oops" if i in bad else "1"})
            for i in range(1, count + 1)]


def _refuse_whole_batch(hub: FakeHubSpot, status: int = 400) -> list[list[str]]:
    """A HubSpot that refuses a whole call holding an invalid amount; returns ids written."""
    written: list[list[str]] = []

    @hub.route("POST", UPDATE)
    def _update(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        inputs = body(request)["inputs"]
        if any(i["properties"]["amount"] == "oops" for i in inputs):
            category = "CONFLICT" if status == 409 else "VALIDATION_ERROR"
            return error(status, category, "Property values were not valid")
        written.append([i["id"] for i in inputs])
        return httpx.Response(200, json={"status": "COMPLETE", "startedAt": STAMP,
                                         "completedAt": STAMP,
                                         "results": [record(i["id"]) for i in inputs]})

    return written


LEVELS = math.ceil(math.log2(100))


@pytest.mark.parametrize(("status", "bad", "max_calls"), [
    (400, 42, 1 + 2 * LEVELS),  # plain bisection's bound: two halves per level
    (409, 42, 1 + 2 * LEVELS),
    # A half whose sibling went through must hold the culprit: it is split without being
    # sent whole, so a culprit on the right costs one call per level.
    (400, 100, 1 + LEVELS),
])
def test_whole_batch_refusal_is_bisected_to_the_bad_input(
    gateway: Gateway, hub: FakeHubSpot, status: int, bad: int, max_calls: int
) -> None:
    written = _refuse_whole_batch(hub, status)

    outcome = push_patches(gateway, _deals(100, bad={bad}))

    assert [(f.object_id, f.category) for f in outcome.failures] == [
        (str(bad), "CONFLICT" if status == 409 else "VALIDATION_ERROR")]
    ids = [i for call in written for i in call]
    assert sorted(ids, key=int) == [str(i) for i in range(1, 101) if i != bad]  # each once
    assert len(outcome.written) == 99
    assert outcome.calls == len(hub.requests) <= max_calls


def test_two_bad_inputs_in_different_halves_are_both_isolated(
    gateway: Gateway, hub: FakeHubSpot
) -> None:
    written = _refuse_whole_batch(hub)

    outcome = push_patches(gateway, _deals(64, bad={3, 50}))

    assert sorted(f.object_id for f in outcome.failures) == ["3", "50"]
    assert len({i for call in written for i in call}) == 62
    assert len(hub.requests) <= 1 + 2 * 2 * math.ceil(math.log2(32))


def test_207_errors_are_mapped_through_trace_ids(gateway: Gateway, hub: FakeHubSpot) -> None:
    @hub.route("POST", UPDATE)
    def _update(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        inputs = body(request)["inputs"]
        bad = [i for i in inputs if i["properties"]["amount"] == "oops"]
        # Named by trace id only, as HubSpot does for traced inputs.
        errors = [{"status": "error", "category": "VALIDATION_ERROR", "message": f"bad {n}",
                   "context": {"objectWriteTraceId": [i["objectWriteTraceId"]]}}
                  for n, i in enumerate(bad)]
        good = [record(i["id"]) for i in inputs if i not in bad]
        return httpx.Response(207, json={"status": "COMPLETE", "results": good,
                                         "numErrors": len(errors), "errors": errors,
                                         "startedAt": STAMP, "completedAt": STAMP})

    outcome = push_patches(gateway, _deals(150, bad={7, 120}))

    traces = [i["objectWriteTraceId"] for r in hub.requests for i in body(r)["inputs"]]
    assert len(set(traces)) == 150  # one distinct trace id per input
    assert sorted((f.object_id, f.message) for f in outcome.failures) == [
        ("120", "bad 0"), ("7", "bad 0")]
    assert len(outcome.written) == 148
    assert outcome.calls == 2


def test_an_outage_fails_its_chunk_only_and_auth_stops_the_push(
    gateway: Gateway, hub: FakeHubSpot
) -> None:
    @hub.route("POST", UPDATE)
    def _update(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        # the chunk of 1 and 2 meets an outage; chunks may go out in any order
        if [i["id"] for i in body(request)["inputs"]] == ["1", "2"]:
            return error(500, "INTERNAL_ERROR", "boom")
        return httpx.Response(200, json={"status": "COMPLETE", "startedAt": STAMP,
                                         "completedAt": STAMP, "results": [record(3)]})

    outcome = push_patches(gateway, _deals(3, bad=set()), batch_size=2)
    assert sorted(f.object_id for f in outcome.failures) == ["1", "2"]  # not bisected
    assert [p.object_id for p in outcome.written] == ["3"]
    assert len(hub.requests) == 2

    hub.routes.clear()
    hub.route("POST", UPDATE)(lambda request, _: error(401, "INVALID_AUTHENTICATION", "no"))
    with pytest.raises(AuthError):
        push_patches(gateway, _deals(3, bad=set()))


def _slow_updates(hub: FakeHubSpot, delay_s: float) -> list[int]:
    """Each batch update answers after ``delay_s``; returns [most updates in flight at once]."""
    lock, state, most = threading.Lock(), [0], [0]

    @hub.route("POST", UPDATE)
    def _update(request: httpx.Request, _: re.Match[str]) -> httpx.Response:
        with lock:
            state[0] += 1
            most[0] = max(most[0], state[0])
        time.sleep(delay_s)
        with lock:
            state[0] -= 1
        ids = [i["id"] for i in body(request)["inputs"]]
        return httpx.Response(200, json={"status": "COMPLETE", "startedAt": STAMP,
                                         "completedAt": STAMP,
                                         "results": [record(i) for i in ids]})

    return most


def _push_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("push")]


@pytest.mark.parametrize("workers", [1, 3])
def test_chunks_are_written_at_once_in_chunk_order(
    gateway: Gateway, hub: FakeHubSpot, workers: int
) -> None:
    most = _slow_updates(hub, delay_s=0.05)
    patches = _deals(12, bad=set())

    started = time.monotonic()
    outcome = push_patches(gateway, patches, batch_size=2, workers=workers)
    elapsed = time.monotonic() - started

    assert outcome.written == patches  # the chunks' outcomes in chunk order
    assert outcome.calls == len(hub.requests) == 6
    assert most[0] == 1 if workers == 1 else most[0] >= 2
    assert elapsed >= 6 / workers * 0.05  # each worker's chunks one after another
    assert not _push_threads()


def test_each_chunk_outcome_reaches_on_chunk_in_order_in_the_callers_thread(
    gateway: Gateway, hub: FakeHubSpot
) -> None:
    _slow_updates(hub, delay_s=0.02)
    patches = _deals(9, bad=set())
    seen: list[tuple[list[str], str, int]] = []

    def on_chunk(chunk: Outcome) -> None:
        seen.append(([p.object_id for p in chunk.written], threading.current_thread().name,
                     len(hub.requests)))

    outcome = push_patches(gateway, patches, batch_size=2, workers=3, on_chunk=on_chunk)

    assert [ids for ids, _, _ in seen] == [["1", "2"], ["3", "4"], ["5", "6"], ["7", "8"], ["9"]]
    assert {name for _, name, _ in seen} == {threading.current_thread().name}
    assert seen[0][2] < len(hub.requests)  # the first arrived while later chunks were sent
    assert outcome.written == patches


def test_a_refused_token_or_a_lost_lock_stops_the_push_with_no_worker_left(
    gateway: Gateway, hub: FakeHubSpot
) -> None:
    _slow_updates(hub, delay_s=0.02)
    checks = [0]

    def lose_lock_at_the_third_chunk() -> None:
        checks[0] += 1
        if checks[0] == 3:
            raise RuntimeError("lock lost")

    with pytest.raises(RuntimeError, match="lock lost"):
        push_patches(gateway, _deals(12, bad=set()), batch_size=2, workers=3,
                     before_chunk=lose_lock_at_the_third_chunk)
    assert len(hub.requests) == 2  # the chunks checked before it, none after
    assert not _push_threads()

    hub.routes.clear()
    hub.route("POST", UPDATE)(lambda request, _: error(401, "INVALID_AUTHENTICATION", "no"))
    with pytest.raises(AuthError):
        push_patches(gateway, _deals(12, bad=set()), batch_size=2, workers=3)
    assert not _push_threads()


# -- against the sandbox ---------------------------------------------------------------------

TIER = SeedProperty("companies", "partner_tier", "Tier", "enumeration", "select",
                    "companyinformation", ("untiered", "gold"))


class _Untraced(Gateway):
    """A gateway whose batch updates lose their trace ids: HubSpot's whole-batch rule applies."""

    def batch_update(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> BatchResult:
        stripped = [{k: v for k, v in i.items() if k != "objectWriteTraceId"} for i in inputs]
        return super().batch_update(object_type, stripped)


def _seeded(sandbox: RunningSandbox, count: int) -> None:
    records = [SeedRecord("companies", str(i), {"name": f"C{i}", "partner_tier": "untiered"},
                          1_700_000_000_000, 1_700_000_000_000) for i in range(1, count + 1)]
    sandbox.state.bulk_load(Dataset(properties=[TIER], records=records))


def _sandbox_gateway(sandbox: RunningSandbox, cls: type[Gateway] = Gateway) -> Gateway:
    return cls(HubSpotSettings(access_token=SecretStr("sandbox-token"), base_url=sandbox.url,
                               rate_limit_per_10s=1000, max_attempts=1, max_retry_wait_s=0))


def _tiers(sandbox: RunningSandbox) -> dict[str, str | None]:
    store = sandbox.state.types["companies"]
    return {str(i): store.raw(r, "partner_tier") for i, r in store.records.items()}


@pytest.mark.parametrize("cls", [Gateway, _Untraced], ids=["traced-207", "untraced-bisected"])
def test_sandbox_push_writes_all_but_the_invalid_record(
    sandbox: RunningSandbox, cls: type[Gateway]
) -> None:
    _seeded(sandbox, 40)
    patches = [Patch("companies", str(i), {"partner_tier": "bogus" if i == 17 else "gold"})
               for i in range(1, 41)]
    gateway = _sandbox_gateway(sandbox, cls)
    try:
        outcome = push_patches(gateway, patches)
    finally:
        gateway.close()

    assert [(f.object_id, f.category) for f in outcome.failures] == [("17", "VALIDATION_ERROR")]
    assert "INVALID_OPTION" in outcome.failures[0].message or "bogus" in \
        outcome.failures[0].message
    tiers = _tiers(sandbox)
    assert tiers.pop("17") == "untiered"
    assert set(tiers.values()) == {"gold"}
    bisected = 1 + 2 * math.ceil(math.log2(40))
    assert (outcome.calls == 1) if cls is Gateway else (1 < outcome.calls <= bisected)
