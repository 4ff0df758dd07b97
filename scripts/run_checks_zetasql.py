#!/usr/bin/env python3
"""Run the BigQuery check queries of a `dpc build` on small tables with
ZetaSQL's reference executor, and assert what each one counts.

    run_checks_zetasql.py [-v] BUILD_DIR FIXTURE_DIR

BUILD_DIR is a `dpc build` output directory (manifest.json, bigquery/...).
FIXTURE_DIR holds one or more *.json fixtures (see
golden-tests/check-data/ingest-bigquery/ and docs/check-queries-executed.md):

    {"about": "...",
     "tables": {"<project.dataset.table>": {"columns": [...], "rows": [[...], ...]}},
     "expect": {"<dataset>/checks/<...>.sql": {"<check_name>": N | {"failures": N, "why": "...",
                                                                  "issue": "..."}}}}

For each fixture: every base table of the manifest (the `stored` tables of
own inputs, the output ports that are tables) gets the fixture's rows (none
if the fixture leaves it out and no check reads it); every view the checks
read (an input's read view in ddl.sql, a view port in jobs/) is materialized
by evaluating its emitted query on those rows; then every query of every
file under bigquery/*/checks/ runs as emitted (only the table paths are
rewritten, see below) and its one row is compared with the expectation.
Then every gate (bigquery/*/gates/...: `ASSERT NOT EXISTS (q) AS '...';`)
runs as its query q, which must return exactly the names of the checks of
severity `error` in the matching checks file that the fixture expects to
find violations; a checks file has a gate if and only if it has an error
check.

Asserted per check: one row of (check_name STRING, severity STRING,
failures INT64, examples ARRAY<STRING>); check_name and severity as in the
query's `-- name (severity): about` line; failures equal to the fixture's
expectation; at most 5 examples, each a JSON text, and at least one when
failures > 0. Every check of the build must have an expectation in every
fixture, and every expectation a check. An expectation with an "issue" is
pinned to behaviour believed wrong: it still must match, and is listed.

Cells: STRING/INT64/FLOAT64/BOOL as JSON values, NUMERIC/BIGNUMERIC as
strings ("4.90"), DATE as "2024-05-01" or "today", "today-3d", TIMESTAMP
as ISO 8601 or "now", "now-30m", "now-1d-2h" (units s m h d; resolved once
per run, in UTC), ARRAY as a list, NULL as null. A row is a list in the
table's "columns" order (default: the manifest's) or an object.

Then a self-test proves the comparison can fail: deliberately wrong
expectations (a 0 made 1, a count made +1, a missing and an unknown
expectation, examples missing or not JSON, one fixture's results against
another's expectations) must each be reported.

Exit: 0 all as expected; 1 a mismatch (check, fixture, expected, got) or a
fixture that does not fit the build; 2 the harness cannot run (no zetasql,
no build, unreadable fixture) or failed its self-test.

Executor notes: tables are registered in ZetaSQL's root catalog under one
name `project.dataset.table` (table contents only attach to root tables),
so `p`.`d`.`t` in the SQL is rewritten to `p.d.t`; one statement per call.
Run with the validator venv's python (scripts/setup-validators.sh).
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import glob
import json
import os
import re
import sys
import time
from decimal import Context, Decimal

EXIT_OK, EXIT_FAIL, EXIT_BROKEN = 0, 1, 2
D = Context(prec=100)  # NUMERIC has 38 digits, BIGNUMERIC 76: the default 28-digit context rounds
PROG = "run-checks-zetasql"


def broken(msg: str):
    print(f"{PROG}: cannot run: {msg}", file=sys.stderr)
    sys.exit(EXIT_BROKEN)


class FixtureError(Exception):
    """The fixture does not fit the build (exit 1)."""


# ------------------------------------------------------------------ lexing
def tokens(text: str):
    """(kind, start, end) over BigQuery SQL: 'ws', 'comment', 'string',
    'quoted' (a backquoted identifier), 'punct' (one character), 'word'."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            yield "ws", i, j
            i = j
        elif text.startswith("--", i) or c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            yield "comment", i, j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            yield "comment", i, j
            i = j
        elif c in "'\"`":
            q = text[i:i + 3] if c != "`" and text.startswith(c * 3, i) else c
            j = i + len(q)
            while j < n and not text.startswith(q, j):
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + len(q))
            yield ("quoted" if c == "`" else "string"), i, j
            i = j
        elif c.isalnum() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            yield "word", i, j
            i = j
        else:
            yield "punct", i, i + 1
            i += 1


