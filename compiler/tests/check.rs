//! Small checker tests: one query over one export input `t`, through the
//! whole pipeline in memory. `infer` gives the output columns (name, type,
//! nullable) or the diagnostics' codes and messages.

use dpc::load::SourceTree;

const T: &str = r#"columns.id = { type = "INT64", required = true }
columns.n  = { type = "NUMERIC" }
columns.s  = { type = "STRING" }
columns.d  = { type = "DATE", required = true }
columns.ts = { type = "TIMESTAMP" }
columns.st = { type = "STRUCT<x INT64, y ARRAY<STRING>>" }
columns.a  = { type = "ARRAY<STRUCT<k STRING, v INT64>>" }
"#;

fn mesh(sql: &str) -> SourceTree {
    let mut tree = SourceTree::default();
    tree.files.insert("dpc.toml".into(), "[mesh]\nname = \"m\"\n[targets.bigquery]\nproject = \"acme-data\"\n".into());
    let product = format!(
        "name = \"p\"\ndomain = \"d\"\nowner = \"o@x\"\n[inputs.t]\nkind = \"export\"\n{T}\n[inputs.u]\nkind = \"export\"\ncolumns.id = {{ type = \"INT64\", required = true }}\ncolumns.k = {{ type = \"STRING\" }}\n[outputs.out]\nversion = 1\n"
    );
    tree.files.insert("products/d/p/product.toml".into(), product);
    tree.files.insert("products/d/p/out.sql".into(), sql.into());
    tree
}

