"""Runtime settings (pydantic-settings): environment ``PARTNER_SYNC_*`` and an optional TOML file.

Nested settings use ``__``: ``PARTNER_SYNC_HUBSPOT__ACCESS_TOKEN``, ``PARTNER_SYNC_STORE__URL``.
The TOML file is named by ``PARTNER_SYNC_CONFIG_FILE`` (or passed to ``load_settings``); its
tables mirror the nesting (``[hubspot] access_token = "..."``). Environment beats file.
Unknown keys are rejected; errors name the setting.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import os
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from config.contract import CrmContract, contract_for_prefix
from config.terms import ProgramTerms, load_terms

__all__ = [
    "AdminSettings",
    "ConsoleSettings",
    "HubSpotSettings",
    "InboxSettings",
    "PortalSettings",
    "SchedulerSettings",
    "SecretUrl",
    "Settings",
    "SettingsError",
    "StoreSettings",
    "SyncSettings",
    "WebhookSettings",
    "load_settings",
]

ENV_PREFIX = "PARTNER_SYNC_"
CONFIG_FILE_ENV = "PARTNER_SYNC_CONFIG_FILE"
DEFAULT_BASE_URL = "https://api.hubapi.com"
# The TOML file of the current load_settings() call (the environment variable is the default);
# a context variable, so loading settings never changes the process environment.
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("partner_sync_config_file", default=None)


class SettingsError(ValueError):
    """A setting is missing or invalid. The message names it as an environment variable."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSpotSettings(_Section):
    access_token: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    rate_limit_per_10s: int = Field(190, ge=1, le=1000)
    search_per_s: int = Field(5, ge=1, le=50)
    # HubSpot's usage guide: the per-10-second limit "excludes the CRM Search API", which has
    # its own per-second limit. True charges searches to both (never a 429, a slower full read).
    search_in_window: bool = False
    daily_limit: int = Field(625_000, ge=1)
    timeout_s: float = Field(30.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=20)
    max_retry_wait_s: float = Field(120.0, ge=0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def mask_url_password(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part shown as ``***``."""
    return _URL_PASSWORD.sub(r"\1***@", url)


class SecretUrl(SecretStr):
    """A connection URL whose password is secret: ``str()`` and ``repr()`` show the URL with
    the password as ``***``; ``get_secret_value()`` gives the whole URL."""

    def _display(self) -> str:
        return mask_url_password(self.get_secret_value())

    @property
    def password(self) -> str | None:
        """The URL's password, if it has one."""
        try:
            return urlsplit(self.get_secret_value()).password
        except ValueError:  # not a URL urlsplit can read: nothing to name as the password
            return None
STORE_URL_ENV = "PARTNER_SYNC_STORE__URL"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_STORE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class StoreSettings(_Section):
    url: SecretUrl = SecretUrl("sqlite:///partner-sync.db")

    @field_validator("url", mode="before")
    @classmethod
    def _store_url(cls, v: Any) -> Any:
        if isinstance(v, SecretStr):
            v = v.get_secret_value()
        if not isinstance(v, str):
            return v  # pydantic's own type error names the setting
        text = v.strip()
        match = _URL_SCHEME.match(text)
        if match is None:
            # A DSN without its scheme may carry a password: echo only a value without "@".
            safe = "@" not in text and bool(text)
            raise ValueError(
                f"{repr(text) if safe else 'the value'} is not a database URL. For a SQLite "
                f"file write sqlite:///{text if safe else 'partner-sync.db'} "
                "(relative to the working folder; sqlite:////abs/path.db for an absolute path), "
                "for PostgreSQL postgresql+psycopg://user:password@host/db"
            )
        if match.group(1).lower() not in _STORE_SCHEMES:
            raise ValueError(f"unsupported database {match.group(1)!r}: use sqlite:///FILE or "
                             "postgresql+psycopg://user:password@host/db")
        return text

    def sqlite_path(self) -> Path | None:
        """The SQLite file the URL names (relative to the working folder), or None for
        PostgreSQL and for in-memory SQLite."""
        url = self.url.get_secret_value()
        if not url.lower().startswith("sqlite://"):
            return None
        path = url[len("sqlite://"):].removeprefix("/").split("?", 1)[0]
        return None if path in ("", ":memory:") else Path(path)


class WebhookSettings(_Section):
    client_secret: SecretStr | None = None
    public_url: str | None = None
    accept_v1: bool = False
    accept_v2: bool = False
    max_body_bytes: int = Field(1_048_576, ge=1024)
    max_timestamp_skew_s: int = Field(300, ge=1)
    app_id: str | None = None


class AdminSettings(_Section):
    token: SecretStr | None = None


class SchedulerSettings(_Section):
    enabled: bool = True
    incremental_interval_minutes: int = Field(5, ge=1)
    full_reconcile_hour_utc: int = Field(2, ge=0, le=23)
    reevaluate_minute_utc: int = Field(5, ge=0, le=59)
    inbox_interval_seconds: int = Field(2, ge=1)


class ConsoleSettings(_Section):
    """The admin console's session: lifetime, the cookie's Secure flag (set it behind HTTPS),
    and the program portal's id for links to HubSpot records when the store does not know it."""

    session_minutes: int = Field(480, ge=1, le=10_080)
    secure_cookie: bool = False
    portal_id: int | None = Field(None, ge=1)


class SyncSettings(_Section):
    property_prefix: str = "partner_"
    lookback_minutes: int = Field(10, ge=0)
    # Incremental runs list archived records (search never returns them) when the last sweep
    # is at least this old; 0 sweeps on every run.
    archived_sweep_minutes: int = Field(60, ge=0)
    search_page_size: int = Field(200, ge=1, le=200)
    list_page_size: int = Field(100, ge=1, le=100)
    batch_size: int = Field(100, ge=1, le=100)
    # The sync lock's lease: how long a crashed holder blocks other runs, at most; a live run
    # renews it every third of it.
    lock_lease_s: float = Field(60.0, ge=1.0, le=3600.0)

    @field_validator("property_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        contract_for_prefix(v)
        return v.lower()


class InboxSettings(_Section):
    """The inbox worker: claims, their renewal, retries, backoff and dead-lettering."""

    batch_size: int = Field(500, ge=1, le=5000)
    claim_lease_s: float = Field(30.0, ge=1.0, le=3600.0)
    claim_renew_s: float = Field(10.0, gt=0)
    retry_base_s: float = Field(2.0, ge=0)
    retry_max_s: float = Field(600.0, ge=0)
    max_failures: int = Field(8, ge=1, le=100)
    max_lost_claims: int = Field(3, ge=1, le=100)
    busy_delay_s: float = Field(1.0, ge=0)
    outage_base_s: float = Field(5.0, ge=0)
    outage_max_s: float = Field(300.0, ge=0)
    poll_s: float = Field(1.0, gt=0, le=60)

    @model_validator(mode="after")
    def _renew_within_lease(self) -> InboxSettings:
        if self.claim_renew_s >= self.claim_lease_s:
            raise ValueError("claim_renew_s must be shorter than claim_lease_s")
        return self


MEMBER_PORTAL_SCOPES = (
    "oauth",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
)


class PortalSettings(_Section):
    """Member portals: the program's public OAuth app and how its portals are kept in sync."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    scopes: tuple[str, ...] = MEMBER_PORTAL_SCOPES
    redirect_url: str | None = None  # public URL of GET /oauth/callback
    install_url: str | None = None  # public URL of GET /oauth/install (invite links)
    authorize_url: str = "https://app.hubspot.com/oauth/authorize"
    # Fernet key (32 url-safe base64 bytes) that encrypts stored OAuth tokens.
    token_key: SecretStr | None = None
    program_portal_id: int | None = None  # set: events of unknown portals are dropped
    invite_ttl_hours: int = Field(168, ge=1)
    create_companies: bool = True
    rate_limit_per_10s: int = Field(110, ge=1, le=1000)
    refresh_margin_s: int = Field(300, ge=0)
    job_max_attempts: int = Field(8, ge=1)
    job_backoff_s: float = Field(30.0, ge=0)
    job_lease_s: float = Field(300.0, gt=0)
    workers: int = Field(8, ge=1, le=64)  # portals worked on at once per process

    @field_validator("token_key")
    @classmethod
    def _fernet_key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            try:
                raw = base64.urlsafe_b64decode(v.get_secret_value().encode())
            except (ValueError, binascii.Error):
                raw = b""
            if len(raw) != 32:
                raise ValueError("must be a Fernet key: 32 bytes in url-safe base64")
        return v


class Settings(BaseSettings):
    """Everything the process is configured with. Load once at the entrypoint."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        toml_file=None,
    )

    hubspot: HubSpotSettings = HubSpotSettings()
    store: StoreSettings = StoreSettings()
    webhooks: WebhookSettings = WebhookSettings()
    admin: AdminSettings = AdminSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    sync: SyncSettings = SyncSettings()
    console: ConsoleSettings = ConsoleSettings()
    inbox: InboxSettings = InboxSettings()
    portals: PortalSettings = PortalSettings()
    terms_file: Path | None = None
    log_level: str = "INFO"
    log_format: str = Field("auto", pattern="^(auto|json|text)$")

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.strip().upper() not in _LOG_LEVELS:
            raise ValueError(f"unknown level {v!r}: use one of {', '.join(_LOG_LEVELS)}")
        return v.strip().upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _CONFIG_FILE.get() or os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def sandbox_mode(self) -> bool:
        """True when no HubSpot token is configured: only ``demo`` (its own sandbox) and
        ``sandbox`` run so; every other command refuses."""
        return self.hubspot.access_token is None

    def contract(self) -> CrmContract:
        return contract_for_prefix(self.sync.property_prefix)

    def terms(self) -> ProgramTerms:
        return load_terms(self.terms_file)


def _env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(p).upper() for p in loc)


# Variables with the prefix that are not settings but are read elsewhere.
# Variables of the test suite and CI that share the prefix but are no settings.
NOT_SETTINGS = frozenset({
    CONFIG_FILE_ENV, "PARTNER_SYNC_TEST_PG_DSN", "PARTNER_SYNC_REQUIRE_BROWSER",
})


def _names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _names(kind, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"


def setting_names() -> tuple[str, ...]:
    """Every setting's environment variable, e.g. ``PARTNER_SYNC_STORE__URL``."""
    return tuple(_names(Settings, ENV_PREFIX))


def closest_setting(name: str) -> str | None:
    """The setting a mistyped variable most likely meant (``PARTNER_SYNC_STORE_URL`` ->
    ``PARTNER_SYNC_STORE__URL``), or None when nothing is close."""
    # Compared without the prefix (which every name shares) and with "__" read as "_".
    known = {n.removeprefix(ENV_PREFIX).replace("__", "_"): n for n in setting_names()}
    flat = name.upper().removeprefix(ENV_PREFIX).replace("__", "_")
    if flat in known:
        return known[flat]
    match = difflib.get_close_matches(flat, list(known), n=1, cutoff=0.75)
    return known[match[0]] if match else None


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One message per ``PARTNER_SYNC_*`` variable that is no setting, naming the closest."""
    known = set(setting_names()) | NOT_SETTINGS
    problems = []
    for name in sorted(environ):
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in known:
            continue
        guess = closest_setting(name)
        problems.append(f"{name}: unknown setting; did you mean {guess}?" if guess
                        else f"{name}: unknown setting; see docs/configuration.md")
    return problems


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build ``Settings`` from the environment (and a TOML file); raise ``SettingsError``.

    The error names the setting as its environment variable, e.g.
    ``PARTNER_SYNC_HUBSPOT__BASE_URL: must start with http:// or https://``.
    """
    path = Path(config_file) if config_file is not None else None
    if path is not None and not path.is_file():
        raise SettingsError(f"{CONFIG_FILE_ENV}: no such file {path}")
    if path is None and (named := os.environ.get(CONFIG_FILE_ENV)) and not Path(named).is_file():
        raise SettingsError(f"{CONFIG_FILE_ENV}: no such file {named}")
    if unknown := unknown_variables(os.environ):
        raise SettingsError("; ".join(unknown))
    token = _CONFIG_FILE.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = _env_name(tuple(err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                guess = closest_setting(name)
                msg = "unknown setting" + (f"; did you mean {guess}?" if guess else "")
            problems.append(f"{name}: {msg}")
        raise SettingsError("; ".join(problems)) from exc
    except ValueError as exc:  # a TOML file that does not parse
        raise SettingsError(f"{CONFIG_FILE_ENV}: {exc}") from exc
    finally:
        _CONFIG_FILE.reset(token)
