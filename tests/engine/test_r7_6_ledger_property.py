"""R7.6 "A month pays once" as a property, through the real engine, store and sandbox: after
any sequence of archives, merges (the loser archived, its subscriptions moved to the winner) and
re-associations, each subscription month is in the ledger once, only for a live deal, the
members' totals are the sums over their live deals, and the ledger is a fresh run's."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.dataset import Dataset, SeedAssociation
from sandbox.server import RunningSandbox
from sandbox.state import SandboxState
from tests.engine.path_world import World, day, sandboxes, world
from tests.engine.seed import C, Seed

AS_OF = date(2024, 12, 1)
Op = tuple[str, int, int]


@st.composite
def programs(draw: st.DrawFn) -> tuple[Dataset, int, int]:
    """Two members with registered domains; deals closed on them; subscriptions on 1-2 deals.
    Returns the dataset, the number of deals and of subscriptions."""
    seed = Seed()
    seed.member("P1", "partner", date(2023, 1, 1), "p1.example.com",
                **{C.paperwork_completed_at: "2024-01-05"})
    seed.member("P2", "provider", date(2023, 1, 1), "p2.example.com",
                **{C.paperwork_completed_at: "2024-01-05"})
    prospects = [seed.prospect(f"d{i}.com", by=f"P{i % 2 + 1}", at=day(i)) for i in range(3)]
    deals = [seed.deal(draw(st.sampled_from(prospects)), day(draw(st.integers(20, 200))), day(10))
             for _ in range(draw(st.integers(2, 4)))]
    n_subs = draw(st.integers(1, 3))
    for _ in range(n_subs):
        on = draw(st.lists(st.sampled_from(deals), min_size=1, max_size=2, unique=True))
        sub = seed.subscription(on[0], draw(st.sampled_from(["50", "100"])), day(30))
        seed.links += [SeedAssociation("deals", d, "subscriptions", sub) for d in on[1:]]
    return seed.dataset(), len(deals), n_subs


ops = st.lists(st.tuples(st.sampled_from(["archive", "merge", "reassociate"]),
                         st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=3)


def _ids(state: SandboxState, object_type: str, live: bool = True) -> list[int]:
    return sorted(i for i, r in state.types[object_type].records.items()
                  if not live or r.archived_ms is None)


def _move_subscriptions(state: SandboxState, source: int, target: int, only: int | None) -> None:
    for sub, type_ids in state.associations.targets("deals", source, "subscriptions"):
        if only is not None and sub != only:
            continue
        for tid in type_ids:
            state.associations.remove("deals", source, "subscriptions", sub, tid)
        state.associate("deals", target, "subscriptions", sub, type_ids)


def _apply(state: SandboxState, op: Op) -> None:
    """One operation on live deals (ids taken modulo the live ones); a no-op when too few."""
    kind, a, b = op
    deals = _ids(state, "deals")
    if len(deals) < 2:
        return
    first, second = deals[a % len(deals)], deals[(a + 1 + b % (len(deals) - 1)) % len(deals)]
    deal_store = state.types["deals"]
    if kind == "archive":
        state.archive(deal_store, deal_store.records[first])
    elif kind == "merge":  # HubSpot keeps the winner, moves the associations, archives the loser
        _move_subscriptions(state, first, second, None)
        state.archive(deal_store, deal_store.records[first])
    else:
        subs = [s for s, _ in state.associations.targets("deals", first, "subscriptions")]
        if subs:
            _move_subscriptions(state, first, second, subs[b % len(subs)])


def _check_invariants(w: World) -> None:
    state = w.sandbox.state
    ledger = w.engine.store.ledger_for_deals(str(i) for i in _ids(state, "deals", live=False))
    assert set(Counter((m.subscription_id, m.month_index) for m in ledger).values()) <= {1}
    live = {str(i) for i in _ids(state, "deals")}
    assert {m.deal_id for m in ledger} <= live
    companies = state.types["companies"]
    for rec in companies.records.values():
        code = companies.raw(rec, C.code)
        if code is None:
            continue
        earned = sum((m.amount for m in ledger
                      if m.member_code == code and m.state.value != "forfeited"), Decimal(0))
        assert Decimal(companies.raw(rec, C.commission_earned_total) or "0") == earned


@pytest.fixture(scope="module")
def pair() -> Iterator[list[RunningSandbox]]:
    with sandboxes(1) as running:
        yield running


@pytest.mark.slow
@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(program=programs(), operations=ops)
def test_r7_6_totals_after_archive_merge_and_reassociate(
    pair: list[RunningSandbox], program: tuple[Dataset, int, int], operations: list[Op],
    tmp_path: Path,
) -> None:
    dataset, _, _ = program
    tag = uuid.uuid4().hex[:8]
    with world(pair[0], dataset, None, tmp_path / f"ops-{tag}.db") as w:
        w.sync(AS_OF)
        for op in operations:
            _apply(w.sandbox.state, op)
            w.sync(AS_OF)
            _check_invariants(w)
        ledger = w.engine.store.ledger_for_deals(str(i) for i in _ids(w.sandbox.state, "deals"))
        fresh_store = tmp_path / f"fresh-{tag}.db"
        with world(pair[0], None, None, fresh_store) as fresh:
            fresh.sync(AS_OF)
            assert fresh.engine.store.ledger_for_deals(
                str(i) for i in _ids(w.sandbox.state, "deals")) == ledger
