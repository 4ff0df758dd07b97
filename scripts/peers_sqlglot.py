#!/usr/bin/env python3
"""sqlglot's share of scripts/peers.sh: the analysis `dpc check` does, done
with sqlglot over the plain-SQL form of a synthetic mesh.

    python scripts/peers_sqlglot.py DIR [--expect N] [--dialect bigquery]

DIR is what `meshgen --format sql` writes: `schema.json` ({"table":
{"column": "TYPE"}}, every table the queries read) and `queries/**/*.sql`
(one query per port). For every query, in file-name order:

  1. parse it (sqlglot.parse_one, BigQuery dialect);
  2. sqlglot.optimizer.qualify.qualify with the schema (qualifies and
     expands every column, and fails on one that no table has);
  3. sqlglot.optimizer.annotate_types.annotate_types with the schema (the
     type of every expression);
  4. sqlglot.lineage.lineage for every output column, from the qualified
     query's scope (lineage(None, ...): all output columns at once, with
     sqlglot's shared cache, so nothing is qualified twice), with
     trim_selects=False: the same graph (nodes, edges, expressions), but no
     copy of each SELECT trimmed to one column for the node's label. With
     sqlglot's default (trim_selects=True, `--trim-selects` here) those
     copies take ~98% of the time: ~45x slower lineage on this mesh.

Single process, single thread: sqlglot has no parallel mode, and this runs
the queries one after another in one interpreter. The schema is loaded into
one MappingSchema once, as a tool checking a whole mesh would.

Prints one summary line to stdout (queries, output columns, lineage nodes,
failures, and seconds per phase) and the first failures to stderr. Exits 0
when every query went through (and, with --expect N, when there were N
queries), 1 otherwise.
"""

import argparse
import json
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="the output of `meshgen --format sql`")
    ap.add_argument("--dialect", default="bigquery")
    ap.add_argument("--trim-selects", action="store_true", help="lineage's default: copy a trimmed SELECT per node")
    ap.add_argument("--expect", type=int, default=None, help="fail unless there are exactly N queries")
    args = ap.parse_args()

    t0 = time.perf_counter()
    import sqlglot
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope
    from sqlglot.schema import MappingSchema

    t_import = time.perf_counter() - t0

    t0 = time.perf_counter()
    with open(os.path.join(args.dir, "schema.json"), encoding="utf-8") as f:
        mapping = json.load(f)
    schema = MappingSchema(mapping, dialect=args.dialect)
    t_schema = time.perf_counter() - t0

    files = []
    for root, dirs, names in os.walk(os.path.join(args.dir, "queries")):
        dirs.sort()
        files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".sql"))

    phases = {"parse": 0.0, "qualify": 0.0, "types": 0.0, "lineage": 0.0}
    columns = nodes = 0
    failures = []
    for path in files:
        phase = "read"
        try:
            with open(path, encoding="utf-8") as f:
                sql = f.read()
            phase = "parse"
            t = time.perf_counter()
            expr = sqlglot.parse_one(sql, dialect=args.dialect)
            phases["parse"] += time.perf_counter() - t
            phase = "qualify"
            t = time.perf_counter()
            expr = qualify(expr, dialect=args.dialect, schema=schema)
            phases["qualify"] += time.perf_counter() - t
            phase = "types"
            t = time.perf_counter()
            expr = annotate_types(expr, schema=schema, dialect=args.dialect)
            phases["types"] += time.perf_counter() - t
            phase = "lineage"
            t = time.perf_counter()
            scope = build_scope(expr)
            graph = lineage(None, expr, schema, dialect=args.dialect, scope=scope, copy=False, trim_selects=args.trim_selects)
            phases["lineage"] += time.perf_counter() - t
            columns += len(graph)
            nodes += sum(1 for node in graph.values() for _ in node.walk())
        except Exception as e:  # noqa: BLE001 -- every failure is counted and reported
            failures.append((path, phase, f"{type(e).__name__}: {e}"))

    try:  # sqlglotc overlays compiled modules onto sqlglot's own
        from sqlglot import tokenizer_core

        compiled = not getattr(tokenizer_core, "__file__", "x.py").endswith(".py")
    except ImportError:
        compiled = False
    total = sum(phases.values())
    print(
        f"sqlglot {sqlglot.__version__}{' (sqlglotc)' if compiled else ' (pure Python)'}: "
        f"{len(files)} queries, {columns} output columns, {nodes} lineage nodes, {len(failures)} failed; "
        f"import {t_import:.2f} s, schema {t_schema:.2f} s, parse {phases['parse']:.2f} s, "
        f"qualify {phases['qualify']:.2f} s, types {phases['types']:.2f} s, lineage {phases['lineage']:.2f} s "
        f"(queries {total:.2f} s)"
    )
    for path, phase, msg in failures[:10]:
        print(f"peers_sqlglot: {os.path.relpath(path, args.dir)}: {phase}: {msg[:400]}", file=sys.stderr)
    if len(failures) > 10:
        print(f"peers_sqlglot: ... and {len(failures) - 10} more failures", file=sys.stderr)
    ok = not failures
    if args.expect is not None and args.expect != len(files):
        print(f"peers_sqlglot: expected {args.expect} queries, found {len(files)}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
