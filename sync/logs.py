"""Logging for every entrypoint: structured, redacted, one summary line per run.

``configure_logging(settings)`` installs one handler on the root logger: JSON lines when the
stream is not a terminal (or ``log_format = "json"``), text on a terminal (rich when available).
Every record passes ``RedactingFilter`` before any handler formats it, so a HubSpot token
(``pat-...``), a bearer value, a client secret, a DSN password or the value of any configured
secret never reaches the output, whether it sits in the message, its args, an ``extra`` field or
an exception's traceback. ``log_run_summary(report)`` writes the run's totals as one line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Any, Protocol

import orjson
from pydantic import BaseModel, SecretStr

from config.settings import SecretUrl, Settings

__all__ = [
    "MASK",
    "JsonFormatter",
    "RedactingFilter",
    "configure_logging",
    "log_run_summary",
    "redact",
    "redact_document",
    "run_summary",
    "run_summary_line",
    "secret_values",
    "summarize",
]

MASK = "***"
MIN_SECRET_CHARS = 4  # shorter configured "secrets" would mask ordinary words
RUN_LOGGER = "partner_sync.runs"
# Libraries that log each request, each store open or each job run at INFO: shown at DEBUG.
_CHATTY = ("httpx", "httpcore", "alembic.runtime.migration", "apscheduler")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # HubSpot private-app and personal access keys: pat-na1-1234abcd-..., pat-eu1-...
    (re.compile(r"\bpat-[A-Za-z0-9]+-[A-Za-z0-9-]{6,}"), MASK),
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), r"\1" + MASK),
    # key=value and "key": "value" forms of secret-bearing names
    (
        re.compile(
            r"(?i)\b((?:access|refresh|admin)[_-]?token|client[_-]?secret|password|api[_-]?key)"
            r"(['\"]?\s*[:=]\s*['\"]?)[^\s'\",&;}]+"
        ),
        r"\1\2" + MASK,
    ),
    # passwords inside URLs: postgresql+psycopg://user:secret@host/db
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1" + MASK + "@"),
)

# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# Extras that are not data: uvicorn's copy of its message with terminal colour codes.
_NOT_DATA = frozenset({"color_message"})


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with token-like values and the given secret values replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):  # longest first: no partial leaks
        if len(secret) >= MIN_SECRET_CHARS:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {str(k): _redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v, secrets) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), secrets)


def redact_document(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON-like value with every string in it redacted (``redact``); keys become strings."""
    return _redact_value(value, tuple(secrets))


def secret_values(settings: Settings) -> tuple[str, ...]:
    """The plain values of every ``SecretStr`` setting (token, client secret, admin token, and
    any secret a section adds later); of a secret URL (the store's), its password."""
    return tuple(_secrets(settings))


def _secrets(model: BaseModel) -> list[str]:
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretUrl):
            if value.password:
                found.append(value.password)
        elif isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            found += _secrets(value)
    return found


