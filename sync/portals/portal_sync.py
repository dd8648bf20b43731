"""One member portal's sync, both ways: ``PortalSync.run(hub_id, kind)``.

``kind``: ``connect`` (create the member-portal properties, then in + out), ``inbound`` (in +
out) or ``out`` (queued after each program run: skipped without a call when the member's view
is the one last pushed, kept as the checkpoint ``portal:<hub>:view``; ``inbound`` and
``connect`` always read the portal, so a member's own edits are put right there).

In: the member's requests are carried to the program portal and the program companies they
changed are re-read and decided at once (a targeted program sync). Out: the member's view
(``view.ProgramView``, rebuilt when the program has had a new run) is pushed.
Each run is logged in the run log (kind ``portal``) with its data problems.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from policies.model import Problem
from sync.gateway import Gateway, property_definition
from sync.portals.contract import MemberContract
from sync.portals.inbound import carry_requests, read_requests
from sync.portals.member_ops import create_properties
from sync.portals.outbound import push_view
from sync.portals.repo import PortalRepo
from sync.portals.session import Disconnected, PortalSessions
from sync.portals.view import MemberView, ProgramView
from sync.ports import SyncRunner
from sync.store import Store

__all__ = ["PortalReport", "PortalSync", "init_member_portal"]

KINDS = ("connect", "inbound", "out")


@dataclass(slots=True)
class PortalReport:
    hub_id: int
    member_code: str
    kind: str
    calls: int = 0
    carried: int = 0
    decided: int = 0
    updated: int = 0
    created: int = 0
    skipped: bool = False  # an ``out`` job whose view had not changed: no call made
    view_digest: str | None = None  # the view pushed in full (kept as the checkpoint)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"hub_id": self.hub_id, "member": self.member_code, "kind": self.kind,
                "calls": self.calls, "carried": self.carried, "decided": self.decided,
                "updated": self.updated, "created": self.created, "skipped": self.skipped,
                "problems": [{"record": p.record_id, "code": p.code, "detail": p.detail}
                             for p in self.problems]}


def view_digest(view: MemberView) -> str:
    """A stable fingerprint of a member view (what was last pushed is kept as a checkpoint)."""
    text = json.dumps(view, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def init_member_portal(gateway: Gateway, member: MemberContract) -> list[Problem]:
    """Create the group and the member-portal company properties (two calls, idempotent); a
    problem per property HubSpot refused for another reason than that it exists."""
    group = member.program.group_name
    gateway.create_property_group("companies", group, group.replace("_", " ").capitalize())
    definitions = [property_definition(spec, group) for spec in member.property_specs()]
    return create_properties(gateway, "companies", definitions)[1]


class PortalSync:
    """Syncs member portals for one program (see module). Thread-safe."""

    def __init__(self, settings: Settings, store: Store, sessions: PortalSessions,
                 program: Gateway, decider: SyncRunner) -> None:
        self.settings = settings
        self.store = store
        self.repo = PortalRepo(store)
        self.sessions = sessions
        self.program = program
        self.decider = decider
        self.member = MemberContract(settings.contract())
        self._view: tuple[object, ProgramView] | None = None
        self._view_lock = threading.Lock()

    def view(self) -> ProgramView:
        """The member views, rebuilt only when the program's run log moved on."""
        key = self.store.latest_run_state(excluding=("portal",))
        with self._view_lock:
            if self._view is None or self._view[0] != key:
                self._view = (key, ProgramView.build(self.store, self.settings.contract()))
            return self._view[1]

    def run(self, hub_id: int, kind: str = "inbound") -> PortalReport:
        """Sync one portal; raises ``Disconnected``, ``HubSpotError`` or ``OAuthError``."""
        if kind not in KINDS:
            raise ValueError(f"unknown portal job kind {kind!r}")
        portal = self.repo.get(hub_id)
        if portal is None:
            raise Disconnected(f"no member portal {hub_id}")
        report = PortalReport(hub_id, portal.member_code, kind)
        gateway = self.sessions.gateway(hub_id, portal)
        run_id = self.store.start_run("portal", None, f"portal:{hub_id}:{kind}")
        try:
            self._steps(gateway, portal.member_code, report,
                        first=portal.last_sync_at is None)
        except Exception as exc:
            report.calls = _calls(gateway)
            error = f"{type(exc).__name__}: {exc}"
            with self.store.transaction() as tx:
                tx.portal_record_sync(hub_id, report.calls, error)
                tx.finish_run(run_id, "failed", {}, error=error)
            raise
        finally:
            gateway.drop_responses()  # the portal's gateway is kept for its next job
        report.calls = _calls(gateway)
        counts = {"member_portal": {"calls": report.calls, "carried": report.carried,
                                    "decided": report.decided, "written": report.updated,
                                    "created": report.created}}
        # The portal's sync record and the view checkpoint move with the run's record.
        with self.store.transaction() as tx:
            tx.portal_record_sync(hub_id, report.calls, None)
            if report.problems:
                tx.add_run_problems(run_id, report.problems)
            if report.view_digest is not None:
                tx.set_checkpoint(f"portal:{hub_id}:view", report.view_digest)
            tx.finish_run(run_id, "partial" if report.problems else "ok", counts)
        return report

    def _steps(self, gateway: Gateway, code: str, report: PortalReport, *, first: bool) -> None:
        if report.kind == "connect" or first:  # whichever job reaches a new portal first
            report.problems += init_member_portal(gateway, self.member)
        if report.kind in ("connect", "inbound"):
            requests, problems = read_requests(gateway, code, self.member)
            report.problems += problems
            carried = carry_requests(self.program, self.store, self.repo, report.hub_id, code,
                                     requests, self.member)
            report.carried, report.problems = carried.written, report.problems + carried.problems
            if carried.to_decide:
                self.decider.targeted_sync([("companies", i) for i in carried.to_decide],
                                           trigger=f"portal:{report.hub_id}")
                report.decided = len(carried.to_decide)
        view = self.view().member(code)
        mark, digest = f"portal:{report.hub_id}:view", view_digest(view)
        if report.kind == "out" and not first and self.store.get_checkpoint(mark) == digest:
            report.skipped = True  # what the member sees has not changed since the last push
            return
        out = push_view(gateway, view, self.member, create=self.settings.portals.create_companies)
        report.updated, report.created = out.updated, out.created
        report.problems += out.problems
        if not out.problems:
            report.view_digest = digest


def _calls(gateway: Gateway) -> int:
    return int(gateway.metrics.snapshot()["totals"]["calls"])
