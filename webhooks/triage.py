"""Which events need the worker at all, decided as they arrive.

An event needs work when it names a record of a type we sync, is not our own echo (a change of
an output property, or made by our own app), and, for a property change, changed a property the
engine reads. Everything else is queued as already done: kept for the audit trail and for the
dedup of HubSpot's redeliveries, never claimed, so it costs no worker pass and no sync. The
worker applies the echo and type checks again to rows queued before this existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.contract import CrmContract
from sync.engine.properties import OBJECT_TYPES, read_properties
from webhooks.events import is_own_echo, records_named
from webhooks.worker import SYNCED_TYPES

__all__ = ["Triage"]


@dataclass(frozen=True, slots=True)
class Triage:
    outputs: frozenset[str]
    app_id: str | None
    inputs: Mapping[str, frozenset[str]]
    """Per object type, the properties whose change can change a decision."""

    @classmethod
    def of(cls, contract: CrmContract, outputs: frozenset[str], app_id: str | None) -> Triage:
        inputs = {t: frozenset(read_properties(t, contract)) - outputs for t in OBJECT_TYPES}
        return cls(outputs, app_id, inputs)

    def needs_work(self, event: Mapping[str, Any]) -> bool:
        if is_own_echo(event, self.outputs, self.app_id):
            return False
        records = [r for r in records_named(event) if r[0] in SYNCED_TYPES]
        if not records:
            return False
        name = event.get("propertyName")
        if name is None:  # creation, deletion, merge, restore, association change
            return True
        return any(name in self.inputs.get(object_type, ()) for object_type, _ in records)