class RedactingFilter(logging.Filter):
    """Rewrites each record in place: message rendered and redacted, args dropped, extras and
    exception text redacted. Attach it to a handler so propagated records pass it too."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad %-args: keep both parts rather than lose the line
            message = f"{record.msg} {record.args}"
        if record.exc_info:
            # Tracebacks can carry request headers or URLs: render once here, redacted.
            formatter = logging.Formatter()
            message += "\n" + formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            message += "\n" + record.exc_text
            record.exc_text = None
        record.msg = redact(message, self.secrets)
        record.args = None
        for key in set(vars(record)) - _STANDARD:
            setattr(record, key, _redact_value(getattr(record, key), self.secrets))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (UTC ISO-8601), ``level``, ``logger``, ``msg`` and every
    ``extra`` field under its own key."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in sorted(set(vars(record)) - _STANDARD - _NOT_DATA):
            doc[key] = getattr(record, key)
        return orjson.dumps(doc, default=str).decode()


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _text_handler(stream: IO[str]) -> logging.Handler:
    if _is_terminal(stream):
        from rich.console import Console
        from rich.logging import RichHandler

        return RichHandler(console=Console(file=stream), show_path=False, markup=False)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def configure_logging(
    settings: Settings,
    *,
    stream: IO[str] | None = None,
    extra_secrets: Iterable[str] = (),
) -> logging.Handler:
    """Install the process's log handler on the root logger (replacing one installed earlier
    by this function) and return it. ``stream`` defaults to stderr.

    Raises ``ValueError`` for an unknown ``log_level``.
    """
    out = stream if stream is not None else sys.stderr
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        raise ValueError(f"PARTNER_SYNC_LOG_LEVEL: unknown level {settings.log_level!r}")
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not _is_terminal(out)
    )
    handler: logging.Handler
    if use_json:
        handler = logging.StreamHandler(out)
        handler.setFormatter(JsonFormatter())
    else:
        handler = _text_handler(out)
    handler.addFilter(RedactingFilter((*secret_values(settings), *extra_secrets)))
    handler.set_name("partner-sync")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "partner-sync"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request at INFO, APScheduler two lines per job run: either would drown
    # the run lines.
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(logging.DEBUG if level <= logging.DEBUG
                                           else max(level, logging.WARNING))
    return handler


class _HasToDict(Protocol):
    def to_dict(self) -> Mapping[str, Any]: ...


_SUMMARY_KEYS = (
    "run_id", "kind", "trigger", "as_of", "status", "dry_run", "started_at", "finished_at",
    "records_read", "decided", "written", "api_calls", "rate_limited", "error",
)
_LEVELS = {"ok": logging.INFO, "partial": logging.WARNING}


def _count(value: Any) -> int:
    if isinstance(value, Mapping):
        return sum(int(v) for v in value.values() if isinstance(v, int | float))
    if isinstance(value, list | tuple):
        return len(value)
    return int(value or 0)


def run_summary(report: _HasToDict) -> dict[str, Any]:
    """The totals of one run: the report's scalar fields and per-type counts, and the number of
    patches, write failures and problems (not the lists themselves)."""
    return summarize(report.to_dict())


def summarize(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``run_summary`` of a run document (``RunReport.to_dict()``)."""
    summary = {key: doc[key] for key in _SUMMARY_KEYS if key in doc}
    for key in ("patches", "write_failures", "problems"):
        summary[key] = _count(doc.get(key))
    return summary


def _seconds(summary: Mapping[str, Any]) -> float | None:
    try:
        started = datetime.fromisoformat(str(summary["started_at"]))
        finished = datetime.fromisoformat(str(summary["finished_at"]))
    except (KeyError, ValueError):
        return None
    return (finished - started).total_seconds()


def run_summary_line(doc: Mapping[str, Any]) -> str:
    """One line with a run's totals, from a run document or its ``summarize``: ``run 7 full
    (cli) ok: read 120, patches 4, written 4, ...``; a dry run says so."""
    summary = summarize(doc)
    read = _count(summary.get("records_read"))
    calls = _count(summary.get("api_calls"))
    written = _count(summary.get("written"))
    took = _seconds(summary)
    dry = " (dry run)" if summary.get("dry_run") else ""
    line = (
        f"run {summary.get('run_id')} {summary.get('kind')} ({summary.get('trigger')}){dry} "
        f"{summary.get('status')}: read {read}, patches {summary['patches']}, "
        f"written {written}, write failures {summary['write_failures']}, "
        f"problems {summary['problems']}, api calls {calls}, "
        f"429s {summary.get('rate_limited', 0)}"
    )
    if took is not None:
        line += f", {took:.1f} s"
    if summary.get("error"):
        line += f"; error: {summary['error']}"
    return line


def log_run_summary(report: _HasToDict, logger: logging.Logger | None = None) -> dict[str, Any]:
    """Log one line with the run's totals (INFO when ok, WARNING partial, ERROR otherwise);
    the totals are also attached as the ``run`` field for JSON logs. Returns them."""
    summary = run_summary(report)
    log = logger or logging.getLogger(RUN_LOGGER)
    log.log(_LEVELS.get(str(summary.get("status")), logging.ERROR), run_summary_line(summary),
            extra={"run": summary})
    return summary

