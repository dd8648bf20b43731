"""``--help`` of every command ends with the exit-code table (cli/exits.py), not only the
top-level one: ``ExitCodesGroup`` gives each subcommand that has no epilog of its own the
table as its epilog, whenever and wherever the command was registered."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

from cli.exits import exit_codes_help

__all__ = ["ExitCodesGroup"]


class ExitCodesGroup(TyperGroup):
    """The app's click group: every subcommand's help shows the exit codes."""

    # Typer bundles its own click: the context and command types are its private ones.
    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not command.epilog:
            command.epilog = exit_codes_help()
        return command
