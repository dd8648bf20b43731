"""What the opt-in mypyc build (``PARTNER_SYNC_COMPILE=1``, ``bench/build_compiled.sh``) must keep.

These pass trivially on the pure-Python build; they are here for the compiled one, where an
attribute typed as a fixed-length tuple is stored unpacked and rebuilt on every read.
"""

from __future__ import annotations

from datetime import date

from bench.program_gen import PROFILES, bench_terms, generate_program, profile_as_of
from config.terms import load_terms
from policies.domains import DomainResolution
from policies.evaluate import evaluate_program
from policies.model import RecordKind, RegistrationRequest
from policies.requests import RequestItem


def test_a_request_key_is_one_object_however_often_it_is_read() -> None:
    item = RequestItem(
        RecordKind.CONTACT, "7", RegistrationRequest("P", date(2024, 1, 1)),
        DomainResolution("example.com"),
    )
    assert item.key == (RecordKind.CONTACT, "7")
    assert item.key is item.key


def test_the_registrations_and_the_decisions_share_their_keys() -> None:
    profile = PROFILES["S"]
    result = evaluate_program(
        generate_program(profile, 1), bench_terms(load_terms()), profile_as_of(profile)
    )
    registrations = {key: key for key in result.registrations}
    assert result.decisions
    assert all(registrations[key] is key for key in result.decisions)
