"""The rules benchmark says which build of ``policies`` it measured, and refuses a mix."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import policies
from bench import bench_policies


def test_the_compiled_flag_matches_the_files_of_the_imported_modules() -> None:
    for info in pkgutil.iter_modules(policies.__path__, "policies."):
        module = importlib.import_module(info.name)
        is_python = (module.__file__ or "").endswith(".py")
        if info.name == "policies.dates":  # always Python (the baseline calls it)
            assert is_python
        else:
            assert is_python is not policies.COMPILED, module.__file__


def test_the_benchmark_reports_the_build_it_imported() -> None:
    build = bench_policies.policies_build()
    assert build["policies_file"] == policies.evaluate.__file__
    assert build["policies_build"] == ("mypyc" if policies.COMPILED else "pure-python")


# the other figures a child reports, which the table prints
_REST = ("members", "requests", "deals", "subscriptions", "engine_warm_s", "engine_frozen_s",
         "engine_paused_s", "engine_paused_warm_s", "peak_rss_mib", "paused_peak_rss_mib",
         "ledger_lines")


def _child(build: str, **figures: float) -> dict[str, Any]:
    run = {"baseline_s": 0.2, "engine_s": 0.5, "ratio": 2.5, "baseline_cpu_s": 0.2,
           "engine_cpu_s": 0.4, "ratio_cpu": 2.0, **dict.fromkeys(_REST, 0), **figures}
    return {"profile": "M", "policies_build": build,
            "policies_file": f"policies/evaluate.{build}", **run}


def test_a_run_prints_its_build_and_refuses_children_of_different_builds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    children = iter([_child("mypyc"), _child("mypyc", ratio_cpu=3.0), _child("mypyc")])
    monkeypatch.setattr(bench_policies, "_run_child", lambda args: next(children))
    row = bench_policies.run_profile("M", 1, 1, profile_hot=False, runs=2)
    assert row["policies_build"] == "mypyc"
    assert [r["policies_build"] for r in row["runs"]] == ["mypyc", "mypyc"]
    assert row["ratio_cpu_spread"] == [2.0, 3.0]
    bench_policies.print_table([row])
    assert "rules engine build: mypyc (policies/evaluate.mypyc)" in capsys.readouterr().out

    mixed = iter([_child("mypyc"), _child("pure-python")])
    monkeypatch.setattr(bench_policies, "_run_child", lambda args: next(mixed))
    with pytest.raises(SystemExit, match="different builds"):
        bench_policies.run_profile("M", 1, 1, profile_hot=False, runs=1)
