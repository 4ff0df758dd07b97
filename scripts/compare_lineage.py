#!/usr/bin/env python3
"""Cross-check dpc's column-level lineage against sqlglot's.

    scripts/compare_lineage.py MESH_DIR [MESH_DIR...]

Builds every mesh with dpc ($DPC, default target/debug/dpc of this repo),
reads `lineage.columns` from its manifest.json, computes the lineage of every
output column independently with `sqlglot.lineage.lineage` (sqlglot 30.30.0,
installed into /tmp/dpc-validator-venv by scripts/setup-validators.sh: run
this with that venv's python) and compares.
sqlglot is given the schema of every input table, named as the query names it
(the product's input names): an upstream port's columns from the manifest's
`columns` of that port, an own input's from the manifest's input `columns`.

DIALECT, per product, from its manifest `target`: "bigquery" -> sqlglot's
bigquery; "athena" -> sqlglot's trino (Athena engine v3 runs queries on
Trino). Not sqlglot's "athena": for a query it is the same Trino parser, but
its tokenizer also takes Hive's backtick identifiers and backslash escapes,
which Athena's query engine and dpc do not (all the queries of
examples/shop-athena and golden-tests/conformance/tpch-athena parse to the
same tree in both). The schema's types are the manifest's, spelled as the
target spells them and parsed by sqlglot in that dialect (BigQuery
`ARRAY<STRUCT<a INT64>>`; Trino `array(row(a bigint))`, `map(varchar,
bigint)`, `row(...)`, `decimal(15,2)`, `timestamp with time zone`); a type
sqlglot cannot parse is given as STRING / varchar (only the names matter,
and the row fields, for paths). Any other target is SKIPped.

WHAT sqlglot's lineage() RETURNS (sqlglot/lineage.py, to_node()): it
qualifies the query with the schema (expanding `*`, `* EXCEPT/REPLACE`, and
USING columns to COALESCE(left, right) for every join kind), then, from the
output column's projection, follows only the columns that occur
syntactically INSIDE that projection expression: through CTEs and derived
tables (by name), set operations (by position, every operand) and into the
projection of a subquery used in it. Its leaves are whole table columns. It
never follows WHERE, JOIN ON, GROUP BY, HAVING, QUALIFY, ORDER BY, LIMIT, nor
the WHERE of a subquery. It leaves a correlated outer column in a subquery's
projection as a placeholder `alias.column` (mapped back here by alias), and
gives nothing for a table alias used as a value (`TO_JSON_STRING(t)`).

THE RULE. For every output column two sqlglot lineages are taken:
  ALL   = lineage() of the query as written;
  VALUE = lineage() of the query with what only orders rows or decides a
          condition taken out of the projections:
            - a window's PARTITION BY, ORDER BY and frame (the function and
              its arguments stay),
            - ORDER BY and LIMIT inside an aggregate (ARRAY_AGG(x ORDER BY y);
              Trino's listagg(x, ',') WITHIN GROUP (ORDER BY y) too),
            - the HAVING MAX/MIN key of an aggregate (ANY_VALUE(x HAVING MAX y)),
              and Trino's spelling of the same, the key of max_by/min_by(x, y)
              (y picks the row; x, and the count of max_by(x, y, n), stay),
            - an aggregate's FILTER (WHERE c) (Trino; c decides the rows),
            - the subquery of `x IN (subquery)` (x stays): a subquery condition,
            - the operands right of EXCEPT (they remove rows, give no values),
            - the column of an UNNEST's WITH OFFSET (BigQuery) / WITH
              ORDINALITY (Trino): a position, no value. In ALL it leads to
              the whole array(s) of that UNNEST.
Everything else in a projection is a value, Trino's too: the arrays and the
columns a lambda reads (`transform(xs, x -> x * y)`: xs, y; `filter` too),
both arguments of count_if/element_at/map_agg, the operand of try_cast, the
function and arguments of a window function.
Then:
  1. VALUE must equal dpc's `sources` (`deidentified` ignored);
  2. every column in ALL but not in VALUE must be among dpc's `sources` or
     `filters` (these are the filters sqlglot's graph can see; WHERE, ON,
     GROUP BY etc. it cannot, so dpc's other filters are not checked).
Columns are compared with their STRUCT field path. sqlglot's leaves are
whole columns, so the path is read off its graph: at every step the column
reference that leads to the next node is looked up in the node's expression;
a field access on it (`e.device.geo`) adds to the path, a node that only
passes that reference on passes on the path asked of it, a field of an
UNNEST element (`item.sku` of `UNNEST(items) AS item`) is `items.sku`, and
where the value is computed the path stops (so sqlglot then names the whole
column). A Trino UNNEST is a relation whose alias names its columns:
`UNNEST(items, tags) WITH ORDINALITY AS t(sku, qty, tag, n)` gives the fields
of an array of rows (items.sku, items.qty), the element of another array
(tags), a map's key and value (each the whole map), side by side, then the
ordinality. sqlglot follows every array of the UNNEST for each of them, so
here the columns are matched by position to their array and row field, with
the types sqlglot's annotate_types gives the arrays (when it cannot type one,
the UNNEST is read as above).
A source is shown as `product.port.column` (an upstream port column) or
`product:input.column` (an own input's column), like dpc's messages.

Output: `DIFF <product>.<port>.<column>: dpc only: [...]; sqlglot only: [...]`
(plus `; not among dpc's filters: [...]` for rule 2), unless the column is
in scripts/lineage-allowlist.txt (`<product>.<port>.<column>: <reason>`):
then `ALLOWED ...` and it does not fail. An allow-list entry for a product of
a mesh checked here whose column agrees now, or no longer exists, fails
(`STALE`), so the list only shrinks. Last line `N passed, M failed`
(columns); exit status 1 when anything failed. LINEAGE_VERBOSE=1 prints both
sides of every column.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import re
import tempfile
from pathlib import Path

try:
    import sqlglot
    from sqlglot import exp
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import find_all_in_scope
except ImportError:  # pragma: no cover
    # Not in the validator venv: run again with its python, if it is there.
    venv = Path(os.environ.get("DPC_VALIDATOR_VENV", "/tmp/dpc-validator-venv"))
    venv_py = venv / "bin" / "python"
    if venv_py.exists() and Path(sys.prefix).resolve() != venv.resolve() and not os.environ.get("_LINEAGE_REEXEC"):
        os.environ["_LINEAGE_REEXEC"] = "1"
        os.execv(str(venv_py), [str(venv_py), __file__, *sys.argv[1:]])
    sys.exit(
        "compare_lineage: sqlglot is not installed; run `bash scripts/setup-validators.sh` "
        "and use /tmp/dpc-validator-venv/bin/python"
    )
try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

REPO = Path(__file__).resolve().parent.parent
ALLOWLIST = Path(__file__).resolve().parent / "lineage-allowlist.txt"
# sqlglot dialect of each dpc target (the manifest's product `target`).
DIALECTS = {"bigquery": "bigquery", "athena": "trino"}
SQLGLOT_VERSION = "30.30.0"
VERBOSE = bool(os.environ.get("LINEAGE_VERBOSE"))

# A column of the mesh, as dpc names it: ("port", product, port, column) or
# ("input", product, input, column); column is a lower-case path.
Ref = tuple[str, str, str, str]


def show(r: Ref) -> str:
    kind, product, where, column = r
    return f"{product}.{where}.{column}" if kind == "port" else f"{product}:{where}.{column}"


def fmt(refs: set[Ref]) -> str:
    return "[" + ", ".join(show(r) for r in sorted(refs)) + "]"


def dpc_binary() -> str:
    return os.environ.get("DPC") or str(REPO / "target" / "debug" / "dpc")


def load_allowlist() -> dict[str, str]:
    allowed: dict[str, str] = {}
    if not ALLOWLIST.exists():
        return allowed
    for n, raw in enumerate(ALLOWLIST.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, reason = line.partition(":")
        if not sep or not reason.strip() or key.strip().count(".") < 3:
            sys.exit(f"{ALLOWLIST}:{n}: expected `<product>.<port>.<column>: <reason>`")
        allowed[key.strip()] = reason.strip()
    return allowed


def build(mesh: Path, out: Path) -> dict:
    r = subprocess.run(
        [dpc_binary(), "build", "-C", str(mesh), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise RuntimeError(f"dpc build -C {mesh} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return json.loads((out / "manifest.json").read_text())


def product_tomls(mesh: Path) -> dict[str, tuple[Path, dict]]:
    """product id -> (its directory, its parsed product.toml)."""
    found: dict[str, tuple[Path, dict]] = {}
    for toml in sorted((mesh / "products").rglob("product.toml")):
        doc = tomllib.loads(toml.read_text()) if tomllib else _mini_toml(toml.read_text())
        found[f"{doc['domain']}.{doc['name']}"] = (toml.parent, doc)
    return found


def _mini_toml(text: str) -> dict:
    """What is read here of a product.toml (name, domain, outputs.<port>.query),
    for a Python without tomllib."""
    doc: dict = {"outputs": {}}
    table: list[str] = []
    for line in text.splitlines():
        if m := re.match(r"\s*\[([^\]]+)\]\s*(#.*)?$", line):
            table = [p.strip().strip('"') for p in m.group(1).split(".")]
        elif m := re.match(r'\s*(name|domain|query)\s*=\s*"([^"]*)"', line):
            if not table and m.group(1) != "query":
                doc[m.group(1)] = m.group(2)
            elif len(table) == 2 and table[0] == "outputs" and m.group(1) == "query":
                doc["outputs"].setdefault(table[1], {})["query"] = m.group(2)
    return doc


def sqlglot_type(t: str, dialect: str) -> str:
    try:
        exp.DataType.build(t, dialect=dialect)
        return t
    except Exception:  # noqa: BLE001 - a type sqlglot cannot parse: the name is what matters
        return "VARCHAR" if dialect != "bigquery" else "STRING"


# --- the query as sqlglot sees it ------------------------------------------


def _leaf_selects(q: exp.Expr) -> list[exp.Select]:
    if isinstance(q, exp.SetOperation):
        return _leaf_selects(q.this) + _leaf_selects(q.expression)
    if isinstance(q, exp.Subquery):
        return _leaf_selects(q.this)
    return [q] if isinstance(q, exp.Select) else []


def values_only(tree: exp.Expr) -> exp.Expr:
    """The (qualified) query with what only orders rows or decides a condition
    taken out of the projections (see the rule at the top)."""
    t = tree.copy()
    for w in list(t.find_all(exp.Window)):
        for arg in ("partition_by", "order", "spec"):
            if w.args.get(arg) is not None:
                w.set(arg, None)
    for lim in list(t.find_all(exp.Limit)):
        if lim.this is not None and isinstance(lim.parent, exp.Func):
            lim.replace(lim.this)
    for o in list(t.find_all(exp.Order)):
        if isinstance(o.parent, exp.Func):
            o.replace(o.this)
    for h in list(t.find_all(exp.HavingMax)):
        h.replace(h.this)
    for a in list(t.find_all(exp.ArgMax, exp.ArgMin)):
        a.set("expression", exp.null())  # max_by(x, y): y picks the row
    for f in list(t.find_all(exp.Filter)):
        f.replace(f.this)  # agg(x) FILTER (WHERE c): c decides the rows
    for i in list(t.find_all(exp.In)):
        if i.args.get("query") is not None:
            i.set("query", None)
            i.set("expressions", [exp.null()])
    for e in list(t.find_all(exp.Except)):
        for sel in _leaf_selects(e.expression):
            sel.set("expressions", [exp.alias_(exp.null(), p.alias_or_name) for p in sel.selects])
    return t


def _dot_path(col: exp.Column) -> tuple[tuple[str, ...], exp.Expr]:
    """The STRUCT field path read off a column reference (`e.device.geo.lat`
    -> (geo, lat)) and the outermost expression of that access."""
    parts: list[str] = []
    cur: exp.Expr = col
    while isinstance(cur.parent, exp.Dot) and cur.parent.this is cur:
        parts.append(cur.parent.expression.name)
        cur = cur.parent
    return tuple(parts), cur


def _unnest_of(node) -> exp.Unnest | None:
    for e in (node.expression, node.source):
        if isinstance(e, exp.Unnest):
            return e
    return None


def _unnest_slots(unnest: exp.Unnest, schema: dict, dialect: str, typed: set) -> list | None:
    """Trino: the columns an UNNEST gives, in order, as (index of its array
    expression, row field or None, column name): the arrays side by side, an
    array of rows as its fields, a map as key and value (each the whole map),
    named by the alias' column list, or by the row fields without one. None
    when an array's type is not known."""
    root = unnest.root()
    if id(root) not in typed:
        typed.add(id(root))
        try:
            annotate_types(root, schema=schema, dialect=dialect)
        except Exception:  # noqa: BLE001 - no types: the caller falls back
            pass
    slots: list[tuple[int, str | None]] = []
    for i, e in enumerate(unnest.expressions):
        t = e.type
        if t is None or t.this == exp.DType.UNKNOWN:
            return None
        if t.this == exp.DType.MAP:
            slots += [(i, None), (i, None)]
        elif t.this == exp.DType.ARRAY and t.expressions:
            elem = t.expressions[0]
            if elem.this == exp.DType.STRUCT:
                slots += [(i, f.name.lower()) for f in elem.expressions]
            else:
                slots.append((i, None))
        else:
            return None
    alias = unnest.args.get("alias")
    names = [c.name.lower() for c in (alias.columns if alias else [])]
    if names and len(names) != len(slots):
        return None
    return [(i, f, names[n] if names else f) for n, (i, f) in enumerate(slots)]


