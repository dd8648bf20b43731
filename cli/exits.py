"""The exit codes of every ``partner-sync`` command: one table, read by the code, ``--help`` and
docs/troubleshooting.md (a test keeps the document equal to ``EXIT_CODES``)."""

from __future__ import annotations

import enum

__all__ = ["EXIT_CODES", "ExitCode", "exit_codes_help"]


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURES = 1  # the command ran; some records, checks or writes failed
    USAGE = 2  # bad arguments or settings (typer uses 2 for usage errors too)
    AUTH = 3  # HubSpot rejected the token, no token, scopes or contract properties missing
    UNREACHABLE = 4  # the portal, the store or the serve process did not answer


# code -> what it means, in the words the docs use.
EXIT_CODES: dict[ExitCode, str] = {
    ExitCode.OK: "ok (also when the reader of a pipe, e.g. `head`, stops reading early)",
    ExitCode.FAILURES: "the run finished with failures: some writes or checks failed, "
                       "`doctor --strict` saw warnings, or another sync was running",
    ExitCode.USAGE: "usage or settings: a bad flag, a setting that does not validate, an "
                    "unknown PARTNER_SYNC_* variable, an unmigrated store, a port in use",
    ExitCode.AUTH: "HubSpot auth: no token, token rejected, scope missing, contract properties "
                   "missing or of the wrong type",
    ExitCode.UNREACHABLE: "unreachable: the portal, the store or the `serve` process did not "
                          "answer",
}


def exit_codes_help() -> str:
    """The table as ``--help`` shows it (one paragraph per code)."""
    return "Exit codes:\n\n" + "\n\n".join(
        f"{int(code)}  {meaning}" for code, meaning in EXIT_CODES.items())