/// `name TYPE [NOT NULL], ...` or the error codes with messages.
fn infer(sql: &str) -> String {
    let c = dpc::compile(mesh(sql), false);
    let problems: Vec<String> =
        c.diagnostics.iter().filter(|d| d.code.0 != "DPC0356").map(|d| format!("{} {}", d.code.0, d.message)).collect();
    if !problems.is_empty() {
        return problems.join("\n");
    }
    let (_, cols) = c.inferred.iter().find(|(id, _)| id == "d.p.out").unwrap();
    cols.as_ref().unwrap().iter().map(|(n, t)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")
}

#[test]
fn literals_coerce_to_the_other_operand() {
    assert_eq!(
        infer("SELECT n * 0.5 AS a, id * 0.5 AS b, id / 2 AS c, n + 1 AS e FROM t"),
        "a NUMERIC, b FLOAT64, c FLOAT64, e NUMERIC"
    );
    assert_eq!(infer("SELECT IF(id > 0, 1, 2.5) AS x, COALESCE(id, n) AS y FROM t"), "x FLOAT64, y NUMERIC");
}

#[test]
fn using_join_puts_the_merged_column_first_and_resolves_it_unambiguously() {
    assert_eq!(infer("SELECT * EXCEPT (n, s, d, ts, st, a) FROM t JOIN u USING (id)"), "id INT64, k STRING");
    assert_eq!(infer("SELECT id, u.k FROM t LEFT JOIN u USING (id)"), "id INT64, k STRING");
}

#[test]
fn ambiguous_and_unknown_columns_are_reported_with_suggestions() {
    assert_eq!(infer("SELECT id FROM t JOIN u ON t.id = u.id"), "DPC0303 column `id` is ambiguous");
    assert_eq!(infer("SELECT nn FROM t"), "DPC0302 unknown column `nn`");
    assert_eq!(infer("SELECT * FROM tt"), "DPC0301 unknown table `tt`");
}

#[test]
fn group_by_alias_wins_and_ungrouped_columns_are_errors() {
    assert_eq!(infer("SELECT s AS id, COUNT(*) AS c FROM t GROUP BY id"), "id STRING, c INT64");
    assert_eq!(infer("SELECT s, n FROM t GROUP BY s"), "DPC0305 column `n` is neither grouped nor aggregated");
    assert_eq!(infer("SELECT s, SUM(n) AS total FROM t GROUP BY 1"), "s STRING, total NUMERIC");
    assert_eq!(infer("SELECT UPPER(s) AS u, COUNT(*) AS c FROM t GROUP BY UPPER(s)"), "u STRING, c INT64");
}

#[test]
fn aggregates_and_windows_are_rejected_where_not_allowed() {
    assert_eq!(infer("SELECT id FROM t WHERE SUM(n) > 0"), "DPC0306 aggregate function `SUM` in WHERE");
    assert_eq!(
        infer("SELECT id FROM t WHERE ROW_NUMBER() OVER () = 1"),
        "DPC0307 window function `ROW_NUMBER` in WHERE"
    );
    assert_eq!(
        infer("SELECT id, ROW_NUMBER() OVER (PARTITION BY s ORDER BY d) AS rn FROM t QUALIFY rn = 1"),
        "id INT64, rn INT64"
    );
}

#[test]
fn ctes_subqueries_and_set_operations() {
    assert_eq!(infer("WITH t AS (SELECT 1 AS one) SELECT one FROM t"), "one INT64");
    assert_eq!(infer("SELECT id FROM t WHERE n > (SELECT AVG(n) FROM t AS t2 WHERE t2.s = t.s)"), "id INT64");
    assert_eq!(infer("SELECT id AS x FROM t UNION ALL SELECT n FROM t"), "x NUMERIC");
    assert_eq!(
        infer("SELECT id FROM t UNION ALL SELECT s FROM t"),
        "DPC0313 column id of UNION is INT64 in one branch and STRING in the other"
    );
    assert_eq!(
        infer("SELECT * FROM (SELECT id FROM t) AS x(y)"),
        "DPC0314 BigQuery has no column lists on table aliases"
    );
}

#[test]
fn structs_arrays_and_unnest() {
    assert_eq!(infer("SELECT st.x AS x, st.y[SAFE_OFFSET(0)] AS y0 FROM t"), "x INT64, y0 STRING");
    assert_eq!(
        infer("SELECT id, e.k, e.v, o FROM t, UNNEST(a) AS e WITH OFFSET AS o"),
        "id INT64, k STRING, v INT64, o INT64"
    );
    assert_eq!(infer("SELECT id, item.k FROM t, t.a AS item"), "id INT64, k STRING");
    assert_eq!(infer("SELECT st.z FROM t"), "DPC0316 STRUCT has no field `z`");
}

#[test]
fn functions_from_the_catalog() {
    assert_eq!(
        infer("SELECT DATE_TRUNC(d, MONTH) AS m, DATE_DIFF(d, d, DAY) AS dd, EXTRACT(YEAR FROM ts) AS y, SAFE_DIVIDE(n, id) AS r FROM t"),
        "m DATE, dd INT64, y INT64, r NUMERIC"
    );
    assert_eq!(
        infer("SELECT ARRAY_AGG(s ORDER BY d) AS xs, STRING_AGG(s, ',') AS j FROM t"),
        "xs ARRAY<STRING>, j STRING"
    );
    assert_eq!(infer("SELECT SUBSTR(id, 1) AS x FROM t"), "DPC0309 no signature of `SUBSTR` takes (INT64, INT64)");
    assert_eq!(infer("SELECT UPPER(s, s) AS x FROM t"), "DPC0310 `UPPER` does not take 2 arguments");
}

#[test]
fn comparisons_of_incompatible_types_are_errors() {
    assert_eq!(infer("SELECT id FROM t WHERE id = s"), "DPC0304 cannot compare INT64 with STRING");
    assert_eq!(infer("SELECT id FROM t WHERE d > '2024-01-01'"), "id INT64");
}

#[test]
fn output_columns_need_unique_names() {
    assert_eq!(infer("SELECT id + 1 FROM t"), "DPC0311 output column 1 has no name");
    assert_eq!(infer("SELECT id, s AS ID FROM t"), "DPC0312 the query outputs two columns named `ID`");
}

#[test]
fn nullability_is_tracked_where_provable() {
    // The contract check warns only where a required column may be NULL.
    let sql = "SELECT id, COUNT(*) AS c, COALESCE(s, 'x') AS s2 FROM t GROUP BY id, s";
    let mut tree = mesh(sql);
    let product = tree.files.get_mut("products/d/p/product.toml").unwrap();
    product.push_str("[outputs.out.columns]\nid = { type = \"INT64\", required = true }\nc = { type = \"INT64\", required = true }\ns2 = { type = \"STRING\", required = true }\n");
    let c = dpc::compile(tree, false);
    assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>());
    let mut tree = mesh("SELECT u.id FROM t LEFT JOIN u USING (id)");
    tree.files
        .get_mut("products/d/p/product.toml")
        .unwrap()
        .push_str("[outputs.out.columns]\nid = { type = \"INT64\", required = true }\n");
    let c = dpc::compile(tree, false);
    assert_eq!(c.diagnostics.iter().map(|d| d.code.0).collect::<Vec<_>>(), ["DPC0354"]);
}

