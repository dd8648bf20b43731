"""In: registration requests set on companies in a member's portal become that member's requests
on the program portal's company with the same domain.

A member-portal company with any request date (registration, re-registration, deregistration)
is a request by the portal's member, always: the member's code is written as "requested by" on
the program side whatever the member's company says. A company naming another code in its
"requested by" is refused and reported (``request_for_other_member``); one without a usable
domain is skipped and reported (``missing_domain``); an unparseable date likewise
(``invalid_request_date``).

On the program portal the request goes onto, in order: the company linked to this member-portal
company before; a company with that domain carrying no request or this member's; else a new
company with that domain (another member's request on a company is never overwritten: the rules
then decide between the two requests, first come first served). Only differences are written.
Returns the program company ids whose request changed or is not yet mirrored (to be re-read and
decided).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from mappers.parse import parse_date
from policies.domains import registrable_domain
from policies.model import Problem
from sync.gateway import CrmRecord, Gateway
from sync.portals.contract import MemberContract
from sync.portals.member_ops import create_companies, search_by_domain, search_having
from sync.portals.outbound import changes
from sync.portals.repo import PortalRepo
from sync.store import Store

__all__ = ["InResult", "MemberRequest", "carry_requests", "read_requests"]


@dataclass(frozen=True, slots=True)
class MemberRequest:
    member_company_id: str
    domain: str
    values: Mapping[str, str]  # requested_by and the request dates, program-ready


@dataclass(slots=True)
class InResult:
    requests: int = 0
    written: int = 0
    created: int = 0
    to_decide: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _request(rec: CrmRecord, code: str, member: MemberContract) -> MemberRequest | Problem:
    props = rec.properties
    named = (props.get(member.requested_by) or "").strip()
    if named and named.upper() != code.upper():
        return Problem("company", rec.id, "request_for_other_member",
                       f"names partner code {named!r}; a member may only request for itself")
    domain = registrable_domain(props.get("domain")) or registrable_domain(props.get("website"))
    if domain is None:
        return Problem("company", rec.id, "missing_domain",
                       "the company has no usable domain or website")
    values = {member.requested_by: code}
    for name in member.requests:
        raw = props.get(name)
        parsed = parse_date(raw)
        if raw and not isinstance(parsed, date):
            return Problem("company", rec.id, "invalid_request_date", f"{name}={raw!r}")
        values[name] = parsed.isoformat() if isinstance(parsed, date) else ""
    return MemberRequest(rec.id, domain, values)


def read_requests(gateway: Gateway, code: str,
                  member: MemberContract) -> tuple[list[MemberRequest], list[Problem]]:
    """Every request in the member's portal, and the refused or unusable ones as problems."""
    wanted = ["domain", "website", member.requested_by, *member.requests]
    requests: list[MemberRequest] = []
    problems: list[Problem] = []
    for rec in search_having(gateway, member.requests, wanted):
        found = _request(rec, code, member)
        if isinstance(found, Problem):
            problems.append(found)
        else:
            requests.append(found)
    return requests, problems


def _choose(candidates: list[CrmRecord], linked: str | None, code: str,
            member: MemberContract) -> CrmRecord | None:
    for rec in candidates:
        if rec.id == linked:
            return rec
    for rec in candidates:
        owner = (rec.properties.get(member.requested_by) or "").strip().upper()
        if owner in ("", code.upper()):
            return rec
    return None


def carry_requests(program: Gateway, store: Store, repo: PortalRepo, hub_id: int, code: str,
                   requests: list[MemberRequest], member: MemberContract) -> InResult:
    """Write the requests onto program companies (see module)."""
    result = InResult(requests=len(requests))
    if not requests:
        return result
    links = repo.links(hub_id)
    by_domain: dict[str, list[CrmRecord]] = {}
    wanted = [member.requested_by, *member.requests]
    for rec in search_by_domain(program, [r.domain for r in requests], wanted):
        domain = registrable_domain(rec.properties.get("domain"))
        if domain is not None:
            by_domain.setdefault(domain, []).append(rec)
    _add_linked(program, links, by_domain, wanted)
    targets: dict[str, CrmRecord] = {}
    homeless: list[MemberRequest] = []
    for req in requests:
        linked = links.get(req.member_company_id, ("", None))[1]
        chosen = _choose(by_domain.get(req.domain, []), linked, code, member)
        if chosen is None or chosen.id in {t.id for t in targets.values()}:
            homeless.append(req)
        else:
            targets[req.member_company_id] = chosen
    if homeless:
        domains = sorted({r.domain for r in homeless})  # one new company per domain
        made, failed = create_companies(program, [{"name": d, "domain": d} for d in domains])
        result.created = len(made)
        result.problems += failed
        by_new_domain = {registrable_domain(rec.properties.get("domain")): rec for rec in made}
        for req in homeless:
            if req.domain in by_new_domain:
                targets[req.member_company_id] = by_new_domain[req.domain]
    requests = [r for r in requests if r.member_company_id in targets]
    updates: dict[str, dict[str, str]] = {}
    for req in requests:
        target = targets[req.member_company_id]
        repo.save_link(hub_id, req.member_company_id, req.domain, target.id)
        patch = changes(req.values, target.properties)
        if patch:
            updates[target.id] = {**updates.get(target.id, {}), **patch}
    if updates:
        written = program.batch_update(
            "companies", [{"id": i, "properties": p} for i, p in sorted(updates.items())])
        result.written = len(written.succeeded)
        result.problems += [Problem("company", ",".join(e.ids), "write_failed", e.message)
                            for e in written.errors]
    result.to_decide = _not_mirrored(store, targets, requests, member)
    return result


def _add_linked(program: Gateway, links: Mapping[str, tuple[str, str]],
                by_domain: dict[str, list[CrmRecord]], properties: list[str]) -> None:
    """Linked program companies search did not return (search lags writes) are read by id, so
    a company created for a request is never created twice."""
    found = {rec.id for recs in by_domain.values() for rec in recs}
    missing = {program_id: domain for domain, program_id in links.values()
               if program_id not in found}
    if missing:
        for rec in program.batch_read("companies", sorted(missing), properties).succeeded:
            by_domain.setdefault(missing[rec.id], []).append(rec)


def _not_mirrored(store: Store, targets: Mapping[str, CrmRecord], requests: list[MemberRequest],
                  member: MemberContract) -> list[str]:
    """Program companies whose mirrored request differs from what the member asked."""
    ids = {targets[r.member_company_id].id: r for r in requests}
    mirrored = store.get_records("companies", ids)
    return sorted(i for i, req in ids.items()
                  if i not in mirrored or changes(req.values, mirrored[i].properties))
