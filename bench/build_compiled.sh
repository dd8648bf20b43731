#!/usr/bin/env bash
# Build the opt-in compiled rules engine (PARTNER_SYNC_COMPILE=1, mypyc) into its own virtual
# environment and run the rules' and mappers' tests against it, golden digests included.
#
#   bench/build_compiled.sh [VENV]        # default: a temporary directory, removed at the end
#
# The tests run from a scratch directory holding copies of tests/, bench/ and docs/ only, so the
# source tree's policies/ cannot shadow the installed compiled modules; the run fails unless
# policies.COMPILED is true there. With VENV given, the environment is kept (for
# `VENV/bin/python -m bench.bench_policies` from such a directory).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
scratch="$(mktemp -d)"
venv="${1:-$scratch/venv}"
trap 'rm -rf "$scratch"' EXIT

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
PARTNER_SYNC_COMPILE=1 "$venv/bin/python" -m pip install --quiet -c constraints.txt ".[test]"

mkdir "$scratch/run"
cp -r tests bench docs pyproject.toml "$scratch/run/"
cd "$scratch/run"
"$venv/bin/python" - <<'PY'
import policies, policies.evaluate
assert policies.COMPILED, f"not the compiled build: {policies.evaluate.__file__}"
print(f"compiled build: {policies.evaluate.__file__}")
PY
"$venv/bin/partner-sync" --version | grep -F "(rules engine: compiled with mypyc)"
"$venv/bin/python" -m pytest -q -p no:cacheprovider \
  tests/policies tests/mappers tests/test_bench_policies.py
echo "source: $root"
