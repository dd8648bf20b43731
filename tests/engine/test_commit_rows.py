"""The commit's rows of what a push wrote are bound while the push runs (``apply.CommitRows``):
the transaction after the last write converts no record, and commits exactly what it did when
it converted them itself."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mappers.parse import parse_timestamp_ms
from sandbox.gen.profiles import Counts
from sandbox.generator import generate_custom
from sync.engine import SyncEngine, apply
from sync.engine.properties import OBJECT_TYPES
from sync.engine.selection import MODIFIED_PROPERTY
from sync.store import MirrorRecord
from tests.engine.conftest import EngineFactory

AS_OF = date(2026, 11, 1)
WRITE = "<our write's time>"
COUNTS = Counts(contacts=300, companies=200, deals=250, subscriptions=250, members=8)


def _state(engine: SyncEngine, since: datetime) -> dict[str, Any]:
    """Every mirror row (fetched time aside) and every last-written output value. The times our
    writes got from the sandbox's clock (at or after ``since``) read ``WRITE``: two runs write
    at different moments, but the same records must carry their write's time."""

    def row(r: MirrorRecord) -> tuple[Any, ...]:
        props = dict(r.properties)
        modified = MODIFIED_PROPERTY[r.object_type]
        if props.get(modified) and parse_timestamp_ms(props[modified]) >= since_ms:
            props[modified] = WRITE
        updated = WRITE if r.updated_at and r.updated_at >= since else r.updated_at
        return props, r.history, r.associations, updated

    since_ms = int(since.timestamp() * 1000)
    store = engine.store
    return {
        "mirror": {t: {r.object_id: row(r) for r in store.iter_records(t, include_archived=True)}
                   for t in OBJECT_TYPES},
        "outputs": {t: store.load_outputs(t) for t in OBJECT_TYPES},
    }


def test_the_commit_after_the_push_converts_no_written_record(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = make_engine(generate_custom(COUNTS, seed=3))
    calls = {"push": 0, "commit": 0}
    phase = ["push"]
    original_as_written, original_commit = apply.as_written, apply.commit

    def as_written(*args: Any, **kwargs: Any) -> Any:
        calls[phase[0]] += 1
        return original_as_written(*args, **kwargs)

    def commit(*args: Any, **kwargs: Any) -> None:
        phase[0] = "commit"
        original_commit(*args, **kwargs)

    monkeypatch.setattr(apply, "as_written", as_written)
    monkeypatch.setattr(apply, "commit", commit)
    report = engine.full_sync(as_of=AS_OF)

    assert report.status == "ok"
    written = sum(report.written.values())
    assert written > 100  # several chunks
    assert calls == {"push": written, "commit": 0}


def test_rows_bound_during_the_push_commit_what_the_commit_would_make(
    make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = generate_custom(COUNTS, seed=3)
    prepared = make_engine(dataset)
    since = datetime.now(UTC) - timedelta(seconds=1)
    assert prepared.full_sync(as_of=AS_OF).status == "ok"
    with_rows = _state(prepared, since)
    stamped = sum(row[3] == WRITE for rows in with_rows["mirror"].values()
                  for row in rows.values())
    assert stamped > 100  # the writes' times are in the mirror

    plain = make_engine(dataset)  # the sandbox reloaded, a fresh store
    monkeypatch.setattr(apply, "CommitRows", lambda *a: None)  # the commit converts them
    assert plain.full_sync(as_of=AS_OF).status == "ok"

    assert _state(plain, since) == with_rows
    assert sum(len(v) for v in with_rows["outputs"].values()) > 100
