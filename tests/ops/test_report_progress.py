"""`report` off a terminal says how far it is, like the other long commands: a progress log
line (logger ``partner_sync.progress``) every interval while statements are written."""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import pytest
from rich.console import Console

from cli.output import PROGRESS_LOGGER, QUIET_INTERVAL_S, progress
from cli.report import run_report
from config.settings import load_settings
from tests.ops.test_report import _r7_5, _r8_4, _store


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == PROGRESS_LOGGER]


def test_progress_off_a_terminal_logs_steps_done_every_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=PROGRESS_LOGGER)
    pipe = Console(file=io.StringIO(), force_terminal=False)
    gate = threading.Event()

    with progress("statements", 5, out=pipe, quiet_interval_s=0.05) as advance:
        advance()
        advance(2)
        gate.wait(0.5)

    lines = _lines(caplog)
    assert len(lines) >= 3
    assert all(line.startswith("statements: running for ") for line in lines)
    assert lines[-1].endswith("3 of 5 done")
    assert pipe.file.getvalue() == ""  # type: ignore[attr-defined]  # no bar, no control codes


def test_progress_on_a_terminal_is_a_bar_and_no_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=PROGRESS_LOGGER)
    tty = Console(file=io.StringIO(), force_terminal=True, width=80)

    with progress("statements", 2, out=tty, quiet_interval_s=0.01) as advance:
        advance()
        threading.Event().wait(0.1)

    assert _lines(caplog) == []


def test_a_short_block_off_a_terminal_stays_silent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=PROGRESS_LOGGER)
    pipe = Console(file=io.StringIO(), force_terminal=False)

    with progress("statements", 1, out=pipe) as advance:
        advance()

    assert QUIET_INTERVAL_S <= 10
    assert _lines(caplog) == []


def test_report_off_a_terminal_logs_progress_while_writing(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    _store(url, (_r7_5(), "2021-01-01"), (_r8_4(), "2024-08-14"))
    monkeypatch.setenv("PARTNER_SYNC_STORE__URL", url)
    caplog.set_level(logging.INFO, logger=PROGRESS_LOGGER)

    summary = run_report(load_settings(), member=None, out_dir=tmp_path / "out", fmt="both",
                         as_of="2024-08-14", progress_every_s=0.0001)

    assert len(summary["statements"]) == 2
    lines = _lines(caplog)
    assert lines, "no progress line while the statements were written"
    assert all(line.startswith("statements: running for ") and line.endswith(" of 2 done")
               for line in lines)
