"""The operator docs cannot go stale: settings, scopes, exit codes and links are checked here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from cli.doctor_portal import REQUIRED_SCOPES
from cli.output import ExitCode
from config.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _settings_rows(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str]]:
    """(environment variable, default as the doc shows it) for every leaf setting."""
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _settings_rows(kind, f"{prefix}{name.upper()}__")
            continue
        default = field.default
        yield f"{prefix}{name.upper()}", "unset" if default is None else str(default)


def test_every_setting_is_documented_with_its_default() -> None:
    text = (DOCS / "configuration.md").read_text()
    rows = list(_settings_rows(Settings, ENV_PREFIX))
    assert len(rows) > 25
    missing = [f"| `{env}` | `{default}` |" for env, default in rows
               if f"| `{env}` | `{default}` |" not in text]
    assert not missing, "add to docs/configuration.md:\n" + "\n".join(missing)
    documented = set(re.findall(r"\| `(PARTNER_SYNC_[A-Z0-9_]+)` \|", text))
    assert documented == {env for env, _ in rows}, "docs/configuration.md lists unknown settings"


def test_every_program_term_table_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    terms = (ROOT / "config" / "program_terms.toml").read_text()
    for key in re.findall(r"^([a-z_]+) *=", terms, flags=re.MULTILINE):
        assert f"`{key}`" in text, key


def test_scopes_in_the_docs_are_the_ones_doctor_checks() -> None:
    text = (DOCS / "connecting-a-portal.md").read_text()
    listed = re.findall(r"^\| `(crm\.[a-z.]+)` \|", text, flags=re.MULTILINE)
    assert listed == list(REQUIRED_SCOPES)


def test_exit_codes_are_documented() -> None:
    text = (DOCS / "troubleshooting.md").read_text()
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \| ", text, flags=re.MULTILINE), code


def test_readme_links_every_doc_and_each_link_resolves() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("quickstart", "connecting-a-portal", "configuration", "rules", "operations",
                 "troubleshooting"):
        assert f"(docs/{name}.md)" in readme, name
    for doc in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([a-z-]+\.md)(?:#[a-z-]+)?\)", doc.read_text()):
            assert (DOCS / target).is_file(), f"{doc.name} links to missing {target}"
