"""HubSpot-shaped API errors: one exception the handlers raise, one body builder.

Bodies follow the CRM v3 envelope ``{status: "error", message, correlationId, category,
errors?, context?}`` (research notes §1.6); the app copies ``correlationId`` into the
``X-HubSpot-Correlation-Id`` header.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

__all__ = ["ApiError", "error_body", "property_errors"]


class ApiError(Exception):
    """An error answer: HTTP ``status``, HubSpot ``category`` and optional details."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, list[str]] | None = None,
        sub_category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.sub_category = sub_category

    def body(self, correlation_id: str | None = None) -> dict[str, Any]:
        """The JSON body of this error (a top-level error answer)."""
        return error_body(self.category, self.message, correlation_id=correlation_id,
                          errors=self.errors, context=self.context,
                          sub_category=self.sub_category)

    def batch_entry(self) -> dict[str, Any]:
        """This error as one entry of a batch response's ``errors`` list (a StandardError)."""
        entry: dict[str, Any] = {"status": "error", "category": self.category,
                                 "message": self.message, "context": self.context or {}}
        if self.errors:
            entry["errors"] = self.errors
        if self.sub_category:
            entry["subCategory"] = self.sub_category
        return entry


def error_body(
    category: str,
    message: str,
    *,
    correlation_id: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    context: dict[str, list[str]] | None = None,
    sub_category: str | None = None,
) -> dict[str, Any]:
    """HubSpot's error envelope with a fresh correlation id unless one is given."""
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": correlation_id or str(uuid.uuid4()),
        "category": category,
    }
    if sub_category:
        body["subCategory"] = sub_category
    if errors:
        body["errors"] = errors
    if context:
        body["context"] = context
    return body


def property_errors(problems: list[tuple[str, str, str]], portal_id: int) -> ApiError:
    """HubSpot's 400 for invalid property values; ``problems`` holds (name, code, message).

    The message embeds the JSON list HubSpot embeds ("Property values were not valid: [...]").
    """
    embedded = [
        {"isValid": False, "message": message, "error": code, "name": name,
         "localizedErrorMessage": message, "portalId": portal_id}
        for name, code, message in problems
    ]
    details = [
        {"message": message, "code": code, "context": {"propertyName": [name]}}
        for name, code, message in problems
    ]
    text = "Property values were not valid: " + json.dumps(embedded, separators=(",", ":"))
    return ApiError(400, "VALIDATION_ERROR", text, errors=details)
