"""Routing webhook events by ``portalId`` (one public app, one webhook URL for every portal).

``EventRouter.route(events)`` runs where the receiver commits events, before it answers 2xx:

* the program portal's events (and, while ``program_portal_id`` is not configured, every event
  of a portal that is not a connected member portal) go to the program's inbox, as before;
* a member portal's events queue one ``inbound`` job for that portal, unless the event only
  echoes our own writes of member-facing outputs (no write loops);
* events of unknown portals (``program_portal_id`` set) are counted and dropped.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

from sync.portals.contract import MemberContract
from sync.portals.repo import PortalRepo
from sync.store import InboxEvent

__all__ = ["EventRouter"]

_CACHE_S = 5.0


class EventRouter:
    """Splits committed webhook events by portal (see module); thread-safe."""

    def __init__(self, repo: PortalRepo, insert: Callable[[Sequence[InboxEvent]], int],
                 member: MemberContract, program_portal_id: int | None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._repo = repo
        self._insert = insert
        self._outputs = set(member.outputs)
        self._program = program_portal_id
        self._monotonic = monotonic
        self._members: tuple[float, set[int]] = (-_CACHE_S * 2, set())
        self._guard = threading.Lock()
        self.counts: Counter[str] = Counter()  # program, member, echo, unknown

    def _member_hubs(self, fresh: bool = False) -> set[int]:
        with self._guard:
            at, hubs = self._members
            if fresh or self._monotonic() - at > _CACHE_S:
                hubs = self._repo.hub_ids()
                self._members = (self._monotonic(), hubs)
            return hubs

    def route(self, events: Sequence[InboxEvent]) -> int:
        """Commit ``events`` where they belong; returns the program inbox rows inserted."""
        members = self._member_hubs()
        named = {p for p in map(_portal_id, events) if p is not None and p != self._program}
        if named - members:  # a portal connected since the last look, or a stranger: look again
            members = self._member_hubs(fresh=True)
        program: list[InboxEvent] = []
        wake: set[int] = set()
        for event in events:
            portal = _portal_id(event)
            if portal is not None and portal in members:
                if _property(event) in self._outputs:
                    self.counts["echo"] += 1
                else:
                    wake.add(portal)
                    self.counts["member"] += 1
            elif self._program is None or portal == self._program:
                program.append(event)
                self.counts["program"] += 1
            else:
                self.counts["unknown"] += 1
        if wake:
            self._repo.enqueue(wake, "inbound")
        return self._insert(program) if program else 0


def _portal_id(event: InboxEvent) -> int | None:
    raw = event.payload.get("portalId")
    try:
        return int(str(raw))
    except ValueError:
        return None


def _property(event: InboxEvent) -> str | None:
    name = event.payload.get("propertyName")
    return name if isinstance(name, str) else None
