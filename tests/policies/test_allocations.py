"""What the evaluation leaves to the cyclic collector: little beyond its outputs.

The collector runs once per ``gc.get_threshold()[0]`` container objects allocated (and not yet
freed), and every few runs it rescans everything alive, the caller's input included; its time is
a large part of a cold ``evaluate_program``. The outputs (ledger lines, deal, registration and
member outputs, decisions, their keys, problems) must exist; what the evaluation allocates besides
them (per-request items, sort keys, resolutions) only adds collections. This counts the
collections an evaluation triggers, from an empty young generation.
"""

from __future__ import annotations

import gc

from bench.program_gen import Profile, bench_terms, generate_program, profile_as_of
from config.terms import load_terms
from policies.evaluate import evaluate_program
from policies.model import ProgramResult

_WIDER = Profile("G", 60, 3_000, 2_500, 2_500, 36)  # as in test_golden_result


def _output_objects(result: ProgramResult) -> int:
    """Container objects the result holds per record (a registration's key is one more)."""
    return (
        len(result.ledger)
        + len(result.deals)
        + 2 * len(result.registrations)
        + len(result.decisions)
        + len(result.members)
        + len(result.problems)
    )


def test_an_evaluation_triggers_few_collections_beyond_its_outputs() -> None:
    program = generate_program(_WIDER, 7)
    terms, as_of = bench_terms(load_terms()), profile_as_of(_WIDER)
    evaluate_program(program, terms, as_of)  # the domain cache warm, as it is for a later call
    runs: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.collect()
    gc.callbacks.append(count)
    try:
        result = evaluate_program(program, terms, as_of)
    finally:
        gc.callbacks.remove(count)
    allocated = (
        len(runs) * gc.get_threshold()[0]
    )  # at least this many objects, give or take one run
    # outputs plus a claim per registration and little else (previously about twice the outputs)
    assert allocated <= 1.4 * _output_objects(result)