def leaves(
    tree: exp.Expr, schema: dict, columns: list[str], dialect: str, positions: bool
) -> dict[str, set[tuple[str, str]]]:
    """output column -> {(table, lower-case column path)} of sqlglot's lineage.
    `positions`: an UNNEST's offset/ordinality leads to its arrays (ALL) or to
    nothing (VALUE)."""
    nodes = lineage(None, tree, schema, dialect=dialect)
    typed: set[int] = set()
    by_lower = {k.lower(): v for k, v in nodes.items()}
    # alias -> table names, for correlated columns sqlglot leaves as placeholders
    aliases: dict[str, set[str]] = {}
    for node in nodes.values():
        for t in node.source.root().find_all(exp.Table):
            if t.name:
                aliases.setdefault(t.alias_or_name.lower(), set()).add(t.name.lower())

    def visit(node, suffixes: frozenset, out: set, seen: set) -> None:
        key = (id(node), suffixes)
        if key in seen:
            return
        seen.add(key)
        if not node.downstream:
            if isinstance(node.expression, exp.Table):
                table = node.expression.name.lower()
            elif isinstance(node.expression, exp.Placeholder):
                alias = node.name.rsplit(".", 1)[0].lower() if "." in node.name else ""
                names = aliases.get(alias, set())
                table = next(iter(names)) if len(names) == 1 else f"?{alias}"
            else:
                return  # a literal, COUNT(*), a row used as a value: no column
            column = node.name.rsplit(".", 1)[-1].strip('"`').lower()
            if column == "*":
                raise RuntimeError(f"unexpanded star over {table}")
            for sfx in suffixes:
                out.add((table, ".".join((column,) + sfx)))
            return
        unnest = _unnest_of(node)
        only: list[exp.Column] | None = None  # the array expression the column comes from
        if unnest is not None:
            field = node.name.rpartition(".")[2].lower()
            offset = unnest.args.get("offset")
            if isinstance(offset, exp.Identifier) and offset.name.lower() == field:
                # WITH OFFSET / WITH ORDINALITY: a position in the arrays,
                # not their values; ALL follows it to the whole arrays.
                if positions:
                    for child in node.downstream:
                        visit(child, frozenset({()}), out, seen)
                return
            slots = _unnest_slots(unnest, schema, dialect, typed) if dialect != "bigquery" else None
            slot = next((sl for sl in slots or [] if sl[2] == field), None)
            if slot is not None:
                # Trino: the column is the element of one array, or a field
                # of its rows (by position in the alias' column list).
                i, row_field, _ = slot
                only = list(unnest.expressions[i].find_all(exp.Column))
                if row_field is not None:
                    suffixes = frozenset((row_field,) + s for s in suffixes)
            else:
                # An UNNEST node asked for a field of its element (`item.sku`):
                # the field goes in front of the path, unless it names the element.
                alias = unnest.args.get("alias")
                element = {c.name.lower() for c in (alias.columns if alias else [])}
                if alias is not None and alias.this is not None and alias.this.name:
                    element.add(alias.this.name.lower())
                if field not in element:
                    suffixes = frozenset((field,) + s for s in suffixes)
        expr = node.expression
        core = expr.this if isinstance(expr, exp.Alias) else expr
        def occurrences(child, refs: list[exp.Column]) -> list[exp.Column]:
            if not child.downstream and isinstance(child.expression, exp.Table):
                return [c for c in refs if c.sql(comments=False) == child.name]
            tbl, _, col = child.name.rpartition(".")
            return [c for c in refs if tbl and c.table == tbl and c.name == col]

        refs = list(find_all_in_scope(expr, exp.Column)) if only is None else only
        for child in node.downstream:
            occ = occurrences(child, refs)
            if only is not None and not occ and occurrences(child, list(unnest.find_all(exp.Column))):
                continue  # another array of the same UNNEST
            if occ:
                child_sfx: set[tuple[str, ...]] = set()
                for c in occ:
                    path, top = _dot_path(c)
                    passes = top is core or (unnest is not None and any(top is a for a in unnest.expressions))
                    if passes:
                        child_sfx.update(path + s for s in suffixes)
                    else:
                        child_sfx.add(path)
            elif isinstance(core, exp.Column) or unnest is not None:
                child_sfx = set(suffixes)  # a set operation's operand, an UNNEST element
            else:
                child_sfx = {()}
            visit(child, frozenset(child_sfx), out, seen)

    result: dict[str, set[tuple[str, str]]] = {}
    for col in columns:
        node = by_lower.get(col.lower())
        if node is None:
            raise RuntimeError(f"sqlglot finds no output column {col!r} (it has {sorted(nodes)})")
        out: set[tuple[str, str]] = set()
        visit(node, frozenset({()}), out, set())
        result[col] = out
    return result


