#!/usr/bin/env bash
# The mesh-scale benchmark: generates synthetic meshes of 100, 1,000 and
# 10,000 products (compiler/benches/meshgen), times the parse-only floor
# (sqlparser alone over the same SQL), `dpc check` and `dpc build` per stage
# with peak memory, and prints one markdown table and the budgets.
#
#   bash scripts/bench.sh                 # 100, 1000, 10000 products
#   DPC_BENCH_SIZES=1000 bash scripts/bench.sh
#
# Run it on an otherwise idle machine: it measures wall time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo bench --locked --bench mesh
