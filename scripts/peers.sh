#!/usr/bin/env bash
# dpc against the tools it replaces, on the same synthetic mesh: the numbers
# of the README's comparison, and how to reproduce them. Not part of
# `cargo test` or CI.
#
#   bash scripts/peers.sh                          # 100, 1000, 10000 products
#   DPC_PEERS_SIZES="100 1000" bash scripts/peers.sh
#
# What it does:
#  1. Makes a venv and installs pinned dbt-core + dbt-duckdb and sqlglot with
#     its compiled extension (sqlglot[c], i.e. sqlglotc; plain sqlglot if that
#     cannot be installed) from PyPI. Idempotent: a second run only checks.
#  2. Builds the mesh generator (cargo example meshgen) and dpc in release,
#     and for each size writes the same mesh (seed 42) three ways into the
#     work dir: a dpc mesh, a dbt project, plain SQL + schema.json.
#  3. Times each tool (wall seconds, peak resident memory of the process
#     tree, via /usr/bin/time -v, or getrusage when that is missing):
#       dpc check   `dpc check --timings` on the dpc mesh (default threads:
#                   one per core)
#       dpc build   `dpc build --timings --out <work>/N/dpc-out`, into an
#                   empty directory each run (dpc's "write" stage, ~4,800
#                   files and 61 MB at 1,000 products, is disk-bound: set
#                   DPC_PEERS_DIR to a tmpfs to take the disk out)
#       dbt parse   `dbt parse --no-partial-parse` on the dbt project, with a
#                   profiles.yml for dbt-duckdb on a throwaway duckdb file,
#                   no anonymous usage stats (no network); checks that
#                   target/manifest.json has every model (the project also
#                   has the not_null/unique data tests of dpc's contracts)
#       sqlglot     scripts/peers_sqlglot.py: for every query, parse,
#                   optimizer.qualify + annotate_types with the schema, and
#                   lineage of every output column (the work of dpc check's
#                   analysis); one process, one thread; checks the count.
#                   Lineage runs with trim_selects=False (same graph, ~45x
#                   faster than sqlglot's default; see the helper's doc)
#  4. Prints one markdown table (rows: tools; columns: sizes; cells:
#     `wall s (peak MiB)`, best of the runs), the versions and the machine.
#     Logs of every run are kept under the work dir.
#
# Environment:
#   DPC_PEERS_SIZES     products per mesh          (default "100 1000 10000")
#   DPC_PEERS_RUNS      runs of dbt and sqlglot, best kept      (default 1)
#   DPC_PEERS_DPC_RUNS  runs of dpc check / build, best kept    (default 3)
#   DPC_PEERS_DPC_THREADS  dpc --threads (0 = one per core, dpc's default)
#   DPC_PEERS_VENV      the venv                   (default /tmp/dpc-peers-venv)
#   DPC_PEERS_DIR       work dir for meshes, logs  (default /tmp/dpc-peers)
#   CARGO_TARGET_DIR    cargo's target dir         (default target)
#   PYTHON              interpreter for the venv   (default python3; 3.10+)
#
#   --setup   only make (or check) the venv and build; time nothing
#   -h, --help
#
# Run it on an otherwise idle machine: it measures wall time. The 10,000
# product mesh takes minutes (dbt parse most of them).
#
# dbt-core is pinned to 1.11: dbt-core 1.12 depends on
# dbt-core-experimental-parser, an sdist whose build downloads a wheel from
# GitHub, which fails where only PyPI is reachable. sqlglot[rs] (sqlglotrs)
# is deprecated since sqlglot 30 and no longer used by it; sqlglot[c]
# (sqlglotc, mypyc-compiled) is its fast form.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

SIZES="${DPC_PEERS_SIZES:-100 1000 10000}"
RUNS="${DPC_PEERS_RUNS:-1}"
DPC_RUNS="${DPC_PEERS_DPC_RUNS:-3}"
DPC_THREADS="${DPC_PEERS_DPC_THREADS:-0}"
VENV="${DPC_PEERS_VENV:-/tmp/dpc-peers-venv}"
WORK="${DPC_PEERS_DIR:-/tmp/dpc-peers}"
PY="${PYTHON:-python3}"
SEED=42
SETUP_ONLY=0

