"""The sandbox data generator: determinism, exact counts, HubSpot formats, links, rule coverage."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice

import pytest

from config.contract import contract_for_prefix
from config.terms import load_terms
from sandbox.dataset import Dataset, SeedAssociation, SeedRecord
from sandbox.gen.fmt import add_months
from sandbox.generator import (
    DEFAULT_TODAY,
    DIRECT_SALES_OWNER_IDS,
    Counts,
    describe,
    generate,
    generate_custom,
)

C = contract_for_prefix()
TERMS = load_terms()
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DATETIME_PROPS = {"createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_createdate",
                  "closedate"}
HUBSPOT_ENUMS = {
    "lifecyclestage": {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                       "opportunity", "customer", "evangelist", "other"},
    "dealstage": {"appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                  "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"},
    "pipeline": {"default"},
    "hs_status": {"active", "past_due", "canceled", "expired", "scheduled", "paused", "unpaid"},
}
HUBSPOT_NUMBERS = {"amount", "hs_mrr"}
HUBSPOT_DATES = {"hs_recurring_billing_start_date", "hs_recurring_billing_end_date"}


@dataclass
class Snapshot:
    records: list[SeedRecord]
    associations: list[SeedAssociation]
    owners: list[dict[str, str]]

    def of(self, object_type: str) -> list[SeedRecord]:
        return [r for r in self.records if r.object_type == object_type]


def _snap(dataset: Dataset) -> Snapshot:
    return Snapshot(list(dataset.records), list(dataset.associations), list(dataset.owners))


@pytest.fixture(scope="module")
def s() -> Snapshot:
    return _snap(generate("S", seed=1))


def _d(value: str) -> date:
    return date.fromisoformat(value)


def _key(r: SeedRecord) -> tuple[object, ...]:
    return (r.object_type, r.object_id, r.properties, r.created_at_ms, r.updated_at_ms, r.history)


# --- determinism, counts, laziness ---------------------------------------------------------

def test_same_seed_gives_identical_data(s: Snapshot) -> None:
    again = _snap(generate("S", seed=1))
    assert [_key(r) for r in again.records] == [_key(r) for r in s.records]
    assert again.associations == s.associations


def test_a_dataset_can_be_iterated_twice_with_the_same_result() -> None:
    dataset = generate_custom(Counts(300, 200, 100, 100, 20), seed=5)
    first = [_key(r) for r in dataset.records]
    assert first == [_key(r) for r in dataset.records]
    assert list(dataset.associations) == list(dataset.associations)


def test_another_seed_gives_other_data(s: Snapshot) -> None:
    other = _snap(generate("S", seed=2))
    assert len(other.records) == len(s.records)
    differing = sum(_key(a) != _key(b) for a, b in zip(other.records, s.records, strict=True))
    assert differing > len(s.records) // 2


def test_profile_s_counts_are_exact(s: Snapshot) -> None:
    counts = {t: len(s.of(t)) for t in ("contacts", "companies", "deals", "subscriptions")}
    assert counts == {"contacts": 10_000, "companies": 3_000, "deals": 1_000,
                      "subscriptions": 1_000}
    assert sum(C.program_type in r.properties for r in s.of("companies")) == 20


def test_describe_counts_the_mix() -> None:
    summary = describe(generate("S"))
    assert summary["companies"] == 3_000
    assert summary["members"] == 20
    assert summary["properties"] == len(C.property_specs())
    assert summary["owners"] >= len(DIRECT_SALES_OWNER_IDS)
    assert 0 < summary["registration_requests"] < summary["companies"] + summary["contacts"]
    assert 0 < summary["shared_deals"] < summary["closedwon_deals"] < summary["deals"]


def test_empty_profile_has_definitions_but_no_records() -> None:
    dataset = generate("empty")
    assert list(dataset.records) == []
    assert list(dataset.associations) == []
    assert {p.name for p in dataset.properties} == {s.name for s in C.property_specs()}


def test_unknown_profile_and_too_small_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile"):
        generate("XL")
    with pytest.raises(ValueError, match="too small"):
        list(generate_custom(Counts(5, 25, 2, 2, 20)).records)


def test_records_are_streamed_lazily() -> None:
    huge = generate_custom(Counts(10**12, 10**12, 10**12, 10**12, 0))
    started = time.perf_counter()
    first = list(islice(huge.records, 5))
    assert [r.object_type for r in first] == ["companies"] * 5
    assert next(iter(huge.associations)).from_type == "contacts"
    assert time.perf_counter() - started < 1.0
    assert not isinstance(generate("L").records, list | tuple)


# --- formats and links ---------------------------------------------------------------------

def _check_value(object_type: str, name: str, value: str, specs: dict[tuple[str, str], object]
                 ) -> None:
    spec = specs.get((object_type, name))
    kind = getattr(spec, "type", None)
    if name in DATETIME_PROPS or kind == "datetime":
        assert ISO_MS.match(value), (name, value)
    elif name in HUBSPOT_DATES or kind == "date":
        assert _d(value).isoformat() == value, (name, value)
    elif name in HUBSPOT_NUMBERS or kind == "number":
        assert Decimal(value).is_finite(), (name, value)
    elif kind in ("enumeration", "bool"):
        assert value in getattr(spec, "options", ()), (name, value)
    elif name in HUBSPOT_ENUMS:
        assert value in HUBSPOT_ENUMS[name], (name, value)
    assert isinstance(value, str)


def test_every_value_has_hubspots_format(s: Snapshot) -> None:
    specs: dict[tuple[str, str], object] = {(p.object_type, p.name): p
                                            for p in C.property_specs()}
    for record in s.records:
        for name, value in record.properties.items():
            _check_value(record.object_type, name, value, specs)
        for name, history in record.history.items():
            for stamp, value in history:
                assert stamp <= record.updated_at_ms
                _check_value(record.object_type, name, value, specs)
        assert record.created_at_ms <= record.updated_at_ms


def test_ids_are_unique_numeric_strings(s: Snapshot) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for record in s.records:
        assert record.object_id.isdigit()
        assert record.object_id not in seen[record.object_type]
        seen[record.object_type].add(record.object_id)


def test_associations_link_existing_records(s: Snapshot) -> None:
    ids = {(r.object_type, r.object_id) for r in s.records}
    pairs = set()
    primaries: dict[tuple[str, str, str], int] = defaultdict(int)
    for a in s.associations:
        assert (a.from_type, a.from_id) in ids
        assert (a.to_type, a.to_id) in ids
        pairs.add((a.from_type, a.to_type))
        primaries[(a.from_type, a.from_id, a.to_type)] += a.primary
    assert pairs == {("contacts", "companies"), ("deals", "companies"),
                     ("deals", "subscriptions")}
    assert max(primaries.values()) == 1  # at most one primary company per record


# --- rule coverage -------------------------------------------------------------------------

def _members(s: Snapshot) -> list[dict[str, str]]:
    return [r.properties for r in s.of("companies") if C.program_type in r.properties]


def _domain_of(record: SeedRecord) -> str | None:
    email = record.properties.get("email")
    if record.object_type == "contacts":
        return email.split("@")[1] if email else None
    return record.properties.get("domain")


def _requests(s: Snapshot) -> list[SeedRecord]:
    return [r for r in s.records if C.registration_requested_by in r.properties]


def test_members_of_every_kind_and_tier_on_both_sides_of_the_legacy_cutoff(s: Snapshot) -> None:
    cutoff = TERMS.commission.legacy_joined_before
    seen = set()
    for m in _members(s):
        kind = m[C.program_type] if m[C.program_type] == "provider" else m[C.tier]
        seen.add((kind, _d(m[C.joined_at]) < cutoff))
    for kind in ("provider", "untiered", "gold", "platinum", "diamond", "elite"):
        assert (kind, True) in seen, kind
        assert (kind, False) in seen, kind


def test_r9_membership_situations(s: Snapshot) -> None:
    members = _members(s)
    partners = [m for m in members if m[C.program_type] == "partner"]
    providers = [m for m in members if m[C.program_type] == "provider"]
    gold = set()
    for m in partners:
        deadline = add_months(_d(m[C.joined_at]), TERMS.membership.gold_deadline_months)
        reached = m.get(C.gold_reached_at)
        gold.add("never" if reached is None else "in_time" if _d(reached) <= deadline else "late")
    assert gold == {"never", "in_time", "late"}
    assert {m.get(C.program_exit) for m in members} >= {"downgraded_to_provider", "left", None}
    assert all(C.program_exit_at in m for m in members if C.program_exit in m)
    paperwork = {m.get(C.paperwork_completed_at) is None for m in members}
    assert paperwork == {True, False}
    assert any(_d(m[C.paperwork_completed_at]) > _d(m[C.joined_at]) + timedelta(days=365)
               for m in members if C.paperwork_completed_at in m)
    assert {m.get(C.certified) for m in partners} >= {"true", "false", None}
    assert {m.get(C.hubspot_plan) for m in members} >= {"none", None, "starter", "professional"}
    onboarding = TERMS.membership.onboarding_days
    assert any(C.onboarding_completed_at in m and _d(m[C.onboarding_completed_at])
               > _d(m[C.joined_at]) + timedelta(days=onboarding) for m in providers)
    assert any(C.onboarding_completed_at not in m for m in providers)


def test_r3_a_provider_files_more_requests_than_its_capacity_within_one_expiry(
        s: Snapshot) -> None:
    kinds = {m[C.code]: m[C.program_type] for m in _members(s)}
    dates: dict[str, list[date]] = defaultdict(list)
    for r in _requests(s):
        dates[r.properties[C.registration_requested_by]].append(
            _d(r.properties[C.registration_requested_at]))
    window = timedelta(days=TERMS.registration.expiry_days)
    best = 0
    for code, days in dates.items():
        if kinds.get(code) == "provider":
            days.sort()
            best = max(best, max(sum(1 for d in days if first <= d < first + window)
                                 for first in days))
    assert best > TERMS.capacity.provider


def test_r1_r2_request_situations(s: Snapshot) -> None:
    codes = {m[C.code] for m in _members(s)}
    requests = _requests(s)
    assert {r.object_type for r in requests} == {"companies", "contacts"}
    assert any(r.properties[C.registration_requested_by] not in codes for r in requests)
    by_domain: dict[str, list[SeedRecord]] = defaultdict(list)
    for r in requests:
        domain = _domain_of(r)
        if domain:
            by_domain[domain].append(r)
    at = C.registration_requested_at
    by = C.registration_requested_by
    ties = collisions = 0
    for group in by_domain.values():
        if len({r.properties[by] for r in group}) > 1:
            collisions += 1
            dates = [(r.properties[at], r.properties[by]) for r in group]
            ties += len({d for d, _ in dates}) < len(set(dates))
    assert collisions >= 2
    assert ties >= 1
    domains = {r.properties.get("domain") for r in requests if r.object_type == "companies"}
    assert {"localhost", "10.0.0.7", "gmail.com", None} <= domains
    assert any("website" in r.properties and "domain" not in r.properties for r in requests)


def test_r1_3_contact_domains(s: Snapshot) -> None:
    free = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "gmx.de", "icloud.com")
    with_company = {a.from_id for a in s.associations
                    if a.from_type == "contacts" and a.primary}
    contacts = [r for r in _requests(s) if r.object_type == "contacts"]
    free_mail = [r for r in contacts if r.properties.get("email", "").endswith(free)]
    assert any(r.object_id in with_company for r in free_mail)
    assert any(r.object_id not in with_company for r in free_mail)
    assert any("email" not in r.properties and r.object_id not in with_company for r in contacts)
    assert any(not r.properties.get("email", "").endswith(free) for r in contacts)


def test_r2_reregistration_and_deregistration(s: Snapshot) -> None:
    expiry = timedelta(days=TERMS.registration.expiry_days)
    rereg = [r.properties for r in _requests(s) if C.reregistration_requested_at in r.properties]
    gaps = {_d(p[C.reregistration_requested_at]) < _d(p[C.registration_requested_at]) + expiry
            for p in rereg}
    assert gaps == {True, False}  # seamless and after expiry
    assert any(C.deregistration_requested_at in r.properties for r in _requests(s))
    # a further request by the same member on a domain whose claim used its re-registration
    domains = {(_domain_of(r), r.properties[C.registration_requested_by]): r for r in _requests(s)
               if C.reregistration_requested_at in r.properties}
    assert any((_domain_of(r), r.properties[C.registration_requested_by]) in domains
               and C.reregistration_requested_at not in r.properties for r in _requests(s))


def test_r2_unavailable_domains(s: Snapshot) -> None:
    requested = [r.properties for r in _requests(s) if r.object_type == "companies"]
    assert any(p.get("hubspot_owner_id") in DIRECT_SALES_OWNER_IDS for p in requested)
    assert any(p.get("lifecyclestage") == "customer" for p in requested)
    assert set(DIRECT_SALES_OWNER_IDS) <= {o["id"] for o in s.owners}


def test_r4_r5_deal_situations(s: Snapshot) -> None:
    deals = [r.properties for r in s.of("deals")]
    won = [p for p in deals if p["dealstage"] in TERMS.deals.closed_won_stages]
    assert all("closedate" in p for p in won)
    assert any(p["dealstage"] not in ("closedwon", "closedlost") and "closedate" not in p
               for p in deals)
    assert any(C.shared_by in p for p in won)
    assert any(C.shared_by in p and p["dealstage"] != "closedwon" for p in deals)
    assert any(p.get(C.cross_sell_confirmed) == "true" for p in won)
    overrides = [p for p in won if C.attribution_override in p]
    assert {C.attribution_override_reason in p for p in overrides} == {True, False}
    assert any(_d(p["closedate"][:10]) < TERMS.commission.legacy_closed_before for p in won)
    linked: dict[str, int] = defaultdict(int)
    for a in s.associations:
        if a.from_type == "deals" and a.to_type == "companies":
            linked[a.from_id] += 1
    deal_ids = [r.object_id for r in s.of("deals")]
    assert any(linked[d] == 0 for d in deal_ids)  # deals without a company
    assert any(linked[d] > 1 for d in deal_ids)  # primary company differs from the registered


def test_r7_subscription_situations(s: Snapshot) -> None:
    subs = s.of("subscriptions")
    statuses = {r.properties["hs_status"] for r in subs}
    assert {"active", "canceled", "expired", "past_due", "unpaid"} <= statuses
    assert any("hs_mrr" in r.history for r in subs)
    assert any("hs_recurring_billing_end_date" in r.properties for r in subs)
    assert any("hs_recurring_billing_start_date" not in r.properties for r in subs)
    won = {r.object_id for r in s.of("deals") if r.properties["dealstage"] == "closedwon"}
    per_deal: dict[str, int] = defaultdict(int)
    for a in s.associations:
        if a.to_type == "subscriptions":
            assert a.from_id in won
            per_deal[a.from_id] += 1
    assert max(per_deal.values()) >= 2  # an upgrade modelled as a new subscription


def test_dates_stay_relative_to_the_anchor() -> None:
    later = DEFAULT_TODAY + timedelta(days=365)
    for record in islice(generate("S", today=later).records, 0, 3_000):
        created = date(1970, 1, 1) + timedelta(milliseconds=record.created_at_ms)
        assert created <= later
    latest = max(r.updated_at_ms for r in generate("S").records)
    assert date(1970, 1, 1) + timedelta(milliseconds=latest) <= DEFAULT_TODAY


def test_a_custom_prefix_names_every_custom_property() -> None:
    other = contract_for_prefix("acme_")
    dataset = generate_custom(Counts(500, 400, 200, 200, 20), contract=other)
    names = {n for r in dataset.records for n in r.properties}
    assert other.code in names
    assert not any(n.startswith("partner_") for n in names)
