"""The HubSpot gateway: the only code that talks to HubSpot (DESIGN.md "Gateway").

``Gateway(settings.hubspot)`` (optionally with an ``httpx.Client`` or transport, a clock and a
sleep) gives typed operations returning plain values; failures are ``HubSpotError`` subclasses.
Modules: ``transport`` (the SDK's REST layer over httpx), ``pacing``, ``errors``, ``retry``,
``metrics``, ``paging``, ``models``, ``core`` and ``schema`` (parts of ``Gateway``).
"""

from sync.gateway.errors import (
    Action,
    ActionKind,
    AuthError,
    Conflict,
    HubSpotError,
    NotFound,
    PermanentError,
    RateLimited,
    TransientError,
    Unreachable,
    ValidationFailed,
    classify,
    token_fingerprint,
)
from sync.gateway.gateway import Gateway
from sync.gateway.metrics import GatewayCollector, GatewayMetrics
from sync.gateway.models import (
    AccessReport,
    AssociationLink,
    AssociationRef,
    BatchResult,
    CrmRecord,
    Page,
    RecordError,
    SearchPage,
)
from sync.gateway.pacing import RateLimiter
from sync.gateway.paging import PagingLoopError
from sync.gateway.retry import RetryPolicy
from sync.gateway.schema import property_definition

__all__ = [
    "AccessReport",
    "Action",
    "ActionKind",
    "AssociationLink",
    "AssociationRef",
    "AuthError",
    "BatchResult",
    "Conflict",
    "CrmRecord",
    "Gateway",
    "GatewayCollector",
    "GatewayMetrics",
    "HubSpotError",
    "NotFound",
    "Page",
    "PagingLoopError",
    "PermanentError",
    "RateLimited",
    "RateLimiter",
    "RecordError",
    "RetryPolicy",
    "SearchPage",
    "TransientError",
    "Unreachable",
    "ValidationFailed",
    "classify",
    "property_definition",
    "token_fingerprint",
]
