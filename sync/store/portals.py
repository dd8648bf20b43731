"""The member-portal tables: connected portals, their jobs and request links.

Jobs are claimed like inbox rows: one ``UPDATE .. RETURNING`` whose subquery takes rows ``FOR
UPDATE SKIP LOCKED`` on PostgreSQL, so replicas never get the same job; a claim whose lease ran
out (its worker died) is claimable again; closing a job is fenced by its claim (a lost lease
writes nothing). Error texts are kept redacted, as the run log's are.
``sync.portals.repo.PortalRepo`` is the member-portal code's view of these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Update, and_, bindparam, delete, func, or_, select, update

from sync.store.base import OpsBase, insert_ignore, upsert
from sync.store.schema import member_portals, outputs, portal_jobs, portal_links

__all__ = ["CONNECTED", "DISCONNECTED", "PortalJob", "PortalOps", "PortalRow"]

CONNECTED = "connected"
DISCONNECTED = "disconnected"
PENDING, CLAIMED, DONE, FAILED = "pending", "claimed", "done", "failed"


@dataclass(frozen=True, slots=True)
class PortalRow:
    """One member portal; ``refresh_token``/``access_token`` are sealed (encrypted)."""

    hub_id: int
    member_code: str
    status: str
    scopes: tuple[str, ...]
    refresh_token: str
    access_token: str | None
    access_expires_at: datetime | None
    connected_at: datetime
    disconnected_at: datetime | None
    last_sync_at: datetime | None
    last_error: str | None
    calls_used: int


@dataclass(frozen=True, slots=True)
class PortalJob:
    job_id: int
    hub_id: int
    kind: str
    attempts: int


def _portal(row: Row[Any]) -> PortalRow:
    return PortalRow(int(row.hub_id), row.member_code, row.status,
                     tuple(s for s in row.scopes.split() if s), row.refresh_token,
                     row.access_token, row.access_expires_at, row.connected_at,
                     row.disconnected_at, row.last_sync_at, row.last_error, int(row.calls_used))


# Statements a portal job runs every time, built once per shape and reused: a reused statement
# object is neither rebuilt nor re-keyed for the compiled cache.
_PORTAL = select(member_portals).where(member_portals.c.hub_id == bindparam("p_hub_id"))
_PORTAL_SETS: dict[tuple[str, ...], Update] = {}
_JOB_CLOSES: dict[tuple[str, ...], Update] = {}


def _portal_set_statement(names: tuple[str, ...]) -> Update:
    """``UPDATE member_portals SET updated_at, <names> WHERE hub_id``; ``calls_used`` is added
    to, not set."""
    stmt = _PORTAL_SETS.get(names)
    if stmt is None:
        values: dict[str, Any] = {
            name: member_portals.c.calls_used + bindparam("p_calls_used", type_=
                                                          member_portals.c.calls_used.type)
            if name == "calls_used" else bindparam(f"p_{name}", type_=member_portals.c[name].type)
            for name in ("updated_at", *names)}
        stmt = _PORTAL_SETS[names] = update(member_portals).where(
            member_portals.c.hub_id == bindparam("p_hub_id")).values(values)
    return stmt


def _job_close_statement(names: tuple[str, ...]) -> Update:
    stmt = _JOB_CLOSES.get(names)
    if stmt is None:
        stmt = _JOB_CLOSES[names] = (
            update(portal_jobs)
            .where(portal_jobs.c.job_id == bindparam("p_job_id"),
                   portal_jobs.c.status == CLAIMED,
                   portal_jobs.c.claimed_by == bindparam("p_worker_id"))
            .values({"claimed_by": None, "lease_until": None,
                     **{n: bindparam(f"p_{n}", type_=portal_jobs.c[n].type) for n in names}}))
    return stmt


class PortalOps(OpsBase):
    """Member portals, their links and jobs (see module)."""

    # -- portals ------------------------------------------------------------------------------
    def portal_save_connection(self, hub_id: int, member_code: str, scopes: tuple[str, ...],
                        refresh_token: str, access_token: str, expires_at: datetime) -> None:
        """Link ``hub_id`` to the member (a member has one portal: an older link is replaced)."""
        now = self._now()
        row = {"hub_id": hub_id, "member_code": member_code, "status": CONNECTED,
               "scopes": " ".join(scopes), "refresh_token": refresh_token,
               "access_token": access_token, "access_expires_at": expires_at,
               "connected_at": now, "disconnected_at": None, "last_error": None,
               "calls_used": 0, "updated_at": now, "last_sync_at": None}
        columns = [c for c in row if c not in ("hub_id", "calls_used", "last_sync_at")]
        with self._write() as conn:
            conn.execute(delete(member_portals).where(
                member_portals.c.member_code == member_code, member_portals.c.hub_id != hub_id))
            conn.execute(upsert(self._dialect, member_portals, columns), [row])

    def portal(self, hub_id: int) -> PortalRow | None:
        with self._read() as conn:
            row = conn.execute(_PORTAL, {"p_hub_id": hub_id}).first()
        return _portal(row) if row is not None else None

    def portal_by_member(self, member_code: str) -> PortalRow | None:
        with self._read() as conn:
            row = conn.execute(select(member_portals).where(
                func.upper(member_portals.c.member_code) == member_code.upper())).first()
        return _portal(row) if row is not None else None

    def portals(self) -> list[PortalRow]:
        with self._read() as conn:
            rows = conn.execute(select(member_portals).order_by(member_portals.c.member_code))
            return [_portal(r) for r in rows]

    def portal_hub_ids(self, status: str = CONNECTED) -> set[int]:
        with self._read() as conn:
            query = select(member_portals.c.hub_id).where(member_portals.c.status == status)
            return {int(h) for h in conn.execute(query).scalars()}

    def _portal_set(self, hub_id: int, **values: Any) -> None:
        """Set ``values`` on the portal's row (``calls_used``: added to the count)."""
        stmt = _portal_set_statement(tuple(values))
        params = {f"p_{k}": v for k, v in values.items()}
        with self._write() as conn:
            conn.execute(stmt, {"p_hub_id": hub_id, "p_updated_at": self._now(), **params})

    def portal_save_access(self, hub_id: int, access_token: str, expires_at: datetime) -> None:
        self._portal_set(hub_id, access_token=access_token, access_expires_at=expires_at)

    def portal_expire_access(self, hub_id: int) -> None:
        """Forget the access token (HubSpot said it expired): the next call refreshes."""
        self._portal_set(hub_id, access_token=None, access_expires_at=None)

    def portal_mark_disconnected(self, hub_id: int, reason: str) -> None:
        self._portal_set(hub_id, status=DISCONNECTED, disconnected_at=self._now(),
                         access_token=None, access_expires_at=None,
                         last_error=self._redact(reason))

    def portal_record_sync(self, hub_id: int, calls: int, error: str | None) -> None:
        values: dict[str, Any] = {"calls_used": calls,
                                  "last_error": None if error is None else self._redact(error)}
        if error is None:
            values["last_sync_at"] = self._now()
        self._portal_set(hub_id, **values)

    def portal_companies_with_output(self, prop: str) -> list[str]:
        """Ids of program companies the program wrote ``prop`` on (members carry their
        capacity): a short list, found without reading the mirror."""
        query = select(outputs.c.object_id).where(outputs.c.object_type == "companies",
                                                  outputs.c.property == prop)
        with self._read() as conn:
            return [str(i) for i in conn.execute(query).scalars()]

    # -- links --------------------------------------------------------------------------------
    def portal_company_links(self, hub_id: int) -> dict[str, tuple[str, str]]:
        """member company id -> (domain, program company id)."""
        with self._read() as conn:
            rows = conn.execute(select(portal_links).where(portal_links.c.hub_id == hub_id))
            return {r.member_company_id: (r.domain, r.program_company_id) for r in rows}

    def portal_save_link(self, hub_id: int, member_company_id: str, domain: str,
                  program_company_id: str) -> None:
        row = {"hub_id": hub_id, "member_company_id": member_company_id, "domain": domain,
               "program_company_id": program_company_id, "updated_at": self._now()}
        stmt = upsert(self._dialect, portal_links, ["domain", "program_company_id", "updated_at"])
        with self._write() as conn:
            conn.execute(stmt, [row])

    # -- jobs ---------------------------------------------------------------------------------
    def portal_jobs_enqueue(self, hub_ids: Iterable[int], kind: str) -> int:
        """Queue a ``kind`` job per portal unless one is already waiting. Returns new jobs."""
        now = self._now()
        wanted = sorted(set(hub_ids))
        if not wanted:
            return 0
        waiting = select(portal_jobs.c.hub_id).where(
            portal_jobs.c.kind == kind, portal_jobs.c.status == PENDING,
            portal_jobs.c.hub_id.in_(wanted))
        with self._write() as conn:
            have = {int(h) for h in conn.execute(waiting).scalars()}
            rows = [{"hub_id": h, "kind": kind, "status": PENDING, "attempts": 0,
                     "next_attempt_at": now, "created_at": now} for h in wanted if h not in have]
            if rows:
                conn.execute(insert_ignore(self._dialect, portal_jobs, ["job_id"]), rows)
        return len(rows)

    def portal_jobs_claim(self, worker_id: str, limit: int, lease_s: float) -> list[PortalJob]:
        """Lease up to ``limit`` due jobs (oldest first) to ``worker_id``."""
        now = self._now()
        due = or_(and_(portal_jobs.c.status == PENDING, portal_jobs.c.next_attempt_at <= now),
                  and_(portal_jobs.c.status == CLAIMED, portal_jobs.c.lease_until < now))
        pick = select(portal_jobs.c.job_id).where(due).order_by(portal_jobs.c.job_id).limit(limit)
        if self._dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        stmt = (update(portal_jobs).where(portal_jobs.c.job_id.in_(pick.scalar_subquery()))
                .values(status=CLAIMED, claimed_by=worker_id,
                        lease_until=now + timedelta(seconds=lease_s),
                        attempts=portal_jobs.c.attempts + 1)
                .returning(portal_jobs.c.job_id, portal_jobs.c.hub_id, portal_jobs.c.kind,
                           portal_jobs.c.attempts))
        with self._write() as conn:
            jobs = [PortalJob(int(r.job_id), int(r.hub_id), r.kind, int(r.attempts))
                    for r in conn.execute(stmt)]
        return sorted(jobs, key=lambda j: j.job_id)

    def portal_job_finish(self, job_id: int, worker_id: str) -> bool:
        """Done, if ``worker_id`` still holds the claim (fenced: a lost lease writes nothing)."""
        return self._portal_job_close(job_id, worker_id, status=DONE, finished_at=self._now())

    def portal_job_fail(self, job_id: int, worker_id: str, error: str) -> bool:
        return self._portal_job_close(job_id, worker_id, status=FAILED, finished_at=self._now(),
                                      last_error=self._redact(error))

    def portal_job_retry(self, job_id: int, worker_id: str, error: str, at: datetime) -> bool:
        return self._portal_job_close(job_id, worker_id, status=PENDING, next_attempt_at=at,
                                      last_error=self._redact(error))

    def _portal_job_close(self, job_id: int, worker_id: str, **values: Any) -> bool:
        stmt = _job_close_statement(tuple(values))
        params = {"p_job_id": job_id, "p_worker_id": worker_id,
                  **{f"p_{k}": v for k, v in values.items()}}
        with self._write() as conn:
            return bool(conn.execute(stmt, params).rowcount == 1)

    def portal_job_counts(self) -> dict[str, int]:
        query = select(portal_jobs.c.status, func.count()).group_by(portal_jobs.c.status)
        with self._read() as conn:
            return {str(s): int(n) for s, n in conn.execute(query).all()}