/// `column <- sources | filters` per output column (input columns as `t.x`).
fn lineage(sql: &str) -> String {
    let c = dpc::compile(mesh(sql), false);
    assert!(!c.has_errors(), "{:?}", c.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>());
    let m = c.mesh.as_ref().unwrap();
    let short = |r: &dpc::lineage::ColumnRef| r.display(m).trim_start_matches("d.p:").to_string();
    c.lineage
        .columns
        .iter()
        .map(|col| {
            let s: Vec<String> = col
                .sources
                .iter()
                .map(|s| format!("{}{}", short(&s.column), if s.deidentified { "#" } else { "" }))
                .collect();
            let f: Vec<String> = col.filters.iter().map(short).collect();
            format!("{} <- {} | {}", col.column, s.join(" "), f.join(" "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn lineage_separates_values_from_row_filters() {
    assert_eq!(
        lineage("SELECT s, SUM(n) OVER (PARTITION BY s ORDER BY d) AS running FROM t WHERE id > 0"),
        "s <- t.s | t.id; running <- t.n | t.d t.id t.s"
    );
    assert_eq!(lineage("SELECT s, COUNT(*) AS c FROM t GROUP BY s"), "s <- t.s | t.s; c <-  | t.s");
    assert_eq!(
        lineage("WITH x AS (SELECT id, n FROM t WHERE s = 'a') SELECT id, u.k FROM x JOIN u USING (id)"),
        "id <- t.id u.id | t.s; k <- u.k | t.s"
    );
}

#[test]
fn lineage_follows_fields_subqueries_and_hashes() {
    assert_eq!(lineage("SELECT st.x AS x FROM t"), "x <- t.st.x | ");
    assert_eq!(lineage("SELECT e.k FROM t, UNNEST(a) AS e"), "k <- t.a.k | ");
    assert_eq!(lineage("SELECT TO_HEX(SHA256(s)) AS h FROM t"), "h <- t.s# | ");
    assert_eq!(
        lineage("SELECT id, (SELECT MAX(k) FROM u WHERE u.id = t.id) AS top_k FROM t"),
        "id <- t.id | ; top_k <- u.k | t.id u.id"
    );
    assert_eq!(lineage("SELECT id FROM t UNION ALL SELECT id FROM u"), "id <- t.id u.id | ");
}

#[test]
fn lineage_of_array_subqueries_set_operations_and_named_windows() {
    // ARRAY(SELECT ...) carries its column's values (a PII leak must not hide in it).
    assert_eq!(lineage("SELECT ARRAY(SELECT u.k FROM u WHERE u.id = t.id) AS ks FROM t"), "ks <- u.k | t.id u.id");
    // EXCEPT keeps the left rows; the right only decides which.
    assert_eq!(lineage("SELECT s FROM t EXCEPT DISTINCT SELECT k FROM u"), "s <- t.s | u.k");
    // A named window's keys filter only the columns that use it.
    assert_eq!(
        lineage("SELECT id, FIRST_VALUE(n) OVER w AS first_n FROM t WINDOW w AS (PARTITION BY s ORDER BY d)"),
        "id <- t.id | ; first_n <- t.n | t.d t.s"
    );
    // ANY_VALUE(x HAVING MAX y): y chooses the row.
    assert_eq!(lineage("SELECT ANY_VALUE(s HAVING MAX d) AS latest FROM t"), "latest <- t.s | t.d");
}

#[test]
fn set_operations_by_name() {
    assert_eq!(infer("SELECT id, s FROM t UNION ALL CORRESPONDING SELECT k AS s, id FROM u"), "id INT64, s STRING");
    assert_eq!(infer("SELECT id, s FROM t UNION DISTINCT BY NAME SELECT k AS s, id FROM u"), "id INT64, s STRING");
    // CORRESPONDING keeps the common columns; BY NAME needs them all.
    assert_eq!(infer("SELECT id, s FROM t UNION ALL CORRESPONDING SELECT id, k FROM u"), "id INT64");
    assert_eq!(
        infer("SELECT id, s FROM t UNION ALL BY NAME SELECT id, k FROM u"),
        "DPC0313 column `s` of the first branch is not in the second\nDPC0313 column `k` of the second branch is not in the first"
    );
}

#[test]
fn a_subscript_on_a_qualified_column_reads_that_column_only() {
    let c = dpc::compile(mesh("SELECT x.st.y[OFFSET(0)] AS first_y FROM t AS x"), false);
    let mesh = c.mesh.as_ref().unwrap();
    let col = c.lineage.columns.iter().find(|l| l.column == "first_y").expect("lineage of first_y");
    let sources: Vec<String> = col.sources.iter().map(|s| s.column.display(mesh)).collect();
    assert_eq!(sources, ["d.p:t.st.y"]);
}

#[test]
fn sample_statistics_may_be_null_over_one_row() {
    // STDDEV_SAMP of a group of one row is NULL; SUM of a required column is not.
    let c = dpc::compile(mesh("SELECT d, STDDEV_SAMP(id) AS sd, SUM(id) AS total FROM t GROUP BY d"), true);
    let manifest = c.artifacts.unwrap().into_iter().find(|a| a.path == "manifest.json").unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest.contents).unwrap();
    let cols = &m["products"][0]["outputs"][0]["columns"];
    let nullable: Vec<(String, bool)> = cols
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["nullable"].as_bool().unwrap()))
        .collect();
    assert_eq!(nullable, [("d".to_string(), false), ("sd".to_string(), true), ("total".to_string(), false)]);
}
