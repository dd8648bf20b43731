"""The output types' faster ``__init__`` builds the same frozen values as the generated one."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import date
from decimal import Decimal

import pytest

from policies.model import CommissionMonth, Decision, MonthState, Problem, RecordKind
from policies.model import RegistrationStatus as Status


def test_positional_keyword_and_default_arguments() -> None:
    by_position = Decision(
        RecordKind.COMPANY, "1", "P", date(2024, 1, 1), Status.REJECTED, "x", None
    )
    by_keyword = Decision(
        record_id="1",
        record_kind=RecordKind.COMPANY,
        requested_by="P",
        requested_at=date(2024, 1, 1),
        outcome=Status.REJECTED,
        reason="x",
        domain=None,
    )
    assert by_position == by_keyword
    assert by_position.registered_to is None
    assert hash(by_position) == hash(by_keyword)
    assert Problem("deal", "7", "code").detail == ""
    assert Problem("deal", "7", "code", "why") != Problem("deal", "7", "code")


def test_still_frozen_comparable_replaceable_and_picklable() -> None:
    line = CommissionMonth(
        "d",
        "s",
        "P",
        0,
        date(2024, 1, 1),
        Decimal("10"),
        Decimal("1.00"),
        "EUR",
        date(2024, 5, 15),
        None,
        MonthState.AWAITING_PAPERWORK,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.amount = Decimal(2)  # type: ignore[misc]
    assert dataclasses.replace(line, month_index=1).month_index == 1
    assert pickle.loads(pickle.dumps(line)) == line
    assert dataclasses.astuple(line)[6] == Decimal("1.00")


def test_wrong_arguments_are_refused_as_before() -> None:
    with pytest.raises(TypeError):
        Problem("deal", "7")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Problem("deal", "7", "code", "detail", "extra")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Problem("deal", "7", code="c", colour="red")  # type: ignore[call-arg]
