"""`serve`'s logs: uvicorn's own lines come out in our JSON format through the same secret
masking, and APScheduler's per-job chatter only shows at DEBUG."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from cli.runtime import build_runtime
from cli.serve import ServerThread, build_parts
from cli.startup import end_logging
from config.settings import Settings
from sandbox.server import RunningSandbox
from sync.logs import configure_logging
from tests.cli.conftest import TOKEN

SECRET_TOKEN = "pat-na1-12345678-aaaa-bbbb-cccc-1234567890ab"


def _settings(portal: RunningSandbox, tmp_path: Path, level: str = "INFO") -> Settings:
    return Settings(
        hubspot={"access_token": TOKEN, "base_url": portal.url},
        store={"url": f"sqlite:///{tmp_path / 'serve.db'}"},
        admin={"token": "admin"}, scheduler={"enabled": False},
        log_format="json", log_level=level,
    )


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    yield out
    end_logging()


def test_uvicorn_lines_are_json_and_masked(
    portal: RunningSandbox, tmp_path: Path, stream: io.StringIO
) -> None:
    settings = _settings(portal, tmp_path)
    configure_logging(settings, stream=stream)
    runtime = build_runtime(settings)
    try:
        with ServerThread(build_parts(runtime, worker=False)):
            logging.getLogger("uvicorn.error").warning("leaked %s", SECRET_TOKEN)
    finally:
        runtime.close()

    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]  # all JSON
    uvicorn = [line for line in lines if line["logger"].startswith("uvicorn")]
    assert any("Application startup complete" in line["msg"] for line in uvicorn)
    assert any(line["msg"] == "leaked ***" for line in uvicorn)
    assert SECRET_TOKEN not in stream.getvalue()
    assert "\\u001b" not in stream.getvalue()  # no colour codes (uvicorn's color_message)


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_scheduler_job_lines_show_only_at_debug(
    portal: RunningSandbox, tmp_path: Path, stream: io.StringIO, level: str, shown: bool
) -> None:
    configure_logging(_settings(portal, tmp_path, level), stream=stream)

    for name in ("apscheduler.executors.default", "apscheduler.scheduler"):
        assert logging.getLogger(name).isEnabledFor(logging.INFO) is shown
