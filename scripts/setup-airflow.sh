#!/usr/bin/env bash
# Sets up the Apache Airflow 3 venv that scripts/check_airflow_dags.py imports
# the generated DAG files with (idempotent: when the pinned versions are
# already installed it only checks, in well under a second).
#
#   DPC_AIRFLOW_VENV         venv path                  (default /tmp/dpc-airflow-venv)
#   PYTHON                   interpreter for the venv   (default python3; needs 3.11+,
#                            which the google and amazon providers require)
#   DPC_AIRFLOW_CONSTRAINTS  optional pip constraints file or URL (e.g. Airflow's own
#                            constraints-3.3.2/constraints-3.11.txt) to pin the
#                            transitive dependencies too
#   -q / --quiet             print only when something had to be done, and errors
#
# Installs from PyPI: apache-airflow (core + task SDK) and the providers the
# DAGs import (google: BigQueryInsertJobOperator; amazon: AthenaOperator;
# standard: EmptyOperator, ExternalTaskSensor), at the versions below. A first
# install downloads ~290 packages (~2.1 GB in the venv) and takes about 4
# minutes. Needs only python3 (+ pip/venv) on Debian/Ubuntu; if the venv module
# is missing it installs python3-venv with apt-get. No Airflow database,
# scheduler or cloud credentials are involved.
set -euo pipefail
VENV="${DPC_AIRFLOW_VENV:-/tmp/dpc-airflow-venv}"
PY="${PYTHON:-python3}"
QUIET=0
for a in "$@"; do
  case "$a" in
    -q|--quiet) QUIET=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-airflow: unknown argument: $a" >&2; exit 2 ;;
  esac
done
# Pinned: what the generated DAGs are checked against. apache-airflow pins
# core and the task SDK itself; they are listed so that the check below sees
# them. croniter is imported by the DAG files directly.
PKGS=(
  apache-airflow==3.3.2
  apache-airflow-core==3.3.2
  apache-airflow-task-sdk==1.3.2
  apache-airflow-providers-google==22.8.0
  apache-airflow-providers-amazon==9.39.0
  apache-airflow-providers-standard==1.21.0
  croniter==7.0.0
)

say() { [ "$QUIET" = 1 ] || echo "setup-airflow: $*"; }
did() { echo "setup-airflow: $*"; }   # something changed: always shown
die() { echo "setup-airflow: error: $*" >&2; exit 1; }
t0=$(date +%s)

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (install python3 >= 3.11)"
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "$PY is $("$PY" -V 2>&1); the Airflow google/amazon providers need Python >= 3.11 (set PYTHON=...)"

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
  say "venv $VENV exists ($("$VENV/bin/python" -V 2>&1))"
else
  if [ -e "$VENV" ] && [ -n "$(ls -A "$VENV" 2>/dev/null)" ] && [ ! -f "$VENV/pyvenv.cfg" ]; then
    die "$VENV exists, is not empty and is not a venv; refusing to touch it (set DPC_AIRFLOW_VENV)"
  fi
  did "creating venv $VENV with $("$PY" -V 2>&1)"
  if ! { "$PY" -m venv --clear "$VENV" >/dev/null 2>&1 && venv_ok; }; then
    install_venv_module
    "$PY" -m venv --clear "$VENV" || die "'$PY -m venv $VENV' failed"
  fi
  venv_ok || die "venv $VENV has no working pip"
fi
"$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "$VENV has $("$VENV/bin/python" -V 2>&1); it needs Python >= 3.11: remove it or set DPC_AIRFLOW_VENV"

# Install only when something is missing or at another version.
missing="$("$VENV/bin/python" - "${PKGS[@]}" <<'EOF'
import sys
from importlib.metadata import version, PackageNotFoundError
out = []
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        out.append(f"{name} {have or '(missing)'} -> {want}")
print("; ".join(out))
EOF
)"
if [ -z "$missing" ]; then
  say "pinned packages present: ${PKGS[*]}"
else
  did "installing (pip, ~4 min and ~2.1 GB the first time): $missing"
  cons=()
  [ -n "${DPC_AIRFLOW_CONSTRAINTS:-}" ] && cons=(--constraint "$DPC_AIRFLOW_CONSTRAINTS")
  t1=$(date +%s)
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${cons[@]}" "${PKGS[@]}" \
    || die "pip install failed"
  did "pip install took $(( $(date +%s) - t1 )) s"
  # Smoke test once after an install: the classes the DAG files import.
  AIRFLOW_HOME="$(mktemp -d)" AIRFLOW__LOGGING__LOGGING_LEVEL=CRITICAL "$VENV/bin/python" - <<'EOF' \
    || die "the installed Airflow does not import"
import os, shutil
from airflow.dag_processing.dagbag import DagBag  # noqa: F401
from airflow.sdk import DAG  # noqa: F401
from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator  # noqa: F401
from airflow.providers.amazon.aws.operators.athena import AthenaOperator  # noqa: F401
from airflow.providers.standard.operators.empty import EmptyOperator  # noqa: F401
from airflow.providers.standard.sensors.external_task import ExternalTaskSensor  # noqa: F401
from croniter import croniter  # noqa: F401
shutil.rmtree(os.environ["AIRFLOW_HOME"], ignore_errors=True)
EOF
fi
say "done in $(( $(date +%s) - t0 )) s (venv $VENV)"
