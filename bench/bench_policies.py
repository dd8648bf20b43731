"""Benchmark of the rules engine: ``evaluate_program`` over generated programs (profiles M, L).

Each profile runs in a fresh interpreter pinned to one core, so peak memory (``ru_maxrss``) is that
profile's alone. In the child: generate the program (``bench.program_gen``), time a **baseline**
(index every record by id, order the requests, walk every subscription's revenue months up to
``as_of``: the bookkeeping any evaluation needs, with no rule applied), then time
``evaluate_program``: its first run in the process (``engine s``, the plain cold call), the best
of ``--repeat`` later runs (warm caches), and one more run after ``gc.freeze()`` of everything
alive. A second fresh interpreter per profile times the call the way the sync engine makes it,
``sync.engine.apply.evaluate_paused_gc`` (the cyclic GC paused around the evaluation): its first
run (``paused s``, also cold) and the best of ``--repeat`` later runs. The ratio engine /
baseline says how much the rules cost over touching the data once.

Usage (from the repository root)::

    python -m bench.bench_policies                 # M and L, table + bench/out/policies.json
    python -m bench.bench_policies --profiles M --cprofile   # plus the hottest functions
    python -m bench.bench_policies --profiles M --runs 5     # the plain call in 5 processes

The plain cold call is timed in ``--runs`` fresh processes (default 5), each beside its own
baseline; the table shows the first run and the median with its spread [min, max].

Every child reports which build of ``policies`` it imported: ``pure-python`` (the default,
``pip install -e .``) or ``mypyc`` (the opt-in compiled install, ``PARTNER_SYNC_COMPILE=1 pip
install .``), with the file of ``policies.evaluate``. To measure a compiled install, run from a
directory whose ``policies/`` does not shadow it (a copy of ``bench/`` alone will do).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.program_gen import PROFILES, bench_terms, generate_program, profile_as_of
from config.terms import ProgramTerms, load_terms
from policies.dates import add_months
from policies.model import Program

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"M": (2.0, None), "L": (20.0, 1024.0)}  # (seconds, MiB) from the task
RATIO_TARGETS = {"M": 2.5}  # plain cold call / bookkeeping baseline, same process


def policies_build() -> dict[str, str]:
    """Which build of the rules engine this process imported, and from where."""
    import policies
    import policies.evaluate

    return {
        "policies_build": "mypyc" if policies.COMPILED else "pure-python",
        "policies_file": policies.evaluate.__file__ or "?",
    }


def baseline(program: Program, as_of: date) -> int:
    """Index, order and walk the inputs without applying any rule; returns a checksum."""
    companies = {c.company_id: c for c in program.companies}
    contacts = {c.contact_id: c for c in program.contacts}
    members = {m.code: m for m in program.members if m.code}
    subscriptions = {s.subscription_id: s for s in program.subscriptions}
    requests = sorted(
        (r.requested_at, kind, rid)
        for kind, records in (("company", companies), ("contact", contacts))
        for rid, rec in records.items()
        if (r := rec.request) is not None and r.requested_at is not None
    )
    months = 0
    for deal in program.deals:
        for sid in deal.subscription_ids:
            sub = subscriptions.get(sid)
            if sub is None or sub.start_date is None:
                continue
            j = 0
            while j < 48 and add_months(sub.start_date, j) <= as_of:
                j += 1
            months += j
    return len(requests) + len(members) + months


def _cpu_timed(fn: Callable[[], object]) -> tuple[float, float]:
    """One run of ``fn``: (wall seconds, this process's CPU seconds). On a shared machine the
    CPU time leaves out the time other processes held the core."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _timed(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _load(name: str, seed: int) -> tuple[Program, ProgramTerms, date, float]:
    """Pin this process to one core and generate the profile: program, terms, as_of, seconds."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    profile = PROFILES[name]
    start = time.perf_counter()
    program = generate_program(profile, seed)
    return program, bench_terms(load_terms()), profile_as_of(profile), time.perf_counter() - start


def run_paused_child(name: str, seed: int, repeat: int) -> dict[str, Any]:
    """Time the engine's own call (GC paused) in a fresh process: first run, then best warm."""
    from sync.engine.apply import evaluate_paused_gc

    program, terms, as_of, _ = _load(name, seed)
    paused_s = _timed(lambda: evaluate_paused_gc(program, terms, as_of), 1)
    warm_s = _timed(lambda: evaluate_paused_gc(program, terms, as_of), repeat)
    return {
        **policies_build(),
        "engine_paused_s": round(paused_s, 3),
        "engine_paused_warm_s": round(warm_s, 3),
        "paused_peak_rss_mib": round(_rss_mib(), 1),
    }


def run_child(name: str, seed: int, repeat: int, profile_hot: bool) -> dict[str, Any]:
    """Measure one profile in this process (called in the fresh subprocess)."""
    from policies.evaluate import evaluate_program

    profile = PROFILES[name]
    program, terms, as_of, generate_s = _load(name, seed)
    rss_inputs = _rss_mib()
    base_runs = [_cpu_timed(lambda: baseline(program, as_of)) for _ in range(repeat)]
    baseline_s, baseline_cpu_s = min(w for w, _ in base_runs), min(c for _, c in base_runs)
    engine_s, engine_cpu_s = _cpu_timed(lambda: evaluate_program(program, terms, as_of))
    warm_s = _timed(lambda: evaluate_program(program, terms, as_of), repeat)
    gc.collect()
    gc.freeze()
    frozen_s = _timed(lambda: evaluate_program(program, terms, as_of), 1)
    gc.unfreeze()
    result = evaluate_program(program, terms, as_of)
    out: dict[str, Any] = {
        **policies_build(),
        "profile": name,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "members": profile.members,
        "requests": profile.requests,
        "deals": profile.deals,
        "subscriptions": profile.subscriptions,
        "generate_s": round(generate_s, 3),
        "baseline_s": round(baseline_s, 3),
        "engine_s": round(engine_s, 3),
        "engine_warm_s": round(warm_s, 3),
        "engine_frozen_s": round(frozen_s, 3),
        "ratio": round(engine_s / baseline_s, 2) if baseline_s else None,
        "baseline_cpu_s": round(baseline_cpu_s, 3),
        "engine_cpu_s": round(engine_cpu_s, 3),
        "ratio_cpu": round(engine_cpu_s / baseline_cpu_s, 2) if baseline_cpu_s else None,
        "rss_inputs_mib": round(rss_inputs, 1),
        "peak_rss_mib": round(_rss_mib(), 1),
        "ledger_lines": len(result.ledger),
        "problems": len(result.problems),
    }
    if profile_hot:
        out["hot"] = _hot_functions(lambda: evaluate_program(program, terms, as_of))
    return out


def _hot_functions(fn: Callable[[], object], top: int = 12) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def _run_child(args: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.bench_policies", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def run_profile(
    name: str, seed: int, repeat: int, profile_hot: bool, runs: int = 1
) -> dict[str, Any]:
    """Run one profile in fresh interpreters: the plain call ``runs`` times (each in its own
    process, ``os.getloadavg()`` noted before each), the engine's call once; merged figures of
    the first run plus every run's baseline, cold call and ratio with median and spread."""
    common = ["--seed", str(seed), "--repeat", str(repeat)]
    each = []
    for index in range(runs):
        load = os.getloadavg()[0]
        hot = ["--cprofile"] if profile_hot and index == 0 else []
        child = _run_child(["--child", name, *common, *hot])
        child["load_1min_before"] = round(load, 2)
        each.append(child)
    measured = dict(each[0])
    paused = _run_child(["--paused-child", name, *common])
    builds = {r["policies_build"] for r in [*each, paused]}
    if len(builds) != 1:
        raise SystemExit(f"the children imported different builds of policies: {builds}")
    measured.update(paused)
    columns = ("baseline_s", "engine_s", "ratio", "baseline_cpu_s", "engine_cpu_s", "ratio_cpu")
    measured["runs"] = [
        {k: r[k] for k in (*columns, "load_1min_before", "policies_build")} for r in each
    ]
    for column in columns:
        values = sorted(r[column] for r in each)
        measured[f"{column}_median"] = round(statistics.median(values), 3)
        measured[f"{column}_spread"] = [values[0], values[-1]]
    return measured


def ratio_verdict(row: dict[str, Any], column: str = "ratio") -> str:
    """Whether the median ratio in ``column``, and every run's, is within the ratio target."""
    target = RATIO_TARGETS.get(row["profile"])
    if target is None:
        return "no ratio target"
    worst, median = row[f"{column}_spread"][1], row[f"{column}_median"]
    if worst <= target:
        return f"met in every run (<= {target})"
    if median <= target:
        return f"met by the median, missed by the worst run ({worst} > {target})"
    return f"MISSED (median {median} > {target})"


def _verdict(row: dict[str, Any], column: str) -> str:
    """Whether the cold figure in ``column`` (and the peak RSS) meets the profile's target."""
    seconds, mib = TARGETS.get(row["profile"], (None, None))
    peak = max(row["peak_rss_mib"], row["paused_peak_rss_mib"])
    ok = (seconds is None or row[column] < seconds) and (mib is None or peak < mib)
    return "meets" if ok else "MISSES"


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        "profile",
        "members",
        "requests",
        "deals",
        "subs",
        "baseline s",
        "engine s",
        "warm s",
        "gc-frozen s",
        "paused s",
        "paused warm s",
        "ratio",
        "peak RSS MiB",
        "ledger",
        "target (plain / paused)",
    )
    print(" | ".join(head))
    for r in rows:
        print(
            " | ".join(
                str(v)
                for v in (
                    r["profile"],
                    r["members"],
                    r["requests"],
                    r["deals"],
                    r["subscriptions"],
                    r["baseline_s"],
                    r["engine_s"],
                    r["engine_warm_s"],
                    r["engine_frozen_s"],
                    r["engine_paused_s"],
                    r["engine_paused_warm_s"],
                    r["ratio"],
                    max(r["peak_rss_mib"], r["paused_peak_rss_mib"]),
                    r["ledger_lines"],
                    f"{_verdict(r, 'engine_s')} / {_verdict(r, 'engine_paused_s')}",
                )
            )
        )
    for r in rows:
        runs = r.get("runs", [])
        print(f"\nprofile {r['profile']}, {len(runs)} run(s), each in a fresh process; rules "
              f"engine build: {r['policies_build']} ({r['policies_file']}):")
        for i, run in enumerate(runs, 1):
            print(f"  run {i}: wall: baseline {run['baseline_s']} s, plain cold "
                  f"{run['engine_s']} s, ratio {run['ratio']}; CPU: baseline "
                  f"{run['baseline_cpu_s']} s, plain cold {run['engine_cpu_s']} s, ratio "
                  f"{run['ratio_cpu']} (load {run['load_1min_before']})")
        if runs:
            for kind, suffix in (("wall", ""), ("CPU", "_cpu")):
                print(f"  median {kind}: baseline {r[f'baseline{suffix}_s_median']} s "
                      f"{r[f'baseline{suffix}_s_spread']}, plain cold "
                      f"{r[f'engine{suffix}_s_median']} s {r[f'engine{suffix}_s_spread']}, "
                      f"ratio {r[f'ratio{suffix}_median']} {r[f'ratio{suffix}_spread']}: "
                      f"{ratio_verdict(r, 'ratio' + suffix)}")
    for r in rows:
        if "hot" in r:
            print(f"\n-- hottest functions, profile {r['profile']} (cProfile, by own time)")
            print(r["hot"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profiles", nargs="+", default=["M", "L"], choices=sorted(PROFILES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="best of N warm runs")
    parser.add_argument("--cprofile", action="store_true", help="report the hottest functions")
    parser.add_argument("--runs", type=int, default=5,
                        help="fresh processes per profile for the plain call (median, spread)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "policies.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--paused-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.paused_child:
        print(json.dumps(run_paused_child(args.paused_child, args.seed, args.repeat)))
        return
    if args.child:
        print(json.dumps(run_child(args.child, args.seed, args.repeat, args.cprofile)))
        return
    rows = [run_profile(p, args.seed, args.repeat, args.cprofile, args.runs)
            for p in args.profiles]
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"\nresults written to {args.out}")


if __name__ == "__main__":
    main()
