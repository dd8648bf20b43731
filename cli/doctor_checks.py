"""The values ``partner-sync doctor`` reports: one ``Check`` per finding, and the exit code.

Exit code (docs/troubleshooting.md): 0 when nothing failed (warnings included, unless
``strict``); with ``strict``, 1 when something warned; with failures, the highest code among the
failed checks: 2 settings, 3 token/scopes/contract properties, 4 portal or store unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from cli.output import ExitCode

__all__ = ["Check", "DoctorReport", "Status"]

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    """One finding. ``fix`` says what to do (None when ok); ``code`` is the exit code a failure
    of this check leads to."""

    name: str
    status: Status
    detail: str
    fix: str | None = None
    code: ExitCode = ExitCode.FAILURES

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(slots=True)
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warned(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    def exit_code(self, *, strict: bool = False) -> ExitCode:
        if self.failed:
            return max(c.code for c in self.failed)
        if strict and self.warned:
            return ExitCode.FAILURES
        return ExitCode.OK

    def to_dict(self, *, strict: bool = False) -> dict[str, Any]:
        return {
            "ok": not self.failed,
            "exit_code": int(self.exit_code(strict=strict)),
            "checks": [c.to_dict() for c in self.checks],
        }
