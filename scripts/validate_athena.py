#!/usr/bin/env python3
"""Validate dpc's Athena artifacts with independent parsers, statement by statement.

    validate_athena.py [-v] [--self-test] [--time] [PATH...]

Each PATH is a directory (every .sql file below it whose path, from PATH's own
name down, has a directory called `athena`: `dpc build` output dirs and
`<out>/athena` itself both work) or a .sql file (taken as is). Each file is
split into statements on `;` outside quotes and comments, and each statement
goes to the parser of the Athena dialect that runs it:

  Hive DDL (Athena's DDL engine)             sqlfluff 4.5.0, parse only
    CREATE [EXTERNAL] TABLE without AS SELECT, ALTER TABLE, DROP TABLE,
    MSCK, SHOW, DESCRIBE                        -> dialect athena
    CREATE/ALTER/DROP DATABASE|SCHEMA           -> dialect hive (athena's
                                                   has no COMMENT/LOCATION/
                                                   WITH DBPROPERTIES)
  Trino SQL (engine v3)                      trino-query-parser 0.422.7
    everything else: SELECT/WITH, CREATE [OR REPLACE] VIEW, CTAS, INSERT,
    MERGE, DELETE, UPDATE, DROP VIEW         (Trino's own ANTLR grammar)

A sqlfluff statement fails if the parse has a violation or an `unparsable`
segment; a Trino statement fails on any lexer or parser error. On top of the
grammars, a few rules Athena enforces that the grammars do not (each cites
the Athena documentation; see docs/athena-validators.md):
  Trino:  backquoted identifiers and identifiers starting with a digit
          (Trino's parser rejects them after parsing), type names Trino does
          not know (CAST(x AS string), int64, float, binary, ...).
  Hive:   double-quoted identifiers (DDL quotes identifiers with backticks),
          type names that are not Athena DDL types (real, varbinary, time...),
          STORED AS PARQUETFILE/ORCFILE/AVROFILE/IONFILE; CREATE TABLE without
          EXTERNAL unless it is an Iceberg table; for Iceberg tables (TBLPROPERTIES
          'table_type'='ICEBERG'): no EXTERNAL, only Iceberg-supported column
          types, PARTITIONED BY columns without types or the transforms
          year/month/day/hour/bucket(N, c)/truncate(L, c) of declared columns,
          and only the documented table properties.
sqlfluff 4.5.0's athena dialect rejects `STORED AS PARQUET` (and ORC, AVRO,
ION): its keyword parsers for those words match PARQUETFILE, ORCFILE,...
The validator rewrites the format word for sqlfluff only (see STORED_AS_BUG).

Output: `FAIL <file>:<line>:<col>: [<validator>] <message>` per failing
statement (`-v`: every message of it, and an `ok` line per file), `WARN` lines
(never failures), then `athena: N statements (x trino, y sqlfluff), F failed`.
Exit 0 if nothing failed, 1 if something did, 2 if the validator cannot be
trusted (self-test failed) or cannot run (parsers missing, or a manifest.json
lists Athena products but there is no Athena .sql file).

--self-test runs built-in known-good and known-bad statements through the
same code (at least 5 bad per validator) and fails unless every good one is
accepted by the validator it is meant for and every bad one is rejected; with
PATHs, the self-test runs first. Run through scripts/validate-athena.sh, which
sets up the venv (scripts/setup-validators.sh).
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import sys
import time

EXIT_OK, EXIT_FAIL, EXIT_BROKEN = 0, 1, 2

TRINO, FLUFF_ATHENA, FLUFF_HIVE = "trino", "sqlfluff-athena", "sqlfluff-hive"


def broken(msg: str) -> "NoReturn":  # noqa: F821
    print(f"validate-athena: error: {msg}", file=sys.stderr)
    sys.exit(EXIT_BROKEN)


# ------------------------------------------------------------------ splitting
class Stmt:
    """One statement of a file: its text (from its first significant
    character to before its `;`), where it starts, its validator."""

    __slots__ = ("text", "start", "line", "col", "kind", "words", "problem", "masked")

    def __init__(self, text, start, line, col, kind, words, problem, masked):
        self.text, self.start, self.line, self.col = text, start, line, col
        self.kind, self.words, self.problem, self.masked = kind, words, problem, masked


def _scan(text: str, i: int, hive: bool):
    """Scan one statement from offset i. Returns (end, first, words, problem,
    masked): end is the offset of its `;` or len(text); first the offset of its
    first significant character (None if it has none); words the upper-cased
    bare words and parentheses outside quotes and comments, with their offsets
    (for classification); problem (offset, message) for an unterminated quote
    or comment; masked the statement's text from `first` to `end` with string
    literals and comments blanked (newlines kept), quoted identifiers kept.
    hive: backslash escapes inside '...' and "..." (Hive's lexer), else SQL
    doubling only (Trino's lexer)."""
    n = len(text)
    words: list[tuple[str, int]] = []
    masked: list[str] = []
    first = None
    problem = None

    def blank(a, b):
        masked.append(re.sub(r"[^\n]", " ", text[a:b]))

    while i < n:
        c = text[i]
        if c == ";":
            break
        if c.isspace():
            if first is not None:
                masked.append(c)
            i += 1
            continue
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            if first is not None:
                blank(i, j)
            i = j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                problem = problem or (i, "unterminated /* comment")
                j = n
            else:
                j += 2
            if first is not None:
                blank(i, j)
            i = j
            continue
        if first is None:
            first = i
        if c in "'\"`":
            j = i + 1
            closed = False
            while j < n:
                d = text[j]
                if hive and d == "\\" and c != "`":
                    j += 2
                    continue
                if d == c:
                    if j + 1 < n and text[j + 1] == c:  # doubled quote: escape
                        j += 2
                        continue
                    closed = True
                    j += 1
                    break
                j += 1
            j = min(j, n)
            if not closed:
                what = {"'": "string literal", '"': "double-quoted identifier", "`": "backquoted identifier"}[c]
                problem = problem or (i, f"unterminated {what}")
            if c == "'":
                masked.append("'" + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + "'" if closed else
                              re.sub(r"[^\n]", " ", text[i:j]))
            else:
                masked.append(text[i:j])
                words.append(("Q", i))
            i = j
            continue
        if c.isalnum() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            words.append((text[i:j].upper(), i))
            masked.append(text[i:j])
            i = j
            continue
        if c in "()":
            words.append((c, i))
        masked.append(c)
        i += 1
    if first is None:
        return i, None, words, problem, ""
    return i, first, words, problem, "".join(masked)


def classify(words: list[tuple[str, int]]) -> str:
    w = [x for x, _ in words[:8]]
    if not w:
        return TRINO
    head = w[0]
    if head == "CREATE":
        k = 1
        if w[k:k + 2] == ["OR", "REPLACE"]:
            k += 2
        nxt = w[k] if k < len(w) else ""
        if nxt in ("DATABASE", "SCHEMA"):
            return FLUFF_HIVE
        if nxt in ("EXTERNAL", "TABLE"):
            return TRINO if is_ctas(words) else FLUFF_ATHENA
        return TRINO  # VIEW, and whatever else: Trino will say
    if head in ("ALTER", "DROP"):
        nxt = w[1] if len(w) > 1 else ""
        if nxt in ("DATABASE", "SCHEMA"):
            return FLUFF_HIVE
        if nxt == "TABLE":
            return FLUFF_ATHENA
        return TRINO  # ALTER/DROP VIEW
    if head in ("MSCK", "SHOW"):
        return FLUFF_ATHENA
    return TRINO


def is_ctas(words) -> bool:
    """CREATE TABLE ... AS <query> with AS at parenthesis depth 0."""
    depth = 0
    for k, (x, _) in enumerate(words):
        if x == "(":
            depth += 1
        elif x == ")":
            depth -= 1
        elif x == "AS" and depth == 0 and k + 1 < len(words):
            if words[k + 1][0] in ("SELECT", "WITH", "VALUES", "TABLE", "("):
                return True
    return False


def split_statements(text: str) -> list[Stmt]:
    """Statements of a file. A statement of a Hive-DDL kind holding a
    backslash is scanned again with Hive's string escapes."""
    lines = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(off):
        ln = bisect.bisect_right(lines, off)
        return ln, off - lines[ln - 1] + 1

    out = []
    i, n = 0, len(text)
    while i < n:
        end, first, words, problem, masked = _scan(text, i, hive=False)
        if first is not None:
            kind = classify(words)
            if kind != TRINO and "\\" in text[first:end]:
                end2, first2, words2, problem2, masked2 = _scan(text, i, hive=True)
                kind2 = classify(words2)
                if kind2 != TRINO:
                    end, first, words, problem, masked, kind = end2, first2, words2, problem2, masked2, kind2
            line, col = pos(first)
            prob = None
            if problem:
                pl, pc = pos(problem[0])
                prob = (pl, pc, problem[1])
            out.append(Stmt(text[first:end], first, line, col, kind, words, prob, masked))
        i = end + 1
    return out


def file_pos(st: Stmt, line: int, col: int) -> tuple[int, int]:
    """Statement-relative 1-based (line, col) -> file (line, col)."""
    return st.line + line - 1, (st.col + col - 1 if line == 1 else col)


# ------------------------------------------------------------------ Trino
# Type names Trino 4xx knows (genericType in its grammar takes any identifier).
TRINO_TYPES = {
    "boolean", "tinyint", "smallint", "integer", "int", "bigint", "real", "double", "decimal",
    "varchar", "char", "varbinary", "json", "date", "time", "timestamp", "array", "map", "row",
    "ipaddress", "ipprefix", "uuid", "hyperloglog", "p4hyperloglog", "setdigest", "qdigest",
    "tdigest", "geometry", "sphericalgeography", "bingtile", "kdbtree", "color", "jsonpath",
}
HIVE_ONLY_HINT = {"string": "varchar", "float": "real", "binary": "varbinary", "int64": "bigint",
                  "float64": "double", "bool": "boolean", "numeric": "decimal", "bytes": "varbinary",
                  "struct": "row", "long": "bigint", "text": "varchar", "datetime": "timestamp"}


class TrinoError(Exception):
    def __init__(self, line, col, msg):
        super().__init__(msg)
        self.line, self.col, self.msg = line, col, msg


class Trino:
    def __init__(self):
        try:
            from antlr4 import CommonTokenStream, InputStream
            from antlr4.atn.PredictionMode import PredictionMode
            from antlr4.error.ErrorListener import ErrorListener
            from antlr4.error.ErrorStrategy import BailErrorStrategy, DefaultErrorStrategy
            from antlr4.error.Errors import ParseCancellationException
            from trino_query_parser.SqlBaseLexer import SqlBaseLexer
            from trino_query_parser.SqlBaseParser import SqlBaseParser
        except ImportError as e:
            broken(f"cannot import trino_query_parser ({e}); run scripts/setup-validators.sh and use its venv's python")
        self.CommonTokenStream, self.InputStream = CommonTokenStream, InputStream
        self.PredictionMode, self.Bail, self.Default = PredictionMode, BailErrorStrategy, DefaultErrorStrategy
        self.Cancel = ParseCancellationException
        self.Lexer, self.Parser = SqlBaseLexer, SqlBaseParser

        class Raise(ErrorListener):
            def syntaxError(self, recognizer, sym, line, col, msg, e):
                raise TrinoError(line, col + 1, msg)
        self.listener = Raise()

    @staticmethod
    def _upper(s: str) -> str:
        # Trino's grammar is upper-case; its Java parser reads through a
        # case-insensitive stream. Upper-case without changing offsets.
        u = s.upper()
        if len(u) == len(s):
            return u
        return "".join(c.upper() if len(c.upper()) == 1 else c for c in s)

    @staticmethod
    def _short(msg: str) -> str:
        # "expecting {'(', 'ABSENT', ... 300 tokens}" -> a readable head.
        m = re.match(r"(.*?expecting )\{(.*)\}$", msg, re.S)
        if m:
            alts = [a.strip() for a in m.group(2).split(",")]
            if len(alts) > 8:
                return f"{m.group(1)}one of {', '.join(alts[:8])}, ... ({len(alts)} alternatives)"
        return msg

    def check(self, sql: str) -> list[tuple[int, int, str]]:
        """Problems of one statement as (line, col, message), [] if accepted."""
        P = self.Parser
        lexer = self.Lexer(self.InputStream(self._upper(sql)))
        lexer.removeErrorListeners()
        lexer.addErrorListener(self.listener)
        ts = self.CommonTokenStream(lexer)
        parser = P(ts)
        parser.removeErrorListeners()
        parser.addErrorListener(self.listener)
        # Two-stage parse as Trino does: fast SLL, then full LL on failure.
        parser._interp.predictionMode = self.PredictionMode.SLL
        parser._errHandler = self.Bail()
        try:
            tree = parser.singleStatement()
        except (self.Cancel, TrinoError):
            ts.seek(0)
            parser.reset()
            parser._interp.predictionMode = self.PredictionMode.LL
            parser._errHandler = self.Default()
            try:
                tree = parser.singleStatement()
            except TrinoError as e:
                return [(e.line, e.col, self._short(e.msg))]
            except RecursionError:
                return [(1, 1, "statement too deeply nested for the parser")]
        except RecursionError:
            return [(1, 1, "statement too deeply nested for the parser")]
        probs = []
        L = self.Lexer
        for t in ts.tokens:
            if t.type == L.BACKQUOTED_IDENTIFIER:
                probs.append((t.line, t.column + 1, "backquoted identifiers are not supported; use double quotes "
                                                    "to quote identifiers"))
            elif t.type == L.DIGIT_IDENTIFIER:
                probs.append((t.line, t.column + 1, "identifiers must not start with a digit; surround the "
                                                    "identifier with double quotes"))
        # Type names: the grammar's genericType takes any identifier.
        stack = [tree]
        G = P.GenericTypeContext
        while stack:
            node = stack.pop()
            if isinstance(node, G):
                name = node.identifier().getText().strip('"').lower()
                if name not in TRINO_TYPES:
                    tok = node.start
                    hint = HIVE_ONLY_HINT.get(name)
                    probs.append((tok.line, tok.column + 1, f"unknown type {name!r}" +
                                  (f" (Athena DML uses Trino type names: {hint})" if hint else "")))
            ch = getattr(node, "children", None)
            if ch:
                stack.extend(ch)
        return probs


# ------------------------------------------------------------------ sqlfluff
# sqlfluff 4.5.0 athena dialect: FileFormatGrammar refers to the keywords
# PARQUET, ORC, AVRO, ION, whose parsers (ParquetKeywordSegment, ...) match
# PARQUETFILE, ORCFILE, AVROFILE, IONFILE. So `STORED AS PARQUET`, the form
# Athena documents, is unparsable and `STORED AS PARQUETFILE` passes. We give
# sqlfluff the *FILE spelling, and reject the *FILE spelling itself.
STORED_AS_BUG = {"PARQUET", "ORC", "AVRO", "ION"}
_STORED_AS = re.compile(r"\bSTORED\s+AS\s+([A-Za-z_]+)\b", re.I)

# Athena DDL type names (Hive spelling), docs: data-types.html.
DDL_TYPES = {"boolean", "tinyint", "smallint", "int", "integer", "bigint", "float", "double", "decimal",
             "char", "varchar", "string", "binary", "date", "timestamp"}
DDL_HINT = {"real": "use float", "varbinary": "use binary", "json": "use string",
            "time": "Athena DDL has no time type"}
# Iceberg tables in Athena, docs: querying-iceberg-supported-data-types.html.
ICEBERG_TYPES = {"boolean", "int", "integer", "bigint", "float", "double", "decimal", "string", "binary",
                 "date", "timestamp"}
ICEBERG_TRANSFORMS = {"year": 1, "month": 1, "day": 1, "hour": 1, "bucket": 2, "truncate": 2}
# Athena accepts only these in an Iceberg table's TBLPROPERTIES (docs:
# querying-iceberg-creating-tables.html "Table properties", vacuum-statement.html).
ICEBERG_PROPERTIES = {
    "table_type", "format", "write_compression", "write_target_data_file_size_bytes",
    "optimize_rewrite_min_data_file_size_bytes", "optimize_rewrite_max_data_file_size_bytes",
    "optimize_rewrite_data_file_threshold", "optimize_rewrite_delete_file_threshold",
    "vacuum_min_snapshots_to_keep", "vacuum_max_snapshot_age_seconds", "vacuum_max_metadata_files_to_keep",
}


def _unquote(lit: str) -> str:
    if len(lit) >= 2 and lit[0] == lit[-1] and lit[0] in "'\"":
        q = lit[0]
        return re.sub(r"\\(.)", r"\1", lit[1:-1]).replace(q + q, q)
    return lit


class Fluff:
    def __init__(self):
        try:
            from sqlfluff.core import FluffConfig, Linter
        except ImportError as e:
            broken(f"cannot import sqlfluff ({e}); run scripts/setup-validators.sh and use its venv's python")
        self.linters = {
            FLUFF_ATHENA: Linter(config=FluffConfig(overrides={"dialect": "athena", "templater": "raw"})),
            FLUFF_HIVE: Linter(config=FluffConfig(overrides={"dialect": "hive", "templater": "raw"})),
        }

    def check(self, st: Stmt) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        """(problems, warnings) of one Hive DDL statement, statement-relative."""
        probs: list[tuple[int, int, str]] = []
        warns: list[tuple[int, int, str]] = []
        sql = st.text
        shifts: list[tuple[int, int]] = []  # (line, col) after which a rewrite added 4 chars
        if st.kind == FLUFF_ATHENA:
            edits = []
            for m in _STORED_AS.finditer(st.masked):
                word = m.group(1).upper()
                at = m.start(1)
                line = st.masked.count("\n", 0, at) + 1
                col = at - (st.masked.rfind("\n", 0, at) + 1) + 1
                if word.endswith("FILE") and word[:-4] in STORED_AS_BUG:
                    probs.append((line, col, f"STORED AS {m.group(1)}: not an Athena file format "
                                             f"(Athena documents STORED AS {word[:-4]})"))
                elif word in STORED_AS_BUG:
                    edits.append((m.end(1), line, col + len(word)))
            for end, line, col in reversed(edits):
                sql = sql[:end] + "FILE" + sql[end:]
                shifts.append((line, col))

        def unshift(line, col):
            return line, col - 4 * sum(1 for sl, sc in shifts if sl == line and sc <= col)

        try:
            parsed = self.linters[st.kind].parse_string(sql)
        except Exception as e:  # noqa: BLE001 - a crash of the parser is a failure, not a pass
            return [(1, 1, f"sqlfluff crashed: {type(e).__name__}: {e}")], warns
        for v in parsed.violations:
            line, col = unshift(getattr(v, "line_no", 1) or 1, getattr(v, "line_pos", 1) or 1)
            desc = re.sub(r"^Line \d+, Position \d+: ", "", v.desc() if hasattr(v, "desc") else str(v))
            if len(desc) > 240:
                desc = desc[:237] + "..."
            probs.append((line, col, desc))
        tree = parsed.tree
        if tree is None:
            if not probs:
                probs.append((1, 1, "sqlfluff produced no parse tree"))
            return probs, warns
        if not parsed.violations:
            for seg in tree.recursive_crawl("unparsable"):
                pm = seg.pos_marker
                line, col = unshift(pm.line_no, pm.line_pos)
                probs.append((line, col, f"unparsable: {seg.raw[:80]!r}"))
        if probs:
            return probs, warns
        for seg in tree.recursive_crawl("quoted_identifier"):
            if seg.raw.startswith('"'):
                pm = seg.pos_marker
                probs.append((*unshift(pm.line_no, pm.line_pos),
                              f"double-quoted identifier {seg.raw} in Hive DDL: Athena DDL quotes identifiers "
                              f"with backticks (a double-quoted token is a string to Hive)"))
        for cts in tree.recursive_crawl("create_table_statement"):
            probs += [(*unshift(a, b), m) for a, b, m in self._create_table(cts)]
        for alt in tree.recursive_crawl("alter_table_statement"):
            p, w = self._alter_table(alt)
            probs += [(*unshift(a, b), m) for a, b, m in p]
            warns += [(*unshift(a, b), m) for a, b, m in w]
        return probs, warns

    # ---- semantic rules on the parse tree
    @staticmethod
    def _at(seg):
        pm = seg.pos_marker
        return pm.line_no, pm.line_pos

    def _types(self, data_type, allowed: set[str], what: str, hint: dict) -> list[tuple[int, int, str]]:
        out = []
        kinds = {"primitive_type", "struct_type", "array_type", "map_type"}
        for dt in data_type.recursive_crawl("data_type"):  # itself included
            heads = [c for c in dt.segments if not c.is_meta and not c.is_whitespace]
            if heads and heads[0].get_type() not in kinds:
                out.append((*self._at(dt), f"type {dt.raw!r} is not {what}"))
        for pt in data_type.recursive_crawl("primitive_type"):
            kw = [c for c in pt.segments if c.get_type() == "keyword"]
            name = (kw[0].raw if kw else pt.raw).lower()
            if name not in allowed:
                h = hint.get(name)
                out.append((*self._at(pt), f"type {pt.raw!r} is not {what}" + (f" ({h})" if h else "")))
        return out

    def _create_table(self, cts) -> list[tuple[int, int, str]]:
        probs = []
        kids = [c for c in cts.segments if not c.is_meta and not c.is_whitespace and c.get_type() != "comment"]
        kws = [c.raw.upper() if c.get_type() == "keyword" else None for c in kids]
        if "AS" in kws:  # CTAS parsed by sqlfluff: not ours (classified as Trino normally)
            return probs
        external = "EXTERNAL" in kws
        props: dict[str, str] = {}
        prop_at: dict[str, tuple[int, int]] = {}
        if "TBLPROPERTIES" in kws:
            k = kws.index("TBLPROPERTIES")
            br = kids[k + 1] if k + 1 < len(kids) else None
            lits = [c for c in br.recursive_crawl("quoted_literal")] if br is not None else []
            for a, b in zip(lits[0::2], lits[1::2]):
                props[_unquote(a.raw).lower()] = _unquote(b.raw)
                prop_at[_unquote(a.raw).lower()] = self._at(a)
        iceberg = props.get("table_type", "").upper() == "ICEBERG"
        # Columns: the first bracketed child after the table name.
        cols_br = next((c for c in kids if c.get_type() == "bracketed"), None)
        coldefs = [c for c in cols_br.segments if c.get_type() == "column_definition"] if cols_br is not None else []
        colnames = set()
        for cd in coldefs:
            ident = next((c for c in cd.segments if c.get_type() in ("naked_identifier", "quoted_identifier")), None)
            if ident is not None:
                colnames.add(ident.raw.strip("`\"").lower())
            dt = next((c for c in cd.segments if c.get_type() == "data_type"), None)
            if dt is not None:
                if iceberg:
                    probs += self._types(dt, ICEBERG_TYPES, "supported for Iceberg tables in Athena", DDL_HINT)
                else:
                    probs += self._types(dt, DDL_TYPES, "an Athena DDL type", DDL_HINT)
        if iceberg:
            if external:
                probs.append((*self._at(cts), "External keyword not supported for table type ICEBERG "
                                              "(Athena: Iceberg tables are CREATE TABLE, not CREATE EXTERNAL TABLE)"))
            for key in props:
                if key not in ICEBERG_PROPERTIES:
                    probs.append((*prop_at[key], f"TBLPROPERTIES key {key!r} is not a table property Athena "
                                                  f"accepts for Iceberg tables (Athena does not accept custom "
                                                  f"table properties on Iceberg tables)"))
        elif not external:
            probs.append((*self._at(cts), "CREATE TABLE without EXTERNAL: Athena requires EXTERNAL for "
                                          "non-Iceberg tables (or set TBLPROPERTIES ('table_type'='ICEBERG'))"))
        if "PARTITIONED" in kws:
            k = kws.index("PARTITIONED")
            br = next((c for c in kids[k + 1:] if c.get_type() == "bracketed"), None)
            items = [c for c in br.segments if c.get_type() not in ("start_bracket", "end_bracket", "comma")
                     and not c.is_meta and not c.is_whitespace] if br is not None else []
            for it in items:
                if iceberg:
                    probs += self._iceberg_partition(it, colnames)
                elif it.get_type() == "column_definition":
                    ident = next((c for c in it.segments if c.get_type() in ("naked_identifier", "quoted_identifier")), None)
                    if ident is not None and ident.raw.strip("`\"").lower() in colnames:
                        probs.append((*self._at(it), f"partition column {ident.raw} is also a table column "
                                                     f"(Athena: partition columns must not repeat table columns)"))
                    dt = next((c for c in it.segments if c.get_type() == "data_type"), None)
                    if dt is not None:
                        probs += self._types(dt, DDL_TYPES, "an Athena DDL type", DDL_HINT)
                else:
                    probs.append((*self._at(it), f"partition {it.raw!r}: a non-Iceberg table's PARTITIONED BY "
                                                 f"declares columns with types (name type)"))
        return probs

    def _iceberg_partition(self, it, colnames) -> list[tuple[int, int, str]]:
        at = self._at(it)
        if it.get_type() == "column_definition":
            return [(*at, f"Iceberg PARTITIONED BY ({it.raw}): name a declared column without its type, "
                          f"or a transform")]
        if it.get_type() in ("naked_identifier", "quoted_identifier"):
            name = it.raw.strip("`\"").lower()
            return [] if name in colnames else [(*at, f"partition column {it.raw} is not a column of the table")]
        if it.get_type() == "function":
            fname = "".join(c.raw for c in it.recursive_crawl("function_name_identifier")).lower()
            args = []
            for b in it.recursive_crawl("bracketed"):
                args = [c for c in b.segments if c.get_type() == "expression"]
                break
            want = ICEBERG_TRANSFORMS.get(fname)
            if want is None:
                return [(*at, f"partition transform {fname}(...) is not one Athena supports "
                              f"(year, month, day, hour, bucket(N, col), truncate(L, col))")]
            if len(args) != want:
                return [(*at, f"partition transform {fname} takes {want} argument(s), got {len(args)}")]
            out = []
            if want == 2 and not re.fullmatch(r"\d+", args[0].raw.strip()):
                out.append((*at, f"{fname}(N, col): N must be an integer literal, got {args[0].raw!r}"))
            col = args[-1].raw.strip().strip("`\"").lower()
            if col not in colnames:
                out.append((*at, f"partition transform {fname} on {args[-1].raw!r}, which is not a column of the table"))
            return out
        return [(*at, f"partition {it.raw!r} is not a column or a transform")]

    def _alter_table(self, alt):
        probs, warns = [], []
        kids = [c for c in alt.segments if not c.is_meta and not c.is_whitespace]
        kws = [c.raw.upper() if c.get_type() == "keyword" else None for c in kids]
        for cd in alt.recursive_crawl("column_definition"):
            dt = next((c for c in cd.segments if c.get_type() == "data_type"), None)
            if dt is None:
                continue
            probs += self._types(dt, DDL_TYPES, "an Athena DDL type", DDL_HINT)
            if "ADD" in kws and any(p.raw.lower() == "date" for p in dt.recursive_crawl("primitive_type")):
                warns.append((*self._at(cd), "Athena docs (alter-table-add-columns): ALTER TABLE ADD COLUMNS "
                                             "does not work for columns of type date on Hive tables; use timestamp"))
        if "ADD" in kws and "COLUMN" in kws and "COLUMNS" not in kws:
            probs.append((*self._at(alt), "ALTER TABLE ... ADD COLUMN: Athena's syntax is ADD COLUMNS (col type, ...)"))
        return probs, warns


# ------------------------------------------------------------------ validating
class Validator:
    def __init__(self):
        self.trino = Trino()
        self.fluff = Fluff()

    def check(self, st: Stmt) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        """(problems, warnings) with file positions."""
        if st.problem:
            return [st.problem], []
        if st.kind == TRINO:
            probs, warns = self.trino.check(st.text), []
        else:
            probs, warns = self.fluff.check(st)
        return (sorted((*file_pos(st, a, b), m) for a, b, m in probs),
                sorted((*file_pos(st, a, b), m) for a, b, m in warns))


def athena_files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    root = os.path.normpath(path)
    base = os.path.basename(os.path.abspath(root))
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        rel = os.path.relpath(d, root)
        parts = [base] + ([] if rel == "." else rel.split(os.sep))
        if "athena" in parts:
            out += [os.path.join(d, f) for f in sorted(files) if f.endswith(".sql")]
    return out


def athena_products(path: str) -> int:
    """Number of Athena products in PATH/manifest.json (0 if none or no manifest)."""
    try:
        with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError):
        return 0
    prods = m.get("products") if isinstance(m, dict) else None
    return sum(1 for p in prods or [] if isinstance(p, dict) and str(p.get("target", "")).lower() == "athena")


class Tally:
    def __init__(self):
        self.stmts = self.trino = self.fluff = self.failed = self.files = 0


def validate_file(v: Validator, path: str, tally: Tally, verbose: bool) -> None:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        print(f"FAIL {path}: not UTF-8: {e}")
        tally.failed += 1
        return
    except OSError as e:
        print(f"FAIL {path}: {e.strerror}")
        tally.failed += 1
        return
    tally.files += 1
    stmts = split_statements(text)
    bad = 0
    for st in stmts:
        tally.stmts += 1
        if st.kind == TRINO:
            tally.trino += 1
        else:
            tally.fluff += 1
        probs, warns = v.check(st)
        for line, col, msg in warns:
            print(f"WARN {path}:{line}:{col}: [{st.kind}] {msg}")
        if probs:
            bad += 1
            tally.failed += 1
            line, col, msg = probs[0]
            more = f" (+{len(probs) - 1} more)" if len(probs) > 1 and not verbose else ""
            print(f"FAIL {path}:{line}:{col}: [{st.kind}] {msg}{more}")
            if verbose:
                for line, col, msg in probs[1:]:
                    print(f"     {path}:{line}:{col}: [{st.kind}] {msg}")
    if verbose and not bad:
        kinds = ", ".join(st.kind for st in stmts) or "no statements"
        print(f"ok   {path}: {len(stmts)} statement(s): {kinds}")


# ------------------------------------------------------------------ self-test
GOOD = [
    # Hive DDL, sqlfluff athena
    (FLUFF_ATHENA, """CREATE TABLE IF NOT EXISTS checkout__orders.orders_v1 (
  order_id string COMMENT 'the order''s id',
  customer_id bigint,
  qty int,
  amount decimal(12,2) COMMENT 'EUR',
  paid boolean,
  order_date date,
  ts timestamp,
  ratio double,
  score float,
  payload binary,
  tags array<string>,
  addr struct<a:bigint,b:string>,
  attrs map<string,bigint>
)
PARTITIONED BY (day(ts), bucket(16, customer_id), truncate(4, order_id), order_date)
LOCATION 's3://bucket/checkout/orders/orders_v1/'
TBLPROPERTIES ('table_type' = 'ICEBERG', 'format' = 'parquet', 'write_compression' = 'zstd')"""),
    (FLUFF_ATHENA, "CREATE TABLE `checkout__orders`.`orders_v1` (`select` string) "
                   "LOCATION 's3://b/x/' TBLPROPERTIES ('table_type'='ICEBERG')"),
    (FLUFF_ATHENA, """CREATE EXTERNAL TABLE IF NOT EXISTS checkout__orders.landed (id string, n bigint)
PARTITIONED BY (export_date string)
STORED AS PARQUET
LOCATION 's3://bucket/landing/orders/'
TBLPROPERTIES ('parquet.compression' = 'SNAPPY', 'managed_by' = 'dpc')"""),
    (FLUFF_ATHENA, """CREATE EXTERNAL TABLE db.landed (id string)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://b/p/'"""),
    (FLUFF_ATHENA, """CREATE EXTERNAL TABLE db.csv_landed (id string, v decimal(10,2), c char(3), s varchar(20), t tinyint, u smallint)
PARTITIONED BY (export_date string COMMENT 'yyyy-MM-dd')
ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'
STORED AS TEXTFILE
LOCATION 's3://b/csv/'
TBLPROPERTIES ('skip.header.line.count' = '1', 'projection.enabled' = 'true',
  'projection.export_date.type' = 'date', 'projection.export_date.range' = '2020-01-01,NOW',
  'projection.export_date.format' = 'yyyy-MM-dd',
  'storage.location.template' = 's3://b/csv/export_date=${export_date}/')"""),
    (FLUFF_ATHENA, """CREATE EXTERNAL TABLE db.json_landed (id string, a array<struct<x:int,y:string>>)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true')
LOCATION 's3://b/json/'"""),
    (FLUFF_ATHENA, "ALTER TABLE checkout__orders.orders_v1 ADD COLUMNS (note string COMMENT 'free text', n bigint)"),
    (FLUFF_ATHENA, "ALTER TABLE db.t SET TBLPROPERTIES ('write_compression' = 'snappy')"),
    (FLUFF_ATHENA, "ALTER TABLE db.t REPLACE COLUMNS (a string, b bigint)"),
    (FLUFF_ATHENA, "DROP TABLE IF EXISTS `db`.`t`"),
    (FLUFF_ATHENA, "MSCK REPAIR TABLE db.landed"),
    (FLUFF_HIVE, "CREATE DATABASE IF NOT EXISTS checkout__orders COMMENT 'orders of checkout' "
                 "LOCATION 's3://b/checkout/' WITH DBPROPERTIES ('managed_by' = 'dpc', 'domain' = 'checkout')"),
    (FLUFF_HIVE, "CREATE SCHEMA IF NOT EXISTS `checkout__orders`"),
    # Trino
    (TRINO, """MERGE INTO checkout__orders.orders_v1 AS target
USING (SELECT id, amt, is_deleted FROM checkout__orders.staging) AS source
ON target.id = source.id
WHEN MATCHED AND source.is_deleted THEN DELETE
WHEN MATCHED THEN UPDATE SET amt = source.amt
WHEN NOT MATCHED AND NOT source.is_deleted THEN INSERT (id, amt) VALUES (source.id, source.amt)"""),
    (TRINO, "CREATE OR REPLACE VIEW \"checkout__orders\".\"orders_v\" AS SELECT transform(xs, x -> x + 1) AS ys, "
            "filter(xs, (x) -> x > 0) AS zs, try_cast(s AS integer) AS i, CAST(a AS decimal(12, 2)) AS d "
            "FROM checkout__orders.orders_v1 WHERE ts > current_timestamp - interval '1' day"),
    (TRINO, "SELECT o.id, e.v, e.n FROM db.t AS o CROSS JOIN UNNEST(o.items) WITH ORDINALITY AS e (v, n)"),
    (TRINO, "CREATE TABLE db.t2 WITH (table_type = 'ICEBERG', is_external = false, location = 's3://b/t2/', "
            "partitioning = ARRAY['day(ts)'], format = 'PARQUET') AS SELECT id, ts FROM db.t"),
    (TRINO, "INSERT INTO db.t (a, b) SELECT a, CAST(b AS varchar) FROM db.s WHERE x = 'it''s'"),
    (TRINO, "DELETE FROM db.t WHERE ts < current_date - interval '30' day"),
    (TRINO, "WITH x AS (SELECT 1 AS a) SELECT count(*) AS n, max_by(a, a) AS m FROM x HAVING count(*) > 0"),
]

BAD = [
    # Trino
    (TRINO, "MERGE INTO db.t AS target USING db.s AS source WHEN MATCHED THEN DELETE", "no ON", "expecting 'ON'"),
    (TRINO, "SELEC id FROM db.t", "misspelled keyword", 'SELEC'),
    (TRINO, "SELECT id FROM db.t WHERE (id = 1", "unbalanced parenthesis", "(ID = 1"),
    (TRINO, "CREATE TABLE db.t OPTIONS (description = 'x') AS SELECT 1 AS a", "BigQuery OPTIONS", 'OPTIONS'),
    (TRINO, "SELECT id FROM db.t QUALIFY row_number() OVER (PARTITION BY id) = 1", "BigQuery QUALIFY", 'ROW_NUMBER'),
    (TRINO, "SELECT SAFE_CAST(x AS INT64) FROM db.t", "BigQuery SAFE_CAST", 'SAFE_CAST'),
    (TRINO, "MERGE INTO db.t USING db.s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.a = s.a",
     "qualified SET target", "expecting '='"),
    (TRINO, "SELECT `id` FROM db.t", "backquoted identifier", 'backquoted identifiers are not supported'),
    (TRINO, "SELECT CAST(x AS string) FROM db.t", "Hive type name in DML", "unknown type 'string'"),
    (TRINO, "SELECT 1 AS a SELECT 2 AS b", "two statements without ;", 'expecting <EOF>'),
    (TRINO, "DELETE db.t WHERE x = 1", "DELETE without FROM", "missing 'FROM'"),
    (TRINO, "SELECT 'unterminated FROM db.t", "unterminated string", 'unterminated string literal'),
    # Hive DDL
    (FLUFF_ATHENA, "CREATE TABLE db.t (a string) OPTIONS (description = 'x')", "BigQuery OPTIONS", 'OPTIONS'),
    (FLUFF_ATHENA, "CREATE EXTERNAL TABLE db.t (a STRUCT<x INT64>) LOCATION 's3://b/'", "BigQuery STRUCT", 'unparsable'),
    (FLUFF_ATHENA, "CREATE EXTERNAL TABLE db.t (a string LOCATION 's3://b/'", "unbalanced parenthesis",
     "unparsable"),
    (FLUFF_ATHENA, "CREATE EXTERNAL TABLE db.t (a string) LOCATON 's3://b/'", "misspelled keyword", 'LOCATON'),
    (FLUFF_ATHENA, "ALTER TABLE db.t ADD COLUMNS c string", "ADD COLUMNS without parentheses", 'unparsable'),
    (FLUFF_ATHENA, "CREATE EXTERNAL TABLE db.t (a string) STORED AS PARQUETT LOCATION 's3://b/'", "bad format", 'PARQUETT'),
    (FLUFF_ATHENA, "CREATE EXTERNAL TABLE db.t (a string) STORED AS PARQUETFILE LOCATION 's3://b/'",
     "*FILE spelling", 'not an Athena file format'),
    (FLUFF_ATHENA, "CREATE TABLE db.t (\"a\" string) LOCATION 's3://b/' TBLPROPERTIES ('table_type'='ICEBERG')",
     "double-quoted identifier in DDL", 'double-quoted identifier'),
    (FLUFF_ATHENA, "CREATE EXTERNAL TABLE db.t (a string) LOCATION 's3://b/' TBLPROPERTIES ('table_type'='ICEBERG')",
     "Iceberg with EXTERNAL", 'External keyword not supported'),
    (FLUFF_ATHENA, "CREATE TABLE db.t (a tinyint) LOCATION 's3://b/' TBLPROPERTIES ('table_type'='ICEBERG')",
     "tinyint in Iceberg", 'not supported for Iceberg'),
    (FLUFF_ATHENA, "CREATE TABLE db.t (ts timestamp) PARTITIONED BY (days(ts)) LOCATION 's3://b/' "
                   "TBLPROPERTIES ('table_type'='ICEBERG')", "Spark transform name", "transform days"),
    (FLUFF_ATHENA, "CREATE TABLE db.t (a string) LOCATION 's3://b/' "
                   "TBLPROPERTIES ('table_type'='ICEBERG', 'managed_by'='dpc')", "custom Iceberg property", "'managed_by'"),
    (FLUFF_ATHENA, "CREATE TABLE db.t (a string) LOCATION 's3://b/'", "non-Iceberg without EXTERNAL", 'without EXTERNAL'),
    (FLUFF_ATHENA, "CREATE EXTERNAL TABLE db.t (a real) LOCATION 's3://b/'", "Trino type name in DDL", "type 'real'"),
    (FLUFF_ATHENA, "CREATE TABLE db.t (a string, ts timestamp) PARTITIONED BY (day(ts), b) LOCATION 's3://b/' "
                   "TBLPROPERTIES ('table_type'='ICEBERG')", "partition on undeclared column", "partition column b"),
    (FLUFF_HIVE, "CREATE DATABASE x WITH DBPROPERTIES (managed_by = 'dpc')", "unquoted property key", 'DBPROPERTIES'),
    (FLUFF_HIVE, "CREATE DATABASE x LOCATION 's3://b/' COMMENT 'x'", "clauses out of order", 'COMMENT'),
    (FLUFF_HIVE, "CREATE DATABASE x OPTIONS (description = 'x')", "BigQuery OPTIONS", 'OPTIONS'),
]

SPLIT_CASES = [
    # (text, expected statement kinds)
    ("-- header; not a statement\nCREATE DATABASE IF NOT EXISTS d COMMENT 'a;b' WITH DBPROPERTIES ('k'='v;');\n\n"
     "/* block; comment */ SELECT 'x;''y' AS \"a;b\", `c;d` FROM t;\n-- trailing; comment\n",
     [FLUFF_HIVE, TRINO]),
    ("CREATE EXTERNAL TABLE t (a string) ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\'' LOCATION 's3://b/';"
     "SELECT '\\' AS backslash;", [FLUFF_ATHENA, TRINO]),
    ("CREATE TABLE t WITH (format = 'PARQUET') AS SELECT 1 AS a;;\n;  ", [TRINO]),
]


def self_test(v: Validator) -> list[str]:
    problems = []
    for text, kinds in SPLIT_CASES:
        got = [s.kind for s in split_statements(text)]
        if got != kinds:
            problems.append(f"splitter: {text!r} -> {got}, expected {kinds}")
        for s in split_statements(text):
            if s.problem:
                problems.append(f"splitter: {text!r}: unexpected {s.problem}")
    # The good ones as one file: also tests the splitter and line mapping.
    for want, sql in GOOD:
        sts = split_statements(sql + ";\n")
        if len(sts) != 1 or sts[0].kind != want:
            problems.append(f"good statement routed to {[s.kind for s in sts]}, expected {want}: {sql[:70]!r}")
            continue
        probs, _ = v.check(sts[0])
        if probs:
            problems.append(f"[{want}] a valid statement was rejected: {sql[:70]!r} -> {probs[0]}")
    for want, sql, why, expect in BAD:
        sts = split_statements(sql)
        if len(sts) != 1 or sts[0].kind != want:
            problems.append(f"bad statement ({why}) routed to {[s.kind for s in sts]}, expected {want}")
            continue
        probs, _ = v.check(sts[0])
        if not probs:
            problems.append(f"[{want}] an invalid statement ({why}) was accepted: {sql!r}")
        elif expect.lower() not in probs[0][2].lower():
            problems.append(f"[{want}] {sql!r} ({why}) was rejected for an unexpected reason: {probs[0][2]}")
    # Positions: an error on line 3 of a statement starting on line 2 is on line 4.
    text = "SELECT 1 AS a;\nSELECT a,\n  b\nFROM t WHERE (a = 1;\n"
    sts = split_statements(text)
    probs, _ = v.check(sts[1])
    if not probs or probs[0][0] != 4:
        problems.append(f"line mapping: expected an error on line 4, got {probs}")
    n_bad = {k: sum(1 for w, *_ in BAD if w == k) for k in (TRINO, FLUFF_ATHENA, FLUFF_HIVE)}
    if n_bad[TRINO] < 5 or n_bad[FLUFF_ATHENA] + n_bad[FLUFF_HIVE] < 5:
        problems.append(f"too few known-bad statements: {n_bad}")
    return problems


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="validate_athena.py",
        description="Parse dpc's Athena artifacts: Hive DDL with sqlfluff, Trino SQL with Trino's grammar.")
    ap.add_argument("paths", nargs="*", metavar="PATH", help="a directory (its athena/**/*.sql) or a .sql file")
    ap.add_argument("-v", "--verbose", action="store_true", help="every message of a failing statement; ok lines")
    ap.add_argument("--self-test", action="store_true",
                    help="check known-good and known-bad statements first (alone: only that)")
    ap.add_argument("--time", action="store_true", help="print timings to stderr")
    args = ap.parse_args(argv)
    if not args.paths and not args.self_test:
        ap.error("give PATHs, or --self-test")

    t0 = time.perf_counter()
    v = Validator()
    t1 = time.perf_counter()
    if args.self_test:
        problems = self_test(v)
        t2 = time.perf_counter()
        if problems:
            for p in problems:
                print(f"validate-athena: self-test failed: {p}", file=sys.stderr)
            print("validate-athena: the validator cannot be trusted; nothing was validated", file=sys.stderr)
            return EXIT_BROKEN
        n_tr = sum(1 for k, _ in GOOD if k == TRINO) + sum(1 for k, *_ in BAD if k == TRINO)
        print(f"validate-athena: self-test passed ({len(GOOD)} good accepted, {len(BAD)} bad rejected; "
              f"{n_tr} trino, {len(GOOD) + len(BAD) - n_tr} sqlfluff) in {t2 - t1:.2f} s")
        t1 = t2
        if not args.paths:
            return EXIT_OK

    tally = Tally()
    for p in args.paths:
        if not os.path.exists(p):
            broken(f"{p}: no such file or directory")
        files = athena_files(p)
        if not files and os.path.isdir(p):
            n = athena_products(p)
            if n:
                print(f"FAIL {p}: manifest.json lists {n} Athena product(s) but there is no .sql file "
                      f"under an athena/ directory")
                tally.failed += 1
        for f in files:
            validate_file(v, f, tally, args.verbose)
    t2 = time.perf_counter()
    print(f"athena: {tally.stmts} statements ({tally.trino} trino, {tally.fluff} sqlfluff) in {tally.files} "
          f"file(s), {tally.failed} failed")
    if args.time:
        print(f"validate-athena: start-up {t1 - t0:.2f} s, validation {t2 - t1:.2f} s", file=sys.stderr)
    return EXIT_FAIL if tally.failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
