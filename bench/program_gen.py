"""Deterministic generator of whole ``policies.model.Program`` values, for benchmarks and tests.

``generate_program(profile, seed)`` always returns the same program for the same arguments (one
seeded ``random.Random``, no clock, no global state). The mix is meant to exercise every rule:
providers and partners of every tier, legacy joiners, downgrades and exits, shared deals, domain
collisions between members (and subdomain/``www``/URL spellings of one domain), free e-mail
contacts, invalid domains, direct-sales and existing-customer companies, closed-won deals with
subscriptions (upgrades through MRR history or a follow-on subscription, cancellations,
``past_due``/``unpaid``), paperwork early, late or missing, and a sprinkle of bad data.

Exact counts: ``profile.members`` members, ``profile.requests`` registration requests (companies
plus contacts carrying one), ``profile.deals`` deals, ``profile.subscriptions`` subscriptions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from bench.program_deals import DealMaker
from config.terms import ProgramTerms
from policies.model import (
    Company,
    Contact,
    ExitKind,
    Member,
    MemberKind,
    Program,
    RegistrationRequest,
    Tier,
)

__all__ = [
    "DIRECT_SALES_OWNERS",
    "PROFILES",
    "Profile",
    "bench_terms",
    "generate_program",
    "profile_as_of",
]

DIRECT_SALES_OWNERS = ("9001", "9002")
DEFAULT_START = date(2022, 1, 1)  # spans the legacy cut-offs of R6 (2023-02-21, 2023-04-01)


@dataclass(frozen=True, slots=True)
class Profile:
    """Sizes of one generated program; ``months`` is the span of its history from the start."""

    name: str
    members: int
    requests: int
    deals: int
    subscriptions: int
    months: int = 36
    domain_reuse: float = 0.25  # share of requests naming a domain already in use (collisions)


PROFILES: dict[str, Profile] = {
    "S": Profile("S", 20, 600, 500, 500, 36),
    "M": Profile("M", 300, 15_000, 20_000, 20_000, 36),
    "L": Profile("L", 3_000, 150_000, 100_000, 100_000, 36),
}

_WORDS = ("acme", "nova", "blue", "peak", "zen", "orbit", "maple", "delta", "lumen", "cedar")
_TLDS = ("com", "com", "com", "de", "co.uk", "io", "fr", "es", "com.au", "net")
_INVALID = ("", "localhost", "10.0.0.7", "co.uk", "com", "not a domain", "http://", "[::1]")
_FREE = ("gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "gmx.de", "proton.me")
_TIERS = (Tier.UNTIERED, Tier.GOLD, Tier.PLATINUM, Tier.DIAMOND, Tier.ELITE)
_TIER_WEIGHTS = (45, 25, 15, 10, 5)
_LIFECYCLE = ("lead", "lead", "marketingqualifiedlead", "opportunity", "customer")


def profile_as_of(profile: Profile, start: date = DEFAULT_START) -> date:
    """The natural evaluation date of a profile: the end of its history (start + months)."""
    year, month = divmod(start.month - 1 + profile.months, 12)
    return start.replace(year=start.year + year, month=month + 1)


def bench_terms(terms: ProgramTerms) -> ProgramTerms:
    """``terms`` with the generator's direct-sales owners configured (R2.2.5 needs them)."""
    deals = terms.deals.model_copy(update={"direct_sales_owner_ids": DIRECT_SALES_OWNERS})
    return terms.model_copy(update={"deals": deals})


def generate_program(
    profile: Profile, seed: int = 0, start: date = DEFAULT_START
) -> Program:
    """A realistic program of the profile's exact sizes, identical for identical arguments."""
    gen = _Generator(random.Random(seed), start, profile_as_of(profile, start))
    gen.domain_reuse = profile.domain_reuse
    members = [gen.member(i) for i in range(profile.members)]
    codes = [m.code for m in members if m.code is not None]
    carriers, contacts = gen.requests(profile.requests, members)
    maker = DealMaker(gen.rng, start, gen.end, codes, DIRECT_SALES_OWNERS)
    deals, subscriptions, deal_companies = maker.make(
        profile.deals, profile.subscriptions, carriers, gen.fresh_company
    )
    member_companies = [
        Company(m.company_id, domain=f"partner{i}.{_TLDS[i % len(_TLDS)]}", lifecycle_stage="other")
        for i, m in enumerate(members)
    ]
    return Program(
        members=tuple(members),
        companies=(*member_companies, *carriers, *gen.extra_companies, *deal_companies),
        contacts=tuple(contacts),
        deals=tuple(deals),
        subscriptions=tuple(subscriptions),
    )


