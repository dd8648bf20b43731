"""The sandbox's deterministic data generator: profiles S, M, L and ``empty``.

``generate("S", seed=1)`` returns a ``Dataset`` whose records and associations are *re-iterable
streams*: each iteration regenerates the same data from the seed, so profile L never holds two
copies (nor one, until the consumer keeps it). Nothing reads the clock; dates are laid out
relative to ``today`` (default 2026-11-01), reaching ~36 months back, and before the legacy
cut-off (2023-02-21) for legacy members.

The data: program members of every archetype (``sandbox.gen.members``), their registration
requests, deals and subscriptions (``sandbox.gen.scenarios``), one-off edge cases of every rule
(``sandbox.gen.catalogue``), then plain CRM noise up to the profile's counts
(``sandbox.gen.noise``). Direct-sales owner ids are ``DIRECT_SALES_OWNER_IDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from random import Random
from typing import Generic, TypeVar

from config.contract import CrmContract, contract_for_prefix
from config.terms import load_terms
from sandbox.dataset import Dataset, SeedAssociation, SeedProperty, SeedRecord
from sandbox.gen.build import Block, Builder
from sandbox.gen.catalogue import run_cases
from sandbox.gen.members import make_member
from sandbox.gen.noise import NoisePlan
from sandbox.gen.profiles import (
    DEFAULT_TODAY,
    DIRECT_SALES_OWNER_IDS,
    ID_BASE,
    OWNERS,
    PROFILES,
    Counts,
)
from sandbox.gen.scenarios import Prospects, member_block

__all__ = [
    "DEFAULT_TODAY",
    "DIRECT_SALES_OWNER_IDS",
    "PROFILES",
    "Counts",
    "describe",
    "generate",
    "generate_custom",
]

T = TypeVar("T")
_TYPES = ("companies", "contacts", "deals", "subscriptions")


class _Stream(Generic[T]):
    """An iterable that starts a fresh generator on every iteration (lazy and repeatable)."""

    def __init__(self, factory: Callable[[], Iterator[T]]) -> None:
        self._factory = factory

    def __iter__(self) -> Iterator[T]:
        return self._factory()


@dataclass(frozen=True, slots=True)
class _Spec:
    counts: Counts
    seed: int
    contract: CrmContract
    today: date
    legacy_cutoff: date


def _blocks(spec: _Spec, scale: float) -> Iterator[Block]:
    """Scenario blocks in a fixed order: each member with its prospects, then the catalogue."""
    b = Builder(spec.contract, spec.today, Random(spec.seed))
    prospects = Prospects(b)
    members = []
    for index in range(spec.counts.members):
        member = make_member(b, index, spec.legacy_cutoff)
        members.append(member)
        member_block(b, prospects, member, scale)
        yield b.take()
    run_cases(b, prospects, members, spec.legacy_cutoff)
    yield b.take()


def _scenario_counts(spec: _Spec, scale: float) -> dict[str, int]:
    used = dict.fromkeys(_TYPES, 0)
    for block in _blocks(spec, scale):
        for record in block.records:
            used[record.object_type] += 1
    return used


class _Plan:
    """Sizes the scenario part to the counts, then lays out the noise behind it."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec

    @cached_property
    def scale_and_used(self) -> tuple[float, dict[str, int]]:
        scale = 1.0
        limits = {t: getattr(self.spec.counts, t) for t in _TYPES}
        for _ in range(6):
            used = _scenario_counts(self.spec, scale)
            over = [t for t in _TYPES if used[t] > limits[t]]
            if not over:
                return scale, used
            scale *= 0.8 * min(limits[t] / used[t] for t in over)
        raise ValueError(
            f"counts {self.spec.counts} are too small for {self.spec.counts.members} members "
            f"and the rule catalogue (it needs about {used}); add records or use members=0")

    @cached_property
    def noise(self) -> NoisePlan:
        _, used = self.scale_and_used
        c = self.spec.counts
        return NoisePlan(
            seed=self.spec.seed, today=self.spec.today,
            companies=c.companies - used["companies"], contacts=c.contacts - used["contacts"],
            deals=c.deals - used["deals"], subscriptions=c.subscriptions - used["subscriptions"],
            first_id={t: ID_BASE[t] + used[t] for t in _TYPES})

    def records(self) -> Iterator[SeedRecord]:
        scale, _ = self.scale_and_used
        for block in _blocks(self.spec, scale):
            yield from block.records
        yield from self.noise.records()

    def associations(self) -> Iterator[SeedAssociation]:
        scale, _ = self.scale_and_used
        for block in _blocks(self.spec, scale):
            yield from block.associations
        yield from self.noise.associations()


def _properties(contract: CrmContract) -> list[SeedProperty]:
    return [SeedProperty(s.object_type, s.name, s.label, s.type, s.field_type,
                         contract.group_name, s.options) for s in contract.property_specs()]


def generate_custom(counts: Counts, seed: int = 1, *, contract: CrmContract | None = None,
                    today: date | None = None) -> Dataset:
    """A dataset of exactly ``counts`` records (members are among the companies).

    Raises ``ValueError`` when the counts cannot hold the members' scenarios and the rule
    catalogue (``members=0`` gives pure CRM noise of any size).
    """
    contract = contract or contract_for_prefix()
    spec = _Spec(counts, seed, contract, today or DEFAULT_TODAY,
                 load_terms().commission.legacy_joined_before)
    plan = _Plan(spec)
    return Dataset(properties=_properties(contract), records=_Stream(plan.records),
                   associations=_Stream(plan.associations),
                   owners=[dict(owner) for owner in OWNERS])


def generate(profile: str, seed: int = 1, *, contract: CrmContract | None = None,
             today: date | None = None) -> Dataset:
    """The dataset of ``profile`` (``S``, ``M``, ``L`` or ``empty``); same seed, same data."""
    try:
        counts = PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; use one of {sorted(PROFILES)}") from None
    return generate_custom(counts, seed, contract=contract, today=today)


def describe(dataset: Dataset, contract: CrmContract | None = None) -> dict[str, int]:
    """Counts of the mix: records per type, members, requests, shared and won deals, links."""
    c = contract or contract_for_prefix()
    out: dict[str, int] = dict.fromkeys(
        (*_TYPES, "members", "registration_requests", "shared_deals", "closedwon_deals",
         "mrr_histories", "associations", "owners", "properties"), 0)
    for record in dataset.records:
        props = record.properties
        out[record.object_type] += 1
        out["members"] += c.program_type in props
        out["registration_requests"] += c.registration_requested_by in props
        out["shared_deals"] += c.shared_by in props
        out["closedwon_deals"] += props.get("dealstage") == "closedwon"
        out["mrr_histories"] += "hs_mrr" in record.history
    out["associations"] = _count(dataset.associations)
    out["owners"] = _count(dataset.owners)
    out["properties"] = _count(dataset.properties)
    return out


def _count(items: Iterable[object]) -> int:
    return sum(1 for _ in items)
