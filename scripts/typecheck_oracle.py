#!/usr/bin/env python3
"""Fill in and verify the BigQuery type-checking corpus with ZetaSQL.

    typecheck_oracle.py [--check] [-v] [--only NAME[,NAME...]] [CASES]

CASES (default golden-tests/typecheck/bigquery/cases.json) holds `tables`
(the schemas the queries read), `valid` queries (BigQuery accepts them) with
their output `columns`, and `invalid` queries (BigQuery rejects them) with
the dpc diagnostic `code` each should produce and ZetaSQL's error message
(`zetasql`). Every table is registered in one ZetaSQL catalog under its name;
every query is analysed against it.

Without --check the file is rewritten: the `columns` of every valid case and
the `zetasql` message of every invalid case are taken from ZetaSQL (never
write them by hand). With --check nothing is written, and any difference
between the file and what ZetaSQL says is a failure (CI runs this).

A case fails if ZetaSQL rejects a valid query or accepts an invalid one,
if an output column has no name or a duplicate name, if the case is
malformed (name not kebab-case or not unique, code not DPCnnnn, unknown
keys), or, with --check, if its stored columns or message differ.

Output: a `FAIL <case>: ...` line per failure (`-v`: an `ok` line per case),
then `N passed, M failed` (cases). Exit 0 if nothing failed, 1 otherwise,
2 if ZetaSQL cannot run.

Analyzer settings (as scripts/check_catalog.py): ZetaSQL's maximum language
features, BigQuery's product mode (PRODUCT_EXTERNAL), every statement kind,
plus EXTRA_FEATURES. Run it with the validator venv:

    bash scripts/setup-validators.sh -q
    /tmp/dpc-validator-venv/bin/python scripts/typecheck_oracle.py --check
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CASES = os.path.join(ROOT, "golden-tests", "typecheck", "bigquery", "cases.json")

# BigQuery has it; ZetaSQL's maximum feature set leaves it out (as check_catalog.py).
EXTRA_FEATURES = ("FEATURE_COLLATION_SUPPORT",)

TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
CASE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CODE = re.compile(r"DPC\d{4}")
VALID_KEYS = ["name", "sql", "columns"]
INVALID_KEYS = ["name", "sql", "code", "zetasql"]
TABLE_COLUMN_KEYS = {"name", "type", "required"}


class Zeta:
    """ZetaSQL with BigQuery's settings and one catalog holding `tables`."""

    def __init__(self):
        sys.path.insert(0, HERE)
        import zqcache  # the compiled-module cache; must come before zetasql
        from zetasql.core.exceptions import ServerError
        from zetasql.core.local_service import ZetaSqlLocalService
        from zetasql.types import (SimpleCatalog, SimpleColumn, SimpleTable, TypeKind, ZetaSQLBuiltinFunctionOptions)
        self.ServerError, self.TypeKind = ServerError, TypeKind
        self.SimpleCatalog, self.SimpleTable, self.SimpleColumn = SimpleCatalog, SimpleTable, SimpleColumn
        self.svc = ZetaSqlLocalService.get_instance()
        lang = zqcache.bigquery_language(EXTRA_FEATURES)
        self.opts = zqcache.analyzer_options(lang)
        self.builtins = ZetaSQLBuiltinFunctionOptions(language_options=lang)
        empty = SimpleCatalog(name="types", builtin_function_options=self.builtins)
        self._types_cid = self.svc.register_catalog(simple_catalog=empty).registered_id
        self.cid = None

    def bq_type(self, s: str):
        """BigQuery type string -> ZetaSQL Type proto (via CAST(NULL AS ...))."""
        r = self.svc.analyze(sql_statement=f"SELECT CAST(NULL AS {s}) AS x", options=self.opts,
                             registered_catalog_id=self._types_cid)
        return r.resolved_statement.output_column_list[0].column.type

    def type_str(self, t) -> str:
        k = self.TypeKind(t.type_kind).name[5:]
        k = "FLOAT64" if k == "DOUBLE" else k
        if k == "ARRAY":
            return f"ARRAY<{self.type_str(t.array_type.element_type)}>"
        if k == "RANGE":
            return f"RANGE<{self.type_str(t.range_type.element_type)}>"
        if k == "STRUCT":
            return "STRUCT<" + ", ".join(
                (f"{f.field_name} " if f.field_name else "") + self.type_str(f.field_type)
                for f in t.struct_type.field) + ">"
        return k

    def register(self, tables: dict[str, list[dict]]) -> None:
        root = self.SimpleCatalog(name="root", builtin_function_options=self.builtins)
        for name, cols in tables.items():
            root.table.append(self.SimpleTable(name=name, column=[
                self.SimpleColumn(name=c["name"], type=self.bq_type(c["type"]), is_writable_column=True)
                for c in cols]))
        self.cid = self.svc.register_catalog(simple_catalog=root).registered_id

    def analyze(self, sql: str):
        """(True, [(name, type)]) or (False, error message)."""
        try:
            r = self.svc.analyze(sql_statement=sql, options=self.opts, registered_catalog_id=self.cid)
        except self.ServerError as e:
            # The whole message: `message` is only its first line (a signature
            # mismatch lists the argument types and signatures below it).
            raw = getattr(e, "raw_error", None) or getattr(e, "message", None) or str(e)
            return False, re.sub(r"^Code: \d+, Message: |^\[[A-Z_]+\] ", "", raw).strip()
        st = r.resolved_statement
        if not getattr(st, "output_column_list", None):
            return False, f"not a query ({type(st).__name__})"
        return True, [(c.name, self.type_str(c.column.type)) for c in st.output_column_list]


