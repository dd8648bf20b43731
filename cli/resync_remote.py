"""``partner-sync resync``: what to resync (one scope), and asking a running ``serve`` to do it.

``ResyncScope`` is built from the CLI flags (exactly one of ``--all``, ``--type``, ``--ids``,
``--member``) and becomes the admin API's body (webhooks/admin.py): ``{"all": true}``,
``{"object_type": T}``, ``{"records": [{"object_type": T, "id": ID}, ...]}`` or
``{"member": CODE}``. ``request_remote`` POSTs it to ``/admin/resync`` with the bearer token and
returns the answer: the run document of sync/run_document.py, the one ``sync --json`` prints
(serve runs the sync before answering). An earlier serve wrapped it as ``{"run_id", "status",
"report"}``; that answer is read too. Failures, and an answer that is no run document, are
``RemoteError`` carrying the CLI exit code. Running locally is ``cli.resync``'s job (the
engine's ``full_sync`` / ``resync_*`` / ``targeted_sync``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from cli.output import ExitCode
from sync.run_document import RUN_DOCUMENT_KEYS, run_document

__all__ = ["OBJECT_TYPES", "RemoteError", "ResyncScope", "request_remote"]

OBJECT_TYPES = ("companies", "contacts", "deals", "subscriptions")
RESYNC_PATH = "/admin/resync"


class RemoteError(Exception):
    """The serve process refused or could not be reached; ``code`` is the exit code, ``fix``
    says what to do."""

    def __init__(self, message: str, fix: str, code: ExitCode) -> None:
        super().__init__(message)
        self.fix = fix
        self.code = code


@dataclass(frozen=True, slots=True)
class ResyncScope:
    kind: str  # all | type | records | member
    object_type: str | None = None
    records: tuple[tuple[str, str], ...] = ()
    member: str | None = None

    @classmethod
    def from_flags(
        cls, *, all_: bool, object_type: str | None, ids: str | None, member: str | None
    ) -> ResyncScope:
        """Exactly one flag; ``ids`` is ``type:id,type:id``. Raises ``ValueError`` naming the
        problem."""
        given = [all_, object_type is not None, ids is not None, member is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of --all, --type, --ids, --member")
        if all_:
            return cls("all")
        if object_type is not None:
            return cls("type", object_type=_object_type(object_type))
        if member is not None:
            if not member.strip():
                raise ValueError("--member needs a partner code or company id")
            return cls("member", member=member.strip())
        return cls("records", records=_records(ids or ""))

    def body(self) -> dict[str, Any]:
        """The admin API's request body."""
        if self.kind == "type":
            return {"object_type": self.object_type}
        if self.kind == "records":
            return {"records": [{"object_type": t, "id": i} for t, i in self.records]}
        if self.kind == "member":
            return {"member": self.member}
        return {"all": True}


def _object_type(raw: str) -> str:
    name = raw.strip().lower()
    if name not in OBJECT_TYPES:
        raise ValueError(f"unknown object type {raw!r}: use one of {', '.join(OBJECT_TYPES)}")
    return name


def _records(raw: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for item in (part.strip() for part in raw.split(",")):
        object_type, sep, record_id = item.partition(":")
        record_id = record_id.strip()
        # ASCII digits only: "²".isdigit() is True, yet no HubSpot id looks like that.
        if not sep or not (record_id.isascii() and record_id.isdigit()):
            raise ValueError(f"--ids expects type:id pairs like deals:123, got {item!r}")
        pairs.append((_object_type(object_type), record_id))
    return tuple(pairs)


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {"body": response.text[:200]}


def request_remote(
    base_url: str,
    admin_token: str,
    scope: ResyncScope,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_s: float = 600.0,
) -> Mapping[str, Any]:
    """POST the scope to ``<base_url>/admin/resync``; the run document serve answers.
    ``timeout_s`` bounds the wait: serve answers when the run has finished."""
    url = base_url.rstrip("/") + RESYNC_PATH
    try:
        with httpx.Client(transport=transport, timeout=timeout_s) as client:
            response = client.post(url, json=scope.body(),
                                   headers={"Authorization": f"Bearer {admin_token}"})
    except httpx.TransportError as exc:
        raise RemoteError(f"cannot reach {url}: {type(exc).__name__}",
                          "check --remote (the serve process's URL) and that serve is running",
                          ExitCode.UNREACHABLE) from exc
    if response.status_code in (401, 403):
        raise RemoteError(f"{url} refused the admin token ({response.status_code})",
                          "pass the serve process's PARTNER_SYNC_ADMIN__TOKEN with --admin-token "
                          "(or set it in the environment)", ExitCode.AUTH)
    if response.status_code == 409:
        raise RemoteError(f"{url}: a sync is already running", "retry when it has finished",
                          ExitCode.FAILURES)
    if response.status_code >= 400:
        detail = _answer(response)
        raise RemoteError(f"{url} answered {response.status_code}: {detail}",
                          "see the serve process's logs; docs/troubleshooting.md",
                          ExitCode.USAGE if response.status_code < 500 else ExitCode.FAILURES)
    return _run_document(url, _answer(response))


def _run_document(url: str, answer: dict[str, Any]) -> dict[str, Any]:
    """The run document of a 200 answer (see module), or ``RemoteError`` (exit 2)."""
    if all(key in answer for key in RUN_DOCUMENT_KEYS):
        return answer
    wrapped = answer.get("report")
    if isinstance(wrapped, dict) and "run_id" in wrapped:
        return run_document(wrapped)
    raise RemoteError(f"{url} answered 200 without a run document",
                      "check that --remote is the URL of `partner-sync serve`", ExitCode.USAGE)
