"""R2.4-R2.9 bookkeeping: registrations ("claims") per domain and active counts per member.

A claim is one member's registration of one domain, shared by every record that joined it
(R2.9). The book is fed in chronological order by the evaluation sweep and answers "who holds
d at t" and "how many claims does m hold at t" for the sweep's current ``t`` only; both are
cheap (a few claims per domain, a lazy heap of end dates per member), so a whole program is
one pass.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from policies.model import Member

__all__ = ["Claim", "ClaimBook"]


@dataclass(slots=True, eq=False)
class Claim:
    """One registration. ``expires`` moves on re-registration; the other ends are dates or None."""

    seq: int
    member: Member
    domain: str
    start: date
    expires: date
    original_expires: date
    rereg_requested_at: date | None = None  # R2.6: the request date r that was applied
    rereg_at: date | None = None  # R2.6: when the re-registration took effect
    rereg_blocked_by: str | None = None  # R2.6: code of the member that took it in between
    dereg_at: date | None = None  # R2.7
    converted_at: date | None = None  # R2.8
    left_at: date | None = None  # R9.2: the member left the program
    version: int = 0
    counted: bool = True

    def end(self) -> date:
        """The first day the claim no longer counts (half-open window, §0)."""
        end = self.expires
        for other in (self.dereg_at, self.converted_at, self.left_at):
            if other is not None and other < end:
                end = other
        return end

    def active_at(self, t: date) -> bool:
        """R2.4: ``start <= t < end`` and not in the gap before a late re-registration."""
        if not self.start <= t < self.end():
            return False
        in_gap = self.rereg_at is not None and self.original_expires <= t < self.rereg_at
        return not in_gap


class ClaimBook:
    """Claims per domain (in start order) and a lazily drained count of active claims per member."""

    __slots__ = ("_active", "_by_domain", "_heaps", "_next_seq")

    def __init__(self) -> None:
        self._by_domain: dict[str, list[Claim]] = {}
        self._active: dict[str, int] = {}
        self._heaps: dict[str, list[tuple[date, int, int, Claim]]] = {}
        self._next_seq = 0

    def claims_of(self, domain: str) -> Sequence[Claim]:
        """Every claim ever made on ``domain``, oldest first (empty if none); do not mutate."""
        return self._by_domain.get(domain, ())

    def active_claims(self, domain: str, t: date) -> Sequence[Claim]:
        """Claims on ``domain`` active at ``t`` (normally at most one), oldest first."""
        claims = self._by_domain.get(domain)
        if not claims:
            return ()  # most domains asked about were never claimed: build nothing
        return [c for c in claims if c.active_at(t)]

    def open(self, member: Member, domain: str, t: date, expires: date) -> Claim:
        """Record a new registration of ``domain`` by ``member`` from ``t`` (R2.2.8)."""
        claim = Claim(self._next_seq, member, domain, t, expires, expires)
        self._next_seq += 1
        self._by_domain.setdefault(domain, []).append(claim)
        key = member.company_id
        self._active[key] = self._active.get(key, 0) + 1
        self._push(claim)
        return claim

    def end_changed(self, claim: Claim) -> None:
        """Call after moving any end of ``claim`` so the capacity count follows it."""
        claim.version += 1
        self._push(claim)

    def resume(self, claim: Claim) -> None:
        """Count ``claim`` again after a re-registration that took effect after its expiry."""
        if not claim.counted:
            claim.counted = True
            key = claim.member.company_id
            self._active[key] = self._active.get(key, 0) + 1
        self.end_changed(claim)

    def active_count(self, member: Member, t: date) -> int:
        """R3: active claims of ``member`` at ``t``; ``t`` must never go back between calls."""
        key = member.company_id
        heap = self._heaps.get(key)
        while heap and heap[0][0] <= t:
            _, _, version, claim = heapq.heappop(heap)
            if version == claim.version and claim.counted:
                claim.counted = False
                self._active[key] -= 1
        return self._active.get(key, 0)

    def _push(self, claim: Claim) -> None:
        heap = self._heaps.setdefault(claim.member.company_id, [])
        heapq.heappush(heap, (claim.end(), claim.seq, claim.version, claim))
