"""A whole ``ProgramResult`` of generated programs, compared with digests recorded earlier.

The rules engine is optimised for speed; every such change must leave every output exactly as it
was. The fixture ``fixtures/golden_results.json`` holds, per case, one SHA-256 per part of the
result (registrations, deals, members, decisions, ledger, problems) over a canonical text of it:
every value's ``repr`` (dates, ``Decimal`` digits and exponent, enum members), mappings in key
order. A case whose digest differs names the part that changed.

The programs come from ``bench.program_gen``: a change to the generator changes the inputs, and
the fixture must then be re-recorded from an engine known to be right (the commit before the
generator change) with ``python -m tests.policies.test_golden_result``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bench.program_gen import PROFILES, Profile, bench_terms, generate_program, profile_as_of
from config.terms import load_terms
from policies.evaluate import evaluate_program
from policies.model import ProgramResult

FIXTURE = Path(__file__).parent / "fixtures" / "golden_results.json"
_WIDER = Profile("G", 60, 3_000, 2_500, 2_500, 36)  # more members, deals sharing subscriptions

# name -> (profile, seed, as_of or None for the profile's own, evaluate twice with decisions)
CASES: dict[str, tuple[Profile, int, date | None, bool]] = {
    "S-seed1": (PROFILES["S"], 1, None, False),
    "S-seed2": (PROFILES["S"], 2, None, False),
    "S-seed3-mid-history": (PROFILES["S"], 3, date(2023, 7, 15), False),
    "S-seed1-stored-decisions": (PROFILES["S"], 1, None, True),
    "G-seed7": (_WIDER, 7, None, False),
    "M-seed1": (PROFILES["M"], 1, None, False),  # the benchmark's own program (about 2 s)
}


def _lines(values: Iterable[object]) -> Iterable[str]:
    return (repr(v) for v in values)


def _mapping(values: Mapping[object, object]) -> Iterable[str]:
    return (f"{k!r}: {values[k]!r}" for k in sorted(values, key=repr))


def result_digests(result: ProgramResult) -> dict[str, str]:
    """One SHA-256 per part of ``result`` over a canonical text of it."""
    parts = {
        "as_of": [repr(result.as_of)],
        "registrations": _mapping(result.registrations),
        "deals": _mapping(result.deals),
        "members": _mapping(result.members),
        "decisions": _mapping(result.decisions),
        "ledger": _lines(result.ledger),
        "problems": _lines(result.problems),
    }
    return {
        name: hashlib.sha256("\n".join(text).encode()).hexdigest() for name, text in parts.items()
    }


def evaluate_case(name: str) -> ProgramResult:
    profile, seed, as_of, stored = CASES[name]
    program = generate_program(profile, seed)
    terms = bench_terms(load_terms())
    when = as_of or profile_as_of(profile)
    result = evaluate_program(program, terms, when)
    if stored:  # the sticky-decision path (R2.3): the decisions of the first run fed back
        result = evaluate_program(replace(program, decisions=result.decisions), terms, when)
    return result


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n.startswith("M-") else n for n in sorted(CASES)],
)
def test_result_equals_recorded_digests(name: str) -> None:
    recorded = json.loads(FIXTURE.read_text(encoding="utf-8"))[name]
    result = evaluate_case(name)
    assert result.ledger  # the case exercises the commission rules
    assert result.registrations
    assert result_digests(result) == recorded


def test_digest_sees_a_one_cent_change() -> None:
    result = evaluate_case("S-seed1")
    first = result.ledger[0]
    changed = replace(result, ledger=(replace(first, amount=first.amount + 1), *result.ledger[1:]))
    before, after = result_digests(result), result_digests(changed)
    assert before["ledger"] != after["ledger"]
    assert {k: v for k, v in before.items() if k != "ledger"} == {
        k: v for k, v in after.items() if k != "ledger"
    }


def record() -> None:
    """Write the fixture from the engine as it is now (run only from a known-good commit)."""
    digests = {name: result_digests(evaluate_case(name)) for name in sorted(CASES)}
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    record()
