"""Connecting a member portal: the invite, the install redirect and the OAuth callback.

``complete_install`` does everything or nothing: the state is checked, the code exchanged, the
token's portal and scopes read, and only then is the portal stored (tokens sealed) and its first
job (``init`` + a first sync, both ways) queued. Every refusal is a ``ConnectError`` whose message
says what went wrong and never carries a token or secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from config.contract import CrmContract
from config.settings import PortalSettings
from sync.portals.invite import InvalidState, authorize_url, install_link, read_state
from sync.portals.oauth_client import OAuthClient, OAuthRefused, OAuthUnavailable
from sync.portals.repo import PortalRepo, PortalRow
from sync.portals.vault import TokenVault
from sync.store import MirrorRecord, Store

__all__ = ["ConnectError", "complete_install", "find_member", "install_redirect", "invite"]

CONNECT_JOB = "connect"


class ConnectError(ValueError):
    """An install that cannot complete; ``http_status`` is what the callback answers."""

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.http_status = http_status


def find_member(store: Store, contract: CrmContract, code: str) -> str | None:
    """The member's code as the program spells it, or None when no member has it.

    Members the program has written its capacity on are looked at first (a few rows); only
    when none matches is every mirrored company read.
    """
    wanted = code.strip().upper()
    known = PortalRepo(store).companies_with_output(contract.capacity_limit)
    for records in (store.get_records("companies", known).values(),
                    store.iter_records("companies")):
        found = _match(records, contract, wanted)
        if found is not None:
            return found
    return None


def _match(records: Iterable[MirrorRecord], contract: CrmContract, wanted: str) -> str | None:
    for rec in records:
        props = rec.properties
        found = (props.get(contract.code) or "").strip()
        if found and found.upper() == wanted and props.get(contract.program_type):
            return found
    return None


def invite(settings: PortalSettings, store: Store, contract: CrmContract, code: str,
           now: datetime) -> str:
    """The install link for member ``code``; ``ConnectError`` for an unknown member."""
    member = find_member(store, contract, code)
    if member is None:
        raise ConnectError(f"no program member has partner code {code!r} (run a sync first?)")
    try:
        return install_link(settings, member, now)
    except InvalidState as exc:
        raise ConnectError(str(exc)) from None


def install_redirect(settings: PortalSettings, state: str, now: datetime) -> str:
    """Where ``GET /oauth/install`` sends the member: HubSpot's authorize page."""
    try:
        read_state(settings, state, now)
    except InvalidState as exc:
        raise ConnectError(str(exc)) from None
    return authorize_url(settings, state)


def complete_install(settings: PortalSettings, store: Store, contract: CrmContract,
                     oauth: OAuthClient, vault: TokenVault, *, state: str, code: str,
                     now: datetime) -> PortalRow:
    """The callback's work (see module); returns the stored portal."""
    try:
        member_code = read_state(settings, state, now)
    except InvalidState as exc:
        raise ConnectError(str(exc)) from None
    member = find_member(store, contract, member_code)
    if member is None:
        raise ConnectError(f"partner code {member_code!r} is no longer a program member")
    try:
        grant = oauth.exchange_code(code)
        info = oauth.token_info(grant.access_token)
    except OAuthRefused as exc:
        raise ConnectError(f"HubSpot refused the install: {exc}") from None
    except OAuthUnavailable as exc:
        raise ConnectError(f"HubSpot's token endpoint is unavailable ({exc}); "
                           "open the install link again", 502) from None
    missing = sorted(set(settings.scopes) - set(info.scopes))
    if missing:
        raise ConnectError("the portal did not grant the required scopes: " + ", ".join(missing))
    repo = PortalRepo(store)
    other = repo.get(info.hub_id)
    if other is not None and other.member_code.upper() != member.upper():
        raise ConnectError(f"portal {info.hub_id} is already connected for another member", 409)
    repo.save_connection(info.hub_id, member, info.scopes, vault.seal(grant.refresh_token),
                         vault.seal(grant.access_token),
                         now + timedelta(seconds=grant.expires_in_s))
    repo.enqueue([info.hub_id], CONNECT_JOB)
    row = repo.get(info.hub_id)
    assert row is not None
    return row
