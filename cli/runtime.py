"""Wiring for entrypoints: Settings -> Gateway -> Store (migrated) -> SyncEngine.

``build_runtime(settings)`` is what the CLI, ``serve`` and the demo call. Without a token the
worker talks to a sandbox: the configured ``base_url`` when it is not HubSpot's, or the
``sandbox=(url, token)`` the caller started (the demo). With neither it raises ``SettingsError``
naming ``PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN`` and pointing at ``partner-sync demo``; a store
that cannot be opened raises ``StoreUnavailable`` (a ``SettingsError``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from config.settings import DEFAULT_BASE_URL, Settings, SettingsError
from sync.clock import Clock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.logs import redact, secret_values
from sync.store import Store

__all__ = ["SANDBOX_TOKEN", "Runtime", "StoreUnavailable", "build_runtime", "hubspot_target"]

SANDBOX_TOKEN = "sandbox-token"  # the sandbox's default bearer token (sandbox.config)
NO_TARGET = (
    "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN: not set. Run `partner-sync demo` to try the worker "
    "against the built-in sandbox, or set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN to a private-app "
    "token (and PARTNER_SYNC_HUBSPOT__BASE_URL for a sandbox)."
)


class StoreUnavailable(SettingsError):
    """The store named by ``PARTNER_SYNC_STORE__URL`` cannot be opened or migrated (exit 4)."""


@dataclass(slots=True)
class Runtime:
    """The built parts; ``close()`` releases the HTTP client and the store's connections."""

    settings: Settings
    gateway: Gateway
    store: Store
    engine: SyncEngine

    def close(self) -> None:
        self.gateway.close()
        self.store.close()


def hubspot_target(settings: Settings, sandbox: tuple[str, str] | None = None) -> Settings:
    """``settings`` pointed at the HubSpot (or sandbox) to use; see the module docstring."""
    if sandbox is not None:
        url, token = sandbox
        hubspot = settings.hubspot.model_copy(
            update={"base_url": url.rstrip("/"), "access_token": SecretStr(token)})
        return settings.model_copy(update={"hubspot": hubspot})
    if settings.hubspot.access_token is not None:
        return settings
    if settings.hubspot.base_url == DEFAULT_BASE_URL:
        raise SettingsError(NO_TARGET)
    return hubspot_target(settings, (settings.hubspot.base_url, SANDBOX_TOKEN))


def build_runtime(
    settings: Settings, *, sandbox: tuple[str, str] | None = None, clock: Clock | None = None
) -> Runtime:
    """Build and migrate everything a run needs. Raises ``SettingsError`` (see module)."""
    settings = hubspot_target(settings, sandbox)
    gateway = Gateway(settings.hubspot)
    secrets = secret_values(settings)
    store = Store.from_url(settings.store.url, secrets=secrets)
    try:
        store.migrate()
    except Exception as exc:
        gateway.close()
        store.close()
        raise StoreUnavailable(
            f"PARTNER_SYNC_STORE__URL: cannot open the store: {redact(str(exc), secrets)}"
        ) from exc
    engine = SyncEngine(settings, gateway=gateway, store=store, clock=clock)
    return Runtime(settings, gateway, store, engine)