def split_statements(text: str) -> list[tuple[int, str]]:
    """Statements of a script split at `;` (outside strings and comments),
    with the line each starts on; statements of only comments are dropped."""
    out, start = [], 0
    for kind, i, j in tokens(text):
        if kind == "punct" and text[i] == ";":
            out.append((start, text[start:i]))
            start = j
    out.append((start, text[start:]))
    res = []
    for off, st in out:
        if any(k not in ("ws", "comment") for k, _, _ in tokens(st)):
            res.append((text.count("\n", 0, off) + 1, st))
    return res


TABLE_REF = re.compile(r"`([^`\\\n]+)`\.`([^`\\\n]+)`\.`([^`\\\n]+)`")


def view_definition(stmt: str):
    """(physical name, query) of `CREATE [OR REPLACE] VIEW name [OPTIONS (...)] AS query`, else None."""
    toks = [(k, i, j) for k, i, j in tokens(stmt) if k not in ("ws", "comment")]
    words = [stmt[i:j].upper() if k == "word" else None for k, i, j in toks]
    p = 0
    if words[p:p + 1] != ["CREATE"]:
        return None
    p += 1
    if words[p:p + 2] == ["OR", "REPLACE"]:
        p += 2
    if words[p:p + 1] != ["VIEW"]:
        return None
    p += 1
    if words[p:p + 3] == ["IF", "NOT", "EXISTS"]:
        p += 3
    parts = []
    while p < len(toks) and toks[p][0] in ("quoted", "word"):
        k, i, j = toks[p]
        parts.append(stmt[i + 1:j - 1] if k == "quoted" else stmt[i:j])
        p += 1
        if p < len(toks) and stmt[toks[p][1]:toks[p][2]] == ".":
            p += 1
        else:
            break
    name = ".".join(parts)
    if words[p:p + 1] == ["OPTIONS"]:
        p += 1
        depth = 0
        while p < len(toks):
            s = stmt[toks[p][1]:toks[p][2]] if toks[p][0] == "punct" else ""
            depth += (s == "(") - (s == ")")
            p += 1
            if depth == 0:
                break
    if words[p:p + 1] != ["AS"]:
        raise ValueError(f"view {name}: cannot find its query (a column list or an unexpected clause)")
    return name, stmt[toks[p][2]:].strip()


HEADER = re.compile(r"^--\s*(\S+)\s+\((\w+)\):\s*(.*)$")


def parse_check_file(path: str) -> list[dict]:
    """Every query of a check file with the name, severity and about of its
    `-- name (severity): about` line (the last such line before the SELECT)."""
    text = open(path, encoding="utf-8").read()
    checks = []
    for line, st in split_statements(text):
        header = None
        for k, i, j in tokens(st):
            if k == "comment":
                m = HEADER.match(st[i:j].strip())
                if m:
                    header = m
            elif k != "ws":
                break
        if header is None:
            raise FixtureError(f"{path}:{line}: a check query without a `-- name (severity): about` line")
        checks.append({"name": header.group(1), "severity": header.group(2), "about": header.group(3),
                       "sql": st.strip(), "line": line})
    return checks


GATE = re.compile(r"^ASSERT NOT EXISTS \((.*)\) AS '(?:[^'\\]|\\.)*';\s*\Z", re.S | re.M)


def gate_problems(build: Build) -> list[str]:
    """A gate for every checks file with an error check, and for no other."""
    bad = []
    for f in sorted(set(build.files) | set(build.gates)):
        errors = any(c["severity"] == "error" for c in build.files.get(f, []))
        if f not in build.files:
            bad.append(f"{f.replace('/checks/', '/gates/', 1)}: a gate without a checks file")
        elif errors and f not in build.gates:
            bad.append(f"{f}: has checks of severity error but no gate")
        elif not errors and f in build.gates:
            bad.append(f"{f}: has no check of severity error but a gate")
    return bad


# ------------------------------------------------------------------ values
REL_TS = re.compile(r"^now((?:\s*[+-]\s*\d+\s*[smhd])*)$")
REL_DATE = re.compile(r"^today((?:\s*[+-]\s*\d+\s*d)*)$")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rel_seconds(terms: str) -> int:
    return sum((1 if s == "+" else -1) * int(n) * UNIT[u]
               for s, n, u in re.findall(r"([+-])\s*(\d+)\s*([smhd])", terms))