# Pinned: the tools, and what their behaviour and speed depend on.
DBT_PINS=(dbt-core==1.11.16 dbt-duckdb==1.11.1 dbt-adapters==1.24.5 dbt-common==1.39.0 duckdb==2.0.1)
SQLGLOT_VERSION=30.30.0

for a in "$@"; do
  case "$a" in
    --setup) SETUP_ONLY=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "peers: unknown argument: $a (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "peers: $*" >&2; }
die() { echo "peers: error: $*" >&2; exit 1; }
for n in $SIZES; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "DPC_PEERS_SIZES: '$n' is not a positive number"; done
for v in "$RUNS" "$DPC_RUNS"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "runs must be positive numbers"; done

# ---------------------------------------------------------------------------
# 1. The venv

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set PYTHON=...)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$PY is $("$PY" -V 2>&1); dbt-core 1.11 and sqlglotc need Python >= 3.10 (set PYTHON=...)"
VPY="$VENV/bin/python"

# Exit 0 if every NAME==VERSION given is installed in the venv.
pins_ok() {
  [ -x "$VPY" ] || return 1
  "$VPY" - "$@" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
}

setup_venv() {
  if pins_ok "${DBT_PINS[@]}" "sqlglot==$SQLGLOT_VERSION" \
     && "$VENV/bin/dbt" --version >/dev/null 2>&1 && "$VPY" -c 'import sqlglot.lineage' 2>/dev/null; then
    say "venv $VENV: ok (already installed)"
    return
  fi
  local t0=$EPOCHREALTIME
  if [ ! -x "$VPY" ]; then
    say "creating venv $VENV"
    "$PY" -m venv "$VENV" || die "'$PY -m venv $VENV' failed (Debian: apt-get install python3-venv)"
  fi
  local pip=("$VPY" -m pip install -q --disable-pip-version-check)
  say "installing ${DBT_PINS[*]} sqlglot[c]==$SQLGLOT_VERSION"
  "${pip[@]}" "${DBT_PINS[@]}" || die "pip install of dbt failed"
  if ! "${pip[@]}" "sqlglot[c]==$SQLGLOT_VERSION" "sqlglotc==$SQLGLOT_VERSION"; then
    say "sqlglotc (compiled sqlglot) did not install: falling back to pure-Python sqlglot"
    "${pip[@]}" "sqlglot==$SQLGLOT_VERSION" || die "pip install sqlglot failed"
  fi
  pins_ok "${DBT_PINS[@]}" "sqlglot==$SQLGLOT_VERSION" || die "the venv does not have the pinned versions after installing"
  say "venv ready in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
}
setup_venv

# How to time: /usr/bin/time -v, installed with apt-get if missing and we can.
TIME_BIN=""
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
  TIME_BIN=/usr/bin/time
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing GNU time with apt-get"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 \
     || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1; }; then
    TIME_BIN=/usr/bin/time
  fi
fi
[ -n "$TIME_BIN" ] || say "no /usr/bin/time: measuring peak memory with getrusage(RUSAGE_CHILDREN)"

# ---------------------------------------------------------------------------
# 2. Build the generator and dpc

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$CARGO_TARGET_DIR" in /*) TDIR="$CARGO_TARGET_DIR" ;; *) TDIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
say "cargo build --release (meshgen, dpc) into $TDIR"
(cd "$ROOT" && cargo build --release --locked --quiet --example meshgen --bin dpc) || die "cargo build failed"
MESHGEN="$TDIR/release/examples/meshgen"
DPC="$TDIR/release/dpc"
[ -x "$MESHGEN" ] && [ -x "$DPC" ] || die "missing $MESHGEN or $DPC after the build"
[ "$SETUP_ONLY" = 1 ] && { say "setup done"; exit 0; }

mkdir -p "$WORK"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false DO_NOT_TRACK=1
cat > "$WORK/profiles.yml" <<'EOF'
# dbt-duckdb on a throwaway file: `dbt parse` connects to nothing.
synthetic:
  target: bench
  outputs:
    bench:
      type: duckdb
      path: "{{ env_var('DPC_PEERS_DUCKDB') }}"
      threads: 1
EOF

# ---------------------------------------------------------------------------
# 3. Timing

