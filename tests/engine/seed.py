"""Hand-built sandbox datasets for engine tests: members, carriers, deals, subscriptions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from config.contract import CrmContract
from sandbox.dataset import Dataset, SeedAssociation, SeedProperty, SeedRecord
from sandbox.state import SandboxState

C = CrmContract()
T0 = int(datetime(2018, 1, 1, tzinfo=UTC).timestamp() * 1000)


def contract_properties(contract: CrmContract = C) -> list[SeedProperty]:
    return [
        SeedProperty(s.object_type, s.name, s.label, s.type, s.field_type, contract.group_name,
                     s.options)
        for s in contract.property_specs()
    ]


def ts(d: date) -> str:
    """A HubSpot datetime value at UTC midnight of ``d``."""
    return f"{d.isoformat()}T00:00:00.000Z"


@dataclass
class Seed:
    """Builds a ``Dataset``; ids are numbered per type from a base."""

    records: list[SeedRecord] = field(default_factory=list)
    links: list[SeedAssociation] = field(default_factory=list)
    next_id: dict[str, int] = field(default_factory=lambda: {
        "companies": 1000, "contacts": 2000, "deals": 3000, "subscriptions": 4000})

    def add(self, object_type: str, **props: str) -> str:
        self.next_id[object_type] += 1
        object_id = str(self.next_id[object_type])
        self.records.append(SeedRecord(object_type, object_id, dict(props), T0, T0))
        return object_id

    def member(self, code: str, kind: str, joined: date, domain: str, **extra: str) -> str:
        props = {C.program_type: kind, C.code: code, C.joined_at: joined.isoformat(),
                 "domain": domain, C.hubspot_plan: "professional", C.certified: "true"}
        props.update(extra)
        return self.add("companies", **props)

    def prospect(self, domain: str, by: str | None = None, at: date | None = None,
                 **extra: str) -> str:
        props = {"domain": domain, **extra}
        if by is not None:
            props[C.registration_requested_by] = by
        if at is not None:
            props[C.registration_requested_at] = at.isoformat()
        return self.add("companies", **props)

    def deal(self, company: str, closed: date | None, created: date, **extra: str) -> str:
        props = {"dealstage": "closedwon" if closed else "appointmentscheduled",
                 "createdate": ts(created), "deal_currency_code": "USD", **extra}
        if closed:
            props["closedate"] = ts(closed)
        deal_id = self.add("deals", **props)
        self.links.append(SeedAssociation("deals", deal_id, "companies", company, primary=True))
        return deal_id

    def subscription(self, deal: str, mrr: str, start: date, end: date | None = None,
                     status: str = "active") -> str:
        props = {"hs_mrr": mrr, "hs_recurring_billing_start_date": start.isoformat(),
                 "hs_status": status, "hs_currency_code": "USD"}
        if end:
            props["hs_recurring_billing_end_date"] = end.isoformat()
        sub_id = self.add("subscriptions", **props)
        self.links.append(SeedAssociation("deals", deal, "subscriptions", sub_id))
        return sub_id

    def dataset(self, with_properties: bool = True) -> Dataset:
        return Dataset(properties=contract_properties() if with_properties else (),
                       records=list(self.records), associations=list(self.links))


def value(state: SandboxState, object_type: str, object_id: str, name: str) -> str | None:
    """A property as the sandbox holds it now."""
    store = state.types[object_type]
    return store.raw(store.records[int(object_id)], name)
