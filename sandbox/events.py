"""What the sandbox's state tells the rest of the sandbox when records change.

The object store (``sandbox.state``) emits one ``ChangeEvent`` per created record, per changed
property, per archived record and per association created or removed; the webhook dispatcher
(``sandbox.webhooks``) subscribes and turns them into HubSpot-shaped, signed deliveries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from typing import Literal

__all__ = ["ChangeEvent", "ChangeKind", "EventBus"]

ChangeKind = Literal["creation", "propertyChange", "deletion", "associationChange"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    kind: ChangeKind
    object_type: str  # "contacts", "companies", "deals", "subscriptions"
    object_id: str
    occurred_at_ms: int
    property_name: str | None = None
    property_value: str | None = None
    change_source: str = "INTEGRATION"  # HubSpot's changeSource: CRM_UI, INTEGRATION, API, ...
    source_id: str | None = None  # e.g. the app id or the token that made the change
    # associationChange only
    to_object_type: str | None = None
    to_object_id: str | None = None
    association_type_id: int | None = None
    association_removed: bool = False


class EventBus:
    """Synchronous fan-out. Subscribers must be quick (enqueue, never do I/O inline)."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[ChangeEvent], None]] = []
        self._lock = Lock()

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def emit(self, event: ChangeEvent) -> None:
        for callback in tuple(self._subscribers):
            callback(event)
