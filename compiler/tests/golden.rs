//! Golden tests: every case under `golden-tests/` runs through the real
//! `dpc` binary and is compared with its expected files.
//!
//! - `golden-tests/ok/<case>/`: a mesh (or a `source` file naming one) that
//!   must build; `expected/` holds the whole artifact tree (missing and extra
//!   files fail) and `expected/stderr.txt` what `dpc build` printed.
//! - `golden-tests/err/<case>/`: a mesh that must fail with exit code 1;
//!   `expected.txt` holds the rendered diagnostics.
//!
//! `DPC_BLESS=1 cargo test` rewrites the expected files; read the diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn bless() -> bool {
    std::env::var_os("DPC_BLESS").is_some_and(|v| v == "1")
}

fn dpc(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_dpc")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = repo().join("golden-tests").join(kind);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    cases.sort();
    cases
}

/// Every file below `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return files;
    }
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            files.insert(rel, std::fs::read_to_string(e.path()).unwrap());
        }
    }
    files
}

fn write_tree(dir: &Path, files: &BTreeMap<String, String>) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn mesh_of(case: &Path) -> PathBuf {
    match std::fs::read_to_string(case.join("source")) {
        Ok(rel) => case.join(rel.trim()),
        Err(_) => case.to_path_buf(),
    }
}

/// A readable first difference between two texts.
fn first_diff(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1);
        }
    }
    format!("lengths differ: expected {} lines, got {}", expected.lines().count(), actual.lines().count())
}

#[test]
fn ok_cases_build_and_match_their_artifacts() {
    let mut failures = vec![];
    let all = cases("ok");
    assert!(!all.is_empty(), "no golden-tests/ok cases");
    for case in all {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let mesh = mesh_of(&case);
        let (code, _, stderr) = dpc(tmp.path(), &["build", "-C", mesh.to_str().unwrap(), "--out", "out"]);
        if code != 0 {
            failures.push(format!("{name}: exit code {code}\n{stderr}"));
            continue;
        }
        let mut actual = tree(&tmp.path().join("out"));
        actual.insert("stderr.txt".into(), stderr);
        let expected_dir = case.join("expected");
        if bless() {
            write_tree(&expected_dir, &actual);
            continue;
        }
        let expected = tree(&expected_dir);
        for path in expected.keys().chain(actual.keys()).collect::<std::collections::BTreeSet<_>>() {
            match (expected.get(path), actual.get(path)) {
                (Some(e), Some(a)) if e != a => failures.push(format!("{name}: {path} differs, {}", first_diff(e, a))),
                (Some(_), None) => failures.push(format!("{name}: {path} is expected but was not written")),
                (None, Some(_)) => failures.push(format!("{name}: {path} was written but is not expected")),
                _ => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden ok failures (DPC_BLESS=1 to accept, then read the diff):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn err_cases_fail_with_their_diagnostics() {
    let mut failures = vec![];
    let all = cases("err");
    assert!(all.len() >= 30, "only {} golden-tests/err cases", all.len());
    for case in all {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let (code, _, stderr) = dpc(&repo(), &["check", "-C", case.to_str().unwrap()]);
        if code != 1 {
            failures.push(format!("{name}: exit code {code}, expected 1\n{stderr}"));
        }
        let expected_file = case.join("expected.txt");
        if bless() {
            std::fs::write(&expected_file, &stderr).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
        if expected != stderr {
            failures.push(format!("{name}: diagnostics differ, {}", first_diff(&expected, &stderr)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden err failures (DPC_BLESS=1 to accept, then read the diff):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_code_has_an_explanation_and_a_golden_case() {
    let mut seen = String::new();
    for kind in ["err", "ok", "diff"] {
        for case in cases(kind) {
            for f in ["expected.txt", "expected/stderr.txt"] {
                seen.push_str(&std::fs::read_to_string(case.join(f)).unwrap_or_default());
            }
        }
    }
    let mut missing = vec![];
    for c in dpc::codes::ALL {
        if c.explanation.contains("TODO") || c.explanation.lines().count() < 5 {
            missing.push(format!("{}: no explanation in docs/codes/{}.md", c.code, c.code));
        }
        // DPC0901 is a bug in dpc by definition: no mesh should show it.
        if !seen.contains(c.code) && c.code != "DPC0901" {
            missing.push(format!("{}: no golden case shows it", c.code));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// `golden-tests/diff/<case>/{before,after}`: `dpc diff` of `after` against
/// the manifest of `before`; `expected.txt` holds the exit code and output.
#[test]
fn diff_cases_report_their_changes() {
    let mut failures = vec![];
    let all = cases("diff");
    assert!(!all.is_empty(), "no golden-tests/diff cases");
    for case in all {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let (code, _, stderr) =
            dpc(tmp.path(), &["build", "-C", case.join("before").to_str().unwrap(), "--out", "base"]);
        assert_eq!(code, 0, "{name}: the base must build\n{stderr}");
        let base = tmp.path().join("base/manifest.json");
        let mut actual = String::new();
        let after = case.join("after");
        for format in ["human", "json", "github", "sarif", "markdown"] {
            let args = ["diff", "-C", after.to_str().unwrap(), "--base-manifest", base.to_str().unwrap()];
            let (code, stdout, stderr) =
                dpc(tmp.path(), &[&args[..], &["--today", "2026-11-24", "--format", format]].concat());
            actual.push_str(&format!("== --format {format}: exit {code}\n{stdout}{stderr}"));
        }
        // `dpc build --base-manifest`: the migrations, or the refusal.
        let args = ["build", "-C", after.to_str().unwrap(), "--out", "out", "--base-manifest", base.to_str().unwrap()];
        let (code, _, stderr) = dpc(tmp.path(), &args);
        actual.push_str(&format!("== build --base-manifest: exit {code}\n"));
        if code != 0 {
            actual.push_str(stderr.lines().last().unwrap_or_default());
            actual.push('\n');
        }
        for (path, text) in tree(&tmp.path().join("out")).iter().filter(|(p, _)| p.contains("/migrations/")) {
            actual.push_str(&format!("--- {path}\n{text}"));
        }
        let expected_file = case.join("expected.txt");
        if bless() {
            std::fs::write(&expected_file, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
        if expected != actual {
            failures.push(format!("{name}: {}", first_diff(&expected, &actual)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