class Executor:
    """ZetaSQL's reference implementation (WASM), configured like BigQuery."""

    def __init__(self):
        t0 = time.time()
        here = os.path.dirname(os.path.abspath(__file__))
        if here not in sys.path:
            sys.path.insert(0, here)
        try:
            import zqcache  # noqa: F401  the compiled-module cache: must come before zetasql
            from google.protobuf.timestamp_pb2 import Timestamp
            from zetasql.core.exceptions import ServerError
            from zetasql.core.local_service import ZetaSqlLocalService
            from zetasql.types import ZetaSQLBuiltinFunctionOptions
            from zetasql.wasi._pb2.zetasql.local_service import local_service_pb2 as ls
            from zetasql.wasi._pb2.zetasql.proto import simple_catalog_pb2
            from zetasql.wasi._pb2.zetasql.public import simple_table_pb2, type_pb2, value_pb2
        except ImportError as e:
            broken(f"cannot import zetasql ({e}); run scripts/setup-validators.sh and use its venv's python")
        self.zqcache = zqcache
        self.Timestamp, self.ServerError = Timestamp, ServerError
        self.ls, self.cat_pb, self.tab_pb, self.T, self.V = ls, simple_catalog_pb2, simple_table_pb2, type_pb2, value_pb2
        self.svc = ZetaSqlLocalService.get_instance()
        self.start_s = time.time() - t0
        lang = zqcache.bigquery_language()
        self.opts = zqcache.analyzer_options(lang).to_proto()
        self.lang = lang.to_proto()
        self.builtins = ZetaSQLBuiltinFunctionOptions(language_options=lang).to_proto()
        self._types: dict[str, object] = {}
        self.queries = 0

    def _call(self, fn: str, req, resp):
        return self.svc.wasm_client.call_grpc_func(fn, req, resp)

    @staticmethod
    def clean(err) -> str:
        return re.sub(r"^\[[A-Z_]+\]\s*", "", str(err).strip())

    def catalog(self, tables: dict):
        """tables: {name: ([(column, TypeProto)], [row cells])} -> (SimpleCatalogProto, {name: TableContent})."""
        root = self.cat_pb.SimpleCatalogProto(name="root", builtin_function_options=self.builtins)
        content = {}
        for name, (cols, rows) in tables.items():
            root.table.append(self.tab_pb.SimpleTableProto(
                name=name, column=[self.tab_pb.SimpleColumnProto(name=c, type=t) for c, t in cols]))
            content[name] = self.ls.TableContent(table_data=self.ls.TableData(
                row=[self.ls.TableData.Row(cell=r) for r in rows]))
        return root, content

    def run(self, sql: str, tables: dict | None = None, catalog_id: int | None = None):
        """One query -> ([(column name, TypeProto)], [[ValueProto]])."""
        req = self.ls.EvaluateQueryRequest(sql=sql, options=self.opts)
        if catalog_id is not None:
            req.registered_catalog_id = catalog_id
        else:
            root, content = self.catalog(tables or {})
            req.simple_catalog.CopyFrom(root)
            for k, v in content.items():
                req.table_content[k].CopyFrom(v)
        self.queries += 1
        r = self._call("ZetaSqlLocalService_EvaluateQuery", req, self.ls.EvaluateQueryResponse)
        cols = [(c.name, c.type) for c in r.prepared.columns]
        return cols, [list(row.cell) for row in r.content.table_data.row]

    def register(self, tables: dict) -> int:
        root, content = self.catalog(tables)
        req = self.ls.RegisterCatalogRequest(simple_catalog=root)
        for k, v in content.items():
            req.table_content[k].CopyFrom(v)
        return self._call("ZetaSqlLocalService_RegisterCatalog", req, self.ls.RegisterResponse).registered_id

    def unregister(self, cid: int) -> None:
        from google.protobuf import empty_pb2
        try:
            self._call("ZetaSqlLocalService_UnregisterCatalog", self.ls.UnregisterRequest(registered_id=cid),
                       empty_pb2.Empty)
        except Exception:  # noqa: BLE001
            pass

    def table_names(self, sql: str) -> list[str]:
        """The tables a statement reads (ZetaSQL's parser), as dotted paths."""
        req = self.ls.ExtractTableNamesFromStatementRequest(sql_statement=sql, options=self.lang)
        r = self._call("ZetaSqlLocalService_ExtractTableNamesFromStatement", req,
                       self.ls.ExtractTableNamesFromStatementResponse)
        return [".".join(t.table_name_segment) for t in r.table_name]

    def type_of(self, spelling: str):
        """A BigQuery type spelling (as in the manifest) -> TypeProto, by
        ZetaSQL itself: SELECT CAST(NULL AS <type>). Type parameters
        (NUMERIC(8, 2)) are dropped: a stored column has the plain type."""
        if spelling not in self._types:
            if ";" in spelling or "--" in spelling:
                raise FixtureError(f"not a type: {spelling!r}")
            try:
                cols, _ = self.run(f"SELECT CAST(NULL AS {spelling}) AS x")
            except self.ServerError as e:
                raise FixtureError(f"type {spelling!r}: {self.clean(e)}") from None
            self._types[spelling] = cols[0][1]
        return self._types[spelling]

    # ---- cells
    def enc(self, v, t, now: dt.datetime, where: str):
        V, K = self.V.ValueProto, self.T
        if v is None:
            return V()
        k = t.type_kind
        try:
            if k == K.TYPE_ARRAY:
                if not isinstance(v, list):
                    raise ValueError("an ARRAY is a JSON list")
                return V(array_value=V.Array(element=[self.enc(x, t.array_type.element_type, now, where) for x in v]))
            if k == K.TYPE_STRUCT:
                fields = t.struct_type.field
                if isinstance(v, dict):
                    v = [v.get(f.field_name) for f in fields]
                return V(struct_value=V.Struct(field=[self.enc(x, f.field_type, now, where) for x, f in zip(v, fields)]))
            if k == K.TYPE_STRING:
                if not isinstance(v, str):
                    raise ValueError("a STRING is a JSON string")
                return V(string_value=v)
            if k == K.TYPE_BYTES:
                return V(bytes_value=str(v).encode())
            if k == K.TYPE_INT64:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ValueError("an INT64 is a JSON integer")
                return V(int64_value=v)
            if k == K.TYPE_BOOL:
                if not isinstance(v, bool):
                    raise ValueError("a BOOL is true or false")
                return V(bool_value=v)
            if k == K.TYPE_DOUBLE:
                return V(double_value=float(v))
            if k in (K.TYPE_NUMERIC, K.TYPE_BIGNUMERIC):
                scale = 9 if k == K.TYPE_NUMERIC else 38
                n = int(Decimal(str(v)).scaleb(scale, D).to_integral_value(context=D))
                b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "little", signed=True)
                return V(numeric_value=b) if k == K.TYPE_NUMERIC else V(bignumeric_value=b)
            if k == K.TYPE_DATE:
                m = REL_DATE.match(v)
                d = (now.date() + dt.timedelta(seconds=rel_seconds(m.group(1)))) if m else dt.date.fromisoformat(v)
                return V(date_value=(d - dt.date(1970, 1, 1)).days)
            if k in (K.TYPE_TIMESTAMP, K.TYPE_DATETIME):
                m = REL_TS.match(v)
                if m:
                    x = now + dt.timedelta(seconds=rel_seconds(m.group(1)))
                else:
                    x = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
                    if x.tzinfo is not None:
                        x = x.astimezone(dt.timezone.utc)
                x = x.replace(tzinfo=None)
                if k == K.TYPE_DATETIME:
                    bits = (x.year << 26 | x.month << 22 | x.day << 17 | x.hour << 12 | x.minute << 6 | x.second)
                    return V(datetime_value=V.Datetime(bit_field_datetime_seconds=bits, nanos=x.microsecond * 1000))
                ts = self.Timestamp()
                ts.FromDatetime(x)
                return V(timestamp_value=ts)
            if k == K.TYPE_JSON:
                return V(json_value=json.dumps(v))
        except (ValueError, TypeError, AttributeError, ArithmeticError) as e:
            raise FixtureError(f"{where}: {v!r} is not a {K.TypeKind.Name(k)[5:]} cell ({e})") from None
        raise FixtureError(f"{where}: type {K.TypeKind.Name(k)} not supported by this harness")

    def dec(self, v, t=None):
        f = v.WhichOneof("value")
        if f is None:
            return None
        raw = getattr(v, f)
        if f == "array_value":
            et = t.array_type.element_type if t is not None else None
            return [self.dec(e, et) for e in raw.element]
        if f == "struct_value":
            names = [x.field_name for x in t.struct_type.field] if t is not None else []
            vals = [self.dec(e) for e in raw.field]
            return dict(zip(names, vals)) if len(names) == len(vals) else vals
        if f == "date_value":
            return (dt.date(1970, 1, 1) + dt.timedelta(days=raw)).isoformat()
        if f == "timestamp_value":
            return raw.ToDatetime(tzinfo=dt.timezone.utc).isoformat()
        if f in ("numeric_value", "bignumeric_value"):
            scale = -9 if f == "numeric_value" else -38
            return str(Decimal(int.from_bytes(raw, "little", signed=True)).scaleb(scale, D).normalize(D))
        return raw