class _Generator:
    """Members, domains, companies and contacts; one instance per generated program."""

    def __init__(self, rng: random.Random, start: date, end: date) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        self.span_days = (end - start).days
        self.domains: list[str] = []  # every real domain handed out, for collisions
        self.extra_companies: list[Company] = []  # primaries of free-mail contacts
        self.domain_reuse = 0.25
        self._ids = 0

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def _day(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.rng.randrange(max(1, (hi - lo).days)))

    def member(self, i: int) -> Member:
        rng = self.rng
        joined = self._day(self.start - timedelta(days=730), self.end - timedelta(days=60))
        partner = rng.random() < 0.6
        tier = rng.choices(_TIERS, _TIER_WEIGHTS)[0] if partner else Tier.UNTIERED
        gold = None
        if tier is not Tier.UNTIERED:
            gold = joined + timedelta(days=rng.randrange(30, 900))  # some after the deadline
        roll = rng.random()
        paperwork = (
            joined + timedelta(days=rng.randrange(0, 120)) if roll < 0.55
            else joined + timedelta(days=rng.randrange(200, 700)) if roll < 0.7
            else None
        )
        exit_kind, exit_at = self._exit(joined, partner and gold is None)
        plans = ("professional", "enterprise", "starter", "none")
        return Member(
            company_id=f"m{i}",
            code=None if rng.random() < 0.01 else f"P{i:05d}",
            kind=MemberKind.PARTNER if partner else MemberKind.PROVIDER,
            tier=tier,
            joined_at=None if rng.random() < 0.005 else joined,
            gold_reached_at=gold,
            paperwork_completed_at=paperwork,
            certified=rng.random() < (0.9 if partner else 0.2),
            onboarding_completed_at=(
                joined + timedelta(days=rng.randrange(1, 60)) if rng.random() < 0.85 else None
            ),
            hubspot_plan=rng.choices(plans, (45, 35, 15, 5))[0],
            exit=exit_kind,
            exit_at=exit_at,
        )

    def _exit(self, joined: date, missed_gold: bool) -> tuple[ExitKind | None, date | None]:
        removal = joined + timedelta(days=730 + 45)  # roughly the R9.1 removal date
        if missed_gold and removal < self.end and self.rng.random() < 0.5:
            kind = ExitKind.DOWNGRADED if self.rng.random() < 0.7 else ExitKind.LEFT
            return kind, removal + timedelta(days=self.rng.randrange(0, 20))
        if self.rng.random() < 0.02:
            return ExitKind.LEFT, self._day(joined, self.end)
        return None, None

    def _new_domain(self) -> str:
        n = len(self.domains)
        word = "münchen" if self.rng.random() < 0.02 else _WORDS[n % len(_WORDS)]
        domain = f"{word}{n}.{_TLDS[self.rng.randrange(len(_TLDS))]}"
        self.domains.append(domain)
        return domain

    def _domain(self) -> str:
        """A real domain: new, or (share ``domain_reuse``) one already in use (collisions)."""
        if self.domains and self.rng.random() < self.domain_reuse:
            return self.rng.choice(self.domains)
        return self._new_domain()

    def _spelling(self, domain: str) -> tuple[str | None, str | None]:
        """(domain property, website) as a person might have typed them."""
        roll = self.rng.random()
        if roll < 0.6:
            return domain, None
        if roll < 0.7:
            return f"www.{domain}", None
        if roll < 0.8:
            return None, f"https://www.{domain.upper()}/about"
        if roll < 0.9:
            return f"shop.{domain}", None
        return None, f"http://{domain}"

    def fresh_company(self, customer_share: float, direct_share: float) -> Company:
        """A company on a new domain (deal primaries): some customers, some owned by sales."""
        domain, website = self._spelling(self._new_domain())
        direct = self.rng.random() < direct_share
        return Company(
            self._id("d"), domain=domain, website=website,
            owner_id=self.rng.choice(DIRECT_SALES_OWNERS) if direct else str(self._ids % 97),
            lifecycle_stage="customer" if self.rng.random() < customer_share else "lead",
        )

    def _request(self, members: list[Member]) -> RegistrationRequest:
        rng = self.rng
        member = members[min(int(rng.paretovariate(1.2)) - 1, len(members) - 1)]
        if rng.random() < 0.5:  # the busy few plus a uniform long tail
            member = rng.choice(members)
        joined = member.joined_at or self.start
        lo = max(self.start, joined) if rng.random() < 0.95 else self.start
        at = self._day(lo, self.end) if lo < self.end else self.end
        code = member.code if rng.random() < 0.96 else f"X{rng.randrange(1000)}"
        rereg = dereg = None
        if rng.random() < 0.12:
            rereg = at + timedelta(days=180 + rng.randrange(-40, 50))
        elif rng.random() < 0.05:
            dereg = at + timedelta(days=rng.randrange(1, 170))
        return RegistrationRequest(code, at, rereg, dereg)

    def requests(
        self, count: int, members: list[Member]
    ) -> tuple[list[Company], list[Contact]]:
        """``count`` request carriers: about 70% companies and 30% contacts."""
        companies: list[Company] = []
        contacts: list[Contact] = []
        for _ in range(count):
            request = self._request(members) if members else RegistrationRequest()
            if self.rng.random() < 0.7:
                companies.append(self._company(request))
            else:
                contacts.append(self._contact(request))
        return companies, contacts

    def _company(self, request: RegistrationRequest) -> Company:
        rng = self.rng
        domain: str | None
        website: str | None
        if rng.random() < 0.02:
            domain, website = rng.choice(_INVALID), None
        else:
            domain, website = self._spelling(self._domain())
        owner = rng.choice(DIRECT_SALES_OWNERS) if rng.random() < 0.04 else str(rng.randrange(97))
        return Company(
            self._id("c"), domain=domain, website=website, owner_id=owner,
            lifecycle_stage=rng.choice(_LIFECYCLE) if rng.random() < 0.3 else "lead",
            request=request,
        )

    def _contact(self, request: RegistrationRequest) -> Contact:
        rng = self.rng
        contact_id = self._id("k")
        roll = rng.random()
        if roll < 0.01:
            return Contact(contact_id, request=request)  # neither e-mail nor company
        if roll < 0.3:  # free e-mail; half of them have a primary company to fall back on
            primary = None
            if rng.random() < 0.5:
                company = self.fresh_company(0.05, 0.02)
                self.extra_companies.append(company)
                primary = company.company_id
            email = f"user{contact_id}@{rng.choice(_FREE)}"
            return Contact(contact_id, email=email, primary_company_id=primary, request=request)
        if roll < 0.32:
            return Contact(contact_id, email="not-an-email", request=request)
        return Contact(contact_id, email=f"Jo.{contact_id}@{self._domain()}", request=request)
