"""Floors for the sync benchmark and tests, computed without the code being measured.

Two independent parts:

- ``dataset_counts`` counts, in the generated ``Dataset`` itself (what the sandbox is loaded
  with, never the engine's mirror), the records the rules need: members and request carriers
  (companies carrying a program property or a request; contacts carrying a request), every
  deal, the companies deals and carrier contacts point at (the primary one when the link says
  so), and the subscriptions of deals. ``read_floor`` prices them at HubSpot's published
  per-call maxima (``PUBLISHED``): search 200 per page, batch read 100 inputs (50 with
  ``propertiesWithHistory``, which subscriptions need for ``hs_mrr``), associations v4 batch
  read 100 ids (configurable). ``wall_floor_s`` prices calls at the budgets, both rolling
  windows: 190 general calls in any 10 s, 5 searches in any second, the two spent in parallel.
- ``CallCounter`` is an ``httpx`` transport that counts the requests that really went out
  (endpoint kind and object type), the inputs of batch updates and the 429s, below the gateway
  and its metrics.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
import orjson

from config.contract import CrmContract
from sandbox.dataset import Dataset, SeedAssociation

__all__ = [
    "PUBLISHED",
    "CallCounter",
    "DatasetCounts",
    "dataset_counts",
    "read_floor",
    "wall_floor_s",
]

PUBLISHED = {
    "search_page": 200,  # "maximum number of supported objects per page is 200"
    "batch_read": 100,  # "Object API batch endpoints are limited to 100 inputs per request"
    "history_batch_read": 50,  # batch read with propertiesWithHistory (peers' documented max)
    "association_batch_read": 100,  # associations v4 batch read: 100 ids per request
    "burst_per_10s": 190,  # private app, Professional/Enterprise
    "search_per_s": 5,
}
"""HubSpot's published per-call maxima and budgets (shared/research/hubspot-api-facts.md and
sync-and-webhook-practice.md), written out here rather than taken from the gateway."""

# HubSpot's Primary association type id per (from type, to type) pair that has one.
_PRIMARY_TYPE = {("deals", "companies"): 5, ("contacts", "companies"): 1}


@dataclass(frozen=True, slots=True)
class DatasetCounts:
    """What the rules need from a generated portal, counted in the dataset."""

    member_or_carrier_companies: int
    carrier_contacts: int
    deals: int
    related_companies: int  # companies deals / carrier contacts point at, not already searched
    deal_subscriptions: int  # subscriptions linked to a deal


def dataset_counts(dataset: Dataset, contract: CrmContract) -> DatasetCounts:
    """Count (see module) in one pass over the dataset's records and one over its links."""
    c = contract
    carrier = (c.registration_requested_by, c.registration_requested_at, c.registration_status)
    member_or_carrier = (c.program_type, *carrier)
    searched: set[str] = set()
    carriers: set[str] = set()
    deals: set[str] = set()
    for record in dataset.records:
        props = record.properties
        if record.object_type == "companies" and any(props.get(n) for n in member_or_carrier):
            searched.add(record.object_id)
        elif record.object_type == "contacts" and any(props.get(n) for n in carrier):
            carriers.add(record.object_id)
        elif record.object_type == "deals":
            deals.add(record.object_id)
    pairs = {("deals", "companies"), ("contacts", "companies"), ("deals", "subscriptions")}
    links = [a for a in _oriented(dataset.associations) if (a.from_type, a.to_type) in pairs]
    wanted = _linked_companies(links, {"deals": deals, "contacts": carriers})
    subs = {a.to_id for a in links
            if (a.from_type, a.to_type) == ("deals", "subscriptions") and a.from_id in deals}
    return DatasetCounts(len(searched), len(carriers), len(deals), len(wanted - searched),
                         len(subs))


def _oriented(links: Iterable[SeedAssociation]) -> Iterable[SeedAssociation]:
    """Links with deals and contacts on the ``from`` side (links are readable both ways)."""
    for a in links:
        if a.to_type in ("deals", "contacts"):
            yield SeedAssociation(a.to_type, a.to_id, a.from_type, a.from_id, a.type_id, a.primary)
        else:
            yield a


