#!/usr/bin/env python3
"""Check stdlib/athena/functions.toml and write stdlib/athena/MISSING.md.

    athena_catalog.py            # validate, then (re)write MISSING.md
    athena_catalog.py --check    # validate; exit 1 if anything is wrong or MISSING.md is stale

Python 3.11+ standard library only.

What is checked (format: stdlib/athena/README.md):

1. Form: every `[[functions]]` table has only the keys name, category, kind,
   nulls, deidentifying, deciding, signatures; names are lower case and unique; kind and
   nulls take their known values; the tables are ordered by category, then name.
2. Types: every argument and result is parsed by a small recursive parser for
   the Trino spelling the catalog uses: scalar types (`bigint`, `varchar`,
   `timestamp with time zone`, `interval day to second`, ...), type variables
   (one upper-case letter), `decimal(p,s)` with numbers or lower-case
   variables, `array(T)`, `map(K,V)`, `row(a bigint, b T)` (field names
   optional), `qdigest(T)`, `function(T, U, R)` (lambda arguments only),
   `ANY`, the suffixes `?` `*` `+` (trailing parameters only) and the prefix
   `=`. A result may not use `ANY` or `function(...)`, and every variable it
   uses must be bound by an argument (unless the function takes none).
3. Reference: every catalog name is in stdlib/athena/reference.txt, with the
   same category.

MISSING.md lists the reference names the catalog does not have, by category.
With --check the script exits 1 if a check fails, if the catalog has names
that are not in the reference, or if MISSING.md differs from what it would
write.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DIR = os.path.join(ROOT, "stdlib", "athena")
CATALOG = os.path.join(DIR, "functions.toml")
REFERENCE = os.path.join(DIR, "reference.txt")
MISSING = os.path.join(DIR, "MISSING.md")

KINDS = {"scalar", "aggregate", "analytic"}
NULLS = {"args", "never", "maybe", "group"}
FUNCTION_KEYS = {"name", "category", "kind", "nulls", "deidentifying", "deciding", "signatures"}
SIGNATURE_KEYS = {"args", "returns"}

# One-word Trino types the catalog uses.
SCALARS = {
    "boolean", "tinyint", "smallint", "integer", "bigint", "real", "double",
    "varchar", "char", "varbinary", "date", "time", "timestamp", "json", "uuid",
    "ipaddress", "ipprefix", "color",
    "hyperloglog", "p4hyperloglog", "setdigest", "tdigest",
    "geometry", "sphericalgeography", "bingtile", "kdbtree",
}
# Words that start a type (so a row field is not mistaken for a field name).
TYPE_WORDS = SCALARS | {"decimal", "array", "map", "row", "function", "qdigest", "interval", "ANY"}

# Why a reference name is not in the catalog (shown in MISSING.md).
REASONS = {
    "cast": "`CAST(x AS type)` syntax, typed in code",
    "try_cast": "`TRY_CAST(x AS type)` syntax, typed in code",
    "extract": "`EXTRACT(field FROM x)` syntax, typed in code",
    "position": "`POSITION(substring IN string)` syntax, typed in code",
    "json_object": "key/value syntax (`'k' : v`, `KEY k VALUE v`), not a plain call",
    "json": "on Trino's list, but not described on the JSON page read: no signature",
    "json_scalar": "on Trino's list, but not described on the JSON page read: no signature",
    "json_serialize": "on Trino's list, but not described on the JSON page read: no signature",
    "classify": "takes a Classifier model: no spelling for ML model types",
    "regress": "takes a Regressor model: no spelling for ML model types",
    "learn_classifier": "returns a Classifier model: no spelling for ML model types",
    "learn_libsvm_classifier": "returns a Classifier model: no spelling for ML model types",
    "learn_regressor": "returns a Regressor model: no spelling for ML model types",
    "learn_libsvm_regressor": "returns a Regressor model: no spelling for ML model types",
    "evaluate_classifier_predictions": "ML aggregate listed without documentation: no signature",
    "collect": "MULTISET type (recent Trino): no spelling in the catalog format",
    "element": "MULTISET type (recent Trino): no spelling in the catalog format",
    "fusion": "MULTISET type (recent Trino): no spelling in the catalog format",
    "intersection": "MULTISET type (recent Trino): no spelling in the catalog format",
    "set": "MULTISET type (recent Trino): no spelling in the catalog format",
}


class TypeError_(Exception):
    pass


TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\d+)|([(),]))")


def tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise TypeError_(f"unexpected `{text[pos:].strip()}`")
        tokens.append(m.group(0).strip())
        pos = m.end()
    return tokens


class TypeParser:
    """Recursive descent over the tokens of one type.

    Result nodes: ("any",), ("var", "T"), ("scalar", name), ("decimal", p, s),
    ("array", t), ("map", k, v), ("qdigest", t), ("row", [(name, t)]),
    ("function", [t, ..., result]).
    """

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, want: str | None = None) -> str:
        t = self.peek()
        if t is None:
            raise TypeError_("unexpected end" + (f", expected `{want}`" if want else ""))
        if want is not None and t != want:
            raise TypeError_(f"expected `{want}`, found `{t}`")
        self.i += 1
        return t

    def parse(self):
        node = self.type_()
        if self.peek() is not None:
            raise TypeError_(f"unexpected `{self.peek()}` after the type")
        return node

    def type_(self, nested: bool = False):
        t = self.take()
        if nested and t in ("ANY", "function"):
            raise TypeError_(f"`{t}` only as a whole argument, not inside another type")
        if t == "ANY":
            return ("any",)
        if len(t) == 1 and t.isupper():
            return ("var", t)
        if t != t.lower():
            raise TypeError_(f"`{t}`: types are spelled in lower case (variables: one upper-case letter)")
        if t == "decimal":
            self.take("(")
            p = self.decimal_param(precision=True)
            self.take(",")
            s = self.decimal_param(precision=False)
            self.take(")")
            if isinstance(p, int) and isinstance(s, int) and s > p:
                raise TypeError_(f"decimal({p},{s}): scale above precision")
            return ("decimal", p, s)
        if t in ("array", "qdigest"):
            self.take("(")
            inner = self.type_(nested=True)
            self.take(")")
            return (t, inner)
        if t == "map":
            self.take("(")
            k = self.type_(nested=True)
            self.take(",")
            v = self.type_(nested=True)
            self.take(")")
            return ("map", k, v)
        if t == "row":
            self.take("(")
            fields = [self.field()]
            while self.peek() == ",":
                self.take(",")
                fields.append(self.field())
            self.take(")")
            names = [n for n, _ in fields if n is not None]
            if len(names) != len(set(names)):
                raise TypeError_("row: a field name is used twice")
            return ("row", fields)
        if t == "function":
            self.take("(")
            types = [self.type_(nested=True)]
            while self.peek() == ",":
                self.take(",")
                types.append(self.type_(nested=True))
            self.take(")")
            if len(types) < 2:
                raise TypeError_("function(...) needs at least one parameter type and a result type")
            return ("function", types)
        if t == "time" or t == "timestamp":
            if self.peek() == "with":
                for w in ("with", "time", "zone"):
                    self.take(w)
                return ("scalar", f"{t} with time zone")
            return ("scalar", t)
        if t == "interval":
            a = self.take()
            if a == "day":
                self.take("to")
                self.take("second")
                return ("scalar", "interval day to second")
            if a == "year":
                self.take("to")
                self.take("month")
                return ("scalar", "interval year to month")
            raise TypeError_(f"interval {a}: expected `interval day to second` or `interval year to month`")
        if t in SCALARS:
            return ("scalar", t)
        raise TypeError_(f"unknown type `{t}`")

    def decimal_param(self, precision: bool):
        t = self.take()
        if t.isdigit():
            n = int(t)
            if precision and not 1 <= n <= 38:
                raise TypeError_(f"decimal precision {n} outside 1..38")
            if not precision and n > 38:
                raise TypeError_(f"decimal scale {n} above 38")
            return n
        if len(t) == 1 and t.islower():
            return t
        raise TypeError_(f"decimal parameter `{t}`: a number or one lower-case letter")

    def field(self):
        t, nxt = self.peek(), self.peek(1)
        is_name = (
            t is not None
            and re.fullmatch(r"[a-z_][a-z0-9_]*", t) is not None
            and t not in TYPE_WORDS
            and nxt not in (",", ")", None)
        )
        name = self.take() if is_name else None
        return (name, self.type_(nested=True))


def variables(node, out_vars: set, out_dec: set):
    kind = node[0]
    if kind == "var":
        out_vars.add(node[1])
    elif kind == "decimal":
        for x in node[1:]:
            if isinstance(x, str):
                out_dec.add(x)
    elif kind in ("array", "qdigest"):
        variables(node[1], out_vars, out_dec)
    elif kind == "map":
        variables(node[1], out_vars, out_dec)
        variables(node[2], out_vars, out_dec)
    elif kind == "row":
        for _, t in node[1]:
            variables(t, out_vars, out_dec)
    elif kind == "function":
        for t in node[1]:
            variables(t, out_vars, out_dec)


def check_signature(args, returns) -> list[str]:
    """Errors in one signature (empty if it is well formed)."""
    errors = []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return ["args must be a list of strings"]
    if not isinstance(returns, str):
        return ["returns must be a string"]
    bound_vars: set = set()
    bound_dec: set = set()
    seen_optional = False
    for i, raw in enumerate(args):
        a = raw.strip()
        if a != raw:
            errors.append(f"argument {i + 1} `{raw}`: surrounding spaces")
        suffix = a[-1] if a and a[-1] in "?*+" else ""
        body = a[:-1] if suffix else a
        if body.startswith("="):
            body = body[1:]
        if suffix in "*+" and suffix and i != len(args) - 1:
            errors.append(f"argument {i + 1} `{a}`: `{suffix}` only on the last parameter")
        if suffix == "?":
            seen_optional = True
        elif not suffix and seen_optional:
            errors.append(f"argument {i + 1} `{a}`: a required parameter after an optional one")
        try:
            node = TypeParser(body).parse()
        except TypeError_ as e:
            errors.append(f"argument {i + 1} `{a}`: {e}")
            continue
        variables(node, bound_vars, bound_dec)
    r = returns.strip()
    if r != returns:
        errors.append(f"result `{returns}`: surrounding spaces")
    if r[-1:] in ("?", "*", "+") or r.startswith("="):
        errors.append(f"result `{r}`: no suffix or `=` on a result")
        return errors
    try:
        node = TypeParser(r).parse()
    except TypeError_ as e:
        errors.append(f"result `{r}`: {e}")
        return errors
    if node[0] in ("any", "function"):
        errors.append(f"result `{r}`: a result is a type, a variable or a type built from variables")
        return errors
    used_vars: set = set()
    used_dec: set = set()
    variables(node, used_vars, used_dec)
    if args:
        for v in sorted(used_vars - bound_vars):
            errors.append(f"result `{r}`: variable {v} is not bound by an argument")
        for v in sorted(used_dec - bound_dec):
            errors.append(f"result `{r}`: decimal variable {v} is not bound by an argument")
    elif used_dec:
        errors.append(f"result `{r}`: decimal variables need an argument to bind them")
    return errors


def read_reference(path: str) -> tuple[dict[str, str], list[str]]:
    """name -> category, and format errors."""
    ref: dict[str, str] = {}
    errors = []
    order = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0] or not parts[1]:
                errors.append(f"reference.txt:{n}: expected `name<TAB>category`")
                continue
            name, category = parts
            if name != name.lower() or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                errors.append(f"reference.txt:{n}: `{name}`: lower-case identifier expected")
            if name in ref:
                errors.append(f"reference.txt:{n}: `{name}` listed twice")
            ref[name] = category
            order.append(name)
    if order != sorted(order):
        errors.append("reference.txt: not sorted by name")
    return ref, errors


def check_catalog(data: dict, ref: dict[str, str]) -> tuple[list[dict], list[str]]:
    """The function tables, and every error found."""
    errors = []
    if set(data) != {"functions"}:
        errors.append("functions.toml: only `[[functions]]` tables are expected")
    functions = data.get("functions", [])
    seen = set()
    previous = None
    for idx, f in enumerate(functions):
        name = f.get("name")
        label = name if isinstance(name, str) else f"table {idx + 1}"
        def err(msg):
            errors.append(f"{label}: {msg}")
        extra = set(f) - FUNCTION_KEYS
        if extra:
            err(f"unknown keys {sorted(extra)}")
        for key in ("name", "category", "kind", "signatures"):
            if key not in f:
                err(f"missing `{key}`")
        if not isinstance(name, str):
            continue
        if name != name.lower() or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            err("names are lower-case identifiers, as the Trino reference spells them")
        if name.lower() in seen:
            err("listed twice")
        seen.add(name.lower())
        category = f.get("category")
        if not isinstance(category, str) or not re.fullmatch(r"[a-z_]+", category or ""):
            err(f"category `{category}`: a lower-case page name")
        if f.get("kind") not in KINDS:
            err(f"kind `{f.get('kind')}`: one of {sorted(KINDS)}")
        if "nulls" in f and f["nulls"] not in NULLS:
            err(f"nulls `{f['nulls']}`: one of {sorted(NULLS)}")
        if "deidentifying" in f and not isinstance(f["deidentifying"], bool):
            err("deidentifying: true or false")
        if "deciding" in f and not (
            isinstance(f["deciding"], list) and all(isinstance(i, int) and i >= 0 for i in f["deciding"])
        ):
            err("deciding: a list of argument positions (from 0)")
        key = (category if isinstance(category, str) else "", name)
        if previous is not None and key < previous:
            err(f"out of order: after {previous[1]} ({previous[0]}); order by category, then name")
        previous = key
        sigs = f.get("signatures")
        if not isinstance(sigs, list) or not sigs:
            err("signatures: a non-empty list")
            sigs = []
        for n, s in enumerate(sigs, 1):
            if not isinstance(s, dict):
                err(f"signature {n}: a table {{ args = [...], returns = \"...\" }}")
                continue
            extra = set(s) - SIGNATURE_KEYS
            if extra or "args" not in s or "returns" not in s:
                err(f"signature {n}: keys `args` and `returns` only")
                continue
            for e in check_signature(s["args"], s["returns"]):
                err(f"signature {n}: {e}")
        if name in ref and isinstance(category, str) and ref[name] != category:
            err(f"category `{category}`, but reference.txt has `{ref[name]}`")
    return functions, errors


def missing_md(ref: dict[str, str], catalog_names: set[str]) -> str:
    missing = sorted(n for n in ref if n not in catalog_names)
    extra = sorted(n for n in catalog_names if n not in ref)
    covered = len(ref) - len(missing)
    pct = 100.0 * covered / len(ref) if ref else 100.0
    out = [
        "# Trino functions missing from functions.toml",
        "",
        "Generated by `python3 scripts/athena_catalog.py`; do not edit.",
        "",
        "Reference names (stdlib/athena/reference.txt) that stdlib/athena/functions.toml does "
        "not list: special syntax typed in code, or types the catalog format cannot spell.",
        "",
        f"{len(missing)} of {len(ref)} reference names missing "
        f"({covered} listed, {pct:.1f}% coverage).",
    ]
    by_cat: dict[str, list[str]] = {}
    for n in missing:
        by_cat.setdefault(ref[n], []).append(n)
    for cat in sorted(by_cat):
        out += ["", f"## {cat} ({len(by_cat[cat])})", ""]
        for n in by_cat[cat]:
            reason = REASONS.get(n)
            out.append(f"- `{n}`" + (f": {reason}" if reason else ""))
    out += ["", "## Catalog names not in the reference", ""]
    if extra:
        out += [f"- `{n}`" for n in extra]
    else:
        out.append("None.")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if validation fails or MISSING.md is not current (writes nothing)")
    opts = ap.parse_args()

    ref, errors = read_reference(REFERENCE)
    with open(CATALOG, "rb") as f:
        try:
            data = tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            print(f"FAIL functions.toml: {e}")
            return 1
    functions, cat_errors = check_catalog(data, ref)
    errors += cat_errors
    names = {f["name"] for f in functions if isinstance(f.get("name"), str)}
    not_in_ref = sorted(names - set(ref))
    for n in not_in_ref:
        errors.append(f"{n}: not in reference.txt")

    text = missing_md(ref, names)
    if opts.check:
        try:
            with open(MISSING, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            errors.append("MISSING.md is not current: run python3 scripts/athena_catalog.py")
    else:
        with open(MISSING, "w", encoding="utf-8") as f:
            f.write(text)

    for e in errors:
        print(f"FAIL {e}")
    nsig = sum(len(f.get("signatures") or []) for f in functions)
    missing = len([n for n in ref if n not in names])
    print(f"{len(functions)} functions, {nsig} signatures; {len(ref)} reference names, "
          f"{missing} missing; {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
