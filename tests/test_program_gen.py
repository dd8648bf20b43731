"""The program generator (bench/program_gen.py): deterministic, exact sizes, a mixed program."""

from __future__ import annotations

from collections import Counter

from bench.program_gen import PROFILES, Profile, generate_program, profile_as_of
from policies.model import MemberKind

SMALL = Profile("small", members=12, requests=200, deals=150, subscriptions=160, months=24)


def test_same_seed_same_program_other_seed_other_program() -> None:
    assert generate_program(SMALL, seed=7) == generate_program(SMALL, seed=7)
    assert generate_program(SMALL, seed=7) != generate_program(SMALL, seed=8)


def test_sizes_are_exact() -> None:
    program = generate_program(SMALL, seed=3)
    requests = [c for c in program.companies if c.request] + [
        c for c in program.contacts if c.request
    ]
    assert len(program.members) == SMALL.members
    assert len(requests) == SMALL.requests
    assert len(program.deals) == SMALL.deals
    assert len(program.subscriptions) == SMALL.subscriptions
    # Every subscription hangs on exactly one deal (R7 reads them through the deal).
    owners = Counter(sid for d in program.deals for sid in d.subscription_ids if sid != "S-missing")
    assert set(owners) == {s.subscription_id for s in program.subscriptions}
    assert set(owners.values()) == {1}


def test_mix_covers_the_rules() -> None:
    program = generate_program(PROFILES["S"], seed=1)
    kinds = Counter(m.kind for m in program.members)
    assert kinds[MemberKind.PROVIDER] > 0
    assert kinds[MemberKind.PARTNER] > 0
    assert any(m.exit is not None for m in program.members)
    emails = [c.email or "" for c in program.contacts]
    assert any(e.endswith("@gmail.com") for e in emails)
    domains = Counter(c.domain for c in program.companies if c.domain)
    assert max(domains.values()) > 1  # collisions between records
    assert any(len(s.mrr_history) > 1 for s in program.subscriptions)  # upgrades
    assert {"past_due", "canceled"} <= {s.status for s in program.subscriptions}
    assert any(d.shared_by for d in program.deals)


def test_profile_as_of_is_the_end_of_history() -> None:
    assert profile_as_of(PROFILES["M"]).isoformat() == "2025-01-01"
    assert profile_as_of(SMALL).isoformat() == "2024-01-01"
