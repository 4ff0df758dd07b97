#!/usr/bin/env bash
# CI check of the generated Airflow DAGs: sets up the pinned Airflow venv
# (scripts/setup-airflow.sh), builds four meshes with the debug dpc, imports
# every DAG file with Airflow and compares it with the manifest
# (scripts/check_airflow_dags.py), once more with a non-UTC default time zone,
# and runs the checker's self-test. Prints the time of each phase.
#
#   scripts/check-airflow.sh            (from anywhere; the repo is found from this file)
#
#   DPC                 the dpc binary       (default ./target/debug/dpc, built by `cargo test`)
#   DPC_AIRFLOW_VENV    the venv             (default /tmp/dpc-airflow-venv)
#   DPC_AIRFLOW_TZ      the second pass's [core] default_timezone (default Europe/Berlin;
#                       empty: skip that pass)
#   DPC_AIRFLOW_KEEP=1  keep the build directories (their paths are printed)
#
# Exit status: 0 all good; 1 a DAG problem, a dpc build failed or the self-test
# missed a corruption; 2 the environment is broken (no dpc binary, no Airflow).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
cd "$ROOT"
DPC="${DPC:-$ROOT/target/debug/dpc}"
VENV="${DPC_AIRFLOW_VENV:-/tmp/dpc-airflow-venv}"
TZ2="${DPC_AIRFLOW_TZ-Europe/Berlin}"
MESHES=(examples/shop-bigquery examples/shop-athena golden-tests/ok/ingest-bigquery golden-tests/ok/ingest-athena)

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)
timings=()
rc=0

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0; fi

t=$(now)
DPC_AIRFLOW_VENV="$VENV" "$HERE/setup-airflow.sh" -q || { echo "check-airflow: error: setup-airflow.sh failed" >&2; exit 2; }
timings+=("setup $(since "$t") s")

[ -x "$DPC" ] || { echo "check-airflow: error: no dpc binary at $DPC (run cargo build / cargo test first, or set DPC=...)" >&2; exit 2; }

OUT="$(mktemp -d "${TMPDIR:-/tmp}/dpc-airflow-check.XXXXXX")"
if [ "${DPC_AIRFLOW_KEEP:-0}" = 1 ]; then
  echo "check-airflow: keeping builds in $OUT"
else
  trap 'rm -rf "$OUT"' EXIT
fi

t=$(now)
dirs=()
for m in "${MESHES[@]}"; do
  d="$OUT/$(echo "$m" | tr '/' '_')"
  if ! "$DPC" build -C "$m" --out "$d" >"$d.log" 2>&1; then
    echo "check-airflow: FAIL: dpc build -C $m failed:" >&2
    sed 's/^/    /' "$d.log" >&2
    rc=1
    continue
  fi
  [ -d "$d/airflow" ] || { echo "check-airflow: FAIL: dpc build -C $m wrote no airflow/ folder" >&2; rc=1; continue; }
  dirs+=("$d")
done
timings+=("dpc build x${#MESHES[@]} $(since "$t") s")
[ "${#dirs[@]}" -gt 0 ] || { echo "check-airflow: no build to check" >&2; exit 1; }

PYBIN="$VENV/bin/python"
checker() {
  "$PYBIN" "$HERE/check_airflow_dags.py" "$@"
  local r=$?
  if [ $r = 2 ]; then echo "check-airflow: error: the checker could not run (exit 2)" >&2; exit 2; fi
  [ $r = 0 ] || rc=1
}

t=$(now)
echo "== check_airflow_dags.py (default time zone: UTC)"
checker "${dirs[@]}"
timings+=("check $(since "$t") s")

if [ -n "$TZ2" ]; then
  t=$(now)
  echo "== check_airflow_dags.py --default-timezone $TZ2 (a deployment whose [core] default_timezone is not UTC)"
  checker --default-timezone "$TZ2" "${dirs[@]}"
  timings+=("check $TZ2 $(since "$t") s")
fi

t=$(now)
echo "== check_airflow_dags.py --self-test"
checker --self-test "${dirs[@]}"
timings+=("self-test $(since "$t") s")

echo "check-airflow: $([ $rc = 0 ] && echo ok || echo FAILED); $(IFS=,; echo "${timings[*]}" | sed 's/,/, /g'); total $(since "$T0") s"
exit $rc
