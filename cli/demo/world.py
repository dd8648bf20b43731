"""The demo's world: a temporary directory, the sandbox, settings built in code, the engine and
the serve app, started in order and stopped in reverse (``DemoWorld`` is a context manager).

What a reader can rely on:

- nothing of the environment leaks in: ``DemoSettings`` reads no ``PARTNER_SYNC_*`` variable
  and no config file, so the demo behaves the same on every machine;
- the engine runs on a ``ShiftedClock`` whose date is the generator's anchor date (the data is
  laid out around it) while the sandbox, the webhook signatures and the serve process keep the
  wall clock (signatures are checked against it); ``move_to(day)`` moves the engine's date;
- ``close()`` stops the serve app (its worker and scheduler), the runtime, the sandbox, and
  removes the temporary directory, whatever failed before; it is idempotent.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.fernet import Fernet
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from cli.runtime import Runtime, build_runtime
from cli.serve import ServerThread, build_parts
from config.settings import Settings
from sandbox.config import RateLimitConfig, SandboxConfig, WebhookConfig
from sandbox.generator import DEFAULT_TODAY, DIRECT_SALES_OWNER_IDS, generate
from sandbox.oauth import OAuthConfig
from sandbox.portals import PortalsConfig, serve_portals_in_thread
from sandbox.server import RunningSandbox, free_port
from sandbox.state import SandboxState
from sync.clock import Clock, SystemClock

__all__ = ["ANCHOR", "DemoSettings", "DemoWorld", "ShiftedClock"]

ANCHOR = DEFAULT_TODAY  # the generator's "today": the demo's as_of
RATE_LIMIT_PER_10S = 190
WEBHOOK_PATH = "/webhooks/hubspot"
SANDBOX_TOKEN = "sandbox-token"
MEMBER_PORTALS = 2


class ShiftedClock:
    """The wall clock moved by whole days so that ``today()`` starts at a chosen date.

    Time still flows (run durations and latencies are real); only the calendar is shifted.
    """

    def __init__(self, today: date, wall: Clock | None = None) -> None:
        self._wall = wall or SystemClock()
        self._shift = timedelta(0)
        self.move_to(today)

    def now(self) -> datetime:
        return self._wall.now() + self._shift

    def today(self) -> date:
        return self.now().date()

    def move_to(self, day: date) -> None:
        """From now on ``today()`` is ``day`` (the time of day is the wall clock's)."""
        wall = self._wall.now()
        self._shift = datetime.combine(day, wall.time(), UTC) - wall


class DemoSettings(Settings):
    """``Settings`` from the constructor's arguments only (no environment, no file)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class DemoWorld:
    """Everything the demo runs on (see module). Use as a context manager."""

    def __init__(self, *, seed: int, keep_store: Path | None = None) -> None:
        self.seed = seed
        self.clock = ShiftedClock(ANCHOR)
        self.webhook_secret = secrets.token_urlsafe(24)
        self.serve_port = free_port()
        self.serve_url = f"http://127.0.0.1:{self.serve_port}"
        self._stack = ExitStack()
        self.tmp = Path(tempfile.mkdtemp(prefix="partner-sync-demo-"))
        self._stack.callback(shutil.rmtree, self.tmp, True)
        self.store_path = keep_store or self.tmp / "partner-sync.db"
        self.sandbox: RunningSandbox | None = None
        self.runtime: Runtime | None = None
        self.server: ServerThread | None = None

    def __enter__(self) -> DemoWorld:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop everything started, newest first; remove the temporary directory."""
        self._stack.close()

    # -- the steps ------------------------------------------------------------------------

    def start_sandbox(self) -> RunningSandbox:
        """Profile S in a thread, rate limits at 190/10 s, webhooks signed and aimed at serve."""
        state = SandboxState()
        state.bulk_load(generate("S", self.seed))
        config = SandboxConfig(
            token=SANDBOX_TOKEN,
            rate_limits=RateLimitConfig(enabled=True, per_10s=RATE_LIMIT_PER_10S),
            webhooks=WebhookConfig(url=self.serve_url + WEBHOOK_PATH,
                                   client_secret=self.webhook_secret, batch_window_s=0.02),
        )
        portals = PortalsConfig(count=MEMBER_PORTALS, seed=self.seed, oauth=OAuthConfig(
            client_secret=self.webhook_secret))  # one public app: its secret signs webhooks
        sandbox: RunningSandbox = serve_portals_in_thread(config, state, portals)
        self._stack.callback(sandbox.stop)
        self.sandbox = sandbox
        return sandbox

    def settings(self) -> Settings:
        """The run's settings (see module); the terms override names the direct-sales team."""
        assert self.sandbox is not None, "start the sandbox first"
        terms = self.tmp / "terms.toml"
        owners = ", ".join(f'"{owner}"' for owner in DIRECT_SALES_OWNER_IDS)
        terms.write_text(f"[deals]\ndirect_sales_owner_ids = [{owners}]\n", encoding="utf-8")
        values: dict[str, Any] = {
            "hubspot": {"access_token": SecretStr(SANDBOX_TOKEN), "base_url": self.sandbox.url,
                        "rate_limit_per_10s": RATE_LIMIT_PER_10S},
            "store": {"url": f"sqlite:///{self.store_path}"},
            "webhooks": {"client_secret": SecretStr(self.webhook_secret),
                         "public_url": self.serve_url,
                         "app_id": str(self.sandbox.config.webhooks.app_id)},
            "scheduler": {"enabled": True},
            "terms_file": terms,
            "log_level": "WARNING",
            "portals": {"client_id": OAuthConfig().client_id,
                        "client_secret": SecretStr(self.webhook_secret),
                        "redirect_url": self.serve_url + "/oauth/callback",
                        "install_url": self.serve_url + "/oauth/install",
                        "authorize_url": self.sandbox.url + "/oauth/authorize",
                        "token_key": SecretStr(Fernet.generate_key().decode()),
                        "program_portal_id": self.sandbox.config.portal_id},
        }
        return DemoSettings(**values)

    def build_runtime(self) -> Runtime:
        runtime = build_runtime(self.settings(), clock=self.clock)
        self._stack.callback(runtime.close)
        self.runtime = runtime
        return runtime

    def start_serve(self) -> ServerThread:
        """The serve app (receiver, inbox worker, scheduler) on a thread, on the port the
        sandbox's webhooks already point at."""
        assert self.runtime is not None, "build the runtime first"
        server = ServerThread(build_parts(self.runtime, clock=SystemClock()),
                              port=self.serve_port)
        self._stack.callback(server.stop)  # first: a start that fails half-way is stopped too
        server.__enter__()
        self.server = server
        return server


def noon(day: date) -> str:
    """``day`` at 12:00 UTC as HubSpot writes datetimes (``2026-11-01T12:00:00.000Z``)."""
    return datetime.combine(day, time(12), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