def check_tables(tables) -> list[str]:
    errs = []
    if not isinstance(tables, dict) or not tables:
        return ["`tables` must be a non-empty object"]
    for name, cols in tables.items():
        if not TABLE_NAME.fullmatch(name) or "__" in name:
            errs.append(f"table name {name!r} is not [a-z][a-z0-9_]* without __")
        if not isinstance(cols, list) or not cols:
            errs.append(f"table {name}: columns must be a non-empty list")
            continue
        seen = set()
        for c in cols:
            if not isinstance(c, dict) or set(c) - TABLE_COLUMN_KEYS or not {"name", "type"} <= set(c):
                errs.append(f"table {name}: bad column {c!r} (keys: name, type, required)")
                continue
            if c["name"].lower() in seen:
                errs.append(f"table {name}: duplicate column {c['name']}")
            seen.add(c["name"].lower())
            if not isinstance(c.get("required", False), bool):
                errs.append(f"table {name}.{c['name']}: required must be true or false")
    return errs


def check_case(case, keys: list[str], names: set[str]) -> list[str]:
    if not isinstance(case, dict):
        return [f"not an object: {case!r}"]
    errs = []
    extra = set(case) - set(keys)
    if extra:
        errs.append(f"unknown keys {sorted(extra)}")
    name = case.get("name")
    if not isinstance(name, str) or not CASE_NAME.fullmatch(name):
        errs.append(f"name {name!r} is not kebab-case")
    elif name in names:
        errs.append("duplicate case name")
    names.add(name)
    if not isinstance(case.get("sql"), str) or not case["sql"].strip():
        errs.append("no sql")
    if "code" in keys and not (isinstance(case.get("code"), str) and CODE.fullmatch(case["code"])):
        errs.append(f"code {case.get('code')!r} is not DPCnnnn")
    return errs


def ordered(case: dict, keys: list[str]) -> dict:
    return {k: case[k] for k in keys if k in case}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="?", default=CASES)
    ap.add_argument("--check", action="store_true", help="verify only; exit 1 on any difference")
    ap.add_argument("-v", "--verbose", action="store_true", help="print an ok line per case")
    ap.add_argument("--only", help="comma-separated case names")
    a = ap.parse_args()

    with open(a.cases, encoding="utf-8") as fh:
        text = fh.read()
    doc = json.loads(text)
    if not isinstance(doc, dict) or list(doc) != ["tables", "valid", "invalid"]:
        print(f"FAIL {a.cases}: top-level keys must be tables, valid, invalid (in that order)")
        print("0 passed, 1 failed")
        return 1
    only = {n.strip() for n in a.only.split(",")} if a.only else None

    try:
        z = Zeta()
    except ImportError as e:
        print(f"typecheck_oracle: error: zetasql is not installed ({e}); run scripts/setup-validators.sh",
              file=sys.stderr)
        return 2
    passed = failed = 0
    terrs = check_tables(doc["tables"])
    for e in terrs:
        print(f"FAIL tables: {e}")
    failed += len(terrs)
    if terrs:
        print(f"{passed} passed, {failed} failed")
        return 1
    z.register(doc["tables"])

    names: set[str] = set()
    new_valid, new_invalid = [], []
    for kind, cases, out, keys in (("valid", doc["valid"], new_valid, VALID_KEYS),
                                   ("invalid", doc["invalid"], new_invalid, INVALID_KEYS)):
        for case in cases:
            errs = check_case(case, keys, names)
            new = dict(case) if isinstance(case, dict) else case
            label = case.get("name") if isinstance(case, dict) else "?"
            if only and label not in only:
                out.append(case)
                continue
            if not errs:
                ok, res = z.analyze(case["sql"])
                if kind == "valid":
                    if not ok:
                        errs.append(f"ZetaSQL rejects this valid query: {res}")
                    else:
                        cols = [{"name": n, "type": t} for n, t in res]
                        seen = set()
                        for n, _ in res:
                            if not n or n.startswith("$"):
                                errs.append(f"an output column has no name ({n or 'empty'}): alias it")
                            elif n.lower() in seen:
                                errs.append(f"duplicate output column {n}")
                            seen.add(n.lower())
                        if a.check and case.get("columns") != cols:
                            errs.append(f"columns differ: file {json.dumps(case.get('columns'))}, "
                                        f"ZetaSQL {json.dumps(cols)}")
                        new["columns"] = cols
                else:
                    if ok:
                        errs.append("ZetaSQL accepts this invalid query: " + ", ".join(f"{n} {t}" for n, t in res))
                    else:
                        if a.check and case.get("zetasql") != res:
                            errs.append(f"zetasql message differs: file {case.get('zetasql')!r}, ZetaSQL {res!r}")
                        new["zetasql"] = res
            out.append(ordered(new, keys) if isinstance(new, dict) else new)
            if errs:
                failed += 1
                for e in errs:
                    print(f"FAIL {kind} {label}: {e}")
            else:
                passed += 1
                if a.verbose:
                    print(f"ok {kind} {label}")

    result = {"tables": doc["tables"], "valid": new_valid, "invalid": new_invalid}
    new_text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    if a.check:
        if new_text != text and not failed:
            print(f"FAIL {os.path.relpath(a.cases)}: not in canonical form (2-space indent, key order); "
                  f"run scripts/typecheck_oracle.py without --check")
            failed += 1
    elif new_text != text:
        with open(a.cases, "w", encoding="utf-8") as fh:
            fh.write(new_text)
        print(f"wrote {os.path.relpath(a.cases)}")
    print(f"{len(new_valid)} valid, {len(new_invalid)} invalid cases")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