# ------------------------------------------------------------------ the build
class Build:
    def __init__(self, root: str):
        self.root = root
        mpath = os.path.join(root, "manifest.json")
        try:
            m = json.load(open(mpath, encoding="utf-8"))
        except (OSError, ValueError) as e:
            broken(f"{mpath}: {e}")
        self.base: dict[str, list[tuple[str, str]]] = {}   # physical -> [(column, type)]: tables that hold rows
        self.views: dict[str, list[str]] = {}              # physical -> declared columns (the manifest's)
        cols = lambda x: [(c["name"], c["type"]) for c in x.get("columns") or []]  # noqa: E731
        for p in m.get("products", []):
            if p.get("target") != "bigquery":
                continue
            for o in p.get("outputs", []):
                if o.get("materialization") == "view":
                    self.views[o["physical"]] = [c for c, _ in cols(o)]
                else:
                    self.base[o["physical"]] = cols(o)
            for i in p.get("inputs", []):
                if i.get("kind", "product") == "product":
                    continue
                self.views[i["physical"]] = [c for c, _ in cols(i)]
                for s in i.get("stored", []):
                    self.base[s["physical"]] = cols(s)
        bq = os.path.join(root, "bigquery")
        if not os.path.isdir(bq):
            broken(f"{bq}: no such directory (not a dpc build of a BigQuery product?)")
        # The views' queries: CREATE VIEW statements of ddl.sql and of the jobs (view ports).
        self.view_sql: dict[str, str] = {}
        for f in sorted(glob.glob(os.path.join(bq, "*", "ddl.sql")) + glob.glob(os.path.join(bq, "*", "jobs", "*.sql"))):
            for _, st in split_statements(open(f, encoding="utf-8").read()):
                try:
                    v = view_definition(st)
                except ValueError as e:
                    broken(f"{f}: {e}")
                if v:
                    self.view_sql[v[0]] = v[1]
        missing = sorted(set(self.views) - set(self.view_sql))
        if missing:
            broken(f"no CREATE VIEW found in ddl.sql or jobs/ for the manifest's view(s) {', '.join(missing)}")
        # The checks.
        self.files: dict[str, list[dict]] = {}
        for f in sorted(glob.glob(os.path.join(bq, "*", "checks", "**", "*.sql"), recursive=True)):
            rel = os.path.relpath(f, bq).replace(os.sep, "/")
            self.files[rel] = parse_check_file(f)
        if not self.files:
            broken(f"no check files under {bq}/*/checks/")
        # The gates, by the checks file they gate: the query inside ASSERT NOT EXISTS.
        self.gates: dict[str, str] = {}
        for f in sorted(glob.glob(os.path.join(bq, "*", "gates", "**", "*.sql"), recursive=True)):
            rel = os.path.relpath(f, bq).replace(os.sep, "/")
            m = GATE.search(open(f, encoding="utf-8").read())
            if not m:
                broken(f"{f}: not one `ASSERT NOT EXISTS (...) AS '...';` statement")
            self.gates[rel.replace("/gates/", "/checks/", 1)] = m.group(1)

    def rewrite(self, sql: str) -> str:
        """`p`.`d`.`t` -> `p.d.t` for every known table (contents attach only to root tables)."""
        known = set(self.base) | set(self.views)

        def sub(m):
            name = ".".join(m.groups())
            return f"`{name}`" if name in known else m.group(0)
        return TABLE_REF.sub(sub, sql)


