"""Records -> rules -> outputs -> records again: the invariants the sync depends on.

R2.3: a rebuild from scratch (no store) reads the decisions back off the records exactly as they
were recorded; DESIGN.md "Diff": a second sync over what the first wrote patches nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from mappers import RawRecord, desired_outputs, diff, to_program
from policies.evaluate import evaluate_program
from tests.mappers.builders import CONTRACT, TERMS, record

C = CONTRACT


def portal() -> list[RawRecord]:
    request = C.registration_requested_by, C.registration_requested_at
    return [
        record("companies", "1", {
            C.program_type: "partner", C.code: "A", C.tier: "gold", C.joined_at: "2023-01-01",
            C.paperwork_completed_at: "2023-02-01", C.certified: "true",
            C.hubspot_plan: "professional"}, domain="a-partner.com"),
        # a member company that also carries a registration request
        record("companies", "2", {
            C.program_type: "provider", C.code: "B", C.joined_at: "2023-01-01",
            C.hubspot_plan: "starter", request[0]: "A", request[1]: "2024-01-15"},
            domain="b-partner.com"),
        record("companies", "100", {request[0]: "A", request[1]: "2024-01-10"},
               domain="acme.com"),
        record("companies", "101", {request[0]: "B", request[1]: "1706745600000"},
               website="https://www.acme.com/x"),
        record("contacts", "200", {request[0]: "A", request[1]: "2024-03-01"},
               email="x@beta.com"),
        record("contacts", "201", {request[0]: "B", request[1]: "2024-03-01T00:00:00Z"},
               email="y@gmail.com"),
        # joins A's registration of acme.com (R2.2.3): no decision of its own
        record("contacts", "202", {request[0]: "a", request[1]: "2024-02-01"},
               email="z@acme.com"),
        # registered, then deregistered (R2.7)
        record("companies", "102", {request[0]: "A", request[1]: "2024-02-10",
                                    C.deregistration_requested_at: "2024-05-01"},
               domain="gamma.io"),
        record("deals", "300", dealstage="closedwon", closedate="2024-04-01T12:00:00Z",
               createdate="2024-03-01T00:00:00Z", assoc={
                   "companies": [("100", (5, 341))], "subscriptions": [("400", (300,))]}),
        record("subscriptions", "400", hs_status="active",
               hs_recurring_billing_start_date="2024-04-01", hs_mrr="150",
               history={"hs_mrr": ((1711929600000, "100"), (1717200000000, "150"))}),
    ]


def write(records: list[RawRecord], outputs: dict[tuple[str, str], dict[str, str]]
          ) -> list[RawRecord]:
    """What the CRM holds after the patches: HubSpot omits emptied properties."""
    out = []
    for rec in records:
        props = {**rec.properties, **outputs.get((rec.object_type, rec.object_id), {})}
        out.append(replace(rec, properties={k: v for k, v in props.items() if v}))
    return out


@pytest.mark.parametrize("as_of", [date(2024, 3, 1), date(2024, 6, 20), date(2025, 1, 1)])
def test_r2_3_rebuild_reads_every_decision_back_and_second_sync_writes_nothing(
    as_of: date,
) -> None:
    records = portal()
    program, problems = to_program(records, C, TERMS)
    first = evaluate_program(program, TERMS, as_of)
    assert problems == ()
    assert len(first.decisions) >= 4  # the scenario really decides requests
    desired = desired_outputs(first, C)
    patches = diff(desired, {(r.object_type, r.object_id): r.properties for r in records})
    assert {(p.object_type, p.object_id) for p in patches} >= {("deals", "300"),
                                                               ("companies", "2")}

    written = write(records, desired)
    rebuilt, _ = to_program(written, C, TERMS)  # no store decisions: a rebuild from scratch
    assert dict(rebuilt.decisions) == dict(first.decisions)

    second = evaluate_program(rebuilt, TERMS, as_of)
    current = {(r.object_type, r.object_id): r.properties for r in written}
    assert diff(desired_outputs(second, C), current, C) == []

