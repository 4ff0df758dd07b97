//! Whole builds: byte-identical output whatever the order of files on
//! disk, and a failed build that leaves the previous output untouched.

use std::path::Path;
use std::process::Command;

fn copy_tree(from: &Path, to: &Path, reverse: bool) {
    let mut entries: Vec<_> =
        walkdir::WalkDir::new(from).into_iter().filter_map(|e| e.ok()).filter(|e| e.file_type().is_file()).collect();
    // Files are created in the opposite order to change what the directory lists first.
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    if reverse {
        entries.reverse();
    }
    for e in entries {
        let rel = e.path().strip_prefix(from).unwrap();
        if rel.starts_with("target") {
            continue;
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(e.path(), dest).unwrap();
    }
}

fn build(mesh: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dpc"))
        .args(["build", "-C"])
        .arg(mesh)
        .arg("--out")
        .arg(out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn the_same_mesh_in_any_file_order_gives_byte_identical_artifacts() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop-bigquery");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    copy_tree(&example, &a, false);
    copy_tree(&example, &b, true);
    assert!(build(&a, &tmp.path().join("out-a")).status.success());
    assert!(build(&b, &tmp.path().join("out-b")).status.success());
    let (x, y) = (read_all(&tmp.path().join("out-a")), read_all(&tmp.path().join("out-b")));
    assert!(x.len() > 20);
    assert!(x == y, "artifacts differ between the two copies");
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop-bigquery");
    let tmp = tempfile::tempdir().unwrap();
    let mesh = tmp.path().join("mesh");
    copy_tree(&example, &mesh, false);
    let out = tmp.path().join("out");
    assert!(build(&mesh, &out).status.success());
    let before = read_all(&out);
    // Break one query: the build must fail and write nothing.
    std::fs::write(mesh.join("products/checkout/orders/orders.sql"), "SELECT no_such_column FROM shop_orders\n")
        .unwrap();
    let failed = build(&mesh, &out);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(read_all(&out), before);
    let leftovers: Vec<_> =
        std::fs::read_dir(tmp.path()).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no staging directory is left behind: {leftovers:?}");
}

#[test]
fn a_build_writes_exactly_the_artifacts_of_an_in_memory_compile() {
    // `dpc build` streams each product's files to disk as they are made;
    // what lands must be what the in-memory compile (the goldens) gives.
    for case in ["../examples/shop-bigquery", "../examples/shop-athena", "../golden-tests/ok/ingest-athena"] {
        let mesh = Path::new(env!("CARGO_MANIFEST_DIR")).join(case);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        assert!(build(&mesh, &out).status.success(), "{case} builds");
        let tree = dpc::load::read_tree(&mesh).unwrap();
        let mut expected: Vec<(String, Vec<u8>)> = dpc::compile(tree, true)
            .artifacts
            .unwrap()
            .into_iter()
            .map(|a| (a.path, a.contents.into_bytes()))
            .collect();
        expected.sort();
        let written = read_all(&out);
        let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&written), names(&expected), "{case}: the same files");
        assert!(written == expected, "{case}: the same contents");
    }
}

#[test]
fn a_build_with_errors_creates_nothing_and_an_unwritable_output_exits_2() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop-bigquery");
    let tmp = tempfile::tempdir().unwrap();
    let mesh = tmp.path().join("mesh");
    copy_tree(&example, &mesh, false);
    // The output's parent is a file: the first product's files cannot land.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let failed = build(&mesh, &blocker.join("out"));
    assert_eq!(failed.status.code(), Some(2), "{}", String::from_utf8_lossy(&failed.stderr));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("cannot write"));
    // A mesh with errors writes nothing at all, not even the output's parents.
    std::fs::write(mesh.join("products/checkout/orders/orders.sql"), "SELECT no_such_column FROM shop_orders\n")
        .unwrap();
    let out = tmp.path().join("fresh").join("out");
    assert_eq!(build(&mesh, &out).status.code(), Some(1));
    assert!(!tmp.path().join("fresh").exists(), "nothing is created for a failed build");
}

