"""The sandbox's in-memory CRM: records, properties, associations and owners, with change events.

Every write made through this API is validated like HubSpot validates it (``ApiError`` with
HubSpot's category otherwise) and emits ``ChangeEvent``s on ``state.bus``; ``bulk_load`` seeds
data fast and silently. All methods are thread-safe (one re-entrant lock), so tests may seed or
inspect a state that a server thread is serving.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from threading import RLock
from typing import Any

from sandbox.associations import AssociationStore, default_type_ids
from sandbox.dataset import Dataset, SeedAssociation, SeedProperty, SeedRecord
from sandbox.errors import ApiError, property_errors
from sandbox.events import ChangeEvent, EventBus
from sandbox.schema import OBJECT_TYPES, PropertyDef, resolve_object_type
from sandbox.store import SEED_SOURCE, Record, TypeStore
from sandbox.values import ValueProblem, normalize

__all__ = ["SandboxState"]

_WRITE_SOURCE = "INTEGRATION"


def _system_ms() -> int:
    return time.time_ns() // 1_000_000


class SandboxState:
    """All sandbox data. ``now_ms`` is the clock (injectable); ``search_lag_ms`` delays search."""

    def __init__(self, now_ms: Callable[[], int] = _system_ms, *, portal_id: int = 62515,
                 search_lag_ms: int = 0) -> None:
        self.now_ms = now_ms
        self.portal_id = portal_id
        self.search_lag_ms = search_lag_ms
        self.bus = EventBus()
        self.lock = RLock()
        self.types: dict[str, TypeStore] = {name: TypeStore(name) for name in OBJECT_TYPES}
        self.associations = AssociationStore()
        self.owners: list[dict[str, str]] = []
        self.version = 0  # bumped on every write; search caches key on it

    # -- lookups ----------------------------------------------------------------------------
    def store(self, raw_type: str) -> TypeStore:
        """The store of an object type name or id; 400 for unknown types, as HubSpot answers."""
        name = resolve_object_type(raw_type)
        if name is None:
            raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {raw_type}")
        return self.types[name]

    def get(self, store: TypeStore, key: str, id_property: str | None = None,
            archived: bool = False) -> Record:
        """The record with id ``key`` (or ``id_property`` = ``key``); 404 OBJECT_NOT_FOUND."""
        with self.lock:
            rec: Record | None
            if id_property and id_property != "hs_object_id":
                rec = store.find_unique(id_property, key)
            else:
                rec = store.records.get(int(key)) if key.isascii() and key.isdigit() else None
            if rec is None or (rec.archived_ms is not None) != archived:
                raise ApiError(404, "OBJECT_NOT_FOUND",
                               "Object not found.  objectId are usually numeric.",
                               context={"id": [key]})
            return rec

    def page(self, store: TypeStore, after: int, limit: int,
             archived: bool) -> tuple[list[Record], int | None]:
        """Up to ``limit`` records from id ``after`` on, and the id that starts the next page."""
        with self.lock:
            found: list[Record] = []
            for rec_id in store.ids_from(after):
                rec = store.records[rec_id]
                if (rec.archived_ms is not None) != archived:
                    continue
                if len(found) == limit:
                    return found, rec_id
                found.append(rec)
            return found, None

    # -- writes -----------------------------------------------------------------------------
    def _validated(self, store: TypeStore, properties: Mapping[str, object], *,
                   creating: bool) -> dict[str, str]:
        problems: list[tuple[str, str, str]] = []
        clean: dict[str, str] = {}
        for name, raw in properties.items():
            prop = store.props.get(name)
            if prop is None:
                problems.append(
                    (name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if prop.read_only and not (creating and name == store.created_prop):
                problems.append((name, "READ_ONLY_VALUE", f'"{name}" is a read only property'))
                continue
            try:
                clean[name] = normalize(prop, raw)
            except ValueProblem as problem:
                problems.append((name, problem.code, problem.message))
        if problems:
            raise property_errors(problems, self.portal_id)
        return clean

    def _check_unique(self, store: TypeStore, values: dict[str, str], own_id: int | None) -> None:
        for name, value in values.items():
            if not value or not (store.props[name].has_unique_value):
                continue
            other = store.find_unique(name, value)
            if other is not None and other.id != own_id:
                label = "Contact" if store.type_name == "contacts" else "Object"
                raise ApiError(409, "CONFLICT", f"{label} already exists. Existing ID: {other.id}")

    def create(self, store: TypeStore, properties: Mapping[str, object],
               associations: Iterable[tuple[str, int, list[int]]] = (),
               source_id: str | None = None) -> Record:
        """Create a record; ``associations`` are (to type, to id, type ids), checked first."""
        with self.lock:
            values = self._validated(store, properties, creating=True)
            self._check_unique(store, values, None)
            links = list(associations)
            for to_type, to_id, _ in links:
                self.get(self.types[to_type], str(to_id))
            now = self.now_ms()
            rec = Record(store.next_id, now, now, store.new_values())
            rec.indexed_ms = now + self.search_lag_ms
            for name, value in values.items():
                if value != "":
                    store.set_value(rec, name, value)
            store.insert(rec)
            self.version += 1
            self._emit(ChangeEvent("creation", store.type_name, str(rec.id), now,
                                   change_source=_WRITE_SOURCE, source_id=source_id))
            for name, value in values.items():
                self._emit(ChangeEvent("propertyChange", store.type_name, str(rec.id), now,
                                       property_name=name, property_value=value,
                                       change_source=_WRITE_SOURCE, source_id=source_id))
            for to_type, to_id, type_ids in links:
                self.associate(store.type_name, rec.id, to_type, to_id, type_ids, source_id)
            return rec

    def update(self, store: TypeStore, rec: Record, properties: Mapping[str, object],
               source_id: str | None = None) -> Record:
        """Apply a property patch; only values that differ are recorded and announced."""
        with self.lock:
            values = self._validated(store, properties, creating=False)
            self._check_unique(store, values, rec.id)
            now = self.now_ms()
            changed = [(n, v) for n, v in values.items() if (store.raw(rec, n) or "") != v]
            for name, value in changed:
                store.record_change(rec, name, value, now, _WRITE_SOURCE)
            if changed:
                rec.updated_ms = now
                rec.indexed_ms = now + self.search_lag_ms
                self.version += 1
            for name, value in changed:
                self._emit(ChangeEvent("propertyChange", store.type_name, str(rec.id), now,
                                       property_name=name, property_value=value,
                                       change_source=_WRITE_SOURCE, source_id=source_id))
            return rec

    def archive(self, store: TypeStore, rec: Record, source_id: str | None = None) -> None:
        """Move a record to the recycle bin (archived); archiving twice is a no-op."""
        with self.lock:
            if rec.archived_ms is not None:
                return
            now = self.now_ms()
            rec.archived_ms = now
            self.version += 1
            self._emit(ChangeEvent("deletion", store.type_name, str(rec.id), now,
                                   change_source=_WRITE_SOURCE, source_id=source_id))

    def associate(self, from_type: str, from_id: int, to_type: str, to_id: int,
                  type_ids: list[int], source_id: str | None = None) -> None:
        """Link two live records with the given HubSpot-defined type ids."""
        with self.lock:
            now = self.now_ms()
            for tid in type_ids:
                for added in self.associations.add(from_type, from_id, to_type, to_id, tid):
                    self.version += 1
                    self._emit(ChangeEvent(
                        "associationChange", from_type, str(from_id), now,
                        change_source=_WRITE_SOURCE, source_id=source_id,
                        to_object_type=to_type, to_object_id=str(to_id),
                        association_type_id=added))

    def linked(self, from_type: str, from_id: int, to_type: str) -> list[tuple[int, list[int]]]:
        """Live (not archived) records linked to a record: ``[(to id, [type ids])]``."""
        with self.lock:
            target = self.types[to_type].records
            return [(to_id, tids)
                    for to_id, tids in self.associations.targets(from_type, from_id, to_type)
                    if to_id in target and target[to_id].archived_ms is None]

    def _emit(self, event: ChangeEvent) -> None:
        self.bus.emit(event)

    # -- properties -------------------------------------------------------------------------
    def define_property(self, store: TypeStore, prop: PropertyDef) -> None:
        with self.lock:
            prop.created_at_ms = prop.created_at_ms or self.now_ms()
            store.add_property(prop)
            self.version += 1

    # -- seeding ----------------------------------------------------------------------------
    def bulk_load(self, dataset: Dataset) -> None:
        """Load seed data without validation or events (values are trusted HubSpot strings)."""
        # Millions of new objects would trigger full cyclic-GC passes over the growing heap
        # again and again; none of them form cycles, so collection waits until the end and
        # the loaded objects are then frozen out of future collections.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            with self.lock:
                for seed_prop in dataset.properties:
                    self._seed_property(seed_prop)
                for seed in dataset.records:
                    self._seed_record(seed)
                for link in dataset.associations:
                    self._seed_association(link)
                self.owners.extend(dict(owner) for owner in dataset.owners)
                self.version += 1
        finally:
            if was_enabled:
                gc.enable()
            gc.freeze()

    def _seed_property(self, seed: SeedProperty) -> None:
        store = self.types[seed.object_type]
        field_type = seed.field_type
        store.add_property(PropertyDef(
            name=seed.name, label=seed.label, type=seed.type, field_type=field_type,
            group_name=seed.group_name, options=list(seed.options), hubspot_defined=False,
            created_at_ms=self.now_ms()))

    def _seed_record(self, seed: SeedRecord) -> None:
        store = self.types[seed.object_type]
        slots, props = store.slots, store.props
        values: list[str | None] = [None] * len(slots)
        for name, value in seed.properties.items():
            slot = slots.get(name)
            if slot is None:
                continue  # unknown to the portal: HubSpot would not hold it either
            prop = props[name]
            if prop.type == "enumeration" and not prop.external_options \
                    and value not in prop.options and ";" not in value and value:
                prop.options.append(value)  # seed data extends option lists, never fails
            values[slot] = sys.intern(value) if len(value) <= 24 else value
        rec = Record(int(seed.object_id), seed.created_at_ms, seed.updated_at_ms, values)
        if seed.history:
            rec.history = {}
            for name, older in seed.history.items():
                slot = slots.get(name)
                if slot is None:
                    continue
                entries = [(ts, value, SEED_SOURCE) for ts, value in older]
                current = values[slot]
                if current is not None:
                    entries.append((seed.updated_at_ms, current, SEED_SOURCE))
                rec.history[slot] = entries
        store.insert(rec)

    def _seed_association(self, link: SeedAssociation) -> None:
        # No type id means HubSpot's default for the pair: unlabeled plus Primary where it exists.
        primary = link.type_id is None or link.primary
        type_ids = default_type_ids(link.from_type, link.to_type, primary=primary)
        if link.type_id is not None and link.type_id not in type_ids:
            type_ids.append(link.type_id)
        self.associations.add_seed(link.from_type, int(link.from_id), link.to_type,
                                   int(link.to_id), type_ids)

    def owner_list(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.owners)
