#!/usr/bin/env python3
"""Check stdlib/bigquery/functions.toml against ZetaSQL (BigQuery's analyzer).

    check_catalog.py [-v] [--only NAME[,NAME...]] [CATALOG]
    check_catalog.py --write-missing      # regenerate stdlib/bigquery/MISSING.md
    check_catalog.py --check-missing      # exit 1 if MISSING.md is not current

Run with the conformance venv, e.g.

    ZETASQL_CWASM=/tmp/dpc-conformance-venv/zetasql.cwasm \\
        /tmp/dpc-conformance-venv/bin/python scripts/check_catalog.py

What is checked:

1. Form: every `[[functions]]` table follows stdlib/bigquery/README.md (keys,
   kind, nulls, type syntax, suffixes only on trailing parameters, upper-case
   unique names, order by category then name).
2. Every signature is turned into calls with typed arguments:
   `CAST(NULL AS <type>)` (a literal of the type where ZetaSQL wants a
   constant or non-NULL value), a date part keyword for DATEPART, an INTERVAL
   literal for INTERVAL; type variables (and ANY) are tried with INT64,
   STRING and further types until one fits; optional parameters are tested
   absent and present, repeated ones 0-2 (`*`) or 1-2 (`+`) times. Each call
   is analysed as `SELECT <call> AS x` (aggregates `FROM UNNEST([1])`,
   analytic functions with `OVER ()` or `OVER (ORDER BY c)`), and ZetaSQL's
   result type is compared with what dpc would infer from the catalog: the
   first signature of the function every argument can be coerced to (exact
   type, or INT64 -> NUMERIC -> BIGNUMERIC -> FLOAT64 widening), with the
   variables substituted. So a signature shadowed by an earlier one fails.
3. Widening: calls with narrower numeric arguments than a signature declares
   (INT64 for a NUMERIC parameter, ...) and, for a variable used twice, mixed
   numeric arguments, must get the same result type from ZetaSQL as from the
   catalog. (If ZetaSQL rejects such a call, that is a coercion rule dpc does
   not model: reported as a warning, not a failure.)
4. Kind: scalar/aggregate/analytic agrees with ZetaSQL's function mode.

Output: `FAIL <function> ...` lines, warnings with -v, then the number of
functions and signatures, and `N passed, M failed` (signatures; a form error
counts as a failed signature). Exit 1 if anything failed.

MISSING.md lists the ZetaSQL builtin functions (PRODUCT_EXTERNAL mode, same
language options as the checks) that the catalog does not have.
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CATALOG = os.path.join(ROOT, "stdlib", "bigquery", "functions.toml")
MISSING = os.path.join(ROOT, "stdlib", "bigquery", "MISSING.md")
MISSING_CMD = ("ZETASQL_CWASM=/tmp/dpc-conformance-venv/zetasql.cwasm "
               "/tmp/dpc-conformance-venv/bin/python scripts/check_catalog.py --write-missing")

# BigQuery features ZetaSQL's maximum set leaves out (COLLATE needs the first).
EXTRA_FEATURES = ("FEATURE_COLLATION_SUPPORT",)

# BigQuery functions (called like functions) that ZetaSQL 0.1.5 does not know, so
# the catalog cannot have them (a signature ZetaSQL rejects fails the check).
# Listed in MISSING.md for the record. Table-valued functions (GAP_FILL,
# RANGE_SESSIONIZE, APPENDS, CHANGES, EXTERNAL_QUERY, VECTOR_SEARCH, ML.*) are
# not scalar/aggregate/analytic functions and are not listed.
NOT_IN_ZETASQL = {
    "CONTAINS_SUBSTR": "string; searches any value, also a whole row",
    "MAX_BY": "aggregate; synonym for ANY_VALUE(x HAVING MAX y)",
    "MIN_BY": "aggregate; synonym for ANY_VALUE(x HAVING MIN y)",
    "SEARCH": "search; search-index lookup with options",
    "ST_REGIONSTATS": "geography; raster statistics",
    "BAG_OF_WORDS": "text analysis",
    "TEXT_ANALYZE": "text analysis",
    "TF_IDF": "text analysis",
    "DLP_DETERMINISTIC_ENCRYPT": "DLP encryption",
    "DLP_DETERMINISTIC_DECRYPT": "DLP encryption",
    "DLP_KEY_CHAIN": "DLP encryption",
    "OBJ.FETCH_METADATA": "ObjectRef",
    "OBJ.GET_ACCESS_URL": "ObjectRef",
    "OBJ.MAKE_REF": "ObjectRef",
}

# BigQuery functions ZetaSQL has but the catalog format cannot express (noted in MISSING.md).
INEXPRESSIBLE = {
    "JSON_OBJECT": "BigQuery; alternating key/value arguments",
    "JSON_SET": "BigQuery; repeated (path, value) pairs, named create_if_missing",
    "JSON_ARRAY_APPEND": "BigQuery; repeated (path, value) pairs, named append_each_element",
    "JSON_ARRAY_INSERT": "BigQuery; repeated (path, value) pairs, named insert_each_element",
}

KINDS = {"scalar", "aggregate", "analytic"}
NULLS = {"args", "never", "maybe"}
BASE = {"INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64", "BOOL", "STRING", "BYTES", "DATE",
        "DATETIME", "TIME", "TIMESTAMP", "INTERVAL", "JSON", "GEOGRAPHY"}
VARS = {"T", "U"}
WIDEN = ["INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64"]  # each coerces to the later ones

# Types tried for a type variable (and for ANY), in order.
VAR_CANDIDATES = ["INT64", "STRING", "DATE", "TIMESTAMP", "DATETIME", "FLOAT64", "NUMERIC",
                  "BOOL", "BYTES", "TIME", "GEOGRAPHY", "JSON", "ARRAY<INT64>", "STRUCT<a INT64>"]
ENOUGH_VAR_PASSES = 2           # stop trying types for a variable after this many fit
DATEPARTS = ["DAY", "HOUR", "MONTH", "YEAR", "WEEK(MONDAY)"]
LITERALS = {
    "INT64": "2", "FLOAT64": "0.5", "NUMERIC": "NUMERIC '0.5'", "BIGNUMERIC": "BIGNUMERIC '0.5'",
    "BOOL": "TRUE", "STRING": "'$'", "BYTES": "b'a'", "DATE": "DATE '2020-01-01'",
    "DATETIME": "DATETIME '2020-01-01 00:00:00'", "TIME": "TIME '00:00:00'",
    "TIMESTAMP": "TIMESTAMP '2020-01-01 00:00:00+00'", "JSON": "JSON '{}'",
    "GEOGRAPHY": "ST_GEOGPOINT(0, 0)", "INTERVAL": "INTERVAL 1 DAY",
}
# Argument values some functions need (an enum given as a string literal, a
# constant in range, ...): {function: {argument index: {type: [SQL, ...]}}},
# tried before the generic ones.
_KEY_TYPE = {"STRING": ["'AEAD_AES_GCM_256'"]}
_PHI = {"FLOAT64": ["0.5"], "INT64": ["1"], "NUMERIC": ["NUMERIC '0.5'"], "BIGNUMERIC": ["BIGNUMERIC '0.5'"]}
HINTS = {
    "ROUND": {2: {"STRING": ["'ROUND_HALF_EVEN'"]}},
    "COLLATE": {1: {"STRING": ["'und:ci'"]}},
    "HLL_COUNT.INIT": {1: {"INT64": ["15"]}},
    "KLL_QUANTILES.INIT_INT64": {1: {"INT64": ["1000"]}},
    "KLL_QUANTILES.INIT_FLOAT64": {1: {"INT64": ["1000"]}},
    "KLL_QUANTILES.EXTRACT_POINT_FLOAT64": {1: _PHI},
    "KLL_QUANTILES.EXTRACT_POINT_INT64": {1: _PHI},
    "KLL_QUANTILES.MERGE_POINT_FLOAT64": {1: _PHI},
    "KLL_QUANTILES.MERGE_POINT_INT64": {1: _PHI},
    "PERCENTILE_CONT": {1: _PHI},
    "PERCENTILE_DISC": {1: _PHI},
    "KEYS.NEW_KEYSET": {0: _KEY_TYPE},
    "KEYS.NEW_WRAPPED_KEYSET": {1: _KEY_TYPE},
    "KEYS.ROTATE_KEYSET": {1: _KEY_TYPE},
    "KEYS.ROTATE_WRAPPED_KEYSET": {2: _KEY_TYPE},
    "KEYS.ADD_KEY_FROM_RAW_BYTES": {1: {"STRING": ["'AES_CBC_PKCS'"]}},
}
MAX_COMBOS = 64


# ------------------------------------------------------------------ types
class TypeSyntaxError(ValueError):
    pass


def parse_type(s: str):
    """'ARRAY<STRUCT<a INT64>>' -> ('ARRAY', ('STRUCT', (('a', ('BASE', 'INT64')),)))."""
    toks = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[<>,]|\S", s)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take(expect=None):
        nonlocal pos
        t = peek()
        if t is None or (expect and t != expect):
            raise TypeSyntaxError(f"{s!r}: expected {expect or 'a type'} at {t!r}")
        pos += 1
        return t

    def ty():
        t = take()
        if t in ("ARRAY", "RANGE"):
            take("<")
            inner = ty()
            take(">")
            return (t, inner)
        if t == "STRUCT":
            take("<")
            fields = []
            while True:
                name = None
                if peek() not in (None, ">", ",", "<") and pos + 1 < len(toks) and toks[pos + 1] not in (",", ">", "<"):
                    name = take()
                fields.append((name, ty()))
                if peek() == ",":
                    take(",")
                    continue
                take(">")
                return ("STRUCT", tuple(fields))
        if t in BASE:
            return ("BASE", t)
        if t in VARS:
            return ("VAR", t)
        if t == "ANY":
            return ("ANY",)
        if t == "DATEPART":
            return ("DATEPART",)
        raise TypeSyntaxError(f"{s!r}: unknown type {t!r}")

    out = ty()
    if pos != len(toks):
        raise TypeSyntaxError(f"{s!r}: trailing {toks[pos:]}")
    return out


def tstr(t) -> str:
    k = t[0]
    if k == "BASE":
        return t[1]
    if k in ("ARRAY", "RANGE"):
        return f"{k}<{tstr(t[1])}>"
    if k == "STRUCT":
        return "STRUCT<" + ", ".join((f"{n} " if n else "") + tstr(ft) for n, ft in t[1]) + ">"
    if k == "VAR":
        return t[1]
    return k


def tvars(t, acc=None):
    acc = set() if acc is None else acc
    if t[0] == "VAR":
        acc.add(t[1])
    elif t[0] in ("ARRAY", "RANGE"):
        tvars(t[1], acc)
    elif t[0] == "STRUCT":
        for _, ft in t[1]:
            tvars(ft, acc)
    return acc


def subst(t, env):
    k = t[0]
    if k == "VAR":
        return env[t[1]]
    if k in ("ARRAY", "RANGE"):
        return (k, subst(t[1], env))
    if k == "STRUCT":
        return ("STRUCT", tuple((n, subst(ft, env)) for n, ft in t[1]))
    return t


def same(a, b) -> bool:
    """Type equality (struct field names ignored, as in coercion)."""
    if a[0] != b[0]:
        return False
    if a[0] == "BASE":
        return a[1] == b[1]
    if a[0] in ("ARRAY", "RANGE"):
        return same(a[1], b[1])
    if a[0] == "STRUCT":
        return len(a[1]) == len(b[1]) and all(same(x[1], y[1]) for x, y in zip(a[1], b[1]))
    return True


def widens(a, p) -> bool:
    """Can an argument of type a be passed to a parameter of concrete type p?"""
    if same(a, p):
        return True
    if a[0] == "BASE" and p[0] == "BASE" and a[1] in WIDEN and p[1] in WIDEN:
        return WIDEN.index(a[1]) < WIDEN.index(p[1])
    return False


def supertype(ts):
    first = ts[0]
    if all(same(first, t) for t in ts):
        return first
    if all(t[0] == "BASE" and t[1] in WIDEN for t in ts):
        return ("BASE", max((t[1] for t in ts), key=WIDEN.index))
    return None


# ------------------------------------------------------------ signatures
class Param:
    def __init__(self, raw: str):
        self.raw = raw
        self.card = raw[-1] if raw[-1:] in "?*+" else ""
        body = raw[:-1] if self.card else raw
        # `=T`: no literal coercion (a literal fits by its own type only).
        self.exact = body.startswith("=")
        self.type = parse_type(body[1:] if self.exact else body)


class Sig:
    def __init__(self, idx, args, returns):
        self.idx = idx
        self.params = [Param(a) for a in args]
        self.returns = parse_type(returns)
        cards = [p.card for p in self.params]
        seen_opt = False
        for i, c in enumerate(cards):
            if c in ("*", "+") and i != len(cards) - 1:
                raise TypeSyntaxError(f"`{c}` only on the last parameter: {args}")
            if c:
                seen_opt = True
            elif seen_opt:
                raise TypeSyntaxError(f"a required parameter after an optional one: {args}")
        unbound = tvars(self.returns) - set().union(*[tvars(p.type) for p in self.params] or [set()])
        if unbound:
            raise TypeSyntaxError(f"return type uses unbound {sorted(unbound)}")

    def text(self):
        return "(" + ", ".join(p.raw for p in self.params) + ") -> " + tstr(self.returns)

    def arities(self):
        """Lists of parameter indexes, one per call shape to test."""
        req = [i for i, p in enumerate(self.params) if not p.card]
        opt = [i for i, p in enumerate(self.params) if p.card == "?"]
        rep = [i for i, p in enumerate(self.params) if p.card in ("*", "+")]
        shapes = [req + opt[:k] for k in range(len(opt) + 1)]
        if rep:
            i = rep[0]
            lo = 1 if self.params[i].card == "+" else 0
            shapes = [s + [i] * n for s in shapes for n in range(lo, 3)]
        return shapes

    def expand(self, n):
        """Parameter types for a call with n arguments, or None."""
        req = sum(1 for p in self.params if not p.card)
        opt = sum(1 for p in self.params if p.card == "?")
        rep = [p for p in self.params if p.card in ("*", "+")]
        if n < req + (1 if rep and rep[0].card == "+" else 0):
            return None
        fixed = [p.type for p in self.params if p.card in ("", "?")]
        if not rep:
            return fixed[:n] if n <= req + opt else None
        if n < req + opt:
            return None  # optional parameters before a repeated one: all or nothing
        return fixed + [rep[0].type] * (n - req - opt)


def resolve(sigs, argtypes):
    """dpc's choice: the first signature all arguments fit. -> (sig, return type) or None."""
    for s in sigs:
        params = s.expand(len(argtypes))
        if params is None:
            continue
        binds: dict[str, list] = {}
        nested: dict[str, list] = {}
        ok = True

        def match(p, a, top):
            if p[0] == "DATEPART" or a[0] == "DATEPART":
                return p[0] == a[0]
            if p[0] == "ANY":
                return True
            if p[0] == "VAR":
                (binds if top else nested).setdefault(p[1], []).append(a)
                return True
            if p[0] in ("ARRAY", "RANGE"):
                return a[0] == p[0] and match(p[1], a[1], False)
            if p[0] == "STRUCT":
                return (a[0] == "STRUCT" and len(a[1]) == len(p[1])
                        and all(match(pf[1], af[1], False) for pf, af in zip(p[1], a[1])))
            return widens(a, p) if top else same(a, p)

        # Arguments here are typed (CAST(NULL AS T)), never literals, so `=T`
        # (no literal coercion) matches as T does.
        for p, a in zip(params, argtypes):
            if not match(p, a, True):
                ok = False
                break
        if not ok:
            continue
        env = {}
        for v in set(binds) | set(nested):
            ts = binds.get(v, []) + nested.get(v, [])
            st = supertype(ts)
            if st is None or any(not same(st, t) for t in nested.get(v, [])):
                ok = False
                break
            env[v] = st
        if ok:
            return s, subst(s.returns, env)
    return None


