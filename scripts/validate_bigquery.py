#!/usr/bin/env python3
"""Validate dpc's BigQuery artifacts with ZetaSQL, independently of dpc.

    validate_bigquery.py [-v] DIR [DIR...]

Each DIR is a `dpc build` output directory holding `manifest.json` and
`bigquery/<dataset>/**/*.sql`. Every physical table of the manifest (the
outputs of BigQuery products, their inputs of a kind other than
`product` and the tables behind those, `stored`) is registered in a ZetaSQL catalog with its declared columns,
reachable as `proj`.`ds`.`table` (each part quoted) and as `proj.ds.table`
(one quoted path). Then every statement of every .sql file under
DIR/bigquery/ (sorted) is analysed in turn, the way BigQuery would run the
file as a script. A table created by a statement of a file (a temp or
staging table not in the manifest) is visible to the later statements of
that file.

Output: `FAIL <file>: statement <i>: <error> [at line:col]` for each
rejection, `-v` adds an `ok` line per file; last, `N passed, M failed` (files;
a bad manifest counts as a failed file). Exit 0 if nothing failed, 1 if
something did, 2 if the validator itself cannot be trusted (its self-test
failed) or cannot run (missing manifest, zetasql not installed).

Analyzer settings: ZetaSQL's maximum released language features, BigQuery's
product mode (PRODUCT_EXTERNAL), every statement kind, plus a few features
BigQuery has that ZetaSQL's maximum set leaves out (see EXTRA_FEATURES).
Run it through scripts/validate-bigquery.sh, which sets up the venv.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

# BigQuery supports these; ZetaSQL 0.1.5's maximum feature set does not enable
# them, so without them valid BigQuery DDL is rejected ("CREATE VIEW with column
# options not supported", "CREATE TABLE CLONE is not supported", ...).
EXTRA_FEATURES = (
    "FEATURE_CREATE_VIEWS_WITH_COLUMN_OPTIONS",              # CREATE VIEW v (c OPTIONS(...)) AS
    "FEATURE_CREATE_TABLE_CLONE",                            # CREATE TABLE ... CLONE
    "FEATURE_CLONE_DATA",
    "FEATURE_COLLATION_SUPPORT",                             # COLLATE, DEFAULT COLLATE
    "FEATURE_CREATE_EXTERNAL_TABLE_WITH_PARTITION_COLUMNS",  # ... WITH PARTITION COLUMNS
    "FEATURE_ALTER_COLUMN_SET_DATA_TYPE",                    # ALTER TABLE ... ALTER COLUMN ... SET DATA TYPE
)

EXIT_OK, EXIT_FAIL, EXIT_BROKEN = 0, 1, 2


def broken(msg: str) -> "NoReturn":  # noqa: F821
    print(f"validate-bigquery: error: {msg}", file=sys.stderr)
    sys.exit(EXIT_BROKEN)


# ------------------------------------------------------------------ lexing
def only_comments(text: str) -> bool:
    """True if `text` holds nothing but whitespace and comments (--, #, /* */)."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("--", i) or c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                return False  # unterminated comment: let ZetaSQL say so
            i = j + 2
        else:
            return False
    return True


def split_physical(physical: str) -> list[str] | None:
    """`proj.ds.table` -> [proj, ds, table]. A domain-scoped project
    (`example.com:proj`) keeps its dot. None if it is not three parts."""
    parts = physical.split(".")
    if len(parts) < 3 or any(p == "" for p in parts):
        return None
    return [".".join(parts[:-2]), parts[-2], parts[-1]]


def quote_ident(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


# ------------------------------------------------------------------ ZetaSQL
class Zeta:
    """ZetaSQL analyzer (WASM) configured as BigQuery. One per process."""

    def __init__(self):
        here = os.path.dirname(os.path.abspath(__file__))
        if here not in sys.path:
            sys.path.insert(0, here)
        try:
            import zqcache  # the compiled-module cache; must come before zetasql
            from zetasql.core.exceptions import ServerError
            from zetasql.core.local_service import ZetaSqlLocalService
            from zetasql.types import (ParseResumeLocation, SimpleCatalog, SimpleColumn, SimpleTable, ZetaSQLBuiltinFunctionOptions)
        except ImportError as e:
            broken(f"cannot import zetasql ({e}); run scripts/setup-validators.sh and use its venv's python")
        self.ServerError = ServerError
        self.SimpleCatalog, self.SimpleTable, self.SimpleColumn = SimpleCatalog, SimpleTable, SimpleColumn
        self.ParseResumeLocation = ParseResumeLocation
        self.svc = ZetaSqlLocalService.get_instance()

        lang = zqcache.bigquery_language(EXTRA_FEATURES)
        self.lang = lang
        self.opts = zqcache.analyzer_options(lang)
        self.builtins = ZetaSQLBuiltinFunctionOptions(language_options=lang)
        self._bare = self.svc.register_catalog(
            simple_catalog=SimpleCatalog(name="builtins", builtin_function_options=self.builtins)).registered_id
        self._type_cache: dict[str, object] = {}
        self.notes: list[str] = []

    @staticmethod
    def clean(err) -> str:
        s = str(err).strip()
        return re.sub(r"^\[[A-Z_]+\]\s*", "", s)

    # ---- types
    def bq_type(self, s: str):
        """BigQuery DDL type -> ZetaSQL Type, through CAST(NULL AS <type>).
        Type parameters (NUMERIC(12, 2), STRING(10)) are checked for range and
        dropped: a catalog column has the unparameterized type."""
        if s not in self._type_cache:
            if not isinstance(s, str) or not s.strip() or ";" in s:
                raise ValueError(f"not a type: {s!r}")
            try:
                r = self.svc.analyze(sql_expression=f"CAST(NULL AS {s})", options=self.opts,
                                     registered_catalog_id=self._bare)
            except self.ServerError as e:
                raise ValueError(f"bad type {s!r}: {self.clean(e)}") from None
            self._type_cache[s] = r.resolved_expression.type
        return self._type_cache[s]

    # ---- catalogs
    def register(self, tables: dict[tuple[str, ...], list[tuple[str, object]]]) -> int:
        """Register tables keyed by name path (1 to 3 parts) with (column, Type)
        lists. A 3-part path is reachable nested (`p`.`d`.`t`) and as one
        identifier (`p.d.t`); a 1-part name (a script's temp table) as itself."""
        S = self.SimpleCatalog
        root = S(name="root", builtin_function_options=self.builtins)

        def sub(cat, name):
            for c in cat.catalog:
                if c.name == name:
                    return c
            c = S(name=name)
            cat.catalog.append(c)
            return c

        def mk(name, cols):
            return self.SimpleTable(name=name, column=[
                self.SimpleColumn(name=c, type=t, is_writable_column=True) for c, t in cols])

        for path, cols in tables.items():
            if len(path) > 1:
                root.table.append(mk(".".join(path), cols))
                cat = root
                for p in path[:-1]:
                    cat = sub(cat, p)
                cat.table.append(mk(path[-1], cols))
            else:
                root.table.append(mk(path[0], cols))
        return self.svc.register_catalog(simple_catalog=root).registered_id

    def unregister(self, cid: int) -> None:
        try:
            self.svc.unregister_catalog(registered_id=cid)
        except Exception:  # noqa: BLE001
            pass

    # ---- scripts
    def created_table(self, st):
        """(name_path, [(col, Type)]) of a CREATE TABLE/VIEW statement, else None."""
        name = type(st).__name__
        if not name.startswith("ResolvedCreate") or not getattr(st, "name_path", None):
            return None
        if getattr(st, "column_definition_list", None):
            cols = [(c.name, c.type) for c in st.column_definition_list]
        elif getattr(st, "output_column_list", None):
            cols = [(c.name, c.column.type) for c in st.output_column_list]
        else:
            return None
        return tuple(st.name_path), cols

    def analyze_script(self, sql: str, tables: dict, cid: int):
        """Analyse every statement of `sql` in turn. Returns (results, complete):
        results is a list of (ok, statement kind or error); complete is False if
        a syntax error stopped the walk before the end of the file."""
        data = sql.encode("utf-8")
        loc = self.ParseResumeLocation(input=sql, byte_position=0, allow_resume=True)
        results: list[tuple[bool, str]] = []
        self.notes = []           # warnings about the script (not failures)
        local: dict = {}          # tables created by this script, not in the manifest
        local_cid = None
        try:
            while loc.byte_position < len(data) and not only_comments(
                    data[loc.byte_position:].decode("utf-8", "replace")):
                start = loc.byte_position
                try:
                    r = self.svc.analyze(parse_resume_location=loc, options=self.opts,
                                         registered_catalog_id=local_cid or cid)
                except self.ServerError as e:
                    results.append((False, self.clean(e)))
                    # Skip to the next statement if this one at least parses.
                    try:
                        p = self.svc.parse(parse_resume_location=self.ParseResumeLocation(
                            input=sql, byte_position=start, allow_resume=True), options=self.lang)
                    except self.ServerError:
                        return results, False
                    nxt = p.resume_byte_position
                    if nxt is None or nxt <= start:
                        return results, False
                    loc.byte_position = nxt
                    continue
                st = r.resolved_statement
                results.append((True, type(st).__name__.removeprefix("Resolved")))
                made = self.created_table(st)
                if made and not self._known(made[0], tables) and not self._known(made[0], local):
                    if len(made[0]) > 1 and getattr(st, "create_scope", None) != 3:  # 3: CREATE_TEMP
                        self.notes.append(f"statement {len(results)} creates {'.'.join(made[0])}, "
                                          f"which is not a table of manifest.json")
                    local[made[0]] = made[1]
                    if local_cid is not None:
                        self.unregister(local_cid)
                    local_cid = self.register({**tables, **local})
                nxt = r.resume_byte_position
                if nxt is None or nxt <= start:
                    return results, False  # never skip the rest of a file silently
                loc.byte_position = nxt
        finally:
            if local_cid is not None:
                self.unregister(local_cid)
        return results, True

    @staticmethod
    def _known(path: tuple, tables: dict) -> bool:
        want = ".".join(path).lower()
        return any(".".join(k).lower() == want for k in tables)


# ------------------------------------------------------------------ manifest
def load_tables(z: Zeta, manifest: dict) -> tuple[dict, list[str], int]:
    """Physical tables of BigQuery products -> {(p, d, t): [(col, Type)]}.
    Returns (tables, errors, number of BigQuery products)."""
    tables: dict[tuple[str, ...], list[tuple[str, object]]] = {}
    declared: dict[tuple[str, ...], dict[str, str]] = {}
    errors: list[str] = []
    n_bq = 0
    products = manifest.get("products") if isinstance(manifest, dict) else None
    if not isinstance(products, list):
        return {}, ["no `products` list"], 0
    for prod in products:
        if not isinstance(prod, dict):
            errors.append("a product is not an object")
            continue
        pid = prod.get("id") or f"{prod.get('domain')}.{prod.get('name')}"
        if prod.get("target", "bigquery") != "bigquery":
            continue
        n_bq += 1
        ports = [("output", o) for o in prod.get("outputs") or []]
        # A product input reads an upstream output port, registered from
        # that port's own entry; only the team's own inputs add tables.
        ports += [("input", i) for i in prod.get("inputs") or []
                  if not isinstance(i, dict) or i.get("kind") != "product"]
        # The tables behind an own input's view (delivery, snapshots, raw files, events).
        ports += [("stored table", t) for i in prod.get("inputs") or [] if isinstance(i, dict)
                  for t in i.get("stored") or []]
        for what, port in ports:
            if not isinstance(port, dict):
                errors.append(f"product {pid}: an {what} is not an object")
                continue
            where = f"product {pid} {what} {port.get('name')!r}"
            phys = port.get("physical")
            if not isinstance(phys, str):
                errors.append(f"{where}: no `physical` name")
                continue
            parts = split_physical(phys)
            if parts is None:
                errors.append(f"{where}: physical name {phys!r} is not project.dataset.table")
                continue
            cols = port.get("columns")
            if not isinstance(cols, list) or not cols:
                errors.append(f"{where} ({phys}): no columns")
                continue
            key = tuple(parts)
            have = declared.setdefault(key, {})
            out = tables.setdefault(key, [])
            seen_here: set[str] = set()
            for c in cols:
                name, typ = (c.get("name"), c.get("type")) if isinstance(c, dict) else (None, None)
                if not isinstance(name, str) or not name:
                    errors.append(f"{where} ({phys}): a column has no name")
                    continue
                low = name.lower()
                if low in seen_here:
                    errors.append(f"{where} ({phys}): duplicate column {name!r}")
                    continue
                seen_here.add(low)
                try:
                    t = z.bq_type(typ)
                except ValueError as e:
                    errors.append(f"{where} ({phys}) column {name!r}: {e}")
                    continue
                if low in have:
                    # The same table declared twice (e.g. one export read by two
                    # products): the declarations must agree.
                    if re.sub(r"\s+", "", have[low]).upper() != re.sub(r"\s+", "", typ).upper():
                        errors.append(f"{where} ({phys}) column {name!r}: type {typ} disagrees with "
                                      f"{have[low]} declared elsewhere for the same table")
                    continue
                have[low] = typ
                out.append((name, t))
    return {k: v for k, v in tables.items() if v}, errors, n_bq


# ------------------------------------------------------------------ self-test
def self_test(z: Zeta, tables: dict | None = None) -> list[str]:
    """The validator must be able to say yes and no. Returns problems."""
    problems = []
    if tables is None:
        tables = {("dpc-selftest", "ds", "t_v1"): [("id", z.bq_type("STRING")),
                                                   ("amt", z.bq_type("NUMERIC(12, 2)"))]}
        label = "built-in catalog"
    else:
        label = "manifest catalog"
    path, cols = sorted(tables.items())[0]
    nested = ".".join(quote_ident(p) for p in path)
    single = quote_ident(".".join(path))
    col = quote_ident(cols[0][0])
    missing = ".".join(quote_ident(p) for p in path[:-1] + (path[-1] + "_no_such_table_dpc_selftest",))
    cid = z.register(tables)
    try:
        good = [f"SELECT COUNT(*) AS n FROM {nested} WHERE {col} IS NULL",
                f"BEGIN TRANSACTION;\nDELETE FROM {single} WHERE TRUE;\nSELECT {col} FROM {nested};\n"
                f"COMMIT TRANSACTION;\n-- end\n"]
        bad = [(f"SELECT no_such_column_dpc_selftest FROM {nested}", "Unrecognized name"),
               (f"SELECT 1;\nSELECT COUNT(*) FROM {single} WHERE no_such_column_dpc_selftest IS NULL;",
                "Unrecognized name"),
               (f"SELECT 1 FROM {missing}", "not found")]
        for sql in good:
            res, complete = z.analyze_script(sql, tables, cid)
            if not complete or not res or not all(ok for ok, _ in res):
                problems.append(f"{label}: a valid statement was rejected: {sql!r} -> {res}")
        for sql, why in bad:
            res, _ = z.analyze_script(sql, tables, cid)
            errs = [m for ok, m in res if not ok]
            if not errs:
                problems.append(f"{label}: an invalid statement was accepted: {sql!r} -> {res}")
            elif why.lower() not in errs[0].lower():
                problems.append(f"{label}: {sql!r} was rejected for an unexpected reason: {errs[0]}")
    finally:
        z.unregister(cid)
    return problems


# ------------------------------------------------------------------ main
def sql_files(root: str) -> list[str]:
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        out += [os.path.join(d, f) for f in files if f.endswith(".sql")]
    return sorted(out)


def validate_dir(z: Zeta, d: str, verbose: bool) -> tuple[int, int, int, int]:
    """Returns (files passed, files failed, .sql files analysed, statements analysed)."""
    mpath = os.path.join(d, "manifest.json")
    try:
        with open(mpath, encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as e:
        broken(f"{mpath}: {e.strerror}")
    except ValueError as e:
        print(f"FAIL {mpath}: not JSON: {e}")
        return 0, 1, 0, 0
    passed = failed = n_files = n_stmts = 0
    tables, errors, n_bq = load_tables(z, manifest)
    for e in errors:
        print(f"FAIL {mpath}: {e}")
    failed += bool(errors)

    files = sql_files(os.path.join(d, "bigquery"))
    if n_bq and not files:
        print(f"FAIL {d}: the manifest has {n_bq} BigQuery product(s) but there is no .sql file "
              f"under {os.path.join(d, 'bigquery')}")
        failed += 1
    if not files:
        return passed, failed, n_files, n_stmts
    if tables:
        problems = self_test(z, tables)
        if problems:
            for p in problems:
                print(f"validate-bigquery: self-test failed on {mpath}: {p}", file=sys.stderr)
            sys.exit(EXIT_BROKEN)
    cid = z.register(tables)
    try:
        for path in files:
            try:
                with open(path, encoding="utf-8") as f:
                    sql = f.read()
            except UnicodeDecodeError as e:
                print(f"FAIL {path}: not UTF-8: {e}")
                failed += 1
                continue
            if only_comments(sql):
                if verbose:
                    print(f"ok   {path}: no statements")
                passed += 1
                continue
            res, complete = z.analyze_script(sql, tables, cid)
            n_files += 1
            n_stmts += len(res)
            for note in z.notes:
                print(f"WARN {path}: {note}")
            bad = [(i, m) for i, (ok, m) in enumerate(res, 1) if not ok]
            for i, m in bad:
                print(f"FAIL {path}: statement {i}: {m}")
            if not complete:
                print(f"FAIL {path}: the rest of the file after statement {len(res)} was not checked "
                      f"(ZetaSQL cannot tell where that statement ends)")
            if bad or not complete:
                failed += 1
            else:
                passed += 1
                if verbose:
                    print(f"ok   {path}: {len(res)} statement(s): {', '.join(m for _, m in res)}")
    finally:
        z.unregister(cid)
    return passed, failed, n_files, n_stmts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="validate_bigquery.py",
        description="Analyse dpc's BigQuery artifacts with ZetaSQL against the manifest's tables.")
    ap.add_argument("dirs", nargs="+", metavar="DIR", help="a `dpc build` output directory (has manifest.json)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also print a line per file that passes")
    args = ap.parse_args(argv)
    for d in args.dirs:
        if not os.path.isfile(os.path.join(d, "manifest.json")):
            broken(f"{d}: no manifest.json (is it a `dpc build` output directory?)")

    z = Zeta()
    problems = self_test(z)
    if problems:
        for p in problems:
            print(f"validate-bigquery: self-test failed: {p}", file=sys.stderr)
        print("validate-bigquery: the validator cannot be trusted; nothing was validated", file=sys.stderr)
        return EXIT_BROKEN

    passed = failed = files = stmts = 0
    for d in args.dirs:
        p, f, n, s = validate_dir(z, d, args.verbose)
        passed, failed, files, stmts = passed + p, failed + f, files + n, stmts + s
    print(f"validate-bigquery: ZetaSQL analysed {stmts} statement(s) in {files} .sql file(s) "
          f"of {len(args.dirs)} build dir(s)")
    print(f"{passed} passed, {failed} failed")
    return EXIT_FAIL if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
