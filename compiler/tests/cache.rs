//! The check cache: a run that takes products from it gives exactly what a
//! run without it gives, and a change reaches every product it can affect.

use dpc::load::SourceTree;
use dpc::CheckCache;
use std::path::Path;

const BUILD: &str = "test build";

/// Artifacts, and the diagnostics rendered (snippets show the spans).
type Output = (Vec<(String, String)>, String);

fn run(tree: &SourceTree, cache: Option<&CheckCache>) -> Output {
    let c = dpc::compile_with_threads(tree.clone(), true, 0, cache);
    let artifacts = c.artifacts.unwrap_or_default().into_iter().map(|a| (a.path, a.contents)).collect();
    let diagnostics = dpc::diagnostic::render_human(&c.diagnostics, &c.sources, false);
    (artifacts, diagnostics)
}

/// Runs `tree` with the cache that `bytes` holds; what it gave, its counts
/// (reused, checked) and the cache for the next run.
fn run_cached(tree: &SourceTree, bytes: &[u8]) -> (Output, (usize, usize), Vec<u8>) {
    let cache = CheckCache::from_bytes(bytes, BUILD);
    let output = run(tree, Some(&cache));
    (output, cache.counts(), cache.to_bytes(BUILD))
}

#[test]
fn a_run_from_the_cache_gives_what_a_fresh_run_gives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cases = vec![root.join("examples/shop-bigquery"), root.join("examples/shop-athena")];
    for kind in ["golden-tests/ok", "golden-tests/err"] {
        let mut dirs: Vec<_> = std::fs::read_dir(root.join(kind)).unwrap().map(|e| e.unwrap().path()).collect();
        dirs.sort();
        cases.extend(dirs.into_iter().filter(|d| d.join("dpc.toml").exists()));
    }
    let mut reused_in_all = 0;
    for case in &cases {
        let tree = dpc::load::read_tree(case).unwrap();
        let fresh = run(&tree, None);
        let (filled, (reused, checked), bytes) = run_cached(&tree, &[]);
        assert_eq!(reused, 0, "{}: an empty cache has nothing", case.display());
        assert!(filled == fresh, "{}: filling the cache changes nothing", case.display());
        let (cached, (reused, rechecked), _) = run_cached(&tree, &bytes);
        assert!(cached == fresh, "{}: a run from the cache gives the same artifacts and diagnostics", case.display());
        assert_eq!((reused, rechecked), (checked, 0), "{}: every product comes from the cache", case.display());
        reused_in_all += reused;
    }
    assert!(reused_in_all > 100, "the cases check products ({reused_in_all} reused)");
}

/// Runs `tree` from the cache in `bytes`: it must check `checked` of its
/// products again (`why`) and give what a fresh run gives.
fn rerun(tree: &SourceTree, bytes: &[u8], checked: (usize, usize), why: &str) -> Output {
    let (output, counts, _) = run_cached(tree, bytes);
    assert_eq!(counts, checked, "{why}");
    assert!(output == run(tree, None), "the same artifacts and diagnostics as a fresh run");
    output
}

/// `u`'s query before any change.
const U_SQL: &str = "SELECT id, amount FROM src\n";

/// The cache that checking `mesh(U_SQL)` leaves.
fn filled_cache() -> Vec<u8> {
    run_cached(&mesh(U_SQL), &[]).2
}

/// `u` publishes `amount` without a contract; `d` reads it through `u`'s port.
fn mesh(u_sql: &str) -> SourceTree {
    let mut tree = SourceTree::default();
    let files = [
        ("dpc.toml", "[mesh]\nname = \"m\"\n[targets.bigquery]\nproject = \"acme\"\n".to_string()),
        (
            "products/s/u/product.toml",
            "name = \"u\"\ndomain = \"s\"\nowner = \"o@x\"\n[inputs.src]\nkind = \"export\"\ncolumns.id = { type = \"INT64\", required = true }\ncolumns.amount = { type = \"NUMERIC\" }\n[outputs.u]\nversion = 1\nquery = \"u.sql\"\n".to_string(),
        ),
        ("products/s/u/u.sql", u_sql.to_string()),
        (
            "products/s/d/product.toml",
            "name = \"d\"\ndomain = \"s\"\nowner = \"o@x\"\n[inputs.u]\nproduct = \"s.u\"\nport = \"u\"\nversion = 1\n[outputs.d]\nversion = 1\nquery = \"d.sql\"\n[outputs.d.columns]\nid = { type = \"INT64\", required = true }\ndoubled = { type = \"NUMERIC\" }\n".to_string(),
        ),
        ("products/s/d/d.sql", "SELECT id, amount * 2 AS doubled FROM u\n".to_string()),
    ];
    for (path, text) in files {
        tree.files.insert(path.into(), text);
    }
    tree
}

#[test]
fn a_changed_upstream_schema_checks_its_consumers_again() {
    let bytes = filled_cache();
    // `amount` becomes a STRING: `d` must see it and fail.
    let changed = mesh("SELECT id, CAST(amount AS STRING) AS amount FROM src\n");
    let output = rerun(&changed, &bytes, (0, 2), "both products are checked again");
    assert!(output.1.contains("DPC03"), "d's query no longer checks:\n{}", output.1);
}

#[test]
fn a_change_that_keeps_the_schema_checks_only_its_own_product() {
    let bytes = filled_cache();
    let commented = mesh("-- the amounts as exported\nSELECT id, amount FROM src\n");
    rerun(&commented, &bytes, (1, 1), "d is taken from the cache, u is checked");
}

#[test]
fn a_new_product_moves_no_span_of_the_cached_ones() {
    // Files are numbered in path order: a product whose files come first
    // shifts every other file's number; cached spans must follow.
    let bytes = filled_cache();
    let mut grown = mesh(U_SQL);
    grown.files.insert(
        "products/a/first/product.toml".into(),
        "name = \"first\"\ndomain = \"a\"\nowner = \"o@x\"\n[inputs.u]\nproduct = \"s.u\"\nport = \"u\"\nversion = 1\n[outputs.first]\nversion = 1\nquery = \"first.sql\"\n".into(),
    );
    grown.files.insert("products/a/first/first.sql".into(), "SELECT id FROM u WHERE amount > 0\n".into());
    let output = rerun(&grown, &bytes, (2, 1), "only the new product is checked");
    assert!(output.1.contains("products/s/u/product.toml"), "u's warning is shown:\n{}", output.1);
}

#[test]
fn a_cache_of_another_build_or_unreadable_is_empty() {
    let tree = mesh(U_SQL);
    let bytes = filled_cache();
    let other = CheckCache::from_bytes(&bytes, "another build");
    run(&tree, Some(&other));
    assert_eq!(other.counts(), (0, 2));
    for garbage in [&bytes[..bytes.len() / 2], b"not a cache", &[0xff; 64]] {
        rerun(&tree, garbage, (0, 2), "an unreadable cache has nothing");
    }
}