# --------------------------------------------------------------- ZetaSQL
class Zeta:
    def __init__(self):
        sys.path.insert(0, HERE)
        import zqcache  # the compiled-module cache; must come before zetasql
        from zetasql.core.exceptions import ServerError
        from zetasql.core.local_service import ZetaSqlLocalService
        from zetasql.types import (SimpleCatalog, TypeKind, ZetaSQLBuiltinFunctionOptions)
        self.ServerError, self.TypeKind = ServerError, TypeKind
        self.svc = ZetaSqlLocalService.get_instance()
        lang = zqcache.bigquery_language(EXTRA_FEATURES)
        self.lang = lang
        self.opts = zqcache.analyzer_options(lang)
        root = SimpleCatalog(name="root", builtin_function_options=ZetaSQLBuiltinFunctionOptions(language_options=lang))
        self.cid = self.svc.register_catalog(simple_catalog=root).registered_id
        self.calls = 0
        self._cache: dict[str, tuple] = {}

    def type_str(self, t) -> str:
        k = self.TypeKind(t.type_kind).name[5:]
        k = "FLOAT64" if k == "DOUBLE" else k
        if k == "ARRAY":
            return f"ARRAY<{self.type_str(t.array_type.element_type)}>"
        if k == "RANGE":
            return f"RANGE<{self.type_str(t.range_type.element_type)}>"
        if k == "STRUCT":
            return "STRUCT<" + ", ".join((f"{f.field_name} " if f.field_name else "") + self.type_str(f.field_type)
                                         for f in t.struct_type.field) + ">"
        return k

    def analyze(self, sql: str):
        """(True, type string) or (False, error)."""
        if sql not in self._cache:
            self.calls += 1
            try:
                r = self.svc.analyze(sql_statement=sql, options=self.opts, registered_catalog_id=self.cid)
                self._cache[sql] = (True, self.type_str(r.resolved_statement.output_column_list[0].column.type))
            except self.ServerError as e:
                self._cache[sql] = (False, re.sub(r"^\[INVALID_ARGUMENT\] ", "", str(e)))
        return self._cache[sql]

    def builtins(self):
        """{UPPER NAME: mode} for builtin functions usable in this mode (aliases included)."""
        r = self.svc.get_builtin_functions(language_options=self.lang)
        out = {}
        for f in r.function:
            name = ".".join(f.name_path)
            if name.startswith("$") or (f.options and not f.options.allow_external_usage):
                continue
            mode = f.mode.name
            out[name.upper()] = mode
            if f.options and f.options.alias_name:
                out[f.options.alias_name.upper()] = mode
        return out