def _linked_companies(links: list[SeedAssociation], sources: dict[str, set[str]]) -> set[str]:
    """The companies each source record needs: its primary ones, or all when none is primary."""
    primary: dict[tuple[str, str], set[str]] = {}
    every: dict[tuple[str, str], set[str]] = {}
    for a in links:
        if a.to_type != "companies" or a.from_id not in sources.get(a.from_type, ()):
            continue
        key = (a.from_type, a.from_id)
        every.setdefault(key, set()).add(a.to_id)
        primary_type = _PRIMARY_TYPE.get((a.from_type, a.to_type))
        if primary_type is not None and (a.primary or a.type_id == primary_type):
            primary.setdefault(key, set()).add(a.to_id)
    out: set[str] = set()
    for key, companies in every.items():
        out |= primary.get(key) or companies
    return out


def read_floor(counts: DatasetCounts, *, association_batch: int | None = None) -> dict[str, int]:
    """The fewest read calls that fetch what ``counts`` describes, at the published maxima.

    search: one walk each for member/carrier companies, carrier contacts and deals (at least one
    call each, to learn a walk is empty); associations: deals to companies and to subscriptions,
    carrier contacts to companies; batch read: the related companies, and the subscriptions
    (with ``hs_mrr`` history).
    """
    p = PUBLISHED
    assoc = association_batch or p["association_batch_read"]
    page = p["search_page"]
    return {
        "search": sum(max(1, math.ceil(n / page)) for n in (
            counts.member_or_carrier_companies, counts.carrier_contacts, counts.deals)),
        "associations": 2 * math.ceil(counts.deals / assoc)
        + math.ceil(counts.carrier_contacts / assoc),
        "batch_read": math.ceil(counts.related_companies / p["batch_read"])
        + math.ceil(counts.deal_subscriptions / p["history_batch_read"]),
    }


def wall_floor_s(general_calls: int, searches: int) -> float:
    """Seconds the budgets allow at least, the two spent at the same time.

    Both limits are rolling windows (HubSpot's 429s name the general one
    ``TEN_SECONDLY_ROLLING``; the sandbox admits by the same rule): at most 190 general calls in
    any 10 s and 5 searches in any second. So call ``k + 190`` cannot go before call ``k`` plus
    10 s, and the last of ``n`` calls not before ``floor((n - 1) / 190) * 10`` s: the 191st
    waits 10 s, however few follow it (a steady 19/s after the burst is not on offer)."""
    def rolling(calls: int, limit: int, window_s: float) -> float:
        return (calls - 1) // limit * window_s if calls > 0 else 0.0

    return max(rolling(general_calls, PUBLISHED["burst_per_10s"], 10.0),
               rolling(searches, PUBLISHED["search_per_s"], 1.0))


_PATHS = (
    ("search", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/search$")),
    ("associations", re.compile(r"^/crm/v4/associations/(?P<type>[^/]+)/[^/]+/batch/read$")),
    ("batch_read", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/read$")),
    ("batch_update", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)/batch/update$")),
    ("list", re.compile(r"^/crm/v3/objects/(?P<type>[^/]+)$")),
)


def classify(method: str, path: str) -> tuple[str, str]:
    """``(kind, object type)`` of a request: search, associations, batch_read, batch_update,
    list, or ``("other", path)``."""
    for kind, pattern in _PATHS:
        match = pattern.match(path)
        if match and (method == "GET") == (kind == "list"):
            return kind, match.group("type")
    return "other", path


class CallCounter(httpx.BaseTransport):
    """Counts every request that goes out through ``inner`` (thread-safe); see module."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.updated: Counter[str] = Counter()
        self.rate_limited = 0
        self.spans: dict[str, tuple[float, float]] = {}  # kind -> (first sent, last answered)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind, object_type = classify(request.method, request.url.path)
        inputs = 0
        if kind == "batch_update":
            inputs = len(orjson.loads(request.read()).get("inputs", ()))
        sent = time.monotonic()
        response = self._inner.handle_request(request)
        answered = time.monotonic()
        with self._lock:
            first, last = self.spans.get(kind, (sent, answered))
            self.spans[kind] = (min(first, sent), max(last, answered))
            self.calls[(kind, object_type)] += 1
            if response.status_code == 429:
                self.rate_limited += 1
            elif kind == "batch_update" and response.status_code < 300:
                self.updated[object_type] += inputs
        return response

    def close(self) -> None:
        self._inner.close()

    def by_kind(self) -> dict[str, int]:
        """Calls per kind (search, associations, ...), 429s included."""
        out: Counter[str] = Counter()
        with self._lock:
            for (kind, _type), n in self.calls.items():
                out[kind] += n
        return dict(out)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.updated.clear()
            self.rate_limited = 0
            self.spans.clear()
