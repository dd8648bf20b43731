"""Builds scenario records: sequential ids per object type, HubSpot system properties, blocks.

A ``Builder`` hands out ids in call order, so running the same scenario code with the same seed
twice (once for the records, once for the associations) yields the same ids both times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from random import Random

from config.contract import CrmContract
from sandbox.dataset import SeedAssociation, SeedRecord
from sandbox.gen.fmt import day_ms, fmt_date, fmt_money, iso_ms
from sandbox.gen.profiles import ID_BASE

__all__ = ["CREATED", "MODIFIED", "Block", "Builder"]

CREATED = {"contacts": "createdate", "companies": "createdate", "deals": "createdate",
           "subscriptions": "hs_createdate"}
MODIFIED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
            "deals": "hs_lastmodifieddate", "subscriptions": "hs_lastmodifieddate"}


@dataclass(slots=True)
class Block:
    """The records and associations of one scenario (a member and its prospects, or a case)."""

    records: list[SeedRecord] = field(default_factory=list)
    associations: list[SeedAssociation] = field(default_factory=list)


class Builder:
    """Creates records into the current block; ``take()`` hands the block over and starts anew."""

    def __init__(self, contract: CrmContract, today: date, rng: Random) -> None:
        self.c = contract
        self.today = today
        self.rng = rng
        self.next_id = dict(ID_BASE)
        self.block = Block()

    def take(self) -> Block:
        block, self.block = self.block, Block()
        return block

    def _moment(self, day: date) -> int:
        # Office hours, so a record created "on" a date stays on that UTC date.
        return day_ms(day) + int(self.rng.random() * 10 * 3_600_000) + 7 * 3_600_000

    def record(self, object_type: str, props: dict[str, str], created: date,
               updated: date | None = None) -> str:
        """Add a record; ``updated`` (default: ``created``) is its last modification date."""
        object_id = str(self.next_id[object_type])
        self.next_id[object_type] += 1
        created_ms = self._moment(min(created, self.today))
        updated_ms = max(created_ms, self._moment(min(updated or created, self.today)))
        props[CREATED[object_type]] = iso_ms(created_ms)
        props[MODIFIED[object_type]] = iso_ms(updated_ms)
        self.block.records.append(
            SeedRecord(object_type, object_id, props, created_ms, updated_ms))
        return object_id

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str,
                  *, primary: bool = False) -> None:
        self.block.associations.append(
            SeedAssociation(from_type, from_id, to_type, to_id, primary=primary))

    def company(self, name: str, domain: str | None, created: date, *,
                updated: date | None = None, props: dict[str, str] | None = None) -> str:
        values = {"name": name, **(props or {})}
        if domain is not None:
            values["domain"] = domain
        values.setdefault("lifecyclestage", "lead")
        return self.record("companies", values, created, updated)

    def contact(self, first: str, last: str, email: str | None, created: date, *,
                company_id: str | None = None, updated: date | None = None,
                props: dict[str, str] | None = None) -> str:
        values = {"firstname": first, "lastname": last, **(props or {})}
        if email is not None:
            values["email"] = email
        values.setdefault("lifecyclestage", "lead")
        contact_id = self.record("contacts", values, created, updated)
        if company_id is not None:
            self.associate("contacts", contact_id, "companies", company_id, primary=True)
        return contact_id

    def deal(self, name: str, company_id: str | None, created: date, *, stage: str,
             close: date | None, amount_cents: int, currency: str = "USD",
             owner: str | None = None, props: dict[str, str] | None = None) -> str:
        values = {"dealname": name, "pipeline": "default", "dealstage": stage,
                  "amount": fmt_money(amount_cents), "deal_currency_code": currency,
                  **(props or {})}
        if close is not None:
            values["closedate"] = iso_ms(day_ms(close) + 12 * 3_600_000)
        if owner is not None:
            values["hubspot_owner_id"] = owner
        updated = max(created, close) if close is not None else created
        deal_id = self.record("deals", values, created, updated)
        if company_id is not None:
            self.associate("deals", deal_id, "companies", company_id, primary=True)
        return deal_id

    def subscription(self, name: str, deal_id: str, start: date | None, *, status: str,
                     mrr_cents: list[tuple[date, int]], end: date | None = None,
                     currency: str = "USD") -> str:
        """A monthly subscription; ``mrr_cents`` is its MRR over time, oldest first.

        The last entry is the current ``hs_mrr``; earlier ones become its history. The record's
        last modification is the last MRR change (or the end date).
        """
        values = {"hs_name": name, "hs_status": status, "hs_currency_code": currency,
                  "hs_recurring_billing_frequency": "monthly",
                  "hs_mrr": fmt_money(mrr_cents[-1][1])}
        if start is not None:
            values["hs_recurring_billing_start_date"] = fmt_date(start)
        if end is not None:
            values["hs_recurring_billing_end_date"] = fmt_date(end)
        created = start or mrr_cents[0][0]
        # The sandbox stamps the current value with the record's last modification, so a record
        # with MRR history is last modified at its last MRR change.
        updated = mrr_cents[-1][0]
        if len(mrr_cents) == 1 and end is not None and end <= self.today:
            updated = end
        sub_id = self.record("subscriptions", values, created, updated)
        if len(mrr_cents) > 1:
            # History timestamps sit at midnight of the change, so "MRR in force at m_j" is exact.
            record = self.block.records[-1]
            record.history["hs_mrr"] = [(day_ms(d), fmt_money(v)) for d, v in mrr_cents[:-1]]
        self.associate("deals", deal_id, "subscriptions", sub_id)
        return sub_id

