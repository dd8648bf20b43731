"""Every message docs/troubleshooting.md quotes is one the code can print: each literal piece
of a quoted message (the parts between ``...`` placeholders) must appear, in one piece, in a
string literal of the package's source (f-strings with their fields as gaps)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from webhooks.signature import Verdict

ROOT = Path(__file__).resolve().parents[2]
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
PACKAGES = ("cli", "config", "sync", "webhooks")
GAP = "\0"
MIN_FRAGMENT = 3  # shorter pieces (": ", ", ") say nothing


def _field(node: ast.expr, constants: dict[str, str]) -> str:
    """An f-string field: a named module constant (``{CONFIG_FILE_ENV}``) reads as its value,
    anything else is a gap."""
    if isinstance(node, ast.FormattedValue) and isinstance(node.value, ast.Name):
        return constants.get(node.value.id, GAP)
    if isinstance(node, ast.Constant):
        return str(node.value)
    return GAP


def _literal_text(node: ast.AST, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_field(v, constants) for v in node.values)
    return None


def _concatenations(node: ast.AST, constants: dict[str, str]) -> str | None:
    """``"a" + f"b{x}"`` chains read as one literal (with gaps for non-literals)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _concatenations(node.left, constants)
        right = _concatenations(node.right, constants)
        return (left if left is not None else GAP) + (right if right is not None else GAP)
    return _literal_text(node, constants)


def _trees() -> list[ast.Module]:
    return [ast.parse(path.read_text(encoding="utf-8"))
            for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def _module_constants(trees: list[ast.Module]) -> dict[str, str]:
    """``NAME = "text"`` at module level, across the packages (a name bound to two different
    texts is left out)."""
    seen: dict[str, set[str]] = {}
    for tree in trees:
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                seen.setdefault(node.targets[0].id, set()).add(node.value.value)
    return {name: next(iter(texts)) for name, texts in seen.items() if len(texts) == 1}


@cache
def code_pieces() -> tuple[str, ...]:
    """Every string literal of the packages, cut at its formatted fields."""
    trees = _trees()
    constants = _module_constants(trees)
    pieces: list[str] = []
    for tree in trees:
        for node in ast.walk(tree):
            text = _concatenations(node, constants)
            if text is not None:
                pieces.extend(text.split(GAP))
    return tuple(pieces)


def quoted_messages(markdown: str) -> list[str]:
    """The backticked messages in the first column of the "Messages and fixes" table."""
    section = markdown.split("## Messages and fixes", 1)[1].split("\n## ", 1)[0]
    messages: list[str] = []
    for row in re.findall(r"^\| (.+?) \| .+\|$", section, flags=re.MULTILINE):
        if row.startswith(("message", "---")):
            continue
        messages += re.findall(r"`([^`]+)`", row)
    return messages


def fragments(message: str) -> list[str]:
    return [f for f in re.split(r"\.\.\.", message) if len(f.strip()) >= MIN_FRAGMENT]


def unknown_fragments(message: str, pieces: tuple[str, ...]) -> list[str]:
    return [f for f in fragments(message) if not any(f in piece for piece in pieces)]


MESSAGES = quoted_messages(TROUBLESHOOTING.read_text(encoding="utf-8"))


def test_the_table_quotes_messages() -> None:
    assert len(MESSAGES) >= 25


@pytest.mark.parametrize("message", MESSAGES)
def test_each_quoted_message_is_in_the_code(message: str) -> None:
    assert unknown_fragments(message, code_pieces()) == []


def test_the_check_catches_a_message_the_code_does_not_print() -> None:
    pieces = code_pieces()
    assert unknown_fragments("cannot reach the portal in time: ...", pieces)
    assert unknown_fragments("PARTNER_SYNC_STORE__URL: the directory ... is missing", pieces)
    assert unknown_fragments("no HubSpot access token is configured", pieces) == []


def test_the_webhook_refusal_reasons_are_the_verdicts() -> None:
    text = TROUBLESHOOTING.read_text(encoding="utf-8")
    section = text.split("## Webhook signature failures", 1)[1].split("\n## ", 1)[0]
    for verdict in Verdict:
        if verdict is not Verdict.OK:
            assert f"`{verdict.value}`" in section
