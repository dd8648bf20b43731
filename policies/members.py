"""Program members in time (R2.2.1, R3, R9.2): who a partner code names and what it was at t.

A member's tier and kind are today's values; the only change over time the records carry is
the exit record (R9.2), so ``kind_at``/``capacity_at`` honour it and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from config.terms import CapacityTerms
from policies.model import ExitKind, Member, MemberKind, Problem, Tier
from policies.reasons import ProblemCode

__all__ = [
    "MemberDirectory",
    "capacity_at",
    "has_left_by",
    "is_member_at",
    "kind_at",
    "normalize_code",
]


@lru_cache(maxsize=1 << 16)
def normalize_code(code: str | None) -> str | None:
    """A partner code as typed by a person, compared case-insensitively without blanks."""
    if code is None:
        return None
    key = code.strip().casefold()
    return key or None


# read on every request and close: an Enum member costs a class attribute lookup each time
_LEFT, _DOWNGRADED = ExitKind.LEFT, ExitKind.DOWNGRADED
_PROVIDER, _PARTNER = MemberKind.PROVIDER, MemberKind.PARTNER
# R3: the capacity term of each tier, by its field name in ``CapacityTerms``
_TIER_TERM = {tier: str(tier.value) for tier in Tier}


def has_left_by(member: Member, t: date) -> bool:
    """R9.2: the member's ``left`` record is dated on or before ``t``."""
    return member.exit is _LEFT and member.exit_at is not None and member.exit_at <= t


def is_member_at(member: Member, t: date) -> bool:
    """R2.2.1/R5.1: joined on or before ``t`` and not left by ``t``."""
    joined, left = member.joined_at, member.exit_at
    if joined is None or joined > t:
        return False
    return not (left is not None and left <= t and member.exit is _LEFT)


def kind_at(member: Member, t: date) -> MemberKind:
    """R9.2: a member downgraded at x is a provider from x and was a partner before x."""
    if member.exit is _DOWNGRADED and member.exit_at is not None:
        return _PROVIDER if member.exit_at <= t else _PARTNER
    return member.kind


def capacity_at(member: Member, t: date, terms: CapacityTerms) -> int:
    """R3: how many active registrations the member may hold at ``t``."""
    if kind_at(member, t) is _PROVIDER:
        return terms.provider
    limit: int = getattr(terms, _TIER_TERM[member.tier])
    return limit


class MemberDirectory:
    """Members by partner code. Duplicate codes keep the lowest company id and are reported."""

    __slots__ = ("_by_code", "problems")

    def __init__(self, members: Iterable[Member]) -> None:
        self._by_code: dict[str, Member] = {}
        problems: list[Problem] = []
        for member in sorted(members, key=lambda m: m.company_id):
            key = normalize_code(member.code)
            if member.joined_at is None:
                problems.append(_problem(member, ProblemCode.MEMBER_WITHOUT_JOIN_DATE))
            if key is None:
                problems.append(_problem(member, ProblemCode.MEMBER_WITHOUT_CODE))
            elif key in self._by_code:
                problems.append(_problem(member, ProblemCode.DUPLICATE_PARTNER_CODE, key))
            else:
                self._by_code[key] = member
        self.problems = problems

    def get(self, code: str | None) -> Member | None:
        """The member a typed partner code names, or ``None``."""
        key = normalize_code(code)
        return self._by_code.get(key) if key is not None else None


def _problem(member: Member, code: ProblemCode, detail: str = "") -> Problem:
    return Problem("member", member.company_id, code, detail)
