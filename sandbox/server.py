"""Running the sandbox: in a background thread (tests), as a subprocess, or in the foreground (CLI).

``serve_in_thread`` and ``serve_subprocess`` return once the server answers; both stop cleanly
with ``.stop()`` or as context managers. Every server binds a loopback port.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from rich.console import Console

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.dataset import Dataset
from sandbox.generator import generate
from sandbox.portals import PortalsConfig, portals_app
from sandbox.state import SandboxState

__all__ = ["RunningSandbox", "RunningSubprocess", "load_profile", "run", "serve_in_thread",
           "serve_subprocess"]

_HEALTH_PATH = "/_sandbox/health"


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Stoppable:
    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> _Stoppable:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class RunningSandbox(_Stoppable):
    """A sandbox served by uvicorn in a daemon thread: ``url``, ``state``, ``config``."""

    def __init__(self, config: SandboxConfig, state: SandboxState, timeout_s: float,
                 app: Any = None) -> None:
        self.config = config
        self.state = state
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._sock = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.app = app if app is not None else create_app(config, state)
        uv_config = uvicorn.Config(self.app, log_config=None,
                                   log_level="warning", lifespan="on", ws="none",
                                   timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="sandbox-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)

    def __enter__(self) -> RunningSandbox:
        return self

    def drain_webhooks(self, timeout_s: float = 10.0) -> None:
        """Block until every queued webhook delivery has been sent (or given up)."""
        dispatcher = getattr(self.app.state, "webhooks", None)
        if dispatcher is not None:
            dispatcher.drain_blocking(timeout_s)

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)
        self._sock.close()


def serve_in_thread(config: SandboxConfig | None = None, state: SandboxState | None = None,
                    timeout_s: float = 10.0) -> RunningSandbox:
    """Serve ``state`` (a fresh one by default) on a free loopback port until ``.stop()``."""
    return RunningSandbox(config or SandboxConfig(), state or SandboxState(), timeout_s)


class RunningSubprocess(_Stoppable):
    """``partner-sync sandbox`` running as a child process: ``url``, ``process``."""

    def __init__(self, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url

    def __enter__(self) -> RunningSubprocess:
        return self

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def serve_subprocess(port: int | None = None, *, profile: str = "empty", seed: int = 0,
                     token: str = "sandbox-token", extra_args: Sequence[str] = (),
                     timeout_s: float = 120.0) -> RunningSubprocess:
    """Start ``partner-sync sandbox`` on ``port`` (a free one by default); wait until it answers.

    Large profiles take a while to load: ``timeout_s`` bounds the wait.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "cli.main", "sandbox", "--port", str(port),
               "--profile", profile, "--seed", str(seed), "--token", token, *extra_args]
    process = subprocess.Popen(command)
    running = RunningSubprocess(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with code {process.returncode}")
        try:
            if httpx.get(running.url + _HEALTH_PATH, timeout=1.0).status_code == 200:
                return running
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            running.stop()
            raise RuntimeError("the sandbox subprocess did not answer in time")
        time.sleep(0.1)


def load_profile(profile: str, seed: int) -> Dataset:
    """Seed data of a generator profile (S, M, L); ``empty`` is no data at all."""
    if profile.lower() == "empty":
        return Dataset()
    return generate(profile.upper(), seed)


def run(host: str, port: int, config: SandboxConfig, profile: str = "empty",
        seed: int = 0, portals: PortalsConfig | None = None) -> None:
    """Load ``profile`` and serve in the foreground until interrupted (the CLI's entry point)."""
    state = SandboxState(portal_id=config.portal_id)
    console = Console(stderr=True)  # a spinner on a terminal, plain lines otherwise
    started = time.perf_counter()
    with console.status(f"generating and loading profile {profile} (seed {seed})..."):
        state.bulk_load(load_profile(profile, seed))
    console.print(f"sandbox: profile {profile} (seed {seed}) loaded in "
                  f"{time.perf_counter() - started:.1f} s", highlight=False)
    app: Any = create_app(config, state)
    if portals is not None and portals.count > 0:
        app = portals_app(config, state, portals)
        console.print(f"sandbox: {portals.count} member portals, hub ids "
                      f"{min(app.members)}..{max(app.members)}", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on")
