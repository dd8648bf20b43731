"""One-off cases every profile carries once: the edges of R1-R8 that random blocks may miss.

Each case names the rule it exercises. A case needs certain member archetypes; when a small
custom dataset lacks one, the case is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sandbox.gen.build import Builder
from sandbox.gen.fmt import days, fmt_date
from sandbox.gen.members import Member
from sandbox.gen.profiles import DIRECT_SALES_OWNER_IDS
from sandbox.gen.scenarios import Prospects
from sandbox.gen.subs import SUBSCRIPTION_KINDS, add_subscriptions

__all__ = ["CASES", "UNKNOWN_CODES", "Ctx", "run_cases"]

UNKNOWN_CODES = ("P99999", "NOPE-1")
Props = dict[str, str]


@dataclass(slots=True)
class Ctx:
    b: Builder
    p: Prospects
    m: dict[str, Member]  # first member of each archetype key
    legacy_cutoff: date

    @property
    def today(self) -> date:
        return self.b.today

    def req(self, code: str, t: date, extra: Props | None = None) -> Props:
        """Registration request properties (R2.1), plus ``extra``."""
        c = self.b.c
        return {c.registration_requested_by: code, c.registration_requested_at: fmt_date(t),
                **(extra or {})}

    def prospect(self, created: date, props: Props | None = None) -> tuple[str, str]:
        return self.p.company(created, props)

    def won(self, company_id: str | None, created: date, close: date, kind: str = "plain",
            mrr_cents: int = 40_000, props: Props | None = None) -> str:
        """A closed-won deal with subscriptions of ``kind`` (R5, R7)."""
        deal_id = self.b.deal(f"Won {company_id or 'no company'}", company_id, created,
                              stage="closedwon", close=close, amount_cents=mrr_cents * 12,
                              props=props)
        add_subscriptions(self.b, deal_id, close, kind, mrr_cents)
        return deal_id


def _ties_and_collisions(x: Ctx) -> None:
    """R2.1 ties (company before contact on one date), R2.2.4 collisions, R2.2.3 same member."""
    a, b2, t = x.m["platinum"], x.m["diamond"], x.today - days(60)
    _, domain = x.prospect(t - days(30), x.req(a.code, t))
    x.b.contact("Tia", "Tie", f"tia@{domain}", t - days(10), updated=t, props=x.req(b2.code, t))
    _, domain = x.prospect(t - days(90), x.req(a.code, t - days(40)))
    x.b.company("Duplicate of " + domain, domain, t - days(5), props=x.req(b2.code, t))
    x.b.contact("Sam", "Same", f"sam@{domain}", t - days(3), props=x.req(a.code, t + days(5)))


def _reregistrations(x: Ctx) -> None:
    """R2.6: seamless, after expiry, a second one (limit); R2.7 deregistration."""
    c, today, a, b2 = x.b.c, x.today, x.m["platinum"], x.m["diamond"]
    rereg, dereg = c.reregistration_requested_at, c.deregistration_requested_at
    x.prospect(today - days(200),
               x.req(a.code, today - days(170), {rereg: fmt_date(today - days(20))}))
    x.prospect(today - days(330),
               x.req(b2.code, today - days(300), {rereg: fmt_date(today - days(100))}))
    _, domain = x.prospect(today - days(420),
                           x.req(a.code, today - days(400), {rereg: fmt_date(today - days(200))}))
    x.b.contact("Rex", "Again", f"rex@{domain}", today - days(97),
                props=x.req(a.code, today - days(95)))
    deregistered = x.req(b2.code, today - days(150), {dereg: fmt_date(today - days(60))})
    company_id, _ = x.prospect(today - days(160), deregistered)
    x.won(company_id, today - days(50), today - days(30))  # closed after deregistration


def _bad_domains(x: Ctx) -> None:
    """R2.2.1 unknown codes; R1.2 invalid and free domains; R1.3 contact domains."""
    today, a = x.today, x.m["platinum"]
    t = today - days(45)
    x.prospect(t, x.req(UNKNOWN_CODES[0], t))
    x.b.contact("Una", "Known", "una@unknown-code-example.com", t,
                props=x.req(UNKNOWN_CODES[1], t))
    for name, domain, extra in (
        ("Localhost Inc", "localhost", {}), ("IP Address Ltd", "10.0.0.7", {}),
        ("Bare Suffix", "co.uk", {}), ("Free Mail Co", "gmail.com", {}),
        ("No Domain At All", None, {}),
        ("Website Only", None, {"website": "https://www.Shop.Cedar-Web.co.uk/path?x=1"}),
        ("Bücher Laden", "bücher-laden.de", {}),
    ):
        x.b.company(name, domain, t - days(10), props=x.req(a.code, t, extra))
    company_id, _ = x.prospect(t - days(20))
    x.b.contact("Gail", "Free", "gail.free@gmail.com", t - days(5), company_id=company_id,
                props=x.req(a.code, t))
    x.b.contact("Nora", "Nocompany", "nora@hotmail.com", t - days(5), props=x.req(a.code, t))
    x.b.contact("Ned", "Nothing", None, t - days(5), props=x.req(a.code, t))


def _outside_membership(x: Ctx) -> None:
    """R2.2.1: requests dated before the member joined and after it left."""
    new, left = x.m["partner_new"], x.m["left_legacy"]
    x.prospect(new.joined - days(40), x.req(new.code, new.joined - days(20)))
    if left.exit_at is not None:
        x.prospect(left.exit_at, x.req(left.code, left.exit_at + days(10)))


def _unavailable(x: Ctx) -> None:
    """R2.2.5 direct sales, R2.2.6 existing customers; R4.3 co-selling, R4.5/R5.4 cross-sell."""
    c, today, a, b2 = x.b.c, x.today, x.m["platinum"], x.m["diamond"]
    owner = {"hubspot_owner_id": DIRECT_SALES_OWNER_IDS[0]}
    x.prospect(today - days(100), x.req(a.code, today - days(80), owner))
    direct_id, _ = x.prospect(today - days(140), {"hubspot_owner_id": DIRECT_SALES_OWNER_IDS[1]})
    x.won(direct_id, today - days(120), today - days(90), props={c.shared_by: b2.code})
    x.prospect(today - days(300), x.req(a.code, today - days(70), {"lifecyclestage": "customer"}))
    customer_id, _ = x.prospect(today - days(400), {"lifecyclestage": "customer"})
    x.won(customer_id, today - days(200), today - days(150), "history",
          props={c.shared_by: a.code, c.cross_sell_confirmed: "true"})
    x.won(customer_id, today - days(100), today - days(60),
          props={c.shared_by: b2.code, c.cross_sell_confirmed: "false"})


def _deal_edges(x: Ctx) -> None:
    """R4.4 competition, R5 no company / domain mismatch / before registration, R5.5 overrides."""
    c, today, a, b2 = x.b.c, x.today, x.m["platinum"], x.m["diamond"]
    held_id, _ = x.prospect(today - days(120), x.req(a.code, today - days(90)))
    x.won(held_id, today - days(60), today - days(30), props={c.shared_by: b2.code})
    x.won(None, today - days(80), today - days(40), props={c.shared_by: a.code})
    registered_id, _ = x.prospect(today - days(220), x.req(b2.code, today - days(200)))
    other_id, _ = x.prospect(today - days(210))
    deal_id = x.won(other_id, today - days(170), today - days(150))
    x.b.associate("deals", deal_id, "companies", registered_id)  # secondary, not primary
    early_id, _ = x.prospect(today - days(130), x.req(a.code, today - days(100)))
    x.won(early_id, today - days(125), today - days(110))
    for reason in ("Best partner wins: joint pitch with the customer", None):
        company_id, _ = x.prospect(today - days(250))
        props = {c.attribution_override: b2.code}
        if reason:
            props[c.attribution_override_reason] = reason
        x.won(company_id, today - days(240), today - days(200), props=props)
    open_id, _ = x.prospect(today - days(30))
    x.b.deal("Open shared deal", open_id, today - days(20), stage="contractsent", close=None,
             amount_cents=120_000, props={c.shared_by: a.code})


def _revenue(x: Ctx) -> None:
    """R7: every subscription kind behind a qualifying deal."""
    a = x.m["platinum"]
    for k, kind in enumerate(SUBSCRIPTION_KINDS):
        t = x.today - days(420 - 12 * k)
        company_id, _ = x.prospect(t - days(20), x.req(a.code, t))
        x.won(company_id, t + days(5), t + days(30), kind, mrr_cents=10_000 * (k + 1))


def _plans(x: Ctx) -> None:
    """R6 legacy / boundary / provider plans, R8 late paperwork, R9.3 downgrade and exit."""
    cutoff, legacy = x.legacy_cutoff, x.m["legacy_gold"]
    for close in (date(2023, 3, 15), date(2023, 4, 1)):  # legacy_closed_before is strict
        company_id, _ = x.prospect(cutoff - days(80), x.req(legacy.code, cutoff - days(40)))
        x.won(company_id, cutoff - days(30), close, "history")
    for key, lag in (("provider_legacy", 60), ("elite_legacy", 100), ("left_legacy", 200)):
        if key in x.m:
            m = x.m[key]
            company_id, _ = x.prospect(m.joined, x.req(m.code, m.joined + days(lag)))
            x.won(company_id, m.joined + days(lag + 5), m.joined + days(lag + 30))
    downgraded = x.m.get("downgraded")
    if downgraded is not None and downgraded.exit_at is not None:
        for start in (downgraded.joined + days(60), downgraded.exit_at - days(60)):
            company_id, _ = x.prospect(start - days(10), x.req(downgraded.code, start))
            x.won(company_id, start + days(5), start + days(30))


CASES: tuple[tuple[tuple[str, ...], Callable[[Ctx], None]], ...] = (
    (("platinum", "diamond"), _ties_and_collisions),
    (("platinum", "diamond"), _reregistrations),
    (("platinum",), _bad_domains),
    (("partner_new", "left_legacy"), _outside_membership),
    (("platinum", "diamond"), _unavailable),
    (("platinum", "diamond"), _deal_edges),
    (("platinum",), _revenue),
    (("legacy_gold",), _plans),
)


def run_cases(b: Builder, p: Prospects, members: list[Member], legacy_cutoff: date) -> None:
    """Create every case whose members exist (into the builder's current block)."""
    first: dict[str, Member] = {}
    for m in members:
        first.setdefault(m.archetype.key, m)
    ctx = Ctx(b, p, first, legacy_cutoff)
    for needs, case in CASES:
        if all(key in first for key in needs):
            case(ctx)
