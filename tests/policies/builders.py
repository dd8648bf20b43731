"""Small builders for policy tests: readable programs without giant literals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from config import ProgramTerms, load_terms
from policies.evaluate import evaluate_program
from policies.model import (
    Company,
    Contact,
    Deal,
    Decision,
    ExitKind,
    Member,
    MemberKind,
    MrrChange,
    Program,
    ProgramResult,
    RecordKind,
    RegistrationOutput,
    RegistrationRequest,
    Subscription,
    Tier,
)

TERMS = load_terms()


def d(text: str) -> date:
    """``d("2024-01-10")``."""
    return date.fromisoformat(text)


def partner(code: str, joined: str = "2023-06-01", **kw: Any) -> Member:
    """A certified professional partner with paperwork done at joining (override via kw)."""
    fields: dict[str, Any] = {
        "certified": True,
        "hubspot_plan": "professional",
        "paperwork_completed_at": d(joined),
    }
    fields.update(kw)
    return Member(f"m-{code}", code, MemberKind.PARTNER, joined_at=d(joined), **fields)


def provider(code: str, joined: str = "2018-06-01", **kw: Any) -> Member:
    fields: dict[str, Any] = {
        "hubspot_plan": "starter",
        "onboarding_completed_at": d(joined),
        "paperwork_completed_at": d(joined),
    }
    fields.update(kw)
    return Member(f"m-{code}", code, MemberKind.PROVIDER, joined_at=d(joined), **fields)


def request(
    by: str | None, at: str | None, rereg: str | None = None, dereg: str | None = None
) -> RegistrationRequest:
    return RegistrationRequest(
        by, d(at) if at else None, d(rereg) if rereg else None, d(dereg) if dereg else None
    )


def company(cid: str, domain: str | None = None, **kw: Any) -> Company:
    return Company(cid, domain=domain, **kw)


def requesting_company(cid: str, domain: str, by: str, at: str, **kw: Any) -> Company:
    return Company(cid, domain=domain, request=request(by, at, **kw))


def requesting_contact(kid: str, email: str, by: str, at: str, **kw: Any) -> Contact:
    return Contact(kid, email=email, request=request(by, at, **kw))


def deal(
    did: str,
    company_id: str | None,
    close: str | None = None,
    subs: Iterable[str] = (),
    **kw: Any,
) -> Deal:
    stage = "closedwon" if close else "appointmentscheduled"
    return Deal(
        did,
        stage=stage,
        close_date=d(close) if close else None,
        primary_company_id=company_id,
        subscription_ids=tuple(subs),
        **kw,
    )


def subscription(
    sid: str,
    start: str,
    *mrr: tuple[str, str] | str,
    end: str | None = None,
    status: str = "active",
    currency: str | None = "EUR",
) -> Subscription:
    """``subscription("s1", "2024-01-01", "100")`` or with history ``("2024-01-01", "100")``."""
    history = tuple(
        MrrChange(d(m[0]), Decimal(m[1]))
        if isinstance(m, tuple)
        else MrrChange(d(start), Decimal(m))
        for m in mrr
    )
    return Subscription(sid, status, d(start), d(end) if end else None, history, currency)


def program(*parts: object, decisions: Iterable[Decision] = ()) -> Program:
    """Sort mixed parts into a Program by type."""
    return Program(
        members=tuple(p for p in parts if isinstance(p, Member)),
        companies=tuple(p for p in parts if isinstance(p, Company)),
        contacts=tuple(p for p in parts if isinstance(p, Contact)),
        deals=tuple(p for p in parts if isinstance(p, Deal)),
        subscriptions=tuple(p for p in parts if isinstance(p, Subscription)),
        decisions={(x.record_kind, x.record_id): x for x in decisions},
    )


def evaluate(prog: Program, as_of: str, terms: ProgramTerms = TERMS) -> ProgramResult:
    return evaluate_program(prog, terms, d(as_of))


def reg(result: ProgramResult, kind: RecordKind, rid: str) -> RegistrationOutput:
    return result.registrations[(kind, rid)]


__all__ = [
    "TERMS",
    "ExitKind",
    "Tier",
    "company",
    "d",
    "deal",
    "evaluate",
    "partner",
    "program",
    "provider",
    "reg",
    "request",
    "requesting_company",
    "requesting_contact",
    "subscription",
]