# ------------------------------------------------------------------ running a fixture
def view_order(build: Build, ex: Executor) -> tuple[list[str], dict[str, list[str]]]:
    """The views in an order where each comes after the views it reads; and what each reads."""
    reads = {v: ex.table_names(sql) for v, sql in build.view_sql.items()}
    order, done = [], set()

    def visit(v, stack):
        if v in done:
            return
        if v in stack:
            broken(f"views read each other in a cycle: {' -> '.join(stack + [v])}")
        for r in reads[v]:
            if r in build.view_sql:
                visit(r, stack + [v])
        done.add(v)
        order.append(v)
    for v in sorted(build.view_sql):
        visit(v, [])
    return order, reads


def base_tables_read(names: list[str], build: Build, reads: dict) -> set[str]:
    out, todo = set(), list(names)
    while todo:
        t = todo.pop()
        if t in build.view_sql:
            todo.extend(reads[t])
        elif t in build.base:
            out.add(t)
    return out


def load_fixture(path: str) -> dict:
    try:
        fx = json.load(open(path, encoding="utf-8"))
    except (OSError, ValueError) as e:
        broken(f"{path}: {e}")
    if not isinstance(fx, dict) or not isinstance(fx.get("tables"), dict) or not isinstance(fx.get("expect"), dict):
        broken(f"{path}: a fixture is an object with \"tables\" and \"expect\"")
    return fx


