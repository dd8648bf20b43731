"""HubSpot records -> ``policies.model.Program`` (and the data problems met on the way).

What a reader can rely on (DESIGN.md "Bad input": report, then skip or leave empty):

- Archived records and object types other than companies, contacts, deals and subscriptions are
  ignored.
- An unusable date, number or bool leaves that field ``None`` (bools: ``False``) with a problem
  ``invalid_date``/``invalid_number``/``invalid_bool``; the record is still mapped.
- A company is a **member** when its program type is set. An unknown type (``unknown_program_type``)
  skips the membership (the company stays a plain company). A member without a code
  (``member_without_code``, the rules engine's code and detail, so the report lists it once) is
  kept with ``code=None``: it still gets its member outputs, but no request can name it. Codes are
  passed on as typed (stripped); duplicates are the rules engine's to settle and report. An
  unknown tier (``unknown_tier``) reads as untiered (the lowest capacity), an unknown own plan
  (``unknown_hubspot_plan``) as ``none``, an unknown exit (``unknown_program_exit``) as no exit.
- Request dates without a partner code are reported (``incomplete_registration_request``) and
  passed on as read; a code without a request date is the rules' ``missing_request_date`` (R2.1).
- Primary companies: see ``mappers.fields.primary_id`` (``ambiguous_primary_company``).
- A deal in a closed-won stage without a close date is reported (``missing_close_date``).
- Sticky decisions (R2.3) are read back from the records (``mappers.decisions.read_back``;
  requests that joined another claim are kept when that claim is known, ``anchor_joined``) and
  merged under the store's ``decisions``, which win.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from typing import Final

from config.contract import CrmContract
from config.terms import ProgramTerms
from mappers.decisions import Joined, anchor_joined, merge_decisions, read_back
from mappers.fields import (
    CONTACT_TO_COMPANY_PRIMARY,
    DEAL_TO_COMPANY_PRIMARY,
    FieldReader,
    HubSpotNames,
    primary_id,
    sorted_ids,
)
from mappers.parse import Invalid
from mappers.records import RawRecord
from mappers.subscriptions import subscription_from_record
from policies.model import (
    Company,
    Contact,
    Deal,
    Decision,
    ExitKind,
    Member,
    MemberKind,
    Problem,
    Program,
    RecordKind,
    RegistrationRequest,
    Subscription,
    Tier,
)
from policies.reasons import ProblemCode

__all__ = [
    "INCOMPLETE_REGISTRATION_REQUEST",
    "MEMBER_WITHOUT_CODE",
    "MISSING_CLOSE_DATE",
    "UNKNOWN_HUBSPOT_PLAN",
    "UNKNOWN_PROGRAM_EXIT",
    "UNKNOWN_PROGRAM_TYPE",
    "UNKNOWN_TIER",
    "to_program",
]

UNKNOWN_PROGRAM_TYPE: Final = "unknown_program_type"
MEMBER_WITHOUT_CODE: Final = ProblemCode.MEMBER_WITHOUT_CODE.value
UNKNOWN_TIER: Final = "unknown_tier"
UNKNOWN_HUBSPOT_PLAN: Final = "unknown_hubspot_plan"
UNKNOWN_PROGRAM_EXIT: Final = "unknown_program_exit"
INCOMPLETE_REGISTRATION_REQUEST: Final = "incomplete_registration_request"
MISSING_CLOSE_DATE: Final = "missing_close_date"

H = HubSpotNames
DecisionKey = tuple[RecordKind, str]


def to_program(
    records: Iterable[RawRecord],
    contract: CrmContract,
    terms: ProgramTerms,
    decisions: Mapping[DecisionKey, Decision] | None = None,
) -> tuple[Program, tuple[Problem, ...]]:
    """Map every record (any order, one pass) to the ``Program`` the rules evaluate.

    ``decisions`` are the store's sticky decisions; they win over those read back from records.
    Problems come in record order. Never raises on bad values.
    """
    mapper = _Mapper(contract, terms)
    handlers = {
        "companies": mapper.company,
        "contacts": mapper.contact,
        "deals": mapper.deal,
        "subscriptions": mapper.subscription,
    }
    # A full sync creates millions of small acyclic objects; the cyclic GC would rescan them
    # over and over (half the mapping time at 1.4M records). Nothing here makes cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for record in records:
            handler = handlers.get(record.object_type)
            if handler is not None and not record.archived:
                handler(record)
        return mapper.finish(decisions or {})
    finally:
        if was_enabled:
            gc.enable()


class _Mapper:
    """Accumulates the program's parts over one pass of records."""

    def __init__(self, contract: CrmContract, terms: ProgramTerms) -> None:
        self.c = contract
        self.terms = terms
        self.closed_won = frozenset(terms.deals.closed_won_stages)
        plan_options = {s.name: s.options for s in contract.property_specs()}
        self.hubspot_plans = frozenset(plan_options.get(contract.hubspot_plan, ()))
        self.request_names = (
            contract.registration_requested_by, contract.registration_requested_at,
            contract.reregistration_requested_at, contract.deregistration_requested_at,
        )
        self.problems: list[Problem] = []
        self.members: list[Member] = []
        self.companies: list[Company] = []
        self.contacts: list[Contact] = []
        self.deals: list[Deal] = []
        self.subscriptions: list[Subscription] = []
        self.crm_decisions: dict[DecisionKey, Decision] = {}
        self.joined: list[Joined] = []

    # -- companies, members, contacts -------------------------------------------------------

    def company(self, record: RawRecord) -> None:
        read = FieldReader(record, "company", self.problems)
        request = self._request(read)
        self.companies.append(Company(
            company_id=record.object_id,
            domain=read.text(H.DOMAIN),
            website=read.text(H.WEBSITE),
            owner_id=read.text(H.OWNER_ID),
            lifecycle_stage=read.lower(H.LIFECYCLE_STAGE),
            request=request,
        ))
        self._read_back(RecordKind.COMPANY, record, request)
        if record.prop(self.c.program_type) is not None:
            self._member(FieldReader(record, "member", self.problems))

    def _member(self, read: FieldReader) -> None:
        c = self.c
        kind = read.option(c.program_type, MemberKind, UNKNOWN_PROGRAM_TYPE)
        if kind is None:
            return
        code = read.text(c.code)
        if code is None:
            read.report(MEMBER_WITHOUT_CODE, "")
        plan = read.lower(c.hubspot_plan) or "none"
        if plan not in self.hubspot_plans:
            read.report(UNKNOWN_HUBSPOT_PLAN, f"{c.hubspot_plan}={plan!r}")
            plan = "none"
        self.members.append(Member(
            company_id=read.record.object_id,
            code=code,
            kind=kind,
            tier=read.option(c.tier, Tier, UNKNOWN_TIER) or Tier.UNTIERED,
            joined_at=read.date(c.joined_at),
            gold_reached_at=read.date(c.gold_reached_at),
            paperwork_completed_at=read.date(c.paperwork_completed_at),
            certified=read.flag(c.certified),
            onboarding_completed_at=read.date(c.onboarding_completed_at),
            hubspot_plan=plan,
            exit=read.option(c.program_exit, ExitKind, UNKNOWN_PROGRAM_EXIT),
            exit_at=read.date(c.program_exit_at),
        ))

    def contact(self, record: RawRecord) -> None:
        read = FieldReader(record, "contact", self.problems)
        request = self._request(read)
        company_id = primary_id(
            record, "companies", CONTACT_TO_COMPANY_PRIMARY, self.problems, "contact"
        )
        if company_id is None and "companies" not in record.associations:
            company_id = read.text(H.CONTACT_COMPANY_ID)  # associations not read: the property
        self.contacts.append(Contact(
            contact_id=record.object_id,
            email=read.text(H.EMAIL),
            primary_company_id=company_id,
            request=request,
        ))
        self._read_back(RecordKind.CONTACT, record, request)

    def _request(self, read: FieldReader) -> RegistrationRequest | None:
        c = self.c
        props = read.record.properties
        if not any(props.get(name) for name in self.request_names):
            return None  # most records carry no request: skip the parsing
        request = RegistrationRequest(
            requested_by=read.text(c.registration_requested_by),
            requested_at=read.date(c.registration_requested_at),
            reregistration_requested_at=read.date(c.reregistration_requested_at),
            deregistration_requested_at=read.date(c.deregistration_requested_at),
        )
        if request == _NO_REQUEST:
            return None
        if read.record.prop(c.registration_requested_by) is None:
            read.report(INCOMPLETE_REGISTRATION_REQUEST, f"{c.registration_requested_by} is empty")
        return request

    def _read_back(
        self, kind: RecordKind, record: RawRecord, request: RegistrationRequest | None
    ) -> None:
        if request is None or record.prop(self.c.registration_status) is None:
            return
        found = read_back(kind, record.object_id, request, record.properties, self.c, self.terms)
        if isinstance(found, Invalid):
            self.problems.append(Problem(
                kind.value, record.object_id, found.code,
                f"{self.c.registration_status}={found.raw!r}",
            ))
        elif isinstance(found, Joined):
            self.joined.append(found)
        elif found is not None:
            self.crm_decisions[(kind, record.object_id)] = found

    # -- deals and subscriptions ------------------------------------------------------------

    def deal(self, record: RawRecord) -> None:
        c = self.c
        read = FieldReader(record, "deal", self.problems)
        stage = read.text(H.DEAL_STAGE)
        close_date = read.date(H.CLOSE_DATE)
        if close_date is None and stage in self.closed_won and record.prop(H.CLOSE_DATE) is None:
            read.report(MISSING_CLOSE_DATE, f"{H.DEAL_STAGE}={stage!r} without {H.CLOSE_DATE}")
        subscriptions = record.associations.get("subscriptions", ())
        currency = read.text(H.DEAL_CURRENCY)
        self.deals.append(Deal(
            deal_id=record.object_id,
            stage=stage,
            close_date=close_date,
            create_date=read.date(H.CREATE_DATE),
            primary_company_id=primary_id(
                record, "companies", DEAL_TO_COMPANY_PRIMARY, self.problems, "deal"
            ),
            subscription_ids=sorted_ids([ref.to_id for ref in subscriptions]),
            shared_by=read.text(c.shared_by),
            cross_sell_confirmed=read.flag(c.cross_sell_confirmed),
            override_code=read.text(c.attribution_override),
            override_reason=read.text(c.attribution_override_reason),
            currency=None if currency is None else currency.upper(),
        ))

    def subscription(self, record: RawRecord) -> None:
        self.subscriptions.append(
            subscription_from_record(FieldReader(record, "subscription", self.problems))
        )

    # -- the end of the pass ----------------------------------------------------------------

    def _decisions(
        self, store: Mapping[DecisionKey, Decision]
    ) -> dict[DecisionKey, Decision]:
        merged = merge_decisions(store, self.crm_decisions)
        if self.joined:
            merged = merge_decisions(merged, anchor_joined(self.joined, merged, self.terms))
        return merged

    def finish(
        self, store_decisions: Mapping[DecisionKey, Decision]
    ) -> tuple[Program, tuple[Problem, ...]]:
        program = Program(
            members=tuple(self.members),
            companies=tuple(self.companies),
            contacts=tuple(self.contacts),
            deals=tuple(self.deals),
            subscriptions=tuple(self.subscriptions),
            decisions=self._decisions(store_decisions),
        )
        return program, tuple(self.problems)


_NO_REQUEST = RegistrationRequest()
