"""Per-member scenario blocks: registration requests on companies and contacts, deals, revenue.

Each member files requests spread over its active window; some prospects then buy (closed-won
deals with subscriptions), some deals stay open, some are shared deals that register the domain
themselves (R4). ``scale`` shrinks the blocks to fit small datasets.
"""

from __future__ import annotations

from datetime import date

from sandbox.gen.build import Builder
from sandbox.gen.fmt import days, fmt_date
from sandbox.gen.members import Member
from sandbox.gen.profiles import SALES_OWNER_IDS
from sandbox.gen.subs import add_subscriptions
from sandbox.gen.words import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FIRST_NAMES,
    FREE_EMAIL,
    LAST_NAMES,
    TLDS,
)

__all__ = ["OPEN_STAGES", "Prospects", "member_block"]

OPEN_STAGES = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent")
_PLAIN_KINDS = ("plain", "plain", "plain", "history", "canceled", "past_due", "upgrade_new")


class Prospects:
    """Unique prospect domains and names (``<word><suffix>-p<n>.<tld>``) in creation order."""

    def __init__(self, b: Builder) -> None:
        self.b = b
        self.count = 0

    def new(self) -> tuple[str, str]:
        """A fresh (company name, domain)."""
        self.count += 1
        r = self.b.rng.random
        word = COMPANY_WORDS[int(r() * len(COMPANY_WORDS))]
        suffix = COMPANY_SUFFIXES[int(r() * len(COMPANY_SUFFIXES))]
        tld = TLDS[int(r() * len(TLDS))]
        return f"{word.title()} {suffix.title()}", f"{word}{suffix}-p{self.count}.{tld}"

    def person(self) -> tuple[str, str]:
        r = self.b.rng.random
        return (FIRST_NAMES[int(r() * len(FIRST_NAMES))], LAST_NAMES[int(r() * len(LAST_NAMES))])

    def company(self, created: date, props: dict[str, str] | None = None, *,
                updated: date | None = None) -> tuple[str, str]:
        """Create a prospect company; returns (id, domain). ``props`` are set as given."""
        name, domain = self.new()
        values = dict(props or {})
        if self.b.rng.random() < 0.3:
            values.setdefault("hubspot_owner_id",
                              SALES_OWNER_IDS[int(self.b.rng.random() * len(SALES_OWNER_IDS))])
        return self.b.company(name, domain, created, updated=updated, props=values), domain


def _window(m: Member, today: date) -> tuple[date, date]:
    key = m.archetype.key
    if key == "provider_at_capacity":  # 11 requests inside one 180-day window: the 11th is over
        return today - days(170), today - days(5)
    if key == "over_capacity":  # registered while a partner, still active after the downgrade
        return today - days(170), today - days(50)
    return max(m.joined + days(1), today - days(420)), m.active_until(today)


def _request(b: Builder, p: Prospects, m: Member, t: date) -> str | None:
    """File one registration request dated ``t``; returns the prospect company id, if any."""
    c, r = b.c, b.rng.random()
    request = {c.registration_requested_by: m.code, c.registration_requested_at: fmt_date(t)}
    created = t - days(1 + int(b.rng.random() * 200))
    first, last = p.person()
    if r < 0.7:
        company_id, domain = p.company(created, request, updated=t)
        if b.rng.random() < 0.5:
            b.contact(first, last, f"{first[0].lower()}.{last.lower()}@{domain}", created,
                      company_id=company_id)
        return company_id
    if r < 0.9:  # a work e-mail names the domain; no company record yet
        _, domain = p.new()
        b.contact(first, last, f"{first.lower()}@{domain}", created, updated=t, props=request)
        return None
    # A free e-mail contact: the domain comes from its primary company (R1.3)
    company_id, _ = p.company(created)
    email = f"{first.lower()}.{p.count}@{FREE_EMAIL[p.count % len(FREE_EMAIL)]}"
    b.contact(first, last, email, created, company_id=company_id, updated=t,
              props=request)
    return company_id


def _deal(b: Builder, m: Member, company_id: str, t: date, shared: bool) -> None:
    rng, today = b.rng, b.today
    mrr = 2_000 + int(rng.random() * 200) * 500
    currency = "EUR" if rng.random() < 0.2 else "USD"
    props = {b.c.shared_by: m.code} if shared else {}
    close = t + days(10 + int(rng.random() * 150))
    if rng.random() < 0.65 and close <= today:
        deal_id = b.deal(f"Deal {company_id}", company_id, t, stage="closedwon", close=close,
                         amount_cents=mrr * 12, currency=currency, props=props)
        kind = _PLAIN_KINDS[int(rng.random() * len(_PLAIN_KINDS))]
        add_subscriptions(b, deal_id, close, kind, mrr, currency)
        return
    stage = "closedlost" if rng.random() < 0.2 else OPEN_STAGES[int(rng.random() * 5)]
    b.deal(f"Deal {company_id}", company_id, t, stage=stage,
           close=close if stage == "closedlost" and close <= today else None,
           amount_cents=mrr * 12, currency=currency, props=props)


def member_block(b: Builder, p: Prospects, m: Member, scale: float) -> None:
    """Requests, deals and subscriptions of member ``m`` (into the builder's current block)."""
    start, end = _window(m, b.today)
    wanted = m.archetype.registrations
    n = wanted if scale >= 1 else int(wanted * scale + b.rng.random())
    if end < start:
        return
    span = (end - start).days
    for _ in range(n):
        t = start + days(int(b.rng.random() * (span + 1)))
        company_id = _request(b, p, m, t)
        if company_id is not None and b.rng.random() < 0.55:
            _deal(b, m, company_id, t + days(int(b.rng.random() * 20)), shared=False)
    # Shared deals that register their domain themselves (R4.1): no request on the company.
    for _ in range(max(1, n // 4) if n else 0):
        t = start + days(int(b.rng.random() * (span + 1)))
        company_id, _ = p.company(t - days(int(b.rng.random() * 90)))
        _deal(b, m, company_id, t, shared=True)
