"""The engine's evaluation call: same result as the rules engine, GC state always restored."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from policies.evaluate import evaluate_program
from policies.model import Program
from sync.engine.apply import evaluate_paused_gc
from tests.policies.builders import (
    TERMS,
    d,
    deal,
    partner,
    program,
    requesting_company,
    subscription,
)


@pytest.fixture
def restore_gc() -> Iterator[None]:
    """Leave the process's GC as found, whatever a test did to it."""
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def _registered_deal_program() -> Program:
    return program(
        partner("P1"),
        requesting_company("c1", "acme.com", "P1", "2024-01-10"),
        deal("d1", "c1", close="2024-02-01", subs=["s1"]),
        subscription("s1", "2024-02-01", "100"),
    )


@pytest.mark.usefixtures("restore_gc")
@pytest.mark.parametrize("enabled_before", [True, False])
def test_same_result_as_the_rules_engine_and_gc_state_kept(enabled_before: bool) -> None:
    prog = _registered_deal_program()
    if enabled_before:
        gc.enable()
    else:
        gc.disable()
    result = evaluate_paused_gc(prog, TERMS, d("2024-06-01"))
    assert gc.isenabled() is enabled_before
    assert result == evaluate_program(prog, TERMS, d("2024-06-01"))
    assert result.deals["d1"].attributed_to == "P1"  # a real evaluation, not an empty one


@pytest.mark.usefixtures("restore_gc")
def test_gc_enabled_again_when_the_evaluation_raises() -> None:
    gc.enable()
    broken = Program(members=(None,))  # type: ignore[arg-type]  # not a Member: it raises
    with pytest.raises(AttributeError):
        evaluate_paused_gc(broken, TERMS, d("2024-06-01"))
    assert gc.isenabled()
