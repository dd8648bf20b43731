"""Architecture: ``policies/`` and ``mappers/`` stay pure (DESIGN.md layout, STYLE.md 1).

Two independent checks, so that neither a dynamic import nor a transitive one slips through:
the source of every module is parsed (ast) for imports of I/O libraries and for clock reads,
and the packages are imported in a fresh interpreter whose ``sys.modules`` must then hold no
I/O library. The checkers themselves are tested on planted sources, so these tests can fail.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE_PACKAGES = ("policies", "mappers")

# I/O libraries (top-level import names) that policies and mappers must never load.
FORBIDDEN_LIBRARIES = frozenset({
    "httpx", "hubspot", "sqlalchemy", "apscheduler", "starlette", "fastapi", "uvicorn",
    "requests", "tenacity", "alembic", "psycopg", "psycopg2", "urllib3", "aiohttp",
})

# Calls that read the clock, by canonical dotted name (after resolving import aliases).
CLOCK_CALLS = frozenset({
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today",
    "datetime.date.today", "time.time", "time.time_ns", "time.localtime", "time.gmtime",
    "time.monotonic", "time.perf_counter",
})
# When a name cannot be resolved (e.g. a parameter called ``date``), the last two segments
# still give a clock read away.
CLOCK_TAILS = frozenset({
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("time", "time_ns"),
})


# ---------------------------------------------------------------------------------------------
# Checkers (pure functions over source text)
# ---------------------------------------------------------------------------------------------


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> canonical dotted name, from every import statement in the module."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                names[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def forbidden_imports(source: str) -> list[str]:
    """Top-level names of forbidden libraries the source imports, statically or dynamically.

    Covers ``import x``, ``from x import y`` and ``importlib.import_module("x")`` /
    ``__import__("x")`` with a literal name.
    """
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Call) and node.args:
            callee = _dotted(node.func)
            first = node.args[0]
            if callee in {"importlib.import_module", "import_module", "__import__"} and (
                isinstance(first, ast.Constant) and isinstance(first.value, str)
            ):
                modules = [first.value]
        found += [m for m in modules if m.split(".")[0] in FORBIDDEN_LIBRARIES]
    return found


def clock_reads(source: str) -> list[str]:
    """Calls in the source that read the wall clock, as canonical dotted names."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        if name is None:
            continue
        head, _, rest = name.partition(".")
        resolved = aliases.get(head, head) + (f".{rest}" if rest else "")
        if resolved in CLOCK_CALLS or tuple(resolved.split(".")[-2:]) in CLOCK_TAILS:
            found.append(resolved)
    return found


def _modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


# ---------------------------------------------------------------------------------------------
# The checkers catch what they must (otherwise the real checks below prove nothing)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import httpx\n",
        "import sqlalchemy.orm as orm\n",
        "from hubspot.crm import contacts\n",
        "def f():\n    from tenacity import retry\n",
        "import importlib\nm = importlib.import_module('starlette.requests')\n",
        "x = __import__('psycopg')\n",
    ],
)
def test_import_checker_flags_io_library(source: str) -> None:
    assert forbidden_imports(source)


@pytest.mark.parametrize(
    "source",
    [
        "import json\nfrom decimal import Decimal\n",
        "from policies.model import Program\n",
        "from . import dates\n",
        "import httpx_like_name_but_not_httpx\n",
    ],
)
def test_import_checker_accepts_pure_imports(source: str) -> None:
    assert forbidden_imports(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nx = datetime.now()\n",
        "import datetime\nx = datetime.datetime.utcnow()\n",
        "from datetime import date\nx = date.today()\n",
        "import datetime as dt\nx = dt.date.today()\n",
        "from datetime import date as D\nx = D.today()\n",
        "import time\nx = time.time()\n",
        "from time import time as now\nx = now()\n",
        "def f(date):\n    return date.today()\n",
    ],
)
def test_clock_checker_flags_clock_reads(source: str) -> None:
    assert clock_reads(source)


def test_clock_checker_accepts_date_arithmetic() -> None:
    source = (
        "from datetime import UTC, date, datetime, timedelta\n"
        "def f(as_of: date) -> date:\n"
        "    d = datetime.fromtimestamp(0, tz=UTC).date()\n"
        "    return max(as_of + timedelta(days=1), d, date(2024, 2, 29))\n"
    )
    assert clock_reads(source) == []


def test_checkers_find_a_planted_module(tmp_path: Path) -> None:
    """The file-based path the real checks use catches a module that breaks both rules."""
    planted = tmp_path / "bad_policy.py"
    planted.write_text("import httpx\nfrom datetime import date\nTODAY = date.today()\n")
    source = planted.read_text(encoding="utf-8")
    assert forbidden_imports(source) == ["httpx"]
    assert clock_reads(source) == ["datetime.date.today"]


