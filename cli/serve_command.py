"""The checks ``partner-sync serve`` makes before anything listens, and its exit codes.

Settings, token and store folder as every command (cli/startup.py); then the address must be
free (exit 2 naming host, port and ``--port``; uvicorn itself would exit 3, the code for auth);
a store that cannot be opened exits 4.
"""

from __future__ import annotations

import errno
import socket

from cli.exits import ExitCode
from cli.output import fail, load_settings_or_exit
from cli.startup import STORE_FIX, end_logging, require_store_folder, require_token

__all__ = ["address_problem", "run_serve_command"]

# uvicorn leaves with this code when it cannot bind or start (uvicorn.server.STARTUP_FAILURE).
UVICORN_STARTUP_FAILURE = 3


def address_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None when it can (probed with a bind that
    is closed at once, with the same SO_REUSEADDR uvicorn uses)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}:{port}: unknown host ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"cannot listen on {host}:{port}: the port is in use by another process"
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def run_serve_command(host: str, port: int) -> None:
    """Check, then run ``cli.serve.serve`` until a signal stops it."""
    from cli.runtime import StoreUnavailable
    from cli.serve import serve
    from config.settings import SettingsError
    from sync.logs import configure_logging

    settings = load_settings_or_exit()
    require_token(settings)
    require_store_folder(settings)
    if (problem := address_problem(host, port)) is not None:
        fail(problem, "stop the other process or pick another --port (and --host)",
             ExitCode.USAGE)
    configure_logging(settings)
    try:
        serve(settings, host, port)
    except StoreUnavailable as exc:
        fail(str(exc), STORE_FIX, ExitCode.UNREACHABLE)
    except SettingsError as exc:
        fail(str(exc), "set the named variable (docs/configuration.md)", ExitCode.USAGE)
    except SystemExit as exc:
        if exc.code == UVICORN_STARTUP_FAILURE:
            fail(f"serve could not start on {host}:{port} (see the log line above)",
                 "pick another --port, or stop the process that holds it", ExitCode.USAGE)
        raise
    finally:
        end_logging()
