"""The member-portal code's view of the store's member-portal tables (``sync.store.portals``).

``PortalRepo(store)`` names the store's ``portal_*`` operations the way portal code reads them;
each call is its own short transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sync.store import Store
from sync.store.portals import CONNECTED, DISCONNECTED, PortalJob, PortalRow

__all__ = ["CONNECTED", "DISCONNECTED", "PortalJob", "PortalRepo", "PortalRow"]


class PortalRepo:
    """Member-portal data over ``store`` (see module)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- portals ------------------------------------------------------------------------------
    def save_connection(self, hub_id: int, member_code: str, scopes: tuple[str, ...],
                        refresh_token: str, access_token: str, expires_at: datetime) -> None:
        """Link ``hub_id`` to the member (a member has one portal: an older link is replaced)."""
        self._store.portal_save_connection(hub_id, member_code, scopes, refresh_token,
                                           access_token, expires_at)

    def get(self, hub_id: int) -> PortalRow | None:
        return self._store.portal(hub_id)

    def by_member(self, member_code: str) -> PortalRow | None:
        return self._store.portal_by_member(member_code)

    def all(self) -> list[PortalRow]:
        return self._store.portals()

    def hub_ids(self, status: str = CONNECTED) -> set[int]:
        return self._store.portal_hub_ids(status)

    def save_access(self, hub_id: int, access_token: str, expires_at: datetime) -> None:
        self._store.portal_save_access(hub_id, access_token, expires_at)

    def expire_access(self, hub_id: int) -> None:
        """Forget the access token (HubSpot said it expired): the next call refreshes."""
        self._store.portal_expire_access(hub_id)

    def mark_disconnected(self, hub_id: int, reason: str) -> None:
        self._store.portal_mark_disconnected(hub_id, reason)

    def record_sync(self, hub_id: int, calls: int, error: str | None) -> None:
        self._store.portal_record_sync(hub_id, calls, error)

    def companies_with_output(self, prop: str) -> list[str]:
        """Ids of program companies the program wrote ``prop`` on."""
        return self._store.portal_companies_with_output(prop)

    # -- links --------------------------------------------------------------------------------
    def links(self, hub_id: int) -> dict[str, tuple[str, str]]:
        """member company id -> (domain, program company id)."""
        return self._store.portal_company_links(hub_id)

    def save_link(self, hub_id: int, member_company_id: str, domain: str,
                  program_company_id: str) -> None:
        self._store.portal_save_link(hub_id, member_company_id, domain, program_company_id)

    # -- jobs ---------------------------------------------------------------------------------
    def enqueue(self, hub_ids: Iterable[int], kind: str) -> int:
        """Queue a ``kind`` job per portal unless one is already waiting. Returns new jobs."""
        return self._store.portal_jobs_enqueue(hub_ids, kind)

    def claim(self, worker_id: str, limit: int, lease_s: float) -> list[PortalJob]:
        """Lease up to ``limit`` due jobs (oldest first) to ``worker_id``."""
        return self._store.portal_jobs_claim(worker_id, limit, lease_s)

    def finish(self, job_id: int, worker_id: str) -> bool:
        """Done, if ``worker_id`` still holds the claim (fenced: a lost lease writes nothing)."""
        return self._store.portal_job_finish(job_id, worker_id)

    def fail(self, job_id: int, worker_id: str, error: str) -> bool:
        return self._store.portal_job_fail(job_id, worker_id, error)

    def retry(self, job_id: int, worker_id: str, error: str, at: datetime) -> bool:
        return self._store.portal_job_retry(job_id, worker_id, error, at)

    def job_counts(self) -> dict[str, int]:
        return self._store.portal_job_counts()
