#!/usr/bin/env bash
# Validates the BigQuery artifacts of one or more `dpc build` output
# directories with ZetaSQL (see scripts/validate_bigquery.py). CI calls this.
#
#   scripts/validate-bigquery.sh [-v] DIR [DIR...]
#
# Sets up (or checks, quietly) the validator venv first: scripts/setup-validators.sh,
# $DPC_VALIDATOR_VENV (default /tmp/dpc-validator-venv), $ZETASQL_CWASM.
# Exit: 0 all accepted, 1 something rejected, 2 the validator could not run
# or failed its self-test.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${DPC_VALIDATOR_VENV:-/tmp/dpc-validator-venv}"
export DPC_VALIDATOR_VENV="$VENV"
export ZETASQL_CWASM="${ZETASQL_CWASM:-$VENV/zetasql.cwasm}"
if [ $# -eq 0 ]; then
  echo "usage: $0 [-v] DIR [DIR...]" >&2
  exit 2
fi
if ! bash "$HERE/setup-validators.sh" --quiet; then
  echo "validate-bigquery: setup-validators.sh failed" >&2
  exit 2
fi
exec "$VENV/bin/python" "$HERE/validate_bigquery.py" "$@"
