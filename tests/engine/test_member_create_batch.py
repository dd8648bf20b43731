"""Batch create of companies in a member portal under HubSpot's batch rule, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.server import RunningSandbox
from sync.gateway import CrmRecord, Gateway, HubSpotError
from sync.portals.member_ops import Created, TracedInput, bisect_create, create_companies
from tests.engine.conftest import settings_for


def _domains(sandbox: RunningSandbox) -> set[str]:
    store = sandbox.state.types["companies"]
    return {v for rec in store.records.values() if (v := store.raw(rec, "domain"))}


def test_one_invalid_input_does_not_fail_the_batch(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    good = [{"name": f"c{i}.example.com", "domain": f"c{i}.example.com"} for i in range(5)]
    bad = {"name": "bad.example.com", "domain": "bad.example.com", "no_such_property": "x"}
    gateway = Gateway(settings_for(sandbox.url, tmp_path / "unused.db").hubspot)
    try:
        made, problems = create_companies(gateway, [*good[:2], bad, *good[2:]])
    finally:
        gateway.close()
    assert sorted(r.properties.get("domain") or "" for r in made) == sorted(
        g["domain"] for g in good)
    assert [(p.record_id, p.code) for p in problems] == [("bad.example.com", "create_failed")]
    assert "no_such_property" in problems[0].detail
    assert "bad.example.com" not in _domains(sandbox)


class WholeCallRefusal:
    """A portal that refuses a whole batch holding a bad input (the rule for untraced inputs),
    counting the calls; it creates the rest as records named by their domain."""

    def __init__(self, bad: set[str], error: HubSpotError) -> None:
        self.bad, self.error, self.calls = bad, error, 0

    def __call__(self, chunk: list[TracedInput]) -> Created | HubSpotError:
        self.calls += 1
        if any(i.label in self.bad for i in chunk):
            return self.error
        return Created(records=[_record(i.label) for i in chunk])


def _record(domain: str) -> CrmRecord:
    return CrmRecord.from_json({"id": domain, "properties": {"domain": domain}})


def test_a_whole_call_refusal_is_split_down_to_the_bad_inputs(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    gateway = Gateway(settings_for(sandbox.url, tmp_path / "unused.db").hubspot)
    body = {"inputs": [{"properties": {"nope": "x"}}]}  # untraced and invalid: a whole 400
    try:
        with pytest.raises(HubSpotError) as refused:
            gateway.call("POST /crm/v3/objects/{type}/batch/create", lambda: gateway
                         .objects_batch.create("companies", body, _preload_content=False),
                         idempotent=False)
    finally:
        gateway.close()
    refusal = refused.value
    assert refusal.status == 400
    inputs = [TracedInput({"domain": f"d{i}.example.com"}, f"t{i}") for i in range(8)]
    portal = WholeCallRefusal({"d5.example.com"}, refusal)
    out = bisect_create(inputs, portal, None)
    assert [p.record_id for p in out.problems] == ["d5.example.com"]
    assert len(out.records) == 7
    # 8 refused; 4 created; the other 4 (known bad) split unsent: [d4 d5] refused,
    # [d4] created, [d5] known bad, unsent; [d6 d7] created.
    assert portal.calls == 5
