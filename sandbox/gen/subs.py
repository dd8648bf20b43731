"""Commerce subscriptions behind closed deals: plain, MRR history, upgrades, ends, payment trouble.

Each kind is one R7 situation; ``add_subscriptions`` creates the kind's subscriptions for a deal.
"""

from __future__ import annotations

from datetime import date

from sandbox.gen.build import Builder
from sandbox.gen.fmt import add_months

__all__ = ["SUBSCRIPTION_KINDS", "add_subscriptions"]

SUBSCRIPTION_KINDS = (
    "plain",  # active, one MRR since the start
    "history",  # hs_mrr changed twice (upgrade, then downgrade): R7.3 via property history
    "upgrade_new",  # Starter ends when a new Pro subscription starts (R7.3, worked example R7.5)
    "canceled",  # canceled, with an end date
    "expired",  # ran its term and ended
    "past_due",  # latest month not received (R7.2)
    "unpaid",
    "no_start",  # bad input: no billing start date
    "mixed_currency",  # a EUR subscription next to the deal's USD one (bad input)
)


def _months_later(start: date, months: int, today: date) -> date | None:
    day = add_months(start, months)
    return day if day <= today else None


def add_subscriptions(b: Builder, deal_id: str, close: date, kind: str, mrr_cents: int,
                      currency: str = "USD") -> int:
    """Create the subscriptions of ``kind`` for a deal closed on ``close``; returns how many."""
    today, name = b.today, f"Subscription for deal {deal_id}"
    if kind == "history":
        up = _months_later(close, 4, today)
        down = _months_later(close, 9, today)
        steps = [(close, mrr_cents)]
        if up is not None:
            steps.append((up, mrr_cents * 3 // 2))
        if down is not None:
            steps.append((down, mrr_cents * 6 // 5))
        b.subscription(name, deal_id, close, status="active", mrr_cents=steps, currency=currency)
        return 1
    if kind == "upgrade_new":
        switch = add_months(close, 6)
        ended = switch <= today
        b.subscription(f"{name} (Starter)", deal_id, close,
                       status="expired" if ended else "active",
                       mrr_cents=[(close, mrr_cents // 8)], end=switch, currency=currency)
        if not ended:
            return 1
        b.subscription(f"{name} (Pro)", deal_id, switch, status="active",
                       mrr_cents=[(switch, mrr_cents)], currency=currency)
        return 2
    if kind in ("canceled", "expired"):
        end = _months_later(close, 5 if kind == "canceled" else 12, today)
        status = kind if end is not None else "active"
        b.subscription(name, deal_id, close, status=status, mrr_cents=[(close, mrr_cents)],
                       end=end, currency=currency)
        return 1
    if kind == "no_start":
        b.subscription(name, deal_id, None, status="active", mrr_cents=[(close, mrr_cents)],
                       currency=currency)
        return 1
    if kind == "mixed_currency":
        b.subscription(name, deal_id, close, status="active", mrr_cents=[(close, mrr_cents)],
                       currency=currency)
        other = "EUR" if currency != "EUR" else "USD"
        b.subscription(f"{name} ({other})", deal_id, close, status="active",
                       mrr_cents=[(close, mrr_cents // 2)], currency=other)
        return 2
    status = kind if kind in ("past_due", "unpaid") else "active"
    b.subscription(name, deal_id, close, status=status, mrr_cents=[(close, mrr_cents)],
                   currency=currency)
    return 1