# measure LOG CMD...: runs CMD (stdout to LOG.out, stderr to LOG.err), sets
# WALL (seconds) and PEAK (MiB, the largest resident set of the process and
# its children) and RC.
measure() {
  local log="$1"; shift
  local t0 t1
  RC=0
  if [ -n "$TIME_BIN" ]; then
    t0=$EPOCHREALTIME
    "$TIME_BIN" -v -o "$log.time" "$@" >"$log.out" 2>"$log.err" || RC=$?
    t1=$EPOCHREALTIME
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    PEAK=$(awk -F: '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$log.time")
  else
    "$PY" - "$log" "$@" <<'EOF' || RC=$?
import resource, subprocess, sys, time
log, cmd = sys.argv[1], sys.argv[2:]
with open(log + ".out", "wb") as out, open(log + ".err", "wb") as err:
    t = time.perf_counter()
    rc = subprocess.call(cmd, stdout=out, stderr=err)
    wall = time.perf_counter() - t
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
with open(log + ".time", "w") as f:
    f.write(f"wall {wall:.3f}\npeak {kib / 1024:.1f}\n")
sys.exit(rc)
EOF
    WALL=$(awk '$1 == "wall" { print $2 }' "$log.time")
    PEAK=$(awk '$1 == "peak" { print $2 }' "$log.time")
  fi
}

# best TOOL SIZE RUNS CMD...: the run with the least wall time; records
# CELL[TOOL,SIZE] as "wall s (peak MiB)". Logs go to $WORK/SIZE/logs.
# CLEAN (an array, if set) is removed before each run, untimed: every run
# writes its output afresh.
declare -A CELL
CLEAN=()
best() {
  local tool="$1" size="$2" runs="$3"; shift 3
  local bw="" bp="" i log
  for ((i = 1; i <= runs; i++)); do
    log="$WORK/$size/logs/${tool// /-}.$i"
    [ "${#CLEAN[@]}" = 0 ] || { rm -rf "${CLEAN[@]}"; sync; }
    measure "$log" "$@"
    if [ "$RC" != 0 ]; then
      say "$tool ($size products) exited $RC; see $log.err:"
      tail -n 15 "$log.err" >&2
      CELL["$tool,$size"]="failed (exit $RC)"
      return 1
    fi
    say "  $tool, run $i: ${WALL} s, ${PEAK} MiB$(awk '
      /^stage total/ { t = $3 } /^peak memory/ { p = $3 }
      END { if (t != "") printf " (its --timings: total %s ms, peak %s MiB)", t, p }' "$log.err")"
    if [ -z "$bw" ] || awk -v a="$WALL" -v b="$bw" 'BEGIN { exit !(a < b) }'; then bw=$WALL; bp=$PEAK; fi
  done
  CELL["$tool,$size"]=$(awk -v w="$bw" -v p="$bp" 'BEGIN {
    printf (w < 10 ? "%.2f s (%.0f MiB)" : "%.1f s (%.0f MiB)"), w, p }')
  BEST_LOG="$WORK/$size/logs/${tool// /-}"
}

NOTES=()
for n in $SIZES; do
  d="$WORK/$n"
  mkdir -p "$d/logs"
  say "$n products: generating (seed $SEED) into $d"
  for f in dpc dbt sql; do
    "$MESHGEN" --products "$n" --seed "$SEED" --format "$f" --out "$d/$f" --force 2>>"$d/logs/meshgen.err" \
      || die "meshgen --format $f failed; see $d/logs/meshgen.err"
  done
  queries=$(find "$d/sql/queries" -name '*.sql' | wc -l)
  models=$(find "$d/dbt/models" -name '*.sql' | wc -l)
  ports=$(find "$d/dpc/products" -name '*.sql' | wc -l)
  [ "$queries" = "$models" ] && [ "$queries" = "$ports" ] \
    || die "$n products: $ports dpc queries, $models dbt models, $queries plain queries: they should be equal"
  say "$n products: $ports queries each way"

  # dpc
  best "dpc check" "$n" "$DPC_RUNS" "$DPC" check -C "$d/dpc" --timings --threads "$DPC_THREADS" || true
  CLEAN=("$d/dpc-out")
  best "dpc build" "$n" "$DPC_RUNS" "$DPC" build -C "$d/dpc" --timings --threads "$DPC_THREADS" --out "$d/dpc-out" || true
  grep -q '^wrote [0-9]* files' "$WORK/$n/logs/dpc-build.1.err" 2>/dev/null \
    || NOTES+=("dpc build ($n): no 'wrote N files' line")

  # dbt parse, then check the manifest has every model
  CLEAN=("$d/dbt-target" "$d/dbt-logs" "$d/dbt.duckdb")
  export DPC_PEERS_DUCKDB="$d/dbt.duckdb"
  if best "dbt parse" "$n" "$RUNS" \
      "$VENV/bin/dbt" --no-send-anonymous-usage-stats --no-use-colors parse --no-partial-parse \
      --project-dir "$d/dbt" --profiles-dir "$WORK" --target-path "$d/dbt-target" --log-path "$d/dbt-logs"; then
    got=$("$VPY" - "$d/dbt-target/manifest.json" <<'EOF'
import collections, json, sys
m = json.load(open(sys.argv[1]))
c = collections.Counter(n["resource_type"] for n in m["nodes"].values())
print(c["model"], c["test"], len(m["sources"]))
EOF
    )
    read -r m_models m_tests m_sources <<<"$got"
    say "  dbt manifest: $m_models models, $m_tests data tests, $m_sources sources"
    say "  dbt $("$VPY" - "$d/dbt-target/perf_info.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
parsers = {q["parser"]: q["elapsed"] for pr in p["projects"] for q in pr["parsers"]}
print(f"perf_info: load_all {p['load_all_elapsed']:.1f} s (macros {p['load_macros_elapsed']:.1f} s, "
      f"models {parsers.get('model', 0):.1f} s, schema.yml + tests {parsers.get('test', 0):.1f} s); "
      f"{p['static_analysis_parsed_path_count']}/{p['static_analysis_path_count']} models by the static parser")
EOF
)"
    if [ "$m_models" != "$models" ]; then
      CELL["dbt parse,$n"]+=" !"
      NOTES+=("dbt parse ($n): the manifest has $m_models models of $models")
    fi
  fi

  CLEAN=()
  # sqlglot
  if best "sqlglot" "$n" "$RUNS" "$VPY" "$HERE/peers_sqlglot.py" "$d/sql" --expect "$queries"; then
    say "  $(cat "$BEST_LOG.1.out")"
  fi
