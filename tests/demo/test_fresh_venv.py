"""The README's two commands, the way a new user runs them on a fresh machine.

The repository's tracked files as committed (``git archive HEAD``: what a clean clone holds) go
to a temporary directory; ``python3 -m venv`` makes a new environment; ``pip install <copy>`` (not
editable, from the package index) installs the product; ``partner-sync demo --json`` runs from
outside the copy, so only the installed package is used, and its summary is checked. Then
``pip install <copy>[test]`` and ``python -m pytest -q tests/test_config.py`` in the copy. No
``PARTNER_SYNC_*`` variable and no ``PYTHONPATH`` of this process reaches the children.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from cli.demo.run import STEPS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT_S = 240


def _python3() -> str:
    """``python3`` on PATH when it is 3.11+ (what the README names), else this interpreter."""
    found = shutil.which("python3")
    if found:
        probe = subprocess.run([found, "-c", "import sys; print(sys.version_info >= (3, 11))"],
                               capture_output=True, text=True, check=False, timeout=30)
        if probe.stdout.strip() == "True":
            return found
    return sys.executable


def _clean_env() -> dict[str, str]:
    drop = ("PARTNER_SYNC_", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                          check=False, timeout=STEP_TIMEOUT_S)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _clean_copy(dest: Path) -> Path:
    """The tracked files as committed (``git archive HEAD``): exactly what a fresh clone holds,
    never a half-saved edit of the work tree."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot tell tracked files from local ones")
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=ROOT,
                             capture_output=True, check=True, timeout=120).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("fresh")
    python3 = _python3()
    if subprocess.run([python3, "-m", "venv", "--help"], capture_output=True,
                      check=False, timeout=60).returncode != 0:
        pytest.skip(f"{python3} -m venv is unavailable on this machine")
    _run([python3, "-m", "venv", str(base / "venv")], cwd=base)
    return base / "venv"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clean_copy(tmp_path_factory.mktemp("clone") / "partner-sync")


def test_readme_demo_command_in_a_fresh_venv(venv: Path, repo: Path, tmp_path: Path) -> None:
    _run([str(venv / "bin" / "pip"), "install", "-q", str(repo)], cwd=tmp_path)
    done = _run([str(venv / "bin" / "partner-sync"), "demo", "--json"], cwd=tmp_path)
    result = json.loads(done.stdout)
    summary = result["summary"]
    assert result["full_sync"]["status"] == "ok"
    assert summary["registrations_by_status"]["registered"] > 0
    assert summary["deals_by_attribution"]["registered"] > 0
    assert [e["outputs"] for e in result["live_events"]][1]["partner_attribution"] == "registered"
    assert len(result["time_moves"]) == 2
    assert summary["payout_calendar"]
    assert summary["runs"]["failed"] == 0
    assert f"[{STEPS}/{STEPS}] Stopping serve" in done.stderr
    assert not Path(result["started"]["workdir"]).exists()


def test_readme_test_command_in_a_fresh_venv(venv: Path, repo: Path) -> None:
    _run([str(venv / "bin" / "pip"), "install", "-q", f"{repo}[test]"], cwd=repo)
    done = _run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "tests/test_config.py"], cwd=repo)
    assert " passed" in done.stdout
    assert "failed" not in done.stdout
