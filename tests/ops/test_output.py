"""cli.output.activity: a live bar with a running count on a terminal, nothing off one."""

from __future__ import annotations

import io
import threading

from rich.console import Console

from cli.output import activity


def _console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=100), buffer


def test_on_a_terminal_the_bar_shows_the_growing_count() -> None:
    out, buffer = _console(terminal=True)
    calls = 0
    seen_large = threading.Event()

    def count() -> int:
        nonlocal calls
        calls += 7
        if calls >= 21:
            seen_large.set()
        return calls

    with activity("full sync", count, out=out, interval_s=0.01):
        assert seen_large.wait(5), "the count was never polled"

    text = buffer.getvalue()
    assert "full sync" in text
    assert "HubSpot calls" in text
    assert any(f"{n} HubSpot calls" in text for n in range(21, calls + 1))


def test_off_a_terminal_nothing_is_drawn_and_nothing_polled() -> None:
    out, buffer = _console(terminal=False)
    polled: list[int] = []

    def count() -> int:
        polled.append(1)
        return 1

    with activity("full sync", count, out=out, interval_s=0.001):
        threading.Event().wait(0.05)

    assert buffer.getvalue() == ""
    assert polled == []


def test_the_refresh_thread_ends_with_the_block_even_on_error() -> None:
    out, _ = _console(terminal=True)
    before = {t.name for t in threading.enumerate()}
    try:
        with activity("sync", lambda: 0, out=out, interval_s=0.01):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "cli-activity" not in {t.name for t in threading.enumerate()} - before