done

# ---------------------------------------------------------------------------
# 4. The table

header="| tool |"; rule="| --- |"
for n in $SIZES; do header+=" $n products |"; rule+=" ---: |"; done
row() {
  local tool="$1" label="$2" line
  line="| $label |"
  for n in $SIZES; do line+=" ${CELL["$tool,$n"]:-–} |"; done
  echo "$line"
}
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo "?")
pkg() { "$VPY" -c "from importlib.metadata import version as v; print(v('$1'))" 2>/dev/null || echo none; }
sqlglotc=$(pkg sqlglotc)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
threads=$([ "$DPC_THREADS" = 0 ] && echo "one per core" || echo "$DPC_THREADS")

echo
echo "$header"
echo "$rule"
row "dpc check" "dpc check"
row "dpc build" "dpc build"
row "dbt parse" "dbt parse"
row "sqlglot" "sqlglot qualify+types+lineage"
echo
echo "Wall seconds (peak resident MiB), best of $DPC_RUNS runs for dpc and $RUNS for dbt and sqlglot;"
echo "synthetic meshes from \`meshgen --seed $SEED\`, the same queries in each tool's form."
echo "dpc check/build: threads $threads. dbt parse: --no-partial-parse, dbt-duckdb profile."
echo "sqlglot: one process, one thread; parse, qualify, annotate_types and lineage of every output column."
echo
echo "- dpc $("$DPC" --version 2>/dev/null | awk '{ print $2 }') (git $rev, release build)"
echo "- dbt-core $(pkg dbt-core), dbt-duckdb $(pkg dbt-duckdb), duckdb $(pkg duckdb)"
echo "- sqlglot $(pkg sqlglot)$([ "$sqlglotc" != none ] && echo " with sqlglotc $sqlglotc (compiled)" || echo " (pure Python)")"
echo "- Python $("$VPY" -c 'import platform; print(platform.python_version())')"
echo "- machine: $(nproc) cores ($cpu), $mem memory, $(uname -sr)"
for note in "${NOTES[@]+"${NOTES[@]}"}"; do echo "- note: $note"; done
