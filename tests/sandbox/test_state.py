"""The state's own guarantees: change events, silent bulk loads, history, associations, lag."""

from __future__ import annotations

import pytest

from sandbox.dataset import Dataset, SeedAssociation, SeedRecord
from sandbox.errors import ApiError
from sandbox.events import ChangeEvent
from sandbox.search import SearchRunner
from sandbox.state import SandboxState
from tests.sandbox.sandbox_fixtures import BASE_MS, SteppingClock, companies


def _state_with_events() -> tuple[SandboxState, list[ChangeEvent]]:
    state = SandboxState(now_ms=SteppingClock())
    events: list[ChangeEvent] = []
    state.bus.subscribe(events.append)
    return state, events


def test_bulk_load_is_silent_and_api_writes_emit_events() -> None:
    state, events = _state_with_events()
    state.bulk_load(companies(2))
    assert events == []
    store = state.store("0-2")
    rec = state.create(store, {"name": "Acme", "domain": "acme.io"}, source_id="app-1")
    assert [(e.kind, e.property_name) for e in events] == [
        ("creation", None), ("propertyChange", "name"), ("propertyChange", "domain")]
    assert rec.id == 3  # after the seeded ids
    events.clear()
    state.update(store, rec, {"name": "Acme", "domain": "acme.com"})
    assert [(e.kind, e.property_name, e.property_value) for e in events] == [
        ("propertyChange", "domain", "acme.com")]  # unchanged values are not announced
    events.clear()
    state.archive(store, rec)
    state.archive(store, rec)
    assert [e.kind for e in events] == ["deletion"]
    assert events[0].object_id == "3"


def test_history_keeps_seed_values_then_api_changes() -> None:
    clock = SteppingClock()
    state = SandboxState(now_ms=clock)
    seed = SeedRecord("deals", "10", {"dealstage": "closedwon", "dealname": "D"}, BASE_MS,
                      BASE_MS + 5000, history={"dealstage": [(BASE_MS, "qualifiedtobuy")]})
    state.bulk_load(Dataset(records=[seed]))
    store = state.store("deals")
    rec = state.get(store, "10")
    state.update(store, rec, {"dealstage": "closedlost", "dealname": "E"})
    stage = [value for _, value, _ in store.history(rec, "dealstage")]
    name = [value for _, value, _ in store.history(rec, "dealname")]
    assert stage == ["qualifiedtobuy", "closedwon", "closedlost"]
    assert name == ["D", "E"]
    assert rec.updated_ms == clock.now  # the write's time, whatever the seed said


def test_seed_association_default_types_and_primary_replacement() -> None:
    state, events = _state_with_events()
    state.bulk_load(companies(2))
    state.bulk_load(Dataset(
        records=[SeedRecord("contacts", "7", {"email": "c@x.io"}, BASE_MS, BASE_MS)],
        associations=[SeedAssociation("contacts", "7", "companies", "1")]))
    assert state.linked("contacts", 7, "companies") == [(1, [279, 1])]
    assert state.linked("companies", 1, "contacts") == [(7, [280, 2])]
    state.associate("contacts", 7, "companies", 2, [1])
    # A contact has one primary company: the new one takes it, the old link stays unlabeled.
    assert state.linked("contacts", 7, "companies") == [(1, [279]), (2, [279, 1])]
    assert {(e.to_object_id, e.association_type_id) for e in events} == {("2", 279), ("2", 1)}


def test_unique_email_lookup_and_conflict() -> None:
    state = SandboxState()
    store = state.store("contacts")
    rec = state.create(store, {"email": "Mixed@Case.io"})
    assert state.get(store, "mixed@case.io", id_property="email") is rec
    with pytest.raises(ApiError) as conflict:
        state.create(store, {"email": "mixed@case.IO"})
    assert conflict.value.status == 409


def test_search_lag_hides_fresh_writes_but_total_counts_them() -> None:
    clock = SteppingClock()
    state = SandboxState(now_ms=clock, search_lag_ms=10_000)
    store = state.store("companies")
    state.create(store, {"name": "Fresh"})
    runner = SearchRunner(state)
    fresh = runner.run(store, {})
    assert (fresh.total, len(fresh.records)) == (1, 0)
    clock.now += 20_000
    later = runner.run(store, {})
    assert (later.total, len(later.records)) == (1, 1)


def test_search_sees_writes_made_after_a_cached_query() -> None:
    state = SandboxState()
    state.bulk_load(companies(3))
    store = state.store("companies")
    runner = SearchRunner(state)
    body = {"filterGroups": [{"filters": [{"propertyName": "partner_tier", "operator": "EQ",
                                           "value": "gold"}]}]}
    assert runner.run(store, body).total == 1
    state.update(store, state.get(store, "1"), {"partner_tier": "gold"})
    assert runner.run(store, body).total == 2
