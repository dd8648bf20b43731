"""HubSpot's published OpenAPI specs as response validators (jsonschema), with the documented
places where HubSpot's real answers differ from its spec (``ALLOWANCES``).

The specs live in ``shared/research/hubspot-openapi/`` beside the repository (the repository's
parent folder holds ``shared/``); ``spec_dir()`` is None when they are absent.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = REPO.parent / "shared" / "research" / "hubspot-openapi"
GENERIC = "objects.json"
# Per-type specs of the object URLs, and the path segment each uses for the type.
PER_TYPE = {"contacts": ("contacts.json", "contacts"), "companies": ("companies.json", "companies"),
            "deals": ("deals.json", "0-3"),
            "subscriptions": ("commerceSubscriptions.json", "subscriptions")}
OTHER = ("associations-v4.json", "properties.json", "crmOwners.json")
METHODS = ("get", "put", "post", "patch", "delete")


def spec_dir() -> Path | None:
    return SPEC_DIR if (SPEC_DIR / GENERIC).is_file() else None


Spec = dict[str, Any]


def _drop_required(schema: str, *names: str) -> Callable[[Spec], None]:
    def patch(spec: Spec) -> None:
        node = spec["components"]["schemas"].get(schema)
        if node is not None:
            node["required"] = [r for r in node.get("required", []) if r not in names]
    return patch


def _widen(schema: str, prop: str, *types: str) -> Callable[[Spec], None]:
    def patch(spec: Spec) -> None:
        node = spec["components"]["schemas"].get(schema, {}).get("properties", {}).get(prop)
        if node is not None:
            node.clear()
            node["type"] = list(types)
    return patch


@dataclass(frozen=True)
class Allowance:
    """One documented place where HubSpot's real answers differ from its spec."""

    spec: str  # file name, or "*" for every spec
    reason: str
    patch: Callable[[Spec], None]


ALLOWANCES = (
    Allowance("*", "207 error entries: the spec requires `links` and `errors`, HubSpot's real "
              "entries carry status, category, message and context only (research notes "
              "§1.4, captured batch read and multi-status create answers)",
              _drop_required("StandardError", "links", "errors")),
    Allowance("associations-v4.json", "v4 batch errors: `subCategory` is typed as an object, "
              "HubSpot sends a string (hubspot-openapi/README.md, captured answers)",
              _widen("StandardError", "subCategory", "string", "object")),
    Allowance("associations-v4.json", "v4 association types: unlabeled types come with "
              "`label: null` (research notes §4, captured batch read answers)",
              _widen("AssociationSpecWithLabel", "label", "string", "null")),
)
# Applied by status, not by schema: a 429 body carries no `category` (research notes §2.3,
# HubSpot's documented rate-limit answer: status, message, errorType, correlationId,
# policyName, groupName).
NO_CATEGORY_STATUSES = frozenset({429})
# commerceSubscriptions.json declares only 200 for the object endpoints that the generic
# objects spec (same URLs) answers 201/207 for; for a status it does not declare, the generic
# spec is the statement (hubspot-openapi/README.md).
GENERIC_FALLBACK = "commerceSubscriptions.json"


# Paths the product calls that none of the copied specs describe, so nothing is validated
# against a spec for them (the account-info API is not in research/hubspot-openapi/).
UNSPECIFIED = frozenset({"/account-info/v3/details"})


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema draft 4: ``nullable`` becomes a null type."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k not in ("example", "nullable")}
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "$ref" in out or "allOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def load(name: str) -> Spec:
    """One spec, converted, with its allowances applied."""
    directory = spec_dir()
    assert directory is not None
    spec: Spec = json.loads((directory / name).read_text())
    spec = copy.deepcopy(spec)
    spec["components"]["schemas"] = _to_json_schema(spec["components"]["schemas"])
    for allowance in ALLOWANCES:
        if allowance.spec in ("*", name):
            allowance.patch(spec)
    no_category = copy.deepcopy(spec["components"]["schemas"]["Error"])
    no_category["required"] = [r for r in no_category.get("required", []) if r != "category"]
    spec["components"]["schemas"]["ErrorWithoutCategory"] = no_category
    return spec


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


@dataclass(frozen=True)
class Declared:
    """What a spec declares for one answer: the spec, the path template, the schema ref."""

    spec: str
    template: str
    ref: str | None  # None: declared without a JSON body (204)


def _specs_for(path: str) -> Iterator[tuple[str, str]]:
    """(spec file, the path as that spec spells it) for every spec that may describe ``path``.

    A trailing slash is dropped: the SDK's owners API asks for ``/crm/v3/owners/``, which
    HubSpot serves as the spec's ``/crm/v3/owners``.
    """
    path = path.rstrip("/") or "/"
    match = re.match(r"^/crm/v3/objects/([^/]+)(/.*)?$", path)
    if match:
        yield GENERIC, path
        per_type = PER_TYPE.get(match.group(1))
        if per_type is not None:
            yield per_type[0], f"/crm/v3/objects/{per_type[1]}{match.group(2) or ''}"
        return
    for name in OTHER:
        yield name, path


def declared(method: str, path: str, status: int) -> list[Declared]:
    """Every spec's declaration for ``method path -> status``; [] when no spec has the path.

    Raises AssertionError when a spec has the path but declares neither the status nor a
    default answer.
    """
    found: list[Declared] = []
    generic: Declared | None = None
    for name, spelled in _specs_for(path):
        spec = load(name)
        matching = [t for t, item in spec["paths"].items()
                    if method.lower() in item and _template_regex(t).match(spelled)]
        # A literal segment beats a parameter (``.../groups`` is not a ``{propertyName}``).
        for template in sorted(matching, key=lambda t: t.count("{"))[:1]:
            operation = spec["paths"][template][method.lower()]
            responses = operation["responses"]
            key = str(status) if str(status) in responses else "default"
            if name == GENERIC_FALLBACK and key == "default" and status < 400 and generic:
                continue  # see GENERIC_FALLBACK
            assert key in responses, f"{name}: {method} {template} does not declare {status}"
            found.append(Declared(name, template, _schema_ref(spec, responses[key], status)))
            if name == GENERIC:
                generic = found[-1]
    return found


def _schema_ref(spec: Spec, response: dict[str, Any], status: int) -> str | None:
    if "$ref" in response:  # "#/components/responses/Error"
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    content = response.get("content", {})
    media = content.get("application/json") or content.get("*/*") or {}
    schema = media.get("schema")
    if schema is None:
        return None
    ref = str(schema["$ref"])
    if ref.endswith("/Error") and status in NO_CATEGORY_STATUSES:
        return "#/components/schemas/ErrorWithoutCategory"
    return ref


def problems(spec_name: str, ref: str, body: Any) -> list[str]:
    """Validation errors of ``body`` against ``ref`` of a spec (empty when it conforms)."""
    spec = load(spec_name)
    root = {"$ref": ref, "components": spec["components"]}
    validator = Draft4Validator(root)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator.iter_errors(body)]
