"""Rows bound ahead of their transaction (``prepare_records``, ``prepare_outputs``,
``write_prepared``) write exactly what the plain upserts write, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync.store import MirrorRecord, OutputChange, Store
from tests.store.conftest import FakeClock


def _records(n: int, note: str) -> list[MirrorRecord]:
    return [
        MirrorRecord("deals", str(i), {"amount": f"{i}.5", "note": note, "empty": None},
                     history={"hs_mrr": [{"value": "1", "timestamp": "2024-01-01"}]},
                     associations={"companies": [f"c{i}:5"]},
                     updated_at=datetime(2024, 2, 1, tzinfo=UTC))
        for i in range(n)
    ]


def _outputs(n: int, value: str | None) -> list[OutputChange]:
    return [OutputChange("companies", str(i), prop, value) for i in range(n)
            for prop in ("prefix_status", "prefix_expiry")]


def test_prepared_rows_write_what_the_plain_upserts_write(
    store: Store, other_store: Store, clock: FakeClock,
) -> None:
    # ``other_store`` shares the database: plain upserts go to deals/companies 0-9 there first,
    # then the same rows prepared and written over them must leave every column as it is.
    store.upsert_records(_records(10, "first"))
    plain_mirror = store.get_records("deals", [str(i) for i in range(10)])
    store.record_outputs(_outputs(10, "Registered"), run_id=7)
    plain_outputs = store.load_outputs("companies")

    clock.advance(5)
    prepared = store.prepare_records(_records(4, "changed"))
    prepared = store.prepare_records(_records(10, "first"), prepared)  # same keys: replaced
    outputs = store.prepare_outputs(_outputs(10, "Expired"), 8)
    outputs = store.prepare_outputs(_outputs(10, "Registered"), 7, outputs)
    assert len(prepared) == 10
    assert len(outputs) == 20
    with other_store.transaction() as tx:
        assert tx.write_prepared(outputs) == 20
        assert tx.write_prepared(prepared) == 10

    again = store.get_records("deals", [str(i) for i in range(10)])
    assert {k: (r.properties, r.history, r.associations, r.updated_at, r.archived)
            for k, r in again.items()} == {
        k: (r.properties, r.history, r.associations, r.updated_at, r.archived)
        for k, r in plain_mirror.items()}
    assert all(r.fetched_at == clock() for r in again.values())  # stamped when prepared
    assert store.load_outputs("companies") == plain_outputs


def test_nothing_prepared_writes_nothing(store: Store) -> None:
    prepared = store.prepare_records([])
    assert store.write_prepared(prepared) == 0
    assert store.count_records("deals") == 0


def test_rows_bound_for_another_dialect_are_refused(store: Store) -> None:
    other = "postgresql" if store.dialect == "sqlite" else "sqlite"
    prepared = store.prepare_records(_records(1, "x"))
    prepared.dialect = other
    with pytest.raises(ValueError, match="bound for"):
        store.write_prepared(prepared)
