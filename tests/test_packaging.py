"""Reproducible installs: capped majors, pinned linters, the tested set in constraints.txt, and
PostgreSQL's driver as an extra whose absence is reported clearly."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

from sync.store import Store
from sync.store.database import make_engine

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
NAME = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?")


def _name(requirement: str) -> str:
    match = NAME.match(requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-")


def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt line {line!r} is not name==version"
            pins[name.lower().replace("_", "-")] = version
    return pins


@pytest.mark.parametrize("requirement", PROJECT["dependencies"])
def test_every_runtime_dependency_is_capped_below_a_major(requirement: str) -> None:
    assert re.search(r",\s*<\d+(\s|$|;)", requirement + " "), requirement


def test_psycopg_is_only_in_the_postgres_extra_which_the_test_extra_pulls_in() -> None:
    extras = PROJECT["optional-dependencies"]
    assert all(_name(r) != "psycopg" for r in PROJECT["dependencies"])
    assert [_name(r) for r in extras["postgres"]] == ["psycopg"]
    assert "partner-sync[postgres]" in extras["test"]


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_the_linters_are_pinned_exactly_and_match_the_constraints(tool: str) -> None:
    pins = [r for r in PROJECT["optional-dependencies"]["test"] if _name(r) == tool]
    assert len(pins) == 1
    assert pins[0] == f"{tool}=={_constraints()[tool]}"


def test_constraints_pin_every_direct_dependency_and_not_the_project() -> None:
    pins = _constraints()
    direct = [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["postgres"],
              *PROJECT["optional-dependencies"]["test"]]
    names = {_name(r) for r in direct} - {"partner-sync"}
    assert names <= pins.keys(), names - pins.keys()
    assert "partner-sync" not in pins


def test_ci_installs_from_the_constraints() -> None:
    lines = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines()
             if "pip install" in ln and "-e" in ln]
    assert lines
    assert all("-c constraints.txt" in ln for ln in lines)


def test_a_postgres_url_without_the_driver_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(ValueError, match=r"psycopg driver.*partner-sync\[postgres\]"):
        Store.from_url("postgresql+psycopg://postgres@127.0.0.1:5432/test")


def test_a_postgres_url_for_another_driver_points_at_psycopg(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pg8000", None)
    with pytest.raises(ValueError, match=r"pg8000 driver.*postgresql\+psycopg://"):
        make_engine("postgresql+pg8000://postgres@127.0.0.1:5432/test")


def test_a_postgres_url_with_the_driver_builds_an_engine_without_connecting() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert engine.dialect.name == "postgresql"
    engine.dispose()