# ---------------------------------------------------------------- checks
def normalize(t: str) -> str:
    t = re.sub(r"\s+", " ", t.strip()).upper()
    return re.sub(r"\s*([<>(),])\s*", r"\1", t)


def values(fname, pos, t):
    """Candidate SQL expressions for an argument of concrete type t."""
    s = tstr(t)
    hint = HINTS.get(fname, {}).get(pos, {}).get(s, [])
    if t[0] == "DATEPART":
        return hint + DATEPARTS
    if t == ("BASE", "INTERVAL"):
        return hint + ["CAST(NULL AS INTERVAL)", "INTERVAL 1 DAY", "INTERVAL 1 HOUR"]
    out = hint + [f"CAST(NULL AS {s})"]
    if t[0] == "BASE":
        out.append(LITERALS[t[1]])
    elif t[0] == "ARRAY" and t[1][0] == "BASE":
        out.append(f"[{LITERALS[t[1][1]]}]")
    return out


def queries(fname, kind, args_sql):
    call = f"{fname}({', '.join(args_sql)})"
    if fname == "GROUPING":
        inner = ", ".join(f"{a} AS a{i}" for i, a in enumerate(args_sql))
        return [f"SELECT GROUPING(a0) AS x FROM (SELECT {inner}) GROUP BY ROLLUP(a0)"]
    if kind == "scalar":
        return [f"SELECT {call} AS x"]
    if kind == "aggregate":
        return [f"SELECT {call} AS x FROM UNNEST([1]) AS c"]
    return [f"SELECT {call} OVER () AS x FROM UNNEST([1]) AS c",
            f"SELECT {call} OVER (ORDER BY c) AS x FROM UNNEST([1]) AS c"]


