"""Our own writes coming back in the next incremental window: recognised, not re-read.

Calls are counted by ``bench.floors.CallCounter`` (an httpx transport under the gateway), not by
the engine's metrics.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.floors import CallCounter
from mappers.records import RawRecord
from sync.engine import SyncEngine
from sync.engine.echo import unchanged
from sync.engine.mirror import to_mirror
from sync.gateway import BatchResult, Gateway
from tests.engine.e2_rig import C, Rig, rig

TYPES = ("companies", "contacts", "deals", "subscriptions")


@contextmanager
def counted(tmp_path: Path) -> Iterator[tuple[Rig, SyncEngine, CallCounter]]:
    """The rig's sandbox, store and clock, with an engine whose requests are counted."""
    with rig(tmp_path) as r:
        counter = CallCounter()
        gateway = Gateway(r.engine.settings.hubspot, transport=counter,
                          clock=r.time.monotonic, sleep=r.time.sleep)
        try:
            yield r, SyncEngine(r.engine.settings, gateway=gateway, store=r.store,
                                clock=r.clock), counter
        finally:
            gateway.close()


def window_pages(updated: dict[str, int]) -> int:
    """One window search per type, one page per 200 records written to it (at least one)."""
    return sum(max(1, math.ceil(updated.get(t, 0) / 200)) for t in TYPES)


def test_no_change_incremental_after_a_full_sync_makes_only_its_window_searches(
    tmp_path: Path,
) -> None:
    with counted(tmp_path) as (r, engine, counter):
        assert engine.full_sync().status == "ok"
        written = dict(counter.updated)
        assert written.get("deals", 0) > 0  # the writes the next window finds again
        r.later(1)
        counter.reset()

        report = engine.incremental_sync()

        assert report.kind == "incremental"
        assert report.status == "ok"
        assert counter.by_kind() == {"search": window_pages(written)}
        assert report.patches == []
        assert report.records_read == dict.fromkeys(TYPES, 0)


def test_an_edit_among_our_writes_is_read_with_its_associations(tmp_path: Path) -> None:
    with counted(tmp_path) as (r, engine, counter):
        assert engine.full_sync().status == "ok"
        written = dict(counter.updated)
        deal = r.ids("deals", **{C.attribution: "registered"})[0]
        r.later(1)
        r.edit("deals", deal, **{C.attribution_override: "NOBODY",
                                 C.attribution_override_reason: "agreed"})
        r.later(1)
        counter.reset()

        report = engine.incremental_sync()

        assert report.records_read["deals"] == 1
        calls = counter.by_kind()
        assert calls["search"] == window_pages(written)
        assert calls["associations"] == 2  # the deal's companies and subscriptions
        assert r.store.get_records("deals", [deal])[deal].properties[C.attribution_override] \
            == "NOBODY"


def test_a_second_edit_after_our_write_moves_the_time_and_is_read(tmp_path: Path) -> None:
    with counted(tmp_path) as (r, engine, _counter):
        assert engine.full_sync().status == "ok"
        deal = r.ids("deals", **{C.attribution: "registered"})[0]
        held = r.store.get_records("deals", [deal])[deal]
        r.later(1)
        r.edit("deals", deal, **{C.attribution: ""})  # someone clears our output by hand
        r.later(1)

        report = engine.incremental_sync()

        assert report.records_read["deals"] == 1
        assert [(p.object_id, p.properties.get(C.attribution)) for p in report.patches] == [
            (deal, held.properties[C.attribution])]


class _EditBeforeWrite(Gateway):
    """Someone edits the first deal of our first deal write just before that write lands."""

    rig: Rig
    edited: str | None = None

    def batch_update(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> BatchResult:
        if object_type == "deals" and self.edited is None:
            self.edited = str(inputs[0]["id"])
            self.rig.edit("deals", self.edited, **{C.attribution_override: "NOBODY",
                                                   C.attribution_override_reason: "between"})
        return super().batch_update(object_type, inputs)


def test_an_edit_between_our_read_and_our_write_is_found_by_its_values(tmp_path: Path) -> None:
    with rig(tmp_path) as r:
        gateway = _EditBeforeWrite(r.engine.settings.hubspot, clock=r.time.monotonic,
                                   sleep=r.time.sleep)
        gateway.rig = r
        engine = SyncEngine(r.engine.settings, gateway=gateway, store=r.store, clock=r.clock)
        try:
            assert engine.full_sync().status == "ok"
            deal = gateway.edited
            assert deal is not None
            held = r.store.get_records("deals", [deal])[deal].properties
            assert held.get(C.attribution_override) != "NOBODY"  # our write hid the edit's time
            r.later(1)

            report = engine.incremental_sync()
        finally:
            gateway.close()

        assert report.records_read["deals"] == 1
        assert r.store.get_records("deals", [deal])[deal].properties[C.attribution_override] \
            == "NOBODY"


def _pair(found: dict[str, str | None], held: dict[str, str | None]) -> bool:
    return unchanged(RawRecord("deals", "1", found),
                     to_mirror(RawRecord("deals", "1", held)))


def test_unchanged_compares_values_and_the_modified_instant() -> None:
    stamp = {"hs_lastmodifieddate": "2026-11-02T12:00:00.000Z", "dealstage": "won"}
    assert _pair(stamp, dict(stamp))
    assert _pair(stamp, {**stamp, "hs_lastmodifieddate": "2026-11-02T12:00:00+00:00"})
    assert _pair({**stamp, "x": None}, {**stamp, "x": ""})  # cleared reads empty or absent
    assert not _pair(stamp, {**stamp, "hs_lastmodifieddate": "2026-11-02T12:00:00.001Z"})
    assert not _pair(stamp, {**stamp, "dealstage": "lost"})
    assert not _pair({"dealstage": "won"}, {"dealstage": "won"})  # no time: never an echo
    assert not _pair(stamp, {**stamp, "hs_lastmodifieddate": "not a time"})
