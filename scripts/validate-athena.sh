#!/usr/bin/env bash
# Validates the Athena artifacts of one or more `dpc build` output directories
# (or .sql files): Hive DDL with sqlfluff, Trino SQL with Trino's own grammar
# (see scripts/validate_athena.py). The validator's self-test runs first.
#
#   scripts/validate-athena.sh [-v] PATH [PATH...]
#
# Sets up (or checks, quietly) the validator venv first: scripts/setup-validators.sh,
# $DPC_VALIDATOR_VENV (default /tmp/dpc-validator-venv).
# Exit: 0 all accepted, 1 something rejected, 2 the validator could not run
# or failed its self-test.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${DPC_VALIDATOR_VENV:-/tmp/dpc-validator-venv}"
export DPC_VALIDATOR_VENV="$VENV"
if [ $# -eq 0 ]; then
  echo "usage: $0 [-v] PATH [PATH...]" >&2
  exit 2
fi
if ! bash "$HERE/setup-validators.sh" --quiet; then
  echo "validate-athena: setup-validators.sh failed" >&2
  exit 2
fi
exec "$VENV/bin/python" "$HERE/validate_athena.py" --self-test "$@"
