#!/usr/bin/env bash
# Builds the example meshes and every golden ok case, then has ZetaSQL
# (Google's BigQuery analyzer, offline from PyPI) analyse every emitted
# BigQuery statement, and Trino's grammar and sqlfluff every Athena one.
# Run it locally the same way: bash scripts/validate-all.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --quiet --locked
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
meshes=(examples/shop-bigquery examples/shop-athena golden-tests/conformance/tpch-bigquery golden-tests/conformance/tpch-athena)
for case in golden-tests/ok/*/; do
  [ -f "$case/dpc.toml" ] && meshes+=("${case%/}")
done
dirs=()
for mesh in "${meshes[@]}"; do
  name="$(echo "$mesh" | tr '/' '_')"
  ./target/debug/dpc build -C "$mesh" --out "$out/$name" 2>/dev/null
  dirs+=("$out/$name")
done
# Migrations: each diff case's `after`, built against its `before`.
for case in golden-tests/diff/*/; do
  name="$(basename "$case")"
  ./target/debug/dpc build -C "$case/before" --out "$out/base-$name" 2>/dev/null
  if ./target/debug/dpc build -C "$case/after" --out "$out/migrate-$name" \
       --base-manifest "$out/base-$name/manifest.json" 2>/dev/null; then
    dirs+=("$out/migrate-$name")
  fi
done
bash scripts/validate-bigquery.sh "${dirs[@]}"
bash scripts/validate-athena.sh "${dirs[@]}"
