"""Compact per-object-type record storage (the sandbox holds profile L: 1.4M records in memory).

Each object type has a column table (property name -> slot) and one slotted ``Record`` per object
whose ``values`` list is indexed by slot; short repeated values (enumerations, dates, booleans) are
interned. System properties (``hs_object_id``, the modification date, the creation date unless it
was set explicitly) are derived from the record's own fields instead of being stored.
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from collections.abc import Iterator

from sandbox.schema import CREATED_PROPERTY, MODIFIED_PROPERTY, PropertyDef, default_properties
from sandbox.values import iso_ms, parse_ms

__all__ = ["HistoryEntry", "Record", "TypeStore"]

# (timestamp ms, value, sourceType)
HistoryEntry = tuple[int, str, str]
_INTERNED_TYPES = frozenset({"enumeration", "bool", "date", "datetime"})
SEED_SOURCE = "IMPORT"


class Record:
    """One CRM object. ``history`` maps slot -> entries oldest first, including the current one."""

    __slots__ = ("archived_ms", "created_ms", "history", "id", "indexed_ms", "updated_ms",
                 "values")

    def __init__(self, object_id: int, created_ms: int, updated_ms: int,
                 values: list[str | None]) -> None:
        self.id = object_id
        self.created_ms = created_ms
        self.updated_ms = updated_ms
        self.archived_ms: int | None = None
        self.indexed_ms = 0  # searchable from this time on (search index lag)
        self.values = values
        self.history: dict[int, list[HistoryEntry]] | None = None


class TypeStore:
    """Records, property definitions and property groups of one object type."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        self.created_prop = CREATED_PROPERTY[type_name]
        self.modified_prop = MODIFIED_PROPERTY[type_name]
        self.props: dict[str, PropertyDef] = {}
        self.slots: dict[str, int] = {}
        self.groups: dict[str, dict[str, object]] = {}
        self.records: dict[int, Record] = {}
        self._order: list[int] = []
        self._order_sorted = True
        self.next_id = 1
        self._unique: dict[str, dict[str, int]] = {}  # lazily built idProperty indexes
        for prop in default_properties(type_name):
            self.add_property(prop)

    # -- properties -------------------------------------------------------------------------
    def add_property(self, prop: PropertyDef) -> None:
        """Define (or redefine) a property; a new name gets the next value slot."""
        self.props[prop.name] = prop
        self.slots.setdefault(prop.name, len(self.slots))
        self.groups.setdefault(prop.group_name, {"name": prop.group_name,
                                                 "label": prop.group_name.replace("_", " ").title(),
                                                 "displayOrder": -1, "archived": False})

    # -- values -----------------------------------------------------------------------------
    def raw(self, rec: Record, name: str) -> str | None:
        """The stored or derived value of ``name`` (None when unset)."""
        if name == "hs_object_id":
            return str(rec.id)
        if name == self.modified_prop:
            return iso_ms(rec.updated_ms)
        slot = self.slots.get(name)
        value = rec.values[slot] if slot is not None and slot < len(rec.values) else None
        if value is None and name in (self.created_prop, "createdate"):
            return iso_ms(rec.created_ms)
        return value

    def epoch_ms(self, rec: Record, name: str) -> int | None:
        """A date/datetime value as epoch ms (fast path for the system dates)."""
        if name == self.modified_prop:
            return rec.updated_ms
        value = self.raw(rec, name)
        return parse_ms(value) if value else None

    def set_value(self, rec: Record, name: str, value: str) -> None:
        slot = self.slots[name]
        if slot >= len(rec.values):
            rec.values.extend([None] * (slot + 1 - len(rec.values)))
        if self.props[name].type in _INTERNED_TYPES:
            value = sys.intern(value)
        rec.values[slot] = value
        index = self._unique.get(name)
        if index is not None and value:
            index[value.lower()] = rec.id

    def history(self, rec: Record, name: str) -> list[HistoryEntry]:
        """Entries oldest first; a value never changed through the API has one seed entry."""
        slot = self.slots.get(name)
        if slot is not None and rec.history and slot in rec.history:
            return rec.history[slot]
        value = self.raw(rec, name)
        return [] if value is None else [(rec.created_ms, value, SEED_SOURCE)]

    def record_change(self, rec: Record, name: str, value: str, at_ms: int, source: str) -> None:
        """Store ``value`` and append it to the property's history."""
        slot = self.slots[name]
        entries = self.history(rec, name)
        if rec.history is None:
            rec.history = {}
        rec.history[slot] = [*entries, (at_ms, value, source)]
        self.set_value(rec, name, value)

    # -- records ----------------------------------------------------------------------------
    def new_values(self) -> list[str | None]:
        return [None] * len(self.slots)

    def insert(self, rec: Record) -> None:
        """Add a record (its id must be unused); ids above ``next_id`` move it on."""
        if self._order and rec.id < self._order[-1]:
            self._order_sorted = False
        self.records[rec.id] = rec
        self._order.append(rec.id)
        if rec.id >= self.next_id:
            self.next_id = rec.id + 1
        for name, index in self._unique.items():
            value = self.raw(rec, name)
            if value:
                index[value.lower()] = rec.id

    def ids_from(self, after_id: int) -> Iterator[int]:
        """Record ids in ascending order, starting at ``after_id`` (inclusive)."""
        if not self._order_sorted:
            self._order.sort()
            self._order_sorted = True
        start = bisect_left(self._order, after_id)
        order = self._order
        for position in range(start, len(order)):
            yield order[position]

    def find_unique(self, name: str, value: str) -> Record | None:
        """The live record whose ``name`` equals ``value`` (case-insensitive), via an index."""
        if name == "hs_object_id":
            rec = self.records.get(int(value)) if value.isascii() and value.isdigit() else None
            return rec if rec is not None and rec.archived_ms is None else None
        index = self._unique.get(name)
        if index is None:
            index = {}
            for rec in self.records.values():
                current = self.raw(rec, name)
                if current and rec.archived_ms is None:
                    index[current.lower()] = rec.id
            self._unique[name] = index
        rec_id = index.get(value.lower())
        rec = self.records.get(rec_id) if rec_id is not None else None
        if rec is None or rec.archived_ms is not None or (self.raw(rec, name) or "").lower() \
                != value.lower():
            return None
        return rec