def run_fixture(fx: dict, name: str, build: Build, ex: Executor, needed: dict[str, set], order: list[str],
                now: dt.datetime, verbose: bool):
    """-> ({(file, check): result dict}, [problems with the data or the build],
    how many gates fail)."""
    tables = {}
    unknown = sorted(set(fx["tables"]) - set(build.base))
    if unknown:
        hint = [f"{t} is a view: give the rows of the tables it reads" if t in build.views else
                f"{t} is not a table of the manifest" for t in unknown]
        raise FixtureError("; ".join(hint))
    all_needed = set().union(*needed.values()) if needed else set()
    lacking = sorted(all_needed - set(fx["tables"]))
    if lacking:
        readers = {t: sorted(f"{f}:{c}" for (f, c), ts in needed.items() if t in ts)[:2] for t in lacking}
        raise FixtureError("no rows given for " + "; ".join(f"{t} (read by {', '.join(r)}...)" for t, r in readers.items())
                           + ' (write "rows": [] for an empty table)')
    counts = {}
    for t, cols in build.base.items():
        spec = fx["tables"].get(t, {"rows": []})
        if not isinstance(spec, dict) or not isinstance(spec.get("rows", []), list):
            raise FixtureError(f"{t}: a table is {{\"columns\": [...], \"rows\": [...]}}")
        decl = [c for c, _ in cols]
        given = spec.get("columns", decl)
        if sorted(map(str.lower, given)) != sorted(map(str.lower, decl)):
            raise FixtureError(f"{t}: columns {given} are not the manifest's {decl}")
        types = {c.lower(): ex.type_of(ty) for c, ty in cols}
        rows = []
        for n, r in enumerate(spec.get("rows", [])):
            where = f"{name}: {t} row {n + 1}"
            if isinstance(r, dict):
                extra = set(map(str.lower, r)) - set(types)
                if extra:
                    raise FixtureError(f"{where}: unknown column(s) {sorted(extra)}")
                r = {k.lower(): v for k, v in r.items()}
                vals = [r.get(c.lower()) for c in decl]
            else:
                if not isinstance(r, list) or len(r) != len(given):
                    raise FixtureError(f"{where}: {r!r} is not a list of {len(given)} values")
                byname = dict(zip(map(str.lower, given), r))
                vals = [byname[c.lower()] for c in decl]
            rows.append([ex.enc(v, types[c.lower()], now, f"{where}, column {c}") for v, c in zip(vals, decl)])
        tables[t] = ([(c, types[c.lower()]) for c in decl], rows)
        counts[t] = len(rows)
    problems = []
    # Sanity: the executor sees every row given (contents really attached).
    for t, n in counts.items():
        try:
            _, rows = ex.run(f"SELECT COUNT(*) FROM `{t}`", tables)
        except ex.ServerError as e:
            raise FixtureError(f"the executor rejects the fixture's rows: {ex.clean(e)}") from None
        got = rows[0][0].int64_value
        if got != n:
            broken(f"{name}: the executor sees {got} rows in {t}, the fixture has {n}")
    # Materialize the views, in dependency order, from their emitted queries.
    for v in order:
        try:
            cols, rows = ex.run(build.rewrite(build.view_sql[v]), tables)
        except ex.ServerError as e:
            problems.append(f"{name}: view {v}: its query fails in the executor: {ex.clean(e)}")
            continue
        decl = build.views.get(v)
        if decl is not None and [c.lower() for c, _ in cols] != [c.lower() for c in decl]:
            problems.append(f"{name}: view {v} has columns {[c for c, _ in cols]}, the manifest says {decl}")
        tables[v] = (cols, rows)
        if verbose:
            print(f"  {name}: view {v}: {len(rows)} row(s)")
    cid = ex.register(tables)
    results = {}
    gates_failing = 0
    try:
        for f, checks in build.files.items():
            for c in checks:
                key = (f, c["name"])
                try:
                    cols, rows = ex.run(build.rewrite(c["sql"]), catalog_id=cid)
                except ex.ServerError as e:
                    results[key] = {"error": ex.clean(e), "check": c}
                    continue
                results[key] = {"columns": [(n, ex.T.TypeKind.Name(t.type_kind) + (
                    "<" + ex.T.TypeKind.Name(t.array_type.element_type.type_kind) + ">" if t.HasField("array_type") else ""))
                    for n, t in cols],
                    "rows": [[ex.dec(x, t) for x, (_, t) in zip(r, cols)] for r in rows], "check": c}
        for f, query in build.gates.items():
            where = f"{f.replace('/checks/', '/gates/', 1)}: {name}"
            try:
                cols, rows = ex.run(build.rewrite(query), catalog_id=cid)
            except ex.ServerError as e:
                problems.append(f"{where}: the gate's query fails: {ex.clean(e)}")
                continue
            got = sorted(ex.dec(r[0], cols[0][1]) for r in rows)
            want = []
            for c in build.files.get(f, []):
                v = (fx["expect"].get(f) or {}).get(c["name"])
                if c["severity"] == "error" and v is not None and expectation(v)[0] > 0:
                    want.append(c["name"])
            if got != sorted(want):
                problems.append(f"{where}: the gate finds failing checks {got}, the fixture expects {sorted(want)}")
            gates_failing += bool(got)
    finally:
        ex.unregister(cid)
    return results, problems, gates_failing


