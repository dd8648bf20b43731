"""Optional compiled build of the rules engine (``policies/``) with mypyc.

Everything is declared in ``pyproject.toml``; this file only adds the compiled modules, and
only on request: ``PARTNER_SYNC_COMPILE=1 pip install .`` (a regular install or wheel build).
Without the variable the package is pure Python, and ``pip install -e .`` always is: an
extension module next to an edited ``.py`` file would be imported instead of it. mypy (which
ships mypyc) is then asked for as a build requirement, at the version the test extra pins,
with the typed dependencies it reads the engine's types from (pydantic for ``config``, idna).

``policies/dates.py`` stays Python: the rules benchmark's bookkeeping baseline calls its
``add_months`` and must stay the same pure-Python code in both builds.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

from setuptools import setup

COMPILE = os.environ.get("PARTNER_SYNC_COMPILE", "").strip() not in ("", "0")
ROOT = Path(__file__).resolve().parent
PURE_PYTHON = {"policies/dates.py"}
# what mypy needs to see the types it compiles, with the ranges pyproject.toml gives them
TYPED = ("mypy", "pydantic", "pydantic-settings", "idna")


def _build_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return [r for r in declared if re.split(r"[\[<>=!~ ]", r, maxsplit=1)[0] in TYPED]


def _compiled_modules() -> list[str]:
    return sorted(
        path
        for path in (p.relative_to(ROOT).as_posix() for p in (ROOT / "policies").glob("*.py"))
        if path not in PURE_PYTHON
    )


def _ext_modules() -> list[object]:
    if not COMPILE:
        return []
    if "editable_wheel" in sys.argv:
        raise SystemExit(
            "PARTNER_SYNC_COMPILE is for a regular install (pip install .), not an editable one:"
            " the compiled modules would hide edits to the .py files"
        )
    try:
        from mypyc.build import mypycify
    except ImportError:
        if "egg_info" in sys.argv:  # setuptools asking for the build requirements (below)
            return []
        raise SystemExit(
            f"PARTNER_SYNC_COMPILE=1 needs {', '.join(_build_requirements())} to build"
        ) from None
    for old in ROOT.glob("build/lib.*/policies"):  # a previous compiled build's modules
        shutil.rmtree(old)
    return list(mypycify(_compiled_modules(), opt_level="3"))


setup(
    ext_modules=_ext_modules(),
    setup_requires=_build_requirements() if COMPILE else [],
)
