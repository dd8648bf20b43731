"""Stored OAuth tokens are encrypted at rest with a Fernet key from settings."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from config.settings import PortalSettings

__all__ = ["TokenVault", "VaultError"]


class VaultError(ValueError):
    """No key is configured, or a stored token does not decrypt with it (key changed)."""


class TokenVault:
    """``seal``/``open`` tokens with ``PARTNER_SYNC_PORTALS__TOKEN_KEY``."""

    def __init__(self, settings: PortalSettings) -> None:
        if settings.token_key is None:
            raise VaultError("PARTNER_SYNC_PORTALS__TOKEN_KEY is not set: generate one with "
                             "`python -c 'from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())'`")
        self._fernet = Fernet(settings.token_key.get_secret_value().encode())

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise VaultError("a stored portal token does not decrypt with "
                             "PARTNER_SYNC_PORTALS__TOKEN_KEY (was the key changed?)") from exc