def try_call(z, fname, kind, argtypes):
    """Analyse a call with arguments of the given types. -> (ok, type or error, sql)."""
    cands = [values(fname, i, t) for i, t in enumerate(argtypes)]
    err, sql0 = None, None
    for combo in itertools.islice(itertools.product(*cands), MAX_COMBOS):
        for sql in queries(fname, kind, list(combo)):
            ok, res = z.analyze(sql)
            if ok:
                return True, res, sql
            if err is None:
                err, sql0 = res, sql
    return False, err, sql0


class Result:
    def __init__(self):
        self.fails: list[str] = []
        self.warns: list[str] = []


def check_signature(z, fn, sigs, s, res: Result):
    name, kind = fn["name"], fn["kind"]
    for shape in s.arities():
        ptypes = [s.params[i].type for i in shape]
        # type variables and ANY positions
        vs = sorted(set().union(*[tvars(p) for p in ptypes] or [set()]))
        anys = [i for i, p in enumerate(ptypes) if p[0] == "ANY"]
        slots = vs + [f"#any{i}" for i in anys]
        label = f"{name}{s.text()} with {len(shape)} argument(s)"
        if not slots:
            _one(z, name, kind, sigs, s, ptypes, label, res, required=True)
        else:
            # vary one slot at a time over the candidates, others at the first that fits
            chosen = {v: None for v in slots}
            for v in slots:
                good = 0
                for cand in VAR_CANDIDATES:
                    env = {w: (chosen[w] or ("BASE", "INT64")) for w in slots}
                    env[v] = parse_type(cand)
                    concrete = [env[f"#any{i}"] if p[0] == "ANY" else subst(p, {k: env[k] for k in vs})
                                for i, p in enumerate(ptypes)]
                    r = _one(z, name, kind, sigs, s, concrete, label + f" [{v}={cand}]", res, required=False)
                    if r == "mismatch":
                        good = -1
                        break
                    if r == "ok":
                        good += 1
                        chosen[v] = chosen[v] or parse_type(cand)
                        if good >= ENOUGH_VAR_PASSES:
                            break
                if good == 0:
                    res.fails.append(f"FAIL {label}: ZetaSQL rejects every type tried for {v} "
                                     f"({', '.join(VAR_CANDIDATES)})")
                if good <= 0:
                    break
            # mixed numeric arguments for a variable used more than once at top level
            for v in vs:
                tops = [i for i, p in enumerate(ptypes) if p == ("VAR", v)]
                if len(tops) >= 2:
                    for lo, hi in (("INT64", "FLOAT64"), ("INT64", "NUMERIC"), ("NUMERIC", "FLOAT64")):
                        concrete = []
                        for i, p in enumerate(ptypes):
                            env = {w: (chosen.get(w) or ("BASE", "INT64")) for w in slots}
                            env[v] = ("BASE", lo if i == tops[0] else hi)
                            concrete.append(env[f"#any{i}"] if p[0] == "ANY" else subst(p, {k: env[k] for k in vs}))
                        _one(z, name, kind, sigs, s, concrete, label + f" [{v}: {lo} and {hi}]", res,
                             required=False, widening=True)
        # narrower numeric arguments for NUMERIC/BIGNUMERIC/FLOAT64 parameters
        if not slots:
            num = [i for i, p in enumerate(ptypes) if p[0] == "BASE" and p[1] in WIDEN[1:]]
            variants = []
            for i in num:
                for lo in WIDEN[:WIDEN.index(ptypes[i][1])]:
                    variants.append({i: lo})
            if len(num) > 1:
                for lo in WIDEN[:-1]:
                    v = {i: lo for i in num if WIDEN.index(lo) < WIDEN.index(ptypes[i][1])}
                    if v and v not in variants:
                        variants.append(v)
            for v in variants:
                concrete = [("BASE", v[i]) if i in v else p for i, p in enumerate(ptypes)]
                _one(z, name, kind, sigs, s, concrete,
                     label + " [widened " + ", ".join(f"arg {i + 1}: {t}" for i, t in v.items()) + "]",
                     res, required=False, widening=True)


