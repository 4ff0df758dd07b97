//! The BigQuery type-checking corpus (`golden-tests/typecheck/bigquery/`):
//! valid queries whose output schema must equal ZetaSQL's, and invalid ones
//! that must give a given error code. `cases.json` is produced by
//! `scripts/typecheck_oracle.py` (ZetaSQL is the oracle, never dpc).
//!
//! `known-gaps.txt` lists, one per line as `name: reason`, the cases dpc
//! does not get right yet. They are checked too: a listed case that starts
//! passing fails the test, so the list only ever shrinks.

use dpc::load::SourceTree;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn corpus() -> (Value, BTreeMap<String, String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden-tests/typecheck/bigquery");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let gaps = std::fs::read_to_string(dir.join("known-gaps.txt")).unwrap_or_default();
    let gaps = gaps
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, why) = l.split_once(':').unwrap_or((l, ""));
            (name.trim().to_string(), why.trim().to_string())
        })
        .collect();
    (cases, gaps)
}

/// A mesh with one product: every corpus table an export input, the query its port.
fn mesh(tables: &Value, sql: &str) -> SourceTree {
    let mut product = String::from("name = \"q\"\ndomain = \"t\"\nowner = \"t@x\"\n");
    for (name, cols) in tables.as_object().unwrap() {
        product.push_str(&format!("\n[inputs.{name}]\nkind = \"export\"\n"));
        for c in cols.as_array().unwrap() {
            let (n, t, r) =
                (c["name"].as_str().unwrap(), c["type"].as_str().unwrap(), c["required"].as_bool().unwrap_or(false));
            product.push_str(&format!("columns.{n} = {{ type = \"{t}\", required = {r} }}\n"));
        }
    }
    product.push_str("\n[outputs.out]\nversion = 1\n");
    let mut tree = SourceTree::default();
    tree.files.insert("dpc.toml".into(), "[mesh]\nname = \"t\"\n[targets.bigquery]\nproject = \"acme-data\"\n".into());
    tree.files.insert("products/t/q/product.toml".into(), product);
    tree.files.insert("products/t/q/out.sql".into(), sql.into());
    tree
}

fn norm(t: &str) -> String {
    t.split_whitespace().collect::<String>().to_ascii_uppercase()
}

/// Why a case fails, or None when dpc gets it right.
fn run(tables: &Value, case: &Value, valid: bool) -> Option<String> {
    let c = dpc::compile(mesh(tables, case["sql"].as_str().unwrap()), false);
    // Warnings that mean "dpc does not know" count as failures of a valid case.
    let problems: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.is_error() || matches!(d.code.0, "DPC0308" | "DPC0319"))
        .map(|d| format!("{} {}", d.code.0, d.message))
        .collect();
    if valid {
        if !problems.is_empty() {
            return Some(format!("false diagnostics: {}", problems.join("; ")));
        }
        let got: Vec<(String, String)> = c
            .inferred
            .iter()
            .find(|(id, _)| id == "t.q.out")
            .and_then(|(_, c)| c.clone())?
            .into_iter()
            .map(|(n, t)| (n, norm(&t)))
            .collect();
        let want: Vec<(String, String)> = case["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_string(), norm(c["type"].as_str().unwrap())))
            .collect();
        (got != want).then(|| format!("schema differs:\n      zetasql: {want:?}\n      dpc:     {got:?}"))
    } else {
        let code = case["code"].as_str().unwrap();
        let codes: Vec<&str> = c.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.0).collect();
        (!codes.contains(&code)).then(|| format!("expected {code}, got [{}]", problems.join("; ")))
    }
}

#[test]
fn bigquery_corpus_agrees_with_zetasql() {
    let (cases, gaps) = corpus();
    let tables = &cases["tables"];
    let mut failures = vec![];
    let mut fixed = vec![];
    let mut counts = (0, 0);
    for (kind, valid) in [("valid", true), ("invalid", false)] {
        for case in cases[kind].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let outcome = run(tables, case, valid);
            if valid {
                counts.0 += 1
            } else {
                counts.1 += 1
            }
            match (outcome, gaps.contains_key(name)) {
                (Some(why), false) => failures.push(format!("{kind} {name}: {why}")),
                (None, true) => fixed.push(format!("{name} passes now: remove it from known-gaps.txt")),
                _ => {}
            }
        }
    }
    assert!(counts.0 >= 60 && counts.1 >= 40, "corpus too small: {counts:?}");
    let unknown: Vec<&String> = gaps
        .keys()
        .filter(|g| {
            !["valid", "invalid"].iter().any(|k| cases[k].as_array().unwrap().iter().any(|c| c["name"] == g.as_str()))
        })
        .collect();
    assert!(unknown.is_empty(), "known-gaps.txt names cases that do not exist: {unknown:?}");
    assert!(failures.is_empty() && fixed.is_empty(), "{}\n{}", failures.join("\n"), fixed.join("\n"));
}