def sqlglot_lineage(sql: str, schema: dict, columns: list[str], dialect: str):
    """(ALL, VALUE) leaves of every output column."""
    tree = sqlglot.parse_one(sql, dialect=dialect)
    tree = qualify(tree, dialect=dialect, schema=schema, validate_qualify_columns=False, identify=False)
    return leaves(tree, schema, columns, dialect, True), leaves(values_only(tree), schema, columns, dialect, False)


# --- the comparison --------------------------------------------------------


def dpc_ref(s: dict) -> Ref:
    if "port" in s:
        return ("port", s["product"], s["port"], s["column"].lower())
    return ("input", s["product"], s["input"], s["column"].lower())


def compare_mesh(mesh: Path, allowed: dict[str, str], seen: set[str]) -> tuple[int, int, set[str]]:
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="dpc-lineage-") as tmp:
        manifest = build(mesh, Path(tmp) / "out")
    tomls = product_tomls(mesh)
    products = {p["id"]: p for p in manifest["products"]}
    dpc: dict[tuple[str, str, str], dict] = {}
    for entry in manifest["lineage"]["columns"]:
        c = entry["column"]
        dpc[(c["product"], c["port"], c["column"].lower())] = entry

    print(f"== {mesh}")
    for pid, prod in products.items():
        target = prod.get("target", "bigquery")
        dialect = DIALECTS.get(target)
        if dialect is None:
            print(f"SKIP {pid}: target {target}")
            continue
        pdir, ptoml = tomls[pid]
        schema: dict[str, dict[str, str]] = {}
        table_ref: dict[str, tuple[str, str, str]] = {}  # input name -> (kind, product, port|input)
        for inp in prod["inputs"]:
            name = inp["name"]
            if inp.get("product") and inp.get("port"):
                up = products[inp["product"]]
                cols = next(o for o in up["outputs"] if o["name"] == inp["port"])["columns"]
                table_ref[name.lower()] = ("port", inp["product"], inp["port"])
            else:
                cols = inp["columns"]
                table_ref[name.lower()] = ("input", pid, name)
            schema[name] = {c["name"]: sqlglot_type(c["type"], dialect) for c in cols}

        def to_ref(leaf: tuple[str, str]) -> Ref:
            table, column = leaf
            kind, product, where = table_ref.get(table, ("input", "?", table))
            return (kind, product, where, column)

        for out in prod["outputs"]:
            port = out["name"]
            qfile = ptoml.get("outputs", {}).get(port, {}).get("query", f"{port}.sql")
            sql = (pdir / qfile).read_text()
            columns = [c["name"] for c in out["columns"]]
            try:
                all_leaves, value_leaves = sqlglot_lineage(sql, schema, columns, dialect)
                err = None
            except Exception as e:  # noqa: BLE001
                err = f"{type(e).__name__}: {e}"
            for col in columns:
                key = f"{pid}.{port}.{col}"
                entry = dpc.get((pid, port, col.lower()))
                if err is not None or entry is None:
                    why = f"sqlglot: {err}" if err is not None else "no lineage entry in the manifest"
                    print(f"ERROR {key}: {why}")
                    failed += 1
                    continue
                sources = {dpc_ref(s) for s in entry["sources"]}
                filters = {dpc_ref(s) for s in entry["filters"]}
                value = {to_ref(x) for x in value_leaves[col]}
                keys = {to_ref(x) for x in all_leaves[col]} - value
                unfiltered = keys - sources - filters
                if VERBOSE:
                    print(f"  {key}: dpc {fmt(sources)} filters {fmt(filters)}; sqlglot {fmt(value)} keys {fmt(keys)}")
                if sources == value and not unfiltered:
                    passed += 1
                    if key in allowed:
                        seen.add(key)
                        print(f"STALE {key}: allow-listed, but dpc and sqlglot agree now")
                        failed += 1
                    continue
                line = f"{key}: dpc only: {fmt(sources - value)}; sqlglot only: {fmt(value - sources)}"
                if unfiltered:
                    line += f"; not among dpc's filters: {fmt(unfiltered)}"
                if key in allowed:
                    seen.add(key)
                    print(f"ALLOWED {line} -- {allowed[key]}")
                    passed += 1
                else:
                    print(f"DIFF {line}")
                    failed += 1
    return passed, failed, set(products)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    if sqlglot.__version__ != SQLGLOT_VERSION:
        print(f"compare_lineage: warning: sqlglot {sqlglot.__version__}; the rule was read off {SQLGLOT_VERSION}")
    allowed = load_allowlist()
    seen: set[str] = set()
    compared_products: set[str] = set()
    passed = failed = 0
    for arg in argv:
        try:
            p, f, prods = compare_mesh(Path(arg), allowed, seen)
        except (RuntimeError, OSError, KeyError, ValueError) as e:
            print(f"ERROR {arg}: {type(e).__name__}: {e}")
            p, f, prods = 0, 1, set()
        passed += p
        failed += f
        compared_products |= prods
    # Entries of the products compared here whose column was never seen.
    for key in sorted(set(allowed) - seen):
        if any(key.startswith(p + ".") for p in compared_products):
            print(f"STALE {key}: allow-listed, but no such column")
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
