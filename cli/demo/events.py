"""The demo's live events, made the way a HubSpot user makes them: edits in the CRM (the
sandbox's state), which the sandbox announces as signed webhooks to the serve app.

``play_live_events`` makes a registration request on a prospect company and closes an open
shared deal with a new subscription, then polls the records (bounded) until the worker has
written the outputs back. ``settle`` waits until every webhook is delivered and the inbox is
empty (our own writes' echoes included), so the next step starts from a quiet system.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from cli.demo.pick import pick_open_deal, pick_prospect, usable_members
from cli.demo.world import noon
from config.contract import CrmContract
from sandbox.associations import default_type_ids
from sandbox.server import RunningSandbox
from sandbox.state import SandboxState
from sync.store import MirrorRecord, Store

__all__ = ["DemoError", "LiveEvent", "Waiter", "play_live_events", "settle"]

USER_SOURCE = "userId:72000001"  # a sales user's edit: not our app, so it is not an echo
DEMO_MRR = Decimal("450.00")
DRAIN_POLL_S = 1.0


class DemoError(RuntimeError):
    """A demo step could not be done; the message says which and why."""


@dataclass(slots=True)
class Waiter:
    """Bounded polling with injectable time (tests pass a fake)."""

    timeout_s: float = 30.0
    poll_s: float = 0.05
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def until(self, what: str, check: Callable[[], bool]) -> float:
        """Seconds until ``check()`` held; ``DemoError`` after ``timeout_s``."""
        started = self.monotonic()
        while not check():
            if self.monotonic() - started > self.timeout_s:
                raise DemoError(f"timed out after {self.timeout_s:.0f} s waiting for {what}")
            self.sleep(self.poll_s)
        return self.monotonic() - started


@dataclass(slots=True)
class LiveEvent:
    """One user edit and what the worker wrote back (``outputs``), ``latency_s`` after it."""

    kind: str
    object_type: str
    object_id: str
    member: str
    edit: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)
    latency_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "object_type": self.object_type, "object_id": self.object_id,
                "member": self.member, "edit": dict(self.edit), "outputs": dict(self.outputs),
                "latency_s": round(self.latency_s, 3)}


def values(state: SandboxState, object_type: str, object_id: str,
           names: frozenset[str]) -> dict[str, str]:
    """The record's non-empty values of ``names`` as the CRM shows them now."""
    with state.lock:
        store = state.types[object_type]
        rec = store.records[int(object_id)]
        return {n: v for n in sorted(names) if (v := store.raw(rec, n))}


def _edit(state: SandboxState, object_type: str, object_id: str, props: Mapping[str, str]) -> None:
    store = state.types[object_type]
    state.update(store, store.records[int(object_id)], props, source_id=USER_SOURCE)


def _mirror(store: Store, object_type: str) -> list[MirrorRecord]:
    return list(store.iter_records(object_type))


def _open_deal_on(state: SandboxState, company_id: str, member: str, day: date) -> str:
    """No suitable open deal in the data: the member shares a new one on its new prospect."""
    deals = state.types["deals"]
    links = [("companies", int(company_id), default_type_ids("deals", "companies", True))]
    deal = state.create(deals, {"dealname": "Demo expansion", "pipeline": "default",
                                "dealstage": "contractsent", "deal_currency_code": "USD",
                                "partner_shared_by": member, "closedate": noon(day)},
                        links, source_id=USER_SOURCE)
    return str(deal.id)


def _close_deal(state: SandboxState, deal_id: str, day: date) -> dict[str, str]:
    """A subscription starts on ``day`` for the deal, and the deal moves to closed won."""
    subs = state.types["subscriptions"]
    props = {"hs_name": f"Subscription for deal {deal_id}", "hs_status": "active",
             "hs_currency_code": "USD", "hs_recurring_billing_frequency": "monthly",
             "hs_mrr": str(DEMO_MRR), "hs_recurring_billing_start_date": day.isoformat()}
    links = [("deals", int(deal_id), default_type_ids("subscriptions", "deals", False))]
    state.create(subs, props, links, source_id=USER_SOURCE)
    edit = {"dealstage": "closedwon", "closedate": noon(day)}
    _edit(state, "deals", deal_id, edit)
    return edit


def play_live_events(
    sandbox: RunningSandbox, store: Store, c: CrmContract, *, as_of: date,
    direct_sales_owner_ids: tuple[str, ...], expiry_days: int, waiter: Waiter,
) -> list[LiveEvent]:
    """Make the two user edits (see module) and wait for the written outputs."""
    state = sandbox.state
    companies = _mirror(store, "companies")
    members = usable_members(companies, c, as_of)
    prospect = pick_prospect(companies, _mirror(store, "contacts"), c, direct_sales_owner_ids)
    if not members or prospect is None:
        raise DemoError("the generated data has no member able to register, or no prospect")
    primary = set(default_type_ids("deals", "companies", True)) - set(
        default_type_ids("deals", "companies", False))
    choice = pick_open_deal(_mirror(store, "deals"), c, members, as_of=as_of,
                            expiry_days=expiry_days, primary_type_ids=primary)

    request = {c.registration_requested_by: members[0],
               c.registration_requested_at: as_of.isoformat()}
    registration = LiveEvent("registration_request", "companies", prospect.object_id,
                             members[0], request)
    _edit(state, "companies", prospect.object_id, request)
    registration.latency_s = waiter.until(
        f"the registration status of company {prospect.object_id}",
        lambda: bool(values(state, "companies", prospect.object_id,
                            frozenset({c.registration_status}))))
    registration.outputs = values(state, "companies", prospect.object_id,
                                  c.output_names("companies"))

    if choice is None:
        member, deal_id = members[0], _open_deal_on(state, prospect.object_id, members[0], as_of)
    else:
        member, deal_id = choice.member, choice.deal_id
    edit = _close_deal(state, deal_id, as_of)
    deal = LiveEvent("deal_closed_won", "deals", deal_id, member, edit)
    wanted = frozenset({c.attributed_to, c.commission_earned})
    deal.latency_s = waiter.until(
        f"the attribution and commission of deal {deal_id}",
        lambda: len(values(state, "deals", deal_id, wanted)) == len(wanted))
    deal.outputs = values(state, "deals", deal_id, c.output_names("deals"))
    return [registration, deal]


def settle(sandbox: RunningSandbox, store: Store, waiter: Waiter) -> float:
    """Wait until deliveries are done and the inbox is empty three polls running."""
    quiet = [0]

    def calm() -> bool:
        try:
            sandbox.drain_webhooks(DRAIN_POLL_S)
        except TimeoutError:  # deliveries still under way (or retrying): not calm yet
            quiet[0] = 0
            return False
        quiet[0] = quiet[0] + 1 if store.inbox_depth() == 0 else 0
        return quiet[0] >= 3

    return waiter.until("webhook deliveries and the inbox to settle", calm)