#[test]
fn init_scaffolds_a_mesh_that_checks_clean_and_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new-mesh");
    let init = Command::new(env!("CARGO_BIN_EXE_dpc")).arg("init").arg(&dir).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out = build(&dir, &dir.join("target/dpc"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("ok: no errors, 0 warnings"), "{stderr}");
    assert!(dir.join("target/dpc/bigquery/sales__orders/jobs/orders.sql").exists());
    // A second init refuses to overwrite.
    let again = Command::new(env!("CARGO_BIN_EXE_dpc")).arg("init").arg(&dir).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn a_second_check_takes_the_products_from_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    assert!(Command::new(env!("CARGO_BIN_EXE_dpc")).arg("init").arg(&dir).output().unwrap().status.success());
    assert!(std::fs::read_to_string(dir.join(".gitignore")).unwrap().contains("/target/"));
    let check = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dpc"))
            .args(["check", "--timings"])
            .args(extra)
            .arg("-C")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(check(&["--no-cache"]).lines().all(|l| !l.starts_with("cache:")));
    assert!(!dir.join("target/dpc-cache").exists(), "--no-cache writes no cache");
    assert!(check(&[]).contains("cache: 0 products reused, 1 checked"));
    assert!(dir.join("target/dpc-cache/check").is_file());
    assert!(check(&[]).contains("cache: 1 products reused, 0 checked"));
    std::fs::write(dir.join("products/sales/orders/orders.sql"), "SELECT order_idd FROM shop_orders\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dpc")).args(["check", "-C"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "an edited query is checked again");
    assert!(String::from_utf8_lossy(&out.stderr).contains("order_idd"));
}

#[test]
fn init_scaffolds_an_athena_mesh_that_checks_clean_and_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lake");
    let init = Command::new(env!("CARGO_BIN_EXE_dpc")).args(["init", "--target", "athena"]).arg(&dir).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out = build(&dir, &dir.join("target/dpc"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("ok: no errors, 0 warnings"), "{stderr}");
    let job = std::fs::read_to_string(dir.join("target/dpc/athena/sales__orders/jobs/orders.sql")).unwrap();
    assert!(job.contains("MERGE INTO \"sales__orders\".\"orders_v1\""), "{job}");
    let ddl = std::fs::read_to_string(dir.join("target/dpc/athena/sales__orders/ddl.sql")).unwrap();
    assert!(ddl.contains("'table_type' = 'ICEBERG'") && ddl.contains("s3://my-data-products/sales/orders/"), "{ddl}");
}

#[test]
fn usage_errors_exit_2_and_explain_knows_every_code() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dpc")).args(["check", "-C"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_dpc")).args(["explain", "dpc0302"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# DPC0302"));
    let out = Command::new(env!("CARGO_BIN_EXE_dpc")).args(["explain", "DPC9999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_diagnostics_carry_code_file_line_and_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    assert!(Command::new(env!("CARGO_BIN_EXE_dpc")).arg("init").arg(&dir).output().unwrap().status.success());
    std::fs::write(dir.join("products/sales/orders/orders.sql"), "SELECT order_idd FROM shop_orders\n").unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_dpc")).args(["check", "--format", "json", "-C"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &doc["diagnostics"][0];
    assert_eq!(first["code"], "DPC0302");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "products/sales/orders/orders.sql");
    assert_eq!(first["line"], 1);
    assert_eq!(first["column"], 8);
    assert_eq!(first["help"], "did you mean `order_id`?");
    assert!(doc["errors"].as_u64().unwrap() >= 1);
}

#[test]
fn lineage_command_walks_across_products() {
    let tmp = tempfile::tempdir().unwrap();
    let example = tmp.path().join("shop");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop-bigquery"), &example, false);
    let run = |args: &[&str]| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_dpc")).arg("lineage").arg("-C").arg(&example).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, text) = run(&["marketing.email_audience.email_audience.email"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        text,
        "marketing.email_audience.email_audience.email  [pii]\n\
         └── customers.profiles.profiles.email  [pii]\n    \
         └── customers.profiles:accounts.email  [pii]\n"
    );
    // The first run left a check cache; the next takes the mesh from it.
    let cache = example.join("target/dpc-cache/check");
    let written = std::fs::metadata(&cache).and_then(|m| m.modified()).unwrap();
    assert_eq!(run(&["marketing.email_audience.email_audience.email"]), (code, text));
    assert_eq!(std::fs::metadata(&cache).and_then(|m| m.modified()).unwrap(), written, "nothing new to cache");
    let (_, down) = run(&["customers.profiles.profiles.email", "--downstream"]);
    assert!(down.contains("└── marketing.email_audience.email_audience.email"), "{down}");
    let (_, json) = run(&["fulfillment.shipments.shipments.order_id", "--format", "json", "--depth", "1"]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc[0]["children"][0]["column"], "checkout.orders.orders.order_id");
    assert!(doc[0]["children"][0]["children"].as_array().unwrap().is_empty(), "depth 1 stops there");
    let (code, _) = run(&["no.such"]);
    assert_eq!(code, Some(2));
}

#[test]
fn diff_against_the_previous_commit_of_a_real_git_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).current_dir(repo).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden-tests/diff/type-narrowed-breaks-its-readers");
    copy_tree(&base.join("before"), repo, false);
    git(&["init", "-q"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@x", "add", "."]);
    git(&["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "base"]);
    copy_tree(&base.join("after"), repo, false);
    // Second commit: the change under review; compare HEAD with HEAD~1.
    git(&["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qam", "change"]);
    let before_edit = std::fs::read_to_string(repo.join("products/checkout/orders/product.toml")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dpc"))
        .args(["diff", "--base", "HEAD~1", "--today", "2026-11-24", "--format", "json", "-C"])
        .arg(repo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let breaking: Vec<&serde_json::Value> =
        doc["changes"].as_array().unwrap().iter().filter(|c| c["impact"] == "breaking").collect();
    assert_eq!(breaking.len(), 1);
    assert_eq!(breaking[0]["column"], "amount");
    assert_eq!(breaking[0]["consumers"], serde_json::json!(["finance.revenue"]));
    assert_eq!(doc["diagnostics"][0]["code"], "DPC0502");
    // The working tree is as it was.
    assert_eq!(std::fs::read_to_string(repo.join("products/checkout/orders/product.toml")).unwrap(), before_edit);
}

#[test]
fn sarif_output_has_the_fields_code_scanning_requires() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden-tests/err/contract-type-mismatch");
    let out =
        Command::new(env!("CARGO_BIN_EXE_dpc")).args(["check", "--format", "sarif", "-C"]).arg(&case).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "dpc");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "ruleIndex points at the rule");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1 && region["startColumn"].as_u64().unwrap() >= 1);
        // Paths are from the repository root (the case sits in golden-tests/err/...).
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("golden-tests/err/contract-type-mismatch/products/"), "{uri}");
    }
    // The contract mismatch points at the SQL and, as a related location, at the TOML.
    assert!(results.iter().any(|r| r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .is_some_and(|u| u.ends_with("product.toml"))));
}