def _one(z, name, kind, sigs, s, argtypes, label, res: Result, required: bool, widening=False) -> str:
    """One call: "ok" (ZetaSQL agrees with the catalog), "mismatch" or "rejected"."""
    got = resolve(sigs, argtypes)
    ok, zres, sql = try_call(z, name, kind, argtypes)
    if not ok:
        if required:
            res.fails.append(f"FAIL {label}: ZetaSQL rejects `{sql}`: {zres}")
        elif widening:
            res.warns.append(f"warn {label}: dpc would accept, ZetaSQL rejects `{sql}`: {zres}")
        return "rejected"
    if got is None:
        res.fails.append(f"FAIL {label}: no signature of the catalog accepts these arguments, ZetaSQL gives {zres}")
        return "mismatch"
    gsig, gret = got
    if normalize(tstr(gret)) != normalize(zres):
        which = "" if gsig is s else f" (signature #{gsig.idx + 1} {gsig.text()} comes first)"
        res.fails.append(f"FAIL {label}: catalog gives {tstr(gret)}{which}, ZetaSQL gives {zres}: `{sql}`")
        return "mismatch"
    return "ok"


def check_form(data):
    """Structural checks. -> (list of errors, parsed functions [(fn, [Sig])])."""
    errs, out = [], []
    fns = data.get("functions")
    if not isinstance(fns, list) or not fns:
        return ["no [[functions]] tables"], []
    if set(data) != {"functions"}:
        errs.append(f"unexpected top-level keys {sorted(set(data) - {'functions'})}")
    seen, prev = set(), None
    for fn in fns:
        name = fn.get("name", "?")
        extra = set(fn) - {"name", "category", "kind", "nulls", "deidentifying", "signatures"}
        missing = {"name", "category", "kind", "signatures"} - set(fn)
        if extra or missing:
            errs.append(f"{name}: keys: unexpected {sorted(extra)}, missing {sorted(missing)}")
            continue
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*(\.[A-Z][A-Z0-9_]*)?", name):
            errs.append(f"{name}: name must be upper case")
        if name in seen:
            errs.append(f"{name}: duplicate")
        seen.add(name)
        key = (fn["category"], name)
        if prev and key < prev:
            errs.append(f"{name}: out of order (category, then name) after {prev[1]}")
        prev = key
        if not re.fullmatch(r"[a-z][a-z0-9_]*", fn["category"]):
            errs.append(f"{name}: bad category {fn['category']!r}")
        if fn["kind"] not in KINDS:
            errs.append(f"{name}: bad kind {fn['kind']!r}")
        if "nulls" in fn and fn["nulls"] not in NULLS:
            errs.append(f"{name}: bad nulls {fn['nulls']!r}")
        if "deidentifying" in fn and not isinstance(fn["deidentifying"], bool):
            errs.append(f"{name}: deidentifying must be a boolean")
        sigs = []
        for i, sg in enumerate(fn["signatures"]):
            if set(sg) != {"args", "returns"}:
                errs.append(f"{name}: signature {i + 1}: keys must be args and returns")
                continue
            try:
                sigs.append(Sig(i, sg["args"], sg["returns"]))
            except TypeSyntaxError as e:
                errs.append(f"{name}: signature {i + 1}: {e}")
        texts = [s.text() for s in sigs]
        if len(set(texts)) != len(texts):
            errs.append(f"{name}: duplicate signatures")
        out.append((fn, sigs))
    return errs, out


