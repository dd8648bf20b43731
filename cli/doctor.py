"""``partner-sync doctor``: is this installation ready to run, and if not, how to fix it.

``run_doctor(settings)`` checks the program terms, the webhook and admin settings, the state
store (reachable, migrated) and the portal (token, scopes, contract properties, rate-limit
headroom; see ``cli.doctor_portal``) and returns a ``DoctorReport``: each check ``ok``,
``warn`` or ``fail`` with a fix line. It never writes to HubSpot and never creates a store.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.markup import escape
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from cli.doctor_checks import Check, DoctorReport
from cli.doctor_member_portals import member_portal_checks
from cli.doctor_portal import portal_checks
from cli.output import ExitCode
from cli.startup import store_folder_problem
from config.settings import Settings
from config.terms import TermsError

__all__ = ["render_text", "run_doctor", "store_checks", "terms_check", "webhook_checks"]

FIX_STORE = (
    "check PARTNER_SYNC_STORE__URL (sqlite:///path.db or postgresql+psycopg://user@host/db) "
    "and that the database server is up"
)
FIX_MIGRATE = "run `partner-sync init`: it brings the store schema to the newest revision"


def terms_check(settings: Settings) -> Check:
    """The program terms load (defaults, or the file named by PARTNER_SYNC_TERMS_FILE)."""
    try:
        settings.terms()
    except (TermsError, OSError, ValueError) as exc:
        return Check("program terms", "fail", str(exc),
                     "fix the named term in PARTNER_SYNC_TERMS_FILE (docs/configuration.md)",
                     ExitCode.USAGE)
    source = settings.terms_file or "built-in config/program_terms.toml"
    return Check("program terms", "ok", f"loaded from {source}")


def webhook_checks(settings: Settings) -> list[Check]:
    """What ``serve`` needs: a client secret, an https public URL, an admin token."""
    hooks = settings.webhooks
    checks: list[Check] = []
    if hooks.client_secret is None:
        checks.append(Check(
            "webhook secret", "warn", "no client secret: serve cannot verify webhook signatures",
            "set PARTNER_SYNC_WEBHOOKS__CLIENT_SECRET to the app's client secret (the app's "
            "Auth tab); needed only with `partner-sync serve`"))
    if hooks.public_url is None:
        checks.append(Check(
            "webhook URL", "warn", "no public URL: v3 signatures cover the URL HubSpot posts to",
            "set PARTNER_SYNC_WEBHOOKS__PUBLIC_URL to the exact https URL of the webhook "
            "subscription (e.g. https://sync.example.com/webhooks/hubspot)"))
    elif not hooks.public_url.startswith("https://") and not is_loopback_url(hooks.public_url):
        checks.append(Check(
            "webhook URL", "fail", f"public URL {hooks.public_url} is not https",
            "HubSpot delivers webhooks to https URLs only: put TLS in front of serve and set "
            "PARTNER_SYNC_WEBHOOKS__PUBLIC_URL to the https address", ExitCode.USAGE))
    if settings.admin.token is None:
        checks.append(Check(
            "admin token", "warn", "no admin token: the admin API refuses every call",
            "set PARTNER_SYNC_ADMIN__TOKEN to a long random value to use /admin and "
            "`partner-sync resync --remote`"))
    if not checks:
        scheme = "https" if (hooks.public_url or "").startswith("https://") else "loopback http"
        checks.append(Check("webhooks", "ok", f"secret, {scheme} public URL and admin token set"))
    return checks


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback_url(url: str) -> bool:
    """An http URL on this machine: what the sandbox delivers webhooks to (HubSpot itself
    posts to https only, so anything else must be https)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "http" and (host in LOOPBACK_HOSTS or host.startswith("127."))


def _head_revision() -> str | None:
    scripts = ScriptDirectory(str(resources.files("sync") / "migrations"))
    return scripts.get_current_head()


def store_checks(settings: Settings) -> list[Check]:
    """The store answers and its schema is at the newest revision. Creates nothing: a SQLite
    file that does not exist yet is reported, not made."""
    try:
        url = make_url(settings.store.url.get_secret_value())
    except ArgumentError as exc:
        return [Check("store", "fail", f"PARTNER_SYNC_STORE__URL does not parse: {exc}",
                      FIX_STORE, ExitCode.USAGE)]
    if (problem := store_folder_problem(settings)) is not None:
        return [Check("store", "fail", problem,
                      "create the folder, or point PARTNER_SYNC_STORE__URL at a file in an "
                      "existing folder", ExitCode.USAGE)]
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not Path(
        database
    ).exists():
        return [Check("store", "warn", f"SQLite file {database} does not exist yet",
                      FIX_MIGRATE)]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        detail = str(exc.__cause__ or exc).splitlines()[0]
        return [Check("store", "fail", f"cannot reach the store: {detail}", FIX_STORE,
                      ExitCode.UNREACHABLE)]
    finally:
        engine.dispose()
    head = _head_revision()
    shown = url.render_as_string(hide_password=True)
    if current != head:
        return [Check("store", "fail",
                      f"{shown} is at revision {current or 'none'}, newest is {head}",
                      FIX_MIGRATE, ExitCode.USAGE)]
    return [Check("store", "ok", f"{shown} reachable, schema at {head}")]


def run_doctor(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    webhooks: bool = True,
) -> DoctorReport:
    """Every check, in the order an operator fixes things. ``transport`` is the test seam for
    HubSpot; ``webhooks=False`` skips the serve-only checks."""
    report = DoctorReport([terms_check(settings)])
    if webhooks:
        report.checks.extend(webhook_checks(settings))
    store = store_checks(settings)
    report.checks.extend(store)
    report.checks.extend(portal_checks(settings, transport=transport))
    report.checks.extend(member_portal_checks(settings, all(c.status != "fail" for c in store)))
    return report


_MARK = {"ok": "[green]ok  [/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}


def render_text(report: DoctorReport) -> list[str]:
    """Rich-markup lines: one per check, a fix line under each that is not ok."""
    lines: list[str] = []
    for check in report.checks:
        lines.append(f"{_MARK[check.status]} {escape(check.name)}: {escape(check.detail)}")
        if check.fix and check.status != "ok":
            lines.append(f"     fix: {escape(check.fix)}")
    failed, warned = len(report.failed), len(report.warned)
    lines.append(f"{len(report.checks)} checks: {failed} failed, {warned} warnings")
    return lines
