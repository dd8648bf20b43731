"""Portal set-up and inspection: properties, property groups, owners, associations, access.

Part of ``Gateway`` (a base class, to keep modules small); same call path as every other
operation. Creating a property or group that exists (409) reports ``False`` instead of failing,
which is what makes ``init`` idempotent and these creates safe to retry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from config.contract import PropertySpec
from sync.gateway.core import GatewayCore
from sync.gateway.errors import ActionKind, AuthError, Conflict, HubSpotError
from sync.gateway.models import AccessReport
from sync.gateway.paging import CursorPager

__all__ = ["SchemaOps", "property_definition"]

PROPERTIES = "GET /crm/v3/properties/{type}"
CREATE_PROPERTY = "POST /crm/v3/properties/{type}"
CREATE_GROUP = "POST /crm/v3/properties/{type}/groups"
OWNERS = "GET /crm/v3/owners"
BATCH_CREATE_PROPERTIES = "POST /crm/v3/properties/{type}/batch/create"
UPDATE_PROPERTY = "PATCH /crm/v3/properties/{type}/{name}"
ACCOUNT_DETAILS = "GET /account-info/v3/details"
ASSOC_CREATE = "PUT /crm/v4/objects/{type}/{id}/associations/{toType}/{toId}"
PROBE_LIST = "GET /crm/v3/objects/{type}"
PROBE_UPDATE = "POST /crm/v3/objects/{type}/batch/update"

BOOL_OPTIONS = ({"label": "Yes", "value": "true"}, {"label": "No", "value": "false"})


def property_definition(spec: PropertySpec, group_name: str) -> dict[str, Any]:
    """The ``POST /crm/v3/properties/{type}`` body for one contract property."""
    body: dict[str, Any] = {
        "name": spec.name,
        "label": spec.label,
        "type": spec.type,
        "fieldType": spec.field_type,
        "groupName": group_name,
    }
    if spec.type == "enumeration":
        body["options"] = [
            {"label": value.replace("_", " ").capitalize(), "value": value, "hidden": False,
             "displayOrder": order}
            for order, value in enumerate(spec.options)
        ]
    elif spec.type == "bool":
        body["options"] = [
            {**option, "hidden": False, "displayOrder": order}
            for order, option in enumerate(BOOL_OPTIONS)
        ]
    return body


class SchemaOps(GatewayCore):
    """Properties, groups, owners, association writes and the access check."""

    def get_properties(self, object_type: str) -> list[dict[str, Any]]:
        """Every property definition of a type, as HubSpot's JSON."""
        send = partial(self.properties_core.get_all, object_type, _preload_content=False)
        return list(self.call(PROPERTIES, send).get("results", ()))

    def create_property_group(
        self, object_type: str, name: str, label: str, display_order: int = -1
    ) -> bool:
        """Create a property group; False when it already exists (409)."""
        body = {"name": name, "label": label, "displayOrder": display_order}
        send = partial(self.properties_groups.create, object_type, body, _preload_content=False)
        return self._create(CREATE_GROUP, send)

    def create_property(self, object_type: str, definition: Mapping[str, Any]) -> bool:
        """Create a property (see ``property_definition``); False when it already exists (409)."""
        send = partial(
            self.properties_core.create, object_type, dict(definition), _preload_content=False
        )
        return self._create(CREATE_PROPERTY, send)

    def create_properties(
        self, object_type: str, definitions: Sequence[Mapping[str, Any]]
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Create properties with the batch endpoint (up to 100 per call): the names created,
        and HubSpot's error entries (a 207) for the others (one that exists: a 409 entry)."""
        created: list[str] = []
        errors: list[dict[str, Any]] = []
        for start in range(0, len(definitions), 100):
            body = {"inputs": [dict(d) for d in definitions[start:start + 100]]}
            send = partial(self.properties_batch.create, object_type, body,
                           _preload_content=False)
            data = self.call(BATCH_CREATE_PROPERTIES, send)
            created += [str(r.get("name")) for r in data.get("results", ())]
            errors += list(data.get("errors", ()))
        return created, errors

    def update_property(self, object_type: str, name: str, changes: Mapping[str, Any]) -> None:
        """Partly update a property definition (PATCH): the fields given replace HubSpot's;
        ``options`` replaces the whole option list."""
        send = partial(self.properties_core.update, object_type, name, dict(changes),
                       _preload_content=False)
        self.call(UPDATE_PROPERTY, send)

    def _create(self, endpoint: str, send: Callable[[], Any]) -> bool:
        try:
            self.call(endpoint, send)
        except Conflict:
            return False
        return True

    def get_owners(self) -> list[dict[str, Any]]:
        """All active owners (id, email, firstName, lastName, userId, ...), every page."""
        owners: list[dict[str, Any]] = []
        pager = CursorPager(OWNERS)
        after: str | None = None
        while True:
            extra = {"after": after} if after else {}
            send = partial(self.owners.get_page, limit=100, _preload_content=False, **extra)
            data = self.call(OWNERS, send)
            owners.extend(data.get("results", ()))
            after = pager.advance(data.get("paging"))
            if after is None:
                return owners

    def portal_id(self) -> int:
        """The id of the portal the token belongs to (``portalId`` of the account details).

        The SDK has no account-info API, so the request is built by one of its generated
        clients (same auth, transport, pacing and error translation as every other call).
        """
        client = self.owners.api_client
        send = partial(client.call_api, "/account-info/v3/details", "GET",
                       header_params={"Accept": "application/json"},
                       auth_settings=["oauth2"], _preload_content=False)
        portal = self.call(ACCOUNT_DETAILS, send).get("portalId")
        if isinstance(portal, bool) or not isinstance(portal, int):
            raise HubSpotError(f"{ACCOUNT_DETAILS} answered no portalId", endpoint=ACCOUNT_DETAILS)
        return portal

    def create_association(
        self,
        from_type: str,
        from_id: str,
        to_type: str,
        to_id: str,
        type_id: int,
        category: str = "HUBSPOT_DEFINED",
    ) -> None:
        """Associate two records with one labelled type (v4 PUT: repeating it changes nothing)."""
        spec = [{"associationCategory": category, "associationTypeId": type_id}]
        send = partial(
            self.assoc_basic.create, from_type, from_id, to_type, to_id, spec,
            _preload_content=False,
        )
        self.call(ASSOC_CREATE, send)

    def check_access(
        self,
        read_types: tuple[str, ...] = ("companies", "contacts", "deals", "subscriptions"),
        write_types: tuple[str, ...] = ("companies", "contacts", "deals"),
    ) -> AccessReport:
        """Try the calls the product needs; report a dead token, missing scopes, other failures.

        Reads list one record of each type and read the property definitions and owners. Writes
        are probed with an empty batch update, which changes nothing: HubSpot checks scopes
        before it validates the (empty) input, so only a 403 counts against the scope.
        """
        report = AccessReport(token=self.token_fingerprint)
        probes: list[tuple[str, str, str, Callable[[], Any], bool]] = []
        send: Callable[[], Any]
        for t in read_types:
            send = partial(self.objects_basic.get_page, t, limit=1, _preload_content=False)
            probes.append((f"read {t}", f"crm.objects.{t}.read", PROBE_LIST, send, False))
        for t in write_types:
            send = partial(self.properties_core.get_all, t, _preload_content=False)
            scope = f"crm.schemas.{t}.read"
            probes.append((f"read {t} properties", scope, PROPERTIES, send, False))
        owners = partial(self.owners.get_page, limit=1, _preload_content=False)
        probes.append(("read owners", "crm.objects.owners.read", OWNERS, owners, False))
        for t in write_types:
            send = partial(self.objects_batch.update, t, {"inputs": []}, _preload_content=False)
            probes.append((f"write {t}", f"crm.objects.{t}.write", PROBE_UPDATE, send, True))
        for name, scope, endpoint, send, validation_ok in probes:
            if not self._probe(report, name, scope, endpoint, send, validation_ok):
                break
        return report

    def _probe(
        self,
        report: AccessReport,
        name: str,
        scope: str,
        endpoint: str,
        send: Callable[[], Any],
        validation_ok: bool,
    ) -> bool:
        """Run one probe into ``report``; False when the token itself is rejected (stop)."""
        try:
            self.call(endpoint, send)
        except AuthError as exc:
            if exc.action.kind is ActionKind.FAIL_SCOPE:
                for missing in exc.missing_scopes or (scope,):
                    if missing not in report.missing_scopes:
                        report.missing_scopes.append(missing)
                return True
            if exc.status == 401:
                report.token_ok = False
                report.problems[name] = str(exc)
                return False
            report.problems[name] = str(exc)
        except HubSpotError as exc:
            if not (validation_ok and exc.action.kind is ActionKind.SKIP_RECORD):
                report.problems[name] = str(exc)
        return True