def missing_md(z, names) -> str:
    b = z.builtins()
    miss = sorted(n for n in b if n not in names)
    lines = [
        "# ZetaSQL builtins missing from functions.toml",
        "",
        f"Generated by `{MISSING_CMD}`; do not edit.",
        "",
        "ZetaSQL builtin functions (maximum language features, PRODUCT_EXTERNAL, plus",
        f"{', '.join(EXTRA_FEATURES)}) that stdlib/bigquery/functions.toml does not list.",
        "Many are not BigQuery functions (graph, proto, ZetaSQL-only extensions); some are",
        "BigQuery functions whose syntax the catalog format cannot express; internal",
        "operators (`$add`, ...) are left out.",
        "",
        f"{len(miss)} functions:",
        "",
    ]
    lines += [f"- `{n}` ({b[n].lower()})" + (f": {INEXPRESSIBLE[n]}" if n in INEXPRESSIBLE else "") for n in miss]
    lines += [
        "",
        "## BigQuery functions ZetaSQL does not know",
        "",
        "Not in the catalog because check_catalog.py cannot verify them",
        "(a fixed list, `NOT_IN_ZETASQL` in the script):",
        "",
    ]
    lines += [f"- `{n}`: {why}" for n, why in sorted(NOT_IN_ZETASQL.items()) if n not in names]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("catalog", nargs="?", default=CATALOG)
    ap.add_argument("-v", "--verbose", action="store_true", help="print warnings too")
    ap.add_argument("--only", help="comma-separated function names to check")
    ap.add_argument("--write-missing", action="store_true", help=f"regenerate {os.path.relpath(MISSING, ROOT)}")
    ap.add_argument("--check-missing", action="store_true", help="exit 1 if MISSING.md is not current")
    a = ap.parse_args()

    with open(a.catalog, "rb") as fh:
        data = tomllib.load(fh)
    errs, fns = check_form(data)
    names = {fn["name"] for fn, _ in fns}
    z = Zeta()

    if a.write_missing or a.check_missing:
        text = missing_md(z, names)
        if a.write_missing:
            with open(MISSING, "w") as fh:
                fh.write(text)
            print(f"wrote {os.path.relpath(MISSING, ROOT)}")
            return 0
        cur = open(MISSING).read() if os.path.exists(MISSING) else ""
        if cur != text:
            print(f"{os.path.relpath(MISSING, ROOT)} is not current; run: {MISSING_CMD}")
            return 1
        print(f"{os.path.relpath(MISSING, ROOT)} is current")
        return 0

    only = {n.strip().upper() for n in a.only.split(",")} if a.only else None
    builtin_modes = z.builtins()
    passed = failed = 0
    nsig = sum(len(s) for _, s in fns)
    for e in errs:
        print(f"FAIL form: {e}")
    failed += len(errs)
    for fn, sigs in fns:
        if only and fn["name"] not in only:
            continue
        mode = builtin_modes.get(fn["name"])
        kind_ok = {"scalar": {"SCALAR"}, "aggregate": {"AGGREGATE"},
                   "analytic": {"ANALYTIC", "AGGREGATE"}}[fn["kind"]] if fn["kind"] in KINDS else set()
        kind_err = mode is not None and mode not in kind_ok
        if kind_err:
            print(f"FAIL {fn['name']}: kind {fn['kind']} but ZetaSQL's mode is {mode}")
        for s in sigs:
            res = Result()
            if kind_err:
                res.fails.append(f"FAIL {fn['name']}{s.text()}: wrong kind")
            check_signature(z, fn, sigs, s, res)
            for line in res.fails:
                print(line)
            if a.verbose:
                for line in res.warns:
                    print(line)
            if res.fails:
                failed += 1
            else:
                passed += 1
    cats: dict[str, list[int]] = {}
    for fn, sigs in fns:
        c = cats.setdefault(fn["category"], [0, 0])
        c[0] += 1
        c[1] += len(sigs)
    print(f"{len(fns)} functions, {nsig} signatures; by category: "
          + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(cats.items())))
    print(f"{z.calls} ZetaSQL analyses")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
