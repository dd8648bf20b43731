"""docs/rules.md cannot go stale: every term key, output value and code the engine can write is
explained there (the operator sees exactly what the engine does and how to change it)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel

from config.terms import ProgramTerms
from policies import model
from policies.reasons import ComplianceFlag, ProblemCode, Reason

RULES = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
TEXT = RULES.read_text(encoding="utf-8")


def _term_keys() -> list[str]:
    keys = []
    for section, field in ProgramTerms.model_fields.items():
        table = field.annotation
        assert isinstance(table, type)
        assert issubclass(table, BaseModel)
        keys += [f"{section}.{name}" for name in table.model_fields]
    return keys


def test_every_program_term_is_named_as_its_config_key() -> None:
    keys = _term_keys()
    assert len(keys) > 30
    assert [k for k in keys if f"`{k}`" not in TEXT] == []


def test_config_keys_in_the_doc_exist() -> None:
    """A key renamed in config/ must not linger in the doc under its old name."""
    sections = "|".join(ProgramTerms.model_fields)
    named = set(re.findall(rf"`((?:{sections})\.[a-z_]+)`", TEXT))
    assert named - set(_term_keys()) == set()


@pytest.mark.parametrize(
    "codes",
    [Reason, ProblemCode, ComplianceFlag, model.RegistrationStatus, model.DealType,
     model.Attribution, model.Plan, model.CommissionStatus],
    ids=lambda e: e.__name__,
)
def test_every_value_the_engine_writes_is_explained(codes: type[StrEnum]) -> None:
    assert [c.value for c in codes if c.value and f"`{c.value}`" not in TEXT] == []


def test_every_rule_of_the_policy_has_its_section() -> None:
    for rule in range(1, 10):
        assert re.search(rf"^## R{rule}\. ", TEXT, flags=re.MULTILINE), rule