# ------------------------------------------------------------------ comparing
WANT_COLUMNS = [("check_name", "TYPE_STRING"), ("severity", "TYPE_STRING"), ("failures", "TYPE_INT64"),
                ("examples", "TYPE_ARRAY<TYPE_STRING>")]


def expectation(v):
    """An expect entry -> (failures, why, issue)."""
    if isinstance(v, bool) or not isinstance(v, (int, dict)):
        raise FixtureError(f"an expectation is a count or {{\"failures\": N, ...}}, not {v!r}")
    if isinstance(v, int):
        return v, None, None
    n = v.get("failures")
    if isinstance(n, bool) or not isinstance(n, int):
        raise FixtureError(f"expectation {v!r} has no integer \"failures\"")
    return n, v.get("why"), v.get("issue")


def compare(fixture: str, expect: dict, results: dict) -> list[str]:
    """Every mismatch between a fixture's expectations and the results, as text."""
    bad = []
    keys = set(results)
    for f, per in sorted(expect.items()):
        if not isinstance(per, dict):
            bad.append(f"{fixture}: expect[{f!r}] is not an object")
            continue
        for c, v in sorted(per.items()):
            if (f, c) not in keys:
                bad.append(f"{f}: {c}: {fixture}: an expectation for a check the build does not have")
    for (f, c), r in sorted(results.items()):
        where = f"{f}: {c}: {fixture}"
        if c not in (expect.get(f) or {}):
            bad.append(f"{where}: no expectation (every check needs one)")
            continue
        try:
            want, _, _ = expectation(expect[f][c])
        except FixtureError as e:
            bad.append(f"{where}: {e}")
            continue
        if "error" in r:
            bad.append(f"{where}: expected {want}, got an error: {r['error']}")
            continue
        if r["columns"] != WANT_COLUMNS:
            bad.append(f"{where}: columns {r['columns']}, want {WANT_COLUMNS}")
            continue
        if len(r["rows"]) != 1:
            bad.append(f"{where}: {len(r['rows'])} rows, want 1")
            continue
        name, sev, got, examples = r["rows"][0]
        chk = r["check"]
        if name != c:
            bad.append(f"{where}: check_name is {name!r}")
        if sev != chk["severity"] or sev not in ("error", "warn"):
            bad.append(f"{where}: severity is {sev!r}, its comment says {chk['severity']!r}")
        if got != want:
            bad.append(f"{where}: expected failures {want}, got {got}; examples: {examples}")
        examples = examples or []   # BigQuery shows a NULL array as []
        if got and got > 0 and not examples:
            bad.append(f"{where}: failures {got} but no examples")
        if len(examples) > 5:
            bad.append(f"{where}: {len(examples)} examples, at most 5")
        for e in examples:
            try:
                json.loads(e)
            except (TypeError, ValueError):
                bad.append(f"{where}: an example is not JSON: {e!r}")
    return bad


def self_test(runs: list[tuple[str, dict, dict]]) -> tuple[list[str], list[str]]:
    """Deliberate mistakes that compare() must report. Returns (what was
    tried, what was missed). The mistakes are made on real results."""
    tried, missed = [], []

    def must_fail(label, name, exp, res, base):
        tried.append(label)
        if len(compare(name, exp, res)) <= len(base):
            missed.append(label)

    def find(pred):
        for name, expect, results in runs:
            for key, r in sorted(results.items()):
                if pred(key, r, expect):
                    return name, expect, results, key
        return None

    def got(r):
        return r["rows"][0][2] if "rows" in r and len(r["rows"]) == 1 else None

    zero = find(lambda k, r, e: got(r) == 0 and expectation(e[k[0]][k[1]])[0] == 0)
    some = find(lambda k, r, e: (got(r) or 0) > 0 and expectation(e[k[0]][k[1]])[0] == got(r))
    if zero is None or some is None:
        missed.append("the fixtures need a check that finds nothing and one that finds something")
        return tried, missed
    name, expect, results, (f, c) = zero
    base = compare(name, expect, results)
    e = copy.deepcopy(expect)
    e[f][c] = 1
    must_fail(f"0 expected as 1 ({name} {f} {c})", name, e, results, base)
    e = copy.deepcopy(expect)
    del e[f][c]
    must_fail("a missing expectation", name, e, results, base)
    e = copy.deepcopy(expect)
    e[f]["no_such_check"] = 0
    must_fail("an expectation for a check the build does not have", name, e, results, base)
    name, expect, results, (f, c) = some
    base = compare(name, expect, results)
    n = got(results[(f, c)])
    e = copy.deepcopy(expect)
    e[f][c] = n + 1
    must_fail(f"{n} expected as {n + 1} ({name} {f} {c})", name, e, results, base)
    e[f][c] = 0
    must_fail(f"{n} expected as 0", name, e, results, base)
    r = copy.deepcopy(results)
    r[(f, c)]["rows"][0][3] = None
    must_fail("failures without examples", name, expect, r, base)
    r[(f, c)]["rows"][0][3] = ["not json {"]
    must_fail("an example that is not JSON", name, expect, r, base)
    r[(f, c)]["rows"][0][1] = "info"
    must_fail("a severity other than its comment's", name, expect, r, base)
    for (n1, e1, r1) in runs:
        for (n2, e2, _) in runs:
            if n1 != n2 and e1 != e2:
                tried.append(f"results of {n1} against expectations of {n2}")
                if not compare(n1, e2, r1):
                    missed.append(f"results of {n1} pass the expectations of {n2}")
    return tried, missed


