"""Program members: a table of archetypes covering every R9 situation, and their company records.

Member ``i`` follows ``ARCHETYPES[i % len(ARCHETYPES)]``, so any 20 consecutive members cover all
of them (profile S has exactly 20). Dates are relative to ``today`` except legacy join dates,
which sit before the legacy cut-off (2023-02-21) whatever ``today`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from random import Random

from sandbox.gen.build import Builder
from sandbox.gen.fmt import add_months, days, fmt_date
from sandbox.gen.words import COMPANY_SUFFIXES, COMPANY_WORDS

__all__ = ["ARCHETYPES", "Archetype", "Member", "make_member", "member_code"]


@dataclass(frozen=True, slots=True)
class Archetype:
    key: str
    program_type: str  # provider | partner
    tier: str | None
    joined_months_ago: int | None  # None: joined before the legacy cut-off
    gold: str  # in_time | late | never | n/a
    paperwork: str  # early | late | missing
    certified: str | None  # "true" | "false" | None (property absent)
    plan: str | None  # none | starter | professional | enterprise | None (absent)
    onboarding: str  # on_time | late | missing | n/a
    exit: str | None  # downgraded_to_provider | left | downgraded_late | None
    registrations: int  # requests in a typical block (scaled to the profile)


A = Archetype
ARCHETYPES: tuple[Archetype, ...] = (
    A("legacy_gold", "partner", "gold", None, "in_time", "early", "true", "professional",
      "n/a", None, 14),
    A("provider_ok", "provider", None, 14, "n/a", "early", None, "starter", "on_time", None, 8),
    A("partner_new", "partner", "untiered", 5, "never", "missing", "true", "professional",
      "n/a", None, 6),
    A("platinum", "partner", "platinum", 30, "in_time", "early", "true", "enterprise",
      "n/a", None, 20),
    A("elite_legacy", "partner", "elite", None, "in_time", "late", "true", "enterprise",
      "n/a", None, 24),
    A("diamond", "partner", "diamond", 34, "in_time", "early", "true", "enterprise",
      "n/a", None, 20),
    A("provider_late_onboarding", "provider", None, 4, "n/a", "missing", None, "starter",
      "late", None, 3),
    A("provider_no_onboarding", "provider", None, 2, "n/a", "missing", None, "none",
      "missing", None, 0),
    A("gold_late", "partner", "gold", 30, "late", "early", "true", "professional",
      "n/a", None, 12),
    A("downgraded", "partner", "untiered", 43, "never", "early", "true", "professional",
      "n/a", "downgraded_to_provider", 6),
    A("left_legacy", "partner", "untiered", None, "never", "early", "true", "professional",
      "n/a", "left", 5),
    A("removal_due", "partner", "untiered", 26, "never", "early", "true", "professional",
      "n/a", None, 6),
    A("platinum_legacy_no_cert_plan", "partner", "platinum", None, "in_time", "early", "false",
      "none", "n/a", None, 10),
    A("diamond_missing_cert_plan", "partner", "diamond", 12, "in_time", "missing", None, None,
      "n/a", None, 8),
    A("provider_at_capacity", "provider", None, 12, "n/a", "early", None, "professional",
      "on_time", None, 11),
    A("over_capacity", "partner", "untiered", 30, "never", "early", "true", "professional",
      "n/a", "downgraded_late", 12),
    A("provider_legacy", "provider", None, None, "n/a", "early", None, "starter", "on_time",
      None, 6),
    A("elite_new", "partner", "elite", 20, "in_time", "early", "true", "enterprise", "n/a",
      None, 16),
    A("diamond_legacy", "partner", "diamond", None, "in_time", "early", "true", "enterprise",
      "n/a", None, 12),
    A("gold_recent", "partner", "gold", 9, "in_time", "early", "true", "professional", "n/a",
      None, 8),
)


@dataclass(frozen=True, slots=True)
class Member:
    index: int
    code: str
    company_id: str
    domain: str
    archetype: Archetype
    joined: date
    exit_at: date | None

    def active_until(self, today: date) -> date:
        """Last date on which the member may still file requests."""
        return min(self.exit_at - days(1), today) if self.exit_at else today


def member_code(index: int) -> str:
    return f"P{index + 1:05d}"


def _joined(arch: Archetype, today: date, legacy_cutoff: date, rng: Random) -> date:
    if arch.joined_months_ago is None:
        return legacy_cutoff - days(60 + int(rng.random() * 400))
    return add_months(today, -arch.joined_months_ago) + days(int(rng.random() * 20) - 10)


def _removal_date(joined: date) -> date:
    """R9.1: first 15th on or after joined + 24 months, plus 30 days."""
    deadline = add_months(joined, 24)
    evaluation = deadline.replace(day=15)
    if evaluation < deadline:
        evaluation = add_months(evaluation, 1)
    return evaluation + days(30)


def _exit(arch: Archetype, joined: date, today: date) -> tuple[str, date] | None:
    if arch.exit is None:
        return None
    if arch.exit == "downgraded_late":  # the admin recorded it months after the removal date
        return "downgraded_to_provider", today - days(40)
    return arch.exit, min(_removal_date(joined), today - days(1))


def _dates(arch: Archetype, joined: date, today: date, rng: Random) -> dict[str, date]:
    out: dict[str, date] = {}
    if arch.gold == "in_time":
        out["gold"] = add_months(joined, 3 + int(rng.random() * 18))
    elif arch.gold == "late":
        out["gold"] = add_months(joined, 24) + days(40)
    if arch.paperwork == "early":
        out["paperwork"] = joined + days(15 + int(rng.random() * 45))
    elif arch.paperwork == "late":
        out["paperwork"] = today - days(20)  # long after c + 6 months of its older deals
    if arch.onboarding == "on_time":
        out["onboarding"] = joined + days(10 + int(rng.random() * 15))
    elif arch.onboarding == "late":
        out["onboarding"] = joined + days(45 + int(rng.random() * 20))
    return {k: min(v, today) for k, v in out.items()}


def make_member(b: Builder, index: int, legacy_cutoff: date) -> Member:
    """Create member ``index``'s company record (archetype ``index % len(ARCHETYPES)``)."""
    arch = ARCHETYPES[index % len(ARCHETYPES)]
    rng, c, today = b.rng, b.c, b.today
    joined = _joined(arch, today, legacy_cutoff, rng)
    word = COMPANY_WORDS[index % len(COMPANY_WORDS)]
    suffix = COMPANY_SUFFIXES[(index // len(COMPANY_WORDS)) % len(COMPANY_SUFFIXES)]
    domain = f"{word}{suffix}-{index + 1}.com"
    props = {c.program_type: arch.program_type, c.code: member_code(index),
             c.joined_at: fmt_date(joined), "website": f"https://www.{domain}"}
    if arch.tier is not None:
        props[c.tier] = arch.tier
    dates = _dates(arch, joined, today, rng)
    for key, name in (("gold", c.gold_reached_at), ("paperwork", c.paperwork_completed_at),
                      ("onboarding", c.onboarding_completed_at)):
        value = dates.get(key)
        if value is not None:
            props[name] = fmt_date(value)
    if arch.certified is not None:
        props[c.certified] = arch.certified
    if arch.plan is not None:
        props[c.hubspot_plan] = arch.plan
    exit_ = _exit(arch, joined, today)
    if exit_ is not None:
        props[c.program_exit], props[c.program_exit_at] = exit_[0], fmt_date(exit_[1])
    name = f"{word.title()} {suffix.title()} {index + 1}"
    created = joined - days(30 + int(rng.random() * 300))
    props["lifecyclestage"] = "other"
    company_id = b.company(name, domain, created, updated=min(today, joined + days(400)),
                           props=props)
    return Member(index, member_code(index), company_id, domain, arch, joined,
                  exit_[1] if exit_ else None)
