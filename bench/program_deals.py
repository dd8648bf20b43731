"""Deals and subscriptions for the program generator (``bench.program_gen``).

Deals mostly land on companies that carry a registration request (so many of them qualify),
the rest on fresh companies (some existing customers, some owned by direct sales) or on nothing.
Closed-won deals get the subscriptions: upgrades and downgrades through the MRR history, a
follow-on subscription that replaces a cancelled one (the POLICY.md R7.5 shape), cancellations,
``past_due``/``unpaid`` and a little bad data (no start date, no MRR, another currency).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from policies.model import Company, Deal, MrrChange, Subscription

__all__ = ["DealMaker"]

_PRICES = tuple(Decimal(p) for p in ("20", "45", "50", "90.50", "400", "800", "1200", "3200"))
_OPEN_STAGES = ("appointmentscheduled", "qualifiedtobuy", "contractsent", "closedlost")

FreshCompany = Callable[[float, float], Company]


class DealMaker:
    """Builds the deals and subscriptions of one generated program."""

    def __init__(
        self, rng: random.Random, start: date, end: date, codes: list[str],
        direct_owners: tuple[str, ...],
    ) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        self.codes = codes
        self.direct_owners = direct_owners

    def _day(self, lo: date, span_days: int) -> date:
        return lo + timedelta(days=self.rng.randrange(max(1, span_days)))

    def make(
        self, deal_count: int, sub_count: int, carriers: list[Company], fresh: FreshCompany
    ) -> tuple[list[Deal], list[Subscription], list[Company]]:
        """``deal_count`` deals, ``sub_count`` subscriptions and the new companies they use."""
        companies: list[Company] = []
        deals = [self._deal(i, carriers, companies, fresh) for i in range(deal_count)]
        subscriptions = self._attach_subscriptions(deals, sub_count)
        return deals, subscriptions, companies

    def _deal(
        self, i: int, carriers: list[Company], new: list[Company], fresh: FreshCompany
    ) -> Deal:
        rng = self.rng
        created = self._day(self.start, (self.end - self.start).days)
        roll = rng.random()
        company: Company | None = None
        if roll < 0.65 and carriers:
            company = rng.choice(carriers)
        elif roll < 0.93:
            company = fresh(0.25, 0.1)
            new.append(company)
        primary = company.company_id if company else ("c-missing" if roll > 0.98 else None)
        shared_by = None
        if rng.random() < 0.4 and self.codes:
            request = company.request if company else None
            shared_by = (
                request.requested_by if request and rng.random() < 0.6 else rng.choice(self.codes)
            )
        won = rng.random() < 0.55
        closed = None
        if won or rng.random() < 0.3:
            closed = created + timedelta(days=rng.randrange(0, 150))
        if won and rng.random() < 0.01:
            closed = None  # closed-won without a close date: a data problem
        override = reason = None
        if won and rng.random() < 0.02 and self.codes:
            override = rng.choice(self.codes)
            reason = "best partner wins" if rng.random() < 0.75 else None
        return Deal(
            deal_id=f"D{i}",
            stage="closedwon" if won else rng.choice(_OPEN_STAGES),
            close_date=closed,
            create_date=created,
            primary_company_id=primary,
            shared_by=shared_by,
            cross_sell_confirmed=rng.random() < 0.08,
            override_code=override,
            override_reason=reason,
            currency="EUR" if rng.random() < 0.7 else "USD",
        )

    def _attach_subscriptions(self, deals: list[Deal], count: int) -> list[Subscription]:
        """Spread ``count`` subscriptions over closed-won deals (any deal when there are none)."""
        targets = [i for i, d in enumerate(deals) if d.stage == "closedwon"] or list(
            range(len(deals))
        )
        if not targets:
            return []
        order = targets[:]
        self.rng.shuffle(order)
        owners = [order[k % len(order)] for k in range(min(count, len(order)))]
        owners += [self.rng.choice(targets) for _ in range(count - len(owners))]
        per_deal: dict[int, list[Subscription]] = {}
        for n, index in enumerate(owners):
            previous = per_deal.setdefault(index, [])
            previous.append(self._subscription(f"S{n}", deals[index], previous))
        for index, subs in per_deal.items():
            ids = tuple(s.subscription_id for s in subs)
            if self.rng.random() < 0.005:
                ids += ("S-missing",)
            deals[index] = replace(deals[index], subscription_ids=ids)
        return [s for subs in per_deal.values() for s in subs]

    def _subscription(self, sub_id: str, deal: Deal, previous: list[Subscription]) -> Subscription:
        rng = self.rng
        anchor = deal.close_date or deal.create_date or self.start
        lag_days = rng.randrange(0, 20) if rng.random() < 0.6 else 0
        start: date | None = anchor + timedelta(days=lag_days)
        if previous and previous[-1].end_date is None and rng.random() < 0.5:
            # Follow-on (R7.5 shape): the last one ends where this one starts.
            start = _later(previous[-1].start_date or anchor, rng.randrange(60, 400))
            previous[-1] = replace(previous[-1], end_date=start, status="canceled")
        price = rng.choice(_PRICES)
        history = [MrrChange(start or anchor, price)]
        if rng.random() < 0.25:  # upgrade (mostly) or downgrade later on
            factor = Decimal(rng.choice(("2", "1.5", "0.5")))
            changed = _later(start or anchor, rng.randrange(40, 700))
            history.append(MrrChange(changed, price * factor))
        status, end = "active", None
        roll = rng.random()
        if roll < 0.08:
            status = "past_due"
        elif roll < 0.11:
            status = "unpaid"
        elif roll < 0.25:
            status, end = "canceled", _later(start or anchor, rng.randrange(30, 800))
        if rng.random() < 0.01:
            start = None
        if rng.random() < 0.01:
            history = []
        currency = deal.currency if rng.random() < 0.99 else "GBP"
        return Subscription(sub_id, status, start, end, tuple(history), currency)


def _later(day: date, days: int) -> date:
    return day + timedelta(days=days)


