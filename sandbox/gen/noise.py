"""The bulk of the portal: plain CRM records with no program properties, streamed.

Everything another stream must agree on (a contact's company, a deal's stage and close date, a
subscription's deal) is a pure function of (seed, index) through ``mix``, so the records stream
and the associations stream never need to remember anything. Values nobody cross-references
come from a seeded ``random.Random``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from random import Random

from sandbox.dataset import SeedAssociation, SeedRecord
from sandbox.gen.build import CREATED, MODIFIED
from sandbox.gen.fmt import DAY_MS, day_ms, days, fmt_date, fmt_money, iso_ms, mix
from sandbox.gen.profiles import DIRECT_SALES_OWNER_IDS, SALES_OWNER_IDS
from sandbox.gen.scenarios import OPEN_STAGES
from sandbox.gen.words import (
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FIRST_NAMES,
    FREE_EMAIL,
    LAST_NAMES,
    TLDS,
)

__all__ = ["NoisePlan"]

_CO, _CT, _DEAL, _SUB = 11, 12, 13, 14  # mix() streams
_SPAN_DAYS = 1096  # ~36 months of history
_LIFECYCLE = ("subscriber", "lead", "lead", "marketingqualifiedlead", "salesqualifiedlead",
              "opportunity", "customer", "other")


def _ascii(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


_FIRST_ASCII = tuple(_ascii(n) for n in FIRST_NAMES)


@dataclass(frozen=True, slots=True)
class NoisePlan:
    """How many noise records of each type there are and where their ids start."""

    seed: int
    today: date
    companies: int
    contacts: int
    deals: int
    subscriptions: int
    first_id: dict[str, int]  # object type -> first noise id (after the scenario records)

    # --- pure, index-based facts shared by the streams ---
    def company_domain(self, i: int) -> str:
        h = mix(self.seed, _CO, i)
        word = COMPANY_WORDS[h % 30]
        suffix = COMPANY_SUFFIXES[(h >> 8) % len(COMPANY_SUFFIXES)]
        return f"{word}{suffix}{i}.{TLDS[(h >> 16) % len(TLDS)]}"

    def contact_company(self, i: int) -> int | None:
        h = mix(self.seed, _CT, i)
        if self.companies == 0 or h % 10 >= 7:
            return None
        return (h >> 8) % self.companies

    def deal_company(self, j: int) -> int | None:
        h = mix(self.seed, _DEAL, j)
        if self.companies == 0 or h % 20 == 0:  # 5% of deals have no company
            return None
        return (h >> 8) % self.companies

    def deal_close(self, j: int) -> date:
        return self.today - days((mix(self.seed, _DEAL, j) >> 24) % _SPAN_DAYS)

    @staticmethod
    def deal_won(j: int) -> bool:
        return j % 5 < 2

    def closed_deals(self) -> int:
        return (self.deals // 5) * 2 + min(self.deals % 5, 2)

    def subscription_deal(self, k: int) -> int | None:
        won = self.closed_deals()
        if won == 0:
            return None
        m = k % won
        return (m // 2) * 5 + m % 2

    @property
    def today_ms(self) -> int:
        return day_ms(self.today)

    def id(self, object_type: str, index: int) -> str:
        return str(self.first_id[object_type] + index)

    # --- streams ---
    def records(self) -> Iterator[SeedRecord]:
        yield from self._companies(Random(f"{self.seed}/companies"))
        yield from self._contacts(Random(f"{self.seed}/contacts"))
        yield from self._deals(Random(f"{self.seed}/deals"))
        yield from self._subscriptions(Random(f"{self.seed}/subscriptions"))

    def associations(self) -> Iterator[SeedAssociation]:
        for i in range(self.contacts):
            co = self.contact_company(i)
            if co is not None:
                yield SeedAssociation("contacts", self.id("contacts", i), "companies",
                                      self.id("companies", co), primary=True)
        for j in range(self.deals):
            co = self.deal_company(j)
            if co is not None:
                yield SeedAssociation("deals", self.id("deals", j), "companies",
                                      self.id("companies", co), primary=True)
        for k in range(self.subscriptions):
            deal = self.subscription_deal(k)
            if deal is not None:
                yield SeedAssociation("deals", self.id("deals", deal), "subscriptions",
                                      self.id("subscriptions", k))

    def _record(self, rng: Random, object_type: str, index: int, props: dict[str, str],
                created_ms: int | None = None) -> SeedRecord:
        today_ms = self.today_ms
        if created_ms is None:
            created_ms = today_ms - int(rng.random() * _SPAN_DAYS * DAY_MS)
        updated_ms = created_ms + int(rng.random() * (today_ms - created_ms))
        props[CREATED[object_type]] = iso_ms(created_ms)
        props[MODIFIED[object_type]] = iso_ms(updated_ms)
        return SeedRecord(object_type, self.id(object_type, index), props, created_ms,
                          updated_ms)

    def _companies(self, rng: Random) -> Iterator[SeedRecord]:
        r = rng.random
        for i in range(self.companies):
            domain = self.company_domain(i)
            props = {"name": domain.split(".")[0].title(), "domain": domain,
                     "lifecyclestage": _LIFECYCLE[int(r() * len(_LIFECYCLE))]}
            roll = r()
            if roll < 0.03:
                props["hubspot_owner_id"] = DIRECT_SALES_OWNER_IDS[int(roll * 1000) % 2]
            elif roll < 0.3:
                props["hubspot_owner_id"] = SALES_OWNER_IDS[int(roll * 1000) % 4]
            yield self._record(rng, "companies", i, props)

    def _contacts(self, rng: Random) -> Iterator[SeedRecord]:
        r = rng.random
        for i in range(self.contacts):
            f = int(r() * len(FIRST_NAMES))
            props = {"firstname": FIRST_NAMES[f],
                     "lastname": LAST_NAMES[int(r() * len(LAST_NAMES))],
                     "lifecyclestage": _LIFECYCLE[int(r() * len(_LIFECYCLE))]}
            co, roll = self.contact_company(i), r()
            if co is not None and roll < 0.85:
                props["email"] = f"{_FIRST_ASCII[f]}.{i}@{self.company_domain(co)}"
            elif roll < 0.97:
                props["email"] = f"{_FIRST_ASCII[f]}{i}@{FREE_EMAIL[i % len(FREE_EMAIL)]}"
            yield self._record(rng, "contacts", i, props)

    def _deals(self, rng: Random) -> Iterator[SeedRecord]:
        r = rng.random
        for j in range(self.deals):
            close = self.deal_close(j)
            props = {"dealname": f"Deal {j}", "pipeline": "default",
                     "amount": fmt_money(1_000 * (1 + int(r() * 500))),
                     "deal_currency_code": "EUR" if r() < 0.2 else "USD",
                     "hubspot_owner_id": SALES_OWNER_IDS[int(r() * 4)]}
            if self.deal_won(j):
                props["dealstage"] = "closedwon"
            elif j % 5 == 2:
                props["dealstage"] = "closedlost"
            else:
                props["dealstage"] = OPEN_STAGES[int(r() * len(OPEN_STAGES))]
            if props["dealstage"].startswith("closed"):
                props["closedate"] = iso_ms(day_ms(close) + 12 * 3_600_000)
            created = day_ms(close) - int(r() * 90) * DAY_MS - 3_600_000
            yield self._record(rng, "deals", j, props, created_ms=created)

    def _subscriptions(self, rng: Random) -> Iterator[SeedRecord]:
        r = rng.random
        for k in range(self.subscriptions):
            deal = self.subscription_deal(k)
            start = self.deal_close(deal) if deal is not None else self.today - days(30)
            props = {"hs_name": f"Subscription {k}", "hs_status": "active",
                     "hs_recurring_billing_start_date": fmt_date(start),
                     "hs_recurring_billing_frequency": "monthly", "hs_currency_code": "USD",
                     "hs_mrr": fmt_money(500 * (4 + int(r() * 400)))}
            roll = r()
            if roll < 0.1:
                end = start + days(30 * (1 + int(r() * 11)))
                props["hs_recurring_billing_end_date"] = fmt_date(end)
                props["hs_status"] = "canceled" if end <= self.today else "active"
            elif roll < 0.13:
                props["hs_status"] = "past_due"
            yield self._record(rng, "subscriptions", k, props, created_ms=day_ms(start))
