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
    heap_key: int = 0  # the claim's latest entry in its member's heap (see ``ClaimBook``)
    counted: bool = True

    def end(self) -> date:
        """The first day the claim no longer counts (half-open window, §0)."""
        end = self.expires
        other = self.dereg_at
        if other is not None and other < end:
            end = other
        other = self.converted_at
        if other is not None and other < end:
            end = other
        other = self.left_at
        if other is not None and other < end:
            end = other
        return end

    def active_at(self, t: date) -> bool:
        """R2.4: ``start <= t < end`` and not in the gap before a late re-registration."""
        if t < self.start or t >= self.expires:
            return False
        other = self.dereg_at  # each end before expiry, once passed, ends it too
        if other is not None and t >= other:
            return False
        other = self.converted_at
        if other is not None and t >= other:
            return False
        other = self.left_at
        if other is not None and t >= other:
            return False
        rereg_at = self.rereg_at
        return rereg_at is None or not self.original_expires <= t < rereg_at


_SEQ_BITS = 32  # a heap entry is ``end.toordinal() << _SEQ_BITS | seq``
_SEQ_MASK = (1 << _SEQ_BITS) - 1


class ClaimBook:
    """Claims per domain (in start order) and a lazily drained count of active claims per member.

    The book lives as long as one evaluation and holds thousands of claims, so it keeps few
    objects per claim: a domain claimed once maps to its claim (a list only from the second),
    and a member's heap of end dates holds plain ints ``end ordinal << 32 | seq``: ordered as
    (end, seq) and current while equal to the claim's ``heap_key``.
    """

    __slots__ = ("_active", "_by_domain", "_claims", "_heaps", "_next_seq")

    def __init__(self) -> None:
        self._by_domain: dict[str, Claim | list[Claim]] = {}
        self._active: dict[str, int] = {}
        self._heaps: dict[str, list[int]] = {}
        self._claims: list[Claim] = []  # by seq
        self._next_seq = 0

    def claims_of(self, domain: str) -> Sequence[Claim]:
        """Every claim ever made on ``domain``, oldest first (empty if none); do not mutate."""
        held = self._by_domain.get(domain)
        if held is None:
            return ()
        return (held,) if isinstance(held, Claim) else held

    def active_claims(self, domain: str, t: date) -> Sequence[Claim]:
        """Claims on ``domain`` active at ``t`` (normally at most one), oldest first."""
        held = self._by_domain.get(domain)
        if held is None:
            return ()  # most domains asked about were never claimed: build nothing
        if isinstance(held, Claim):
            return (held,) if held.active_at(t) else ()
        return [c for c in held if c.active_at(t)]

    def open(self, member: Member, domain: str, t: date, expires: date) -> Claim:
        """Record a new registration of ``domain`` by ``member`` from ``t`` (R2.2.8)."""
        claim = Claim(self._next_seq, member, domain, t, expires, expires)
        self._next_seq += 1
        self._claims.append(claim)
        held = self._by_domain.get(domain)
        if held is None:
            self._by_domain[domain] = claim
        elif isinstance(held, Claim):
            self._by_domain[domain] = [held, claim]
        else:
            held.append(claim)
        key = member.company_id
        self._active[key] = self._active.get(key, 0) + 1
        self._push(claim)
        return claim

    def end_changed(self, claim: Claim) -> None:
        """Call after moving any end of ``claim`` so the capacity count follows it."""
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
        past = (t.toordinal() + 1) << _SEQ_BITS  # every entry ending on or before t is below
        while heap and heap[0] < past:
            entry = heapq.heappop(heap)
            claim = self._claims[entry & _SEQ_MASK]
            # an entry is stale once the claim's end moved (a newer entry is in the heap);
            # two entries of one end are popped together and the claim counts down once
            if entry == claim.heap_key and claim.counted:
                claim.counted = False
                self._active[key] -= 1
        return self._active.get(key, 0)

    def _push(self, claim: Claim) -> None:
        heap = self._heaps.get(claim.member.company_id)
        if heap is None:
            heap = self._heaps[claim.member.company_id] = []
        claim.heap_key = claim.end().toordinal() << _SEQ_BITS | claim.seq
        heapq.heappush(heap, claim.heap_key)