#[test]
fn any_thread_count_gives_byte_identical_artifacts_and_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for mesh in ["examples/shop-bigquery", "examples/shop-athena", "golden-tests/conformance/tpch-bigquery"] {
        let run = |threads: usize| {
            let tree = dpc::load::read_tree(&root.join(mesh)).unwrap();
            let c = dpc::compile_with_threads(tree, true, threads, None);
            let diagnostics = dpc::diagnostic::render_json(&c.diagnostics, &c.sources);
            (c.artifacts.expect("the mesh builds"), diagnostics)
        };
        let one = run(1);
        for threads in [2, 3, 8] {
            assert!(run(threads) == one, "{mesh}: {threads} threads give other output than one");
        }
    }
}

#[cfg(unix)]
#[test]
fn a_rebuild_links_unchanged_files_and_writes_what_changed() {
    use std::os::unix::fs::MetadataExt;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop-bigquery");
    let tmp = tempfile::tempdir().unwrap();
    let mesh = tmp.path().join("mesh");
    copy_tree(&example, &mesh, false);
    let out = tmp.path().join("out");
    let inodes = |dir: &Path| -> std::collections::BTreeMap<String, u64> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| (e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned(), e.metadata().unwrap().ino()))
            .collect()
    };
    assert!(build(&mesh, &out).status.success());
    let (first, first_inodes) = (read_all(&out), inodes(&out));

    // Nothing changed: every per-product file is the old one.
    assert!(build(&mesh, &out).status.success());
    assert_eq!(read_all(&out), first);
    let again = inodes(&out);
    let per_product = |path: &String| path.starts_with("bigquery/") || path.starts_with("airflow/");
    assert!(first_inodes.keys().filter(|p| per_product(p)).count() > 20);
    for (path, ino) in first_inodes.iter().filter(|(p, _)| per_product(p)) {
        assert_eq!(again.get(path), Some(ino), "{path} was written again though unchanged");
    }

    // One product's description changes: its files are new, the others kept,
    // and the output is what a fresh build writes.
    let toml = mesh.join("products/checkout/orders/product.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("Orders placed in the web shop", "Orders placed online")).unwrap();
    assert!(build(&mesh, &out).status.success());
    let fresh = tmp.path().join("fresh");
    assert!(build(&mesh, &fresh).status.success());
    let rebuilt = read_all(&out);
    assert_eq!(rebuilt, read_all(&fresh));
    let after = inodes(&out);
    let (mut kept, mut rewritten) = (0, 0);
    for ((path, bytes), (old_path, old_bytes)) in rebuilt.iter().zip(&first) {
        assert_eq!(path, old_path);
        if !per_product(path) {
            continue;
        }
        if bytes == old_bytes {
            assert_eq!(after[path], first_inodes[path], "{path} is unchanged but was written again");
            kept += 1;
        } else {
            assert_ne!(after[path], first_inodes[path], "{path} changed but kept its old file");
            rewritten += 1;
        }
    }
    assert!(kept > 20 && rewritten >= 1, "kept {kept}, rewritten {rewritten}");
}
