"""Wiring for entrypoints: Settings -> Gateway -> Store (migrated) -> SyncEngine.

``build_runtime(settings)`` is what the CLI, ``serve`` and the demo call. It needs a HubSpot
token in the settings: there is no fallback token, the sandbox included (the demo puts the
sandbox's token into the settings it builds). Without one it raises ``SettingsError`` naming
``PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN``; a store that cannot be opened raises
``StoreUnavailable`` (a ``SettingsError``).
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import Settings, SettingsError
from sync.clock import Clock
from sync.engine import SyncEngine
from sync.gateway import Gateway
from sync.logs import redact, secret_values
from sync.store import Store

__all__ = ["NO_TARGET", "Runtime", "StoreUnavailable", "build_runtime"]

NO_TARGET = (
    "PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN: not set. Run `partner-sync demo` to try the worker "
    "against the built-in sandbox, or set PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN to a private-app "
    "token (or the sandbox's --token, with PARTNER_SYNC_HUBSPOT__BASE_URL at the sandbox)."
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


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """Build and migrate everything a run needs. Raises ``SettingsError`` (see module)."""
    if settings.hubspot.access_token is None:
        raise SettingsError(NO_TARGET)
    gateway = Gateway(settings.hubspot)
    secrets = secret_values(settings)
    store = Store.from_url(settings.store.url, secrets=secrets)
    try:
        store.migrate()
    except Exception as exc:
        gateway.close()
        store.close()
        detail = str(exc.__cause__ or exc).splitlines()[0]
        raise StoreUnavailable(
            f"PARTNER_SYNC_STORE__URL: cannot open the store: {redact(detail, secrets)}"
        ) from exc
    engine = SyncEngine(settings, gateway=gateway, store=store, clock=clock)
    return Runtime(settings, gateway, store, engine)