# ------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("fixture_dir")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per check and fixture")
    a = ap.parse_args()
    t0 = time.time()
    try:
        build = Build(a.build_dir)
    except FixtureError as e:
        print(f"{PROG}: FAIL {e}")
        return EXIT_FAIL
    fixtures = sorted(glob.glob(os.path.join(a.fixture_dir, "*.json")))
    if not fixtures:
        broken(f"no *.json fixture in {a.fixture_dir}")
    ex = Executor()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    order, reads = view_order(build, ex)
    needed = {}
    for f, checks in build.files.items():
        names = [c["name"] for c in checks]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            print(f"{PROG}: FAIL {f}: check name(s) {dup} appear more than once: their results cannot be told apart")
            return EXIT_FAIL
        for c in checks:
            needed[(f, c["name"])] = base_tables_read(ex.table_names(c["sql"]), build, reads)
    n_checks = sum(len(c) for c in build.files.values())
    failed, runs, issues = gate_problems(build), [], []
    for path in fixtures:
        name = os.path.basename(path)
        fx = load_fixture(path)
        try:
            results, problems, gates_failing = run_fixture(fx, name, build, ex, needed, order, now, a.verbose)
        except FixtureError as e:
            failed.append(f"{name}: {e}")
            continue
        bad = problems + compare(name, fx["expect"], results)
        runs.append((name, fx["expect"], results))
        firing = 0
        for (f, c), r in sorted(results.items()):
            got = r["rows"][0][2] if "rows" in r and len(r["rows"]) == 1 else None
            firing += bool(got)
            v = (fx["expect"].get(f) or {}).get(c)
            try:
                want, why, issue = expectation(v) if v is not None else (None, None, None)
            except FixtureError:
                want, why, issue = v, None, None
            if issue:
                issues.append(f"{f}: {c} ({name}: failures {want}): {issue}")
            if a.verbose:
                mark = "ok  " if got == want else "FAIL"
                ex1 = (r["rows"][0][3] or [""])[0] if got else ""
                print(f"  {mark} {name}: {f}: {c} = {got if 'rows' in r else 'ERROR'} (expected {want})"
                      + (f"  -- {why}" if why else "") + (f"  e.g. {ex1[:100]}" if ex1 else ""))
        broken_checks = {k for k in results if any(b.startswith(f"{k[0]}: {k[1]}: {name}:") for b in bad)}
        print(f"{name}: {len(results)} checks run, {len(results) - len(broken_checks)} as expected, "
              f"{firing} finding violations, {gates_failing} of {len(build.gates)} gates failing; {len(bad)} problem(s)")
        failed.extend(bad)
    for b in failed:
        print(f"FAIL {b}")
    if runs:
        tried, missed = self_test(runs)
        if missed:
            for m in missed:
                print(f"{PROG}: self-test: not detected: {m}", file=sys.stderr)
            return EXIT_BROKEN
        print(f"self-test: {len(tried)} deliberate mistakes, all detected: " + "; ".join(tried[:8])
              + (f"; ... ({len(tried) - 8} more crossings)" if len(tried) > 8 else ""))
    if issues:
        print(f"pinned to behaviour believed wrong ({len(issues)}; see the fixtures' \"issue\" fields):")
        for i in sorted(set(issues)):
            print(f"  ISSUE {i}")
    print(f"{n_checks} checks in {len(build.files)} files and {len(build.gates)} gates x {len(fixtures)} fixtures; "
          f"{ex.queries} queries; "
          f"ZetaSQL start {ex.start_s:.1f} s (module cache: {ex.zqcache.status['event']}); "
          f"total {time.time() - t0:.1f} s: {'FAILED' if failed else 'ok'}")
    return EXIT_FAIL if failed else EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except Exception:  # noqa: BLE001  (the harness itself broke: not a finding)
        import traceback
        traceback.print_exc()
        print(f"{PROG}: cannot run: unexpected error (above)", file=sys.stderr)
        sys.exit(EXIT_BROKEN)