# ---------------------------------------------------------------------------------------------
# The real checks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_import_no_io_library_in_source(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in _modules(package)
        if (bad := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_never_read_the_clock(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in _modules(package)
        if (bad := clock_reads(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


_RUNTIME_PROBE = """
import importlib, json, pkgutil, sys
for name in sys.argv[1].split(","):
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        importlib.import_module(info.name)
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps(loaded))
"""


def _loaded_after_import(packages: str, search_path: Path = ROOT) -> list[str]:
    """Forbidden libraries in ``sys.modules`` of a fresh interpreter after importing packages."""
    completed = subprocess.run(
        [sys.executable, "-c", _RUNTIME_PROBE, packages, json.dumps(sorted(FORBIDDEN_LIBRARIES))],
        cwd=search_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    loaded: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


def test_pure_packages_load_no_io_library_at_runtime() -> None:
    """Importing every module of policies and mappers (with what they pull in) loads no I/O."""
    assert _loaded_after_import(",".join(PURE_PACKAGES)) == []


def test_runtime_probe_sees_a_transitive_io_import(tmp_path: Path) -> None:
    """The probe is not blind: a submodule that pulls in httpx indirectly is reported."""
    package = tmp_path / "leaky"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rules.py").write_text("from leaky import helpers\n")
    (package / "helpers.py").write_text("import importlib\nimportlib.import_module('httpx')\n")
    assert _loaded_after_import("leaky", search_path=tmp_path) == ["httpx"]


# ---------------------------------------------------------------------------------------------
# The house: layers of DESIGN.md "Layout" (import-linter checks them in CI too; this check
# needs no tool and names the offending module)
# ---------------------------------------------------------------------------------------------

# package -> first-party packages it must never import
LAYER_BANS = {
    "sync": ("cli", "webhooks", "sandbox"),
    "webhooks": ("cli", "sandbox"),
    "mappers": ("cli", "webhooks", "sync", "sandbox"),
    "policies": ("cli", "webhooks", "sync", "mappers", "sandbox"),
    "config": ("cli", "webhooks", "sync", "mappers", "policies", "sandbox"),
    "sandbox": ("cli", "webhooks", "sync", "mappers", "policies"),
}


def imported_packages(source: str) -> set[str]:
    """Top-level names of every absolute import in the source, static or by literal name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if _dotted(node.func) in {"importlib.import_module", "import_module", "__import__"} \
                    and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value.split(".")[0])
    return found


def test_layer_checker_sees_a_lazy_import_inside_a_function() -> None:
    source = "def f():\n    from webhooks.app import create_app\n    return create_app\n"
    assert "webhooks" in imported_packages(source)


@pytest.mark.parametrize("package", sorted(LAYER_BANS))
def test_each_layer_imports_nothing_above_it(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(bad)
        for path in _modules(package)
        if (bad := imported_packages(path.read_text(encoding="utf-8")) & set(LAYER_BANS[package]))
    }
    assert offenders == {}


# ---------------------------------------------------------------------------------------------
# The store's private attributes stay inside sync/store
# ---------------------------------------------------------------------------------------------

STORE_PACKAGE = ROOT / "sync" / "store"
CODE_DIRS = ("bench", "cli", "config", "mappers", "policies", "sandbox", "sync", "tests",
             "webhooks")


def _store_name(node: ast.expr) -> str | None:
    """A store's name: ``store``, ``self._store``, ``runtime.store``, ``receiver_store``."""
    name = node.id if isinstance(node, ast.Name) else (
        node.attr if isinstance(node, ast.Attribute) else None)
    return name if name is not None and name.lower().endswith("store") else None


def _private(attr: str) -> bool:
    return attr.startswith("_") and not attr.endswith("__")


def private_store_access(source: str) -> list[str]:
    """Reads of a store's private attributes (``store._write``, ``getattr(store, "_read")``)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = _store_name(node.value)
            if owner is not None:
                found.append(f"{node.lineno}: {owner}.{node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private(node.args[1].value)
              and (owner := _store_name(node.args[0])) is not None):
            found.append(f"{node.lineno}: {node.func.id}({owner}, {node.args[1].value!r})")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "def f(store):\n    with store._write() as conn:\n        pass\n",
        "class R:\n    def f(self):\n        return self._store._read()\n",
        "clock = runtime.store._clock\n",
        "receiver_store._engine.dispose()\n",
        "engine = getattr(store, '_engine')\n",
    ],
)
def test_private_store_checker_flags_private_access(source: str) -> None:
    assert private_store_access(source)


def test_private_store_checker_accepts_public_calls() -> None:
    source = (
        "class R:\n"
        "    def __init__(self, store):\n"
        "        self._store = store\n"
        "    def f(self):\n"
        "        return self._store.portal(1), self._store.__class__, store_of(self._x)\n"
    )
    assert private_store_access(source) == []


def test_no_module_outside_the_store_touches_its_private_attributes() -> None:
    offenders = {
        str(path.relative_to(ROOT)): bad
        for top in CODE_DIRS
        for path in _modules(top)
        if not path.is_relative_to(STORE_PACKAGE)
        and (bad := private_store_access(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
