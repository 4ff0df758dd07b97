//! Stage 1, load: from the files of a mesh repository to the raw model.
//!
//! [`read_tree`] is the only function here that touches the disk: it finds
//! `dpc.toml` and every `product.toml` and `.sql` file below `products/`.
//! [`load_mesh`] is pure: it parses the TOML (keeping every span) into a
//! [`RawMesh`] and reports every file's syntax and schema errors.

use crate::codes;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::span::{FileId, Sources, Span};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const MESH_FILE: &str = "dpc.toml";
pub const PRODUCT_FILE: &str = "product.toml";

// ------------------------------------------------------------------ the disk

/// The files of a mesh, read into memory, keyed by mesh-relative path.
#[derive(Clone, Debug, Default)]
pub struct SourceTree {
    pub files: BTreeMap<String, String>,
    /// Files that are not UTF-8 (held above with replacement characters),
    /// with the byte offset of the first invalid sequence.
    pub not_utf8: Vec<(String, usize)>,
}

/// The nearest directory at or above `start` that holds a `dpc.toml`.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|d| d.join(MESH_FILE).is_file()).map(Path::to_path_buf)
}

/// Reads `dpc.toml` and every `product.toml` and `*.sql` below `products/`.
/// A file's text; where it is not UTF-8, a lossy copy and the offset of
/// the first invalid byte (the text before it is the same in the copy).
fn decode(bytes: Vec<u8>, rel: &str, not_utf8: &mut Vec<(String, usize)>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| {
        not_utf8.push((rel.to_string(), e.utf8_error().valid_up_to()));
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    })
}

pub fn read_tree(root: &Path) -> std::io::Result<SourceTree> {
    let mut files = BTreeMap::new();
    let mut not_utf8 = vec![];
    let mut read = |p: &Path, rel: &str| -> std::io::Result<String> {
        let bytes =
            std::fs::read(p).map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display())))?;
        Ok(decode(bytes, rel, &mut not_utf8))
    };
    files.insert(MESH_FILE.to_string(), read(&root.join(MESH_FILE), MESH_FILE)?);
    let products = root.join("products");
    let mut found = vec![];
    if products.is_dir() {
        for entry in walkdir::WalkDir::new(&products).sort_by_file_name() {
            let entry = entry.map_err(std::io::Error::other)?;
            let name = entry.file_name().to_string_lossy();
            if !entry.file_type().is_file() || !(name == PRODUCT_FILE || name.ends_with(".sql")) {
                continue;
            }
            let rel = entry.path().strip_prefix(root).map_err(std::io::Error::other)?;
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            found.push((entry.into_path(), rel));
        }
    }
    // Reading is the slow part of a large mesh: files are read in parallel.
    use rayon::prelude::*;
    let texts: Vec<std::io::Result<Vec<u8>>> = found
        .par_iter()
        .map(|(path, _)| {
            std::fs::read(path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))
        })
        .collect();
    for ((_, rel), bytes) in found.into_iter().zip(texts) {
        let text = decode(bytes?, &rel, &mut not_utf8);
        files.insert(rel, text);
    }
    Ok(SourceTree { files, not_utf8 })
}

// ---------------------------------------------------------------- raw model

/// A map that keeps the order of the document and the span of every key.
#[derive(Debug)]
pub struct Entries<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(vec![])
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = vec![];
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Bigquery,
    Athena,
}

impl TargetKind {
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Bigquery => "bigquery",
            TargetKind::Athena => "athena",
        }
    }

    /// The name for people, in messages.
    pub fn display(self) -> &'static str {
        match self {
            TargetKind::Bigquery => "BigQuery",
            TargetKind::Athena => "Athena",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshFile {
    pub mesh: Spanned<MeshSection>,
    #[serde(default)]
    pub targets: TargetsSection,
    #[serde(default)]
    pub classifications: ClassificationsSection,
}

/// `[classifications]`: the labels columns may carry, and the functions
/// that remove them (beyond the catalog's hashes).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassificationsSection {
    pub labels: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub deidentifying_functions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeshSection {
    pub name: Spanned<String>,
    pub default_target: Option<Spanned<TargetKind>>,
    pub description: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetsSection {
    pub bigquery: Option<Spanned<BigQuerySettings>>,
    pub athena: Option<Spanned<AthenaSettings>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BigQuerySettings {
    /// The GCP project that holds the product datasets.
    pub project: Spanned<String>,
    /// The dataset location (`EU`, `US`, `europe-west3`, ...).
    pub location: Option<Spanned<String>>,
    /// Data Catalog policy tag of each classification label
    /// (`projects/P/locations/L/taxonomies/T/policyTags/G`).
    #[serde(default)]
    pub policy_tags: Entries<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AthenaSettings {
    pub bucket: Spanned<String>,
    pub workgroup: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    /// The Lake Formation tag (key and value) of each classification label.
    #[serde(default)]
    pub lf_tags: Entries<Spanned<LfTag>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LfTag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductFile {
    pub name: Spanned<String>,
    pub domain: Spanned<String>,
    pub owner: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub target: Option<Spanned<TargetKind>>,
    /// The most sensitive labels the product may hold (`[]`: none).
    pub classification_ceiling: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub inputs: Entries<Spanned<InputDef>>,
    #[serde(default)]
    pub outputs: Entries<Spanned<OutputDef>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    #[default]
    Product,
    Export,
    File,
    Feed,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Product => "product",
            InputKind::Export => "export",
            InputKind::File => "file",
            InputKind::Feed => "feed",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDef {
    pub kind: Option<Spanned<InputKind>>,
    pub description: Option<Spanned<String>>,
    pub product: Option<Spanned<String>>,
    pub port: Option<Spanned<String>>,
    pub version: Option<Spanned<u32>>,
    pub columns: Option<Spanned<Entries<Spanned<ColumnDef>>>>,
    /// export: the column the load stamps each snapshot with.
    pub export_time: Option<Spanned<String>>,
    /// file: where the files are (`gs://...`, `s3://...`, with `*`).
    pub uri: Option<Spanned<String>>,
    pub format: Option<Spanned<FileFormat>>,
    pub csv: Option<Spanned<CsvDef>>,
    /// file: hive-style partition keys in the path (`dt=2026-11-24/`), and their types.
    pub partitions: Option<Spanned<Entries<Spanned<String>>>>,
    /// feed: the column(s) that identify an event; a replay repeats them.
    pub event_id: Option<Spanned<OneOrMany>>,
    pub event_time: Option<Spanned<String>>,
    /// feed: which copy of an event the deduplicated view keeps.
    pub keep: Option<Spanned<Keep>>,
    /// The columns that identify a row (checked for duplicates).
    pub unique_key: Option<Spanned<OneOrMany>>,
    pub freshness: Option<Spanned<FreshnessDef>>,
    pub checks: Option<Vec<Spanned<CheckDef>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    /// JSON lines: one object per line.
    #[serde(alias = "jsonl", alias = "ndjson")]
    Json,
    Parquet,
    Avro,
}

impl FileFormat {
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Json => "json",
            FileFormat::Parquet => "parquet",
            FileFormat::Avro => "avro",
        }
    }

    /// Whether the files carry their own types (else every value is text).
    pub fn typed(self) -> bool {
        matches!(self, FileFormat::Parquet | FileFormat::Avro)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvDef {
    /// The first line names the columns (default true).
    pub header: Option<bool>,
    pub delimiter: Option<Spanned<String>>,
    pub quote: Option<Spanned<String>>,
    /// The text that stands for NULL (default: the empty field).
    pub null: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    Latest,
    First,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warn,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        }
    }
}

/// `freshness = "26h"` or `{ max_age = "26h", column = "updated_at" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FreshnessDef {
    Age(String),
    Detailed(FreshnessDetail),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshnessDetail {
    pub max_age: String,
    pub column: Option<String>,
    pub severity: Option<Severity>,
}

/// A column rule: the value alone, or `{ value(s) = ..., severity = "warn" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RuleDef<T> {
    Detailed(RuleDetail<T>),
    Plain(T),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDetail<T> {
    #[serde(alias = "values")]
    pub value: T,
    pub severity: Option<Severity>,
}

/// One `[[outputs.<port>.checks]]` (or inputs) entry: a table-level rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub severity: Option<Severity>,
    /// Bounds on the number of rows.
    pub row_count: Option<Spanned<BoundsDef>>,
    /// A `.sql` file next to product.toml whose query returns the violating rows.
    pub query: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundsDef {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialization {
    View,
    Table,
    Incremental,
}

impl Materialization {
    pub fn name(self) -> &'static str {
        match self {
            Materialization::View => "view",
            Materialization::Table => "table",
            Materialization::Incremental => "incremental",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Merge,
    Append,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Hour,
    Day,
    Month,
    Year,
}

impl Granularity {
    pub fn name(self) -> &'static str {
        match self {
            Granularity::Hour => "HOUR",
            Granularity::Day => "DAY",
            Granularity::Month => "MONTH",
            Granularity::Year => "YEAR",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PartitionDef {
    Column(String),
    Detailed(PartitionDetail),
}

// Untagged enums buffer their input, which loses toml's spans: the values
// inside carry none, and diagnostics point at the whole `partition_by`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionDetail {
    pub column: String,
    pub granularity: Option<Granularity>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v.iter().collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputDef {
    /// The port this entry publishes (default: the entry's key), so that two
    /// versions of one port can stand side by side: `[outputs.orders_v2]`
    /// with `port = "orders"`.
    pub port: Option<Spanned<String>>,
    pub version: Spanned<u32>,
    pub description: Option<Spanned<String>>,
    pub query: Option<Spanned<String>>,
    pub materialization: Option<Spanned<Materialization>>,
    pub strategy: Option<Spanned<Strategy>>,
    pub unique_key: Option<Spanned<OneOrMany>>,
    pub partition_by: Option<Spanned<PartitionDef>>,
    pub cluster_by: Option<Spanned<Vec<Spanned<String>>>>,
    pub schedule: Option<Spanned<String>>,
    pub freshness: Option<Spanned<FreshnessDef>>,
    pub consumers: Option<Spanned<Vec<Spanned<String>>>>,
    pub sunset: Option<Spanned<String>>,
    pub columns: Option<Spanned<Entries<Spanned<ColumnDef>>>>,
    pub checks: Option<Vec<Spanned<CheckDef>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    #[serde(rename = "type")]
    pub ty: Option<Spanned<String>>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    pub description: Option<Spanned<String>>,
    // Rules are rare and large (a TOML value is 80 bytes): boxed, a column
    // takes 160 bytes instead of 392, and a mesh has hundreds of thousands.
    pub accepted_values: Option<Box<Spanned<RuleDef<Vec<toml::Value>>>>>,
    pub min: Option<Box<Spanned<RuleDef<toml::Value>>>>,
    pub max: Option<Box<Spanned<RuleDef<toml::Value>>>>,
    pub classification: Option<Spanned<OneOrMany>>,
}

/// A parsed `product.toml`, with the file it came from.
#[derive(Debug)]
pub struct RawProduct {
    pub file: FileId,
    /// The product's directory, relative to the mesh root.
    pub dir: String,
    pub def: ProductFile,
    /// For each output (same order), the query file if it exists.
    pub query_files: Vec<Option<FileId>>,
    /// The query file of each custom check, by (output or input key, check index).
    pub check_files: BTreeMap<(String, usize), Option<FileId>>,
}

/// The whole mesh as written: `dpc.toml` and every product that parsed.
#[derive(Debug)]
pub struct RawMesh {
    pub mesh_file: FileId,
    pub mesh: Option<MeshFile>,
    pub products: Vec<RawProduct>,
}

// ------------------------------------------------------------------- parsing

pub fn span<T>(file: FileId, s: &Spanned<T>) -> Span {
    Span::new(file, s.span())
}

/// Parses every definition. Returns the sources (every file read), the raw
/// mesh and the diagnostics of every file that failed to parse.
pub fn load_mesh(mut tree: SourceTree) -> (Sources, RawMesh, Vec<Diagnostic>) {
    let mut sources = Sources::default();
    let mut diags = vec![];
    let mut ids = BTreeMap::new();
    for (path, text) in std::mem::take(&mut tree.files) {
        let id = sources.add(path.clone(), text);
        ids.insert(path, id);
    }
    for (path, offset) in &tree.not_utf8 {
        if let Some(&file) = ids.get(path) {
            let len = sources.get(file).text[*offset..].chars().next().map_or(0, char::len_utf8);
            diags.push(
                Diagnostic::error(codes::NOT_UTF8, format!("`{path}` is not UTF-8 text"))
                    .label(Span::new(file, *offset..offset + len), "not a UTF-8 character")
                    .help("save the file as UTF-8 (most editors: \"Save with encoding\")"),
            );
        }
    }
    let mesh_file = ids.get(MESH_FILE).copied().unwrap_or_else(|| sources.add(MESH_FILE.into(), String::new()));
    let mesh = parse_toml::<MeshFile>(&sources, mesh_file, &mut diags);

    // Product files parse in parallel; everything after is in path order.
    use rayon::prelude::*;
    let product_files: Vec<(&String, FileId)> = ids
        .iter()
        .filter(|(path, _)| *path == PRODUCT_FILE || path.ends_with("/product.toml"))
        .map(|(path, &file)| (path, file))
        .collect();
    let parsed: Vec<(Option<ProductFile>, Vec<Diagnostic>)> = product_files
        .par_iter()
        .map(|&(_, file)| {
            let mut d = vec![];
            (parse_toml::<ProductFile>(&sources, file, &mut d), d)
        })
        .collect();
    let mut products = vec![];
    for ((path, file), (def, mut d)) in product_files.into_iter().zip(parsed) {
        diags.append(&mut d);
        let Some(def) = def else {
            continue;
        };
        let dir = path.strip_suffix(PRODUCT_FILE).unwrap_or("").trim_end_matches('/').to_string();
        // The query file a product names (a port's, a check's), if it exists.
        let find = |diags: &mut Vec<Diagnostic>, rel: String, at: Span, missing_help: Option<String>, what: &str| {
            if rel.starts_with('/') || rel.split('/').any(|p| p == ".." || p.is_empty()) {
                diags.push(
                    Diagnostic::error(
                        codes::INVALID_NAME,
                        format!("query path `{rel}` leaves the product's directory"),
                    )
                    .label(at, "not a path inside the product's directory")
                    .help("name a `.sql` file next to product.toml, such as `query = \"orders.sql\"`"),
                );
                return None;
            }
            let full = if dir.is_empty() { rel.clone() } else { format!("{dir}/{rel}") };
            let found = ids.get(&full).copied();
            if found.is_none() {
                let siblings: Vec<&str> = ids
                    .keys()
                    .filter_map(|p| p.strip_prefix(&format!("{dir}/")))
                    .filter(|p| p.ends_with(".sql") && !p.contains('/'))
                    .collect();
                let mut d = Diagnostic::error(
                    codes::MISSING_QUERY_FILE,
                    format!("query file `{full}` of {what} does not exist"),
                )
                .label(at, "no such file next to product.toml");
                d = match (did_you_mean(&rel, siblings.iter().copied()), missing_help) {
                    (Some(m), _) => d.help(m),
                    (None, Some(h)) => d.help(h),
                    (None, None) => d.help(format!("create `{rel}` next to product.toml")),
                };
                diags.push(d);
            }
            found
        };
        let query_files = def
            .outputs
            .0
            .iter()
            .map(|(name, out)| {
                let query = out.get_ref().query.as_ref();
                let rel = query.map_or_else(|| format!("{}.sql", name.get_ref()), |q| q.get_ref().clone());
                let at = query.map_or_else(|| span(file, name), |q| span(file, q));
                let help = query.is_none().then(|| {
                    format!(
                        "create `{rel}`, or name the query file with `query = \"...\"` in [outputs.{}]",
                        name.get_ref()
                    )
                });
                find(&mut diags, rel, at, help, &format!("output port `{}`", name.get_ref()))
            })
            .collect();
        // The query files of custom checks, by (output, check) position.
        let mut check_files = BTreeMap::new();
        let tables = def.outputs.0.iter().map(|(n, o)| (n, o.get_ref().checks.as_ref()));
        let tables = tables.chain(def.inputs.0.iter().map(|(n, i)| (n, i.get_ref().checks.as_ref())));
        for (owner, checks) in tables {
            for (ci, check) in checks.into_iter().flatten().enumerate() {
                if let Some(q) = &check.get_ref().query {
                    let found = find(
                        &mut diags,
                        q.get_ref().clone(),
                        span(file, q),
                        None,
                        &format!("a check of `{}`", owner.get_ref()),
                    );
                    check_files.insert((owner.get_ref().clone(), ci), found);
                }
            }
        }
        products.push(RawProduct { file, dir, def, query_files, check_files });
    }
    (sources, RawMesh { mesh_file, mesh, products }, diags)
}

/// Parses one TOML file into `T`, turning toml's error into a diagnostic.
fn parse_toml<T: serde::de::DeserializeOwned>(
    sources: &Sources,
    file: FileId,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    let text = &sources.get(file).text;
    match toml::from_str::<T>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.push(toml_error(file, text, &e));
            None
        }
    }
}

fn toml_error(file: FileId, text: &str, e: &toml::de::Error) -> Diagnostic {
    let range = e.span().unwrap_or(0..0);
    let at = Span::new(file, range.clone());
    let message = e.message().trim().to_string();
    let quoted = |s: &str| -> Vec<String> { s.split('`').skip(1).step_by(2).map(str::to_string).collect() };
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // "unknown field `x`, expected one of `a`, `b`" / "expected `a` or `b`"
        let names = quoted(rest);
        let (found, expected) = names.split_first().map_or(("", &[][..]), |(f, e)| (f.as_str(), e));
        let mut d = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown key `{found}`"))
            .label(at, "not a key of this table");
        d = match did_you_mean(found, expected.iter().map(String::as_str)) {
            Some(m) => d.help(m),
            None if !expected.is_empty() => d.help(format!("the keys here are: {}", expected.join(", "))),
            None => d,
        };
        return d;
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let names = quoted(rest);
        let (found, expected) = names.split_first().map_or(("", &[][..]), |(f, e)| (f.as_str(), e));
        let mut d = Diagnostic::error(codes::UNKNOWN_VARIANT, format!("`{found}` is not an allowed value here"))
            .label(at, format!("expected one of: {}", expected.join(", ")));
        if let Some(m) = did_you_mean(found, expected.iter().map(String::as_str)) {
            d = d.help(m);
        }
        return d;
    }
    let is_syntax = !message.starts_with("invalid type")
        && !message.starts_with("missing field")
        && !message.starts_with("invalid value")
        && !message.starts_with("data did not match")
        && !message.starts_with("invalid length");
    if is_syntax {
        let at = if range.is_empty() && range.start < text.len() {
            Span::new(file, range.start..range.start + 1)
        } else {
            at
        };
        return Diagnostic::error(codes::TOML_SYNTAX, format!("TOML syntax error: {message}")).label(at, message);
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let key = quoted(rest).into_iter().next().unwrap_or_default();
        // toml points at the whole table; the table's first line is enough.
        let line_end = text[range.start.min(text.len())..].find('\n').map_or(text.len(), |i| range.start + i);
        let end = if range.is_empty() { line_end } else { line_end.min(range.end) };
        let at = Span::new(file, range.start..end.max(range.start));
        return Diagnostic::error(codes::INVALID_VALUE, format!("missing key `{key}`"))
            .label(at, format!("this table needs `{key}`"))
            .help(format!("add `{key} = ...`"));
    }
    if message.starts_with("data did not match") {
        return Diagnostic::error(codes::INVALID_VALUE, "invalid value").label(at, "not a value this key accepts").help(
            "see docs/LANGUAGE.md for the forms this key takes (for example a column name or { column = \"...\", granularity = \"day\" })",
        );
    }
    // serde speaks Rust: say what a TOML user writes instead.
    let message = message
        .replace("expected u32", "expected a whole number")
        .replace("expected a string", "expected a string in quotes");
    Diagnostic::error(codes::INVALID_VALUE, message.clone())
        .label(at, message)
        .help("numbers and booleans go without quotes, text in quotes, lists in [ ], tables in { }")
}

/// The same files as [`read_tree`], as they are at a git revision
/// (read through git; the working tree is not touched).
pub fn read_tree_at(root: &Path, rev: &str) -> std::io::Result<SourceTree> {
    let git = |args: &[&str]| -> std::io::Result<Vec<u8>> {
        let out = std::process::Command::new("git").arg("-C").arg(root).args(args).output()?;
        if !out.status.success() {
            return Err(std::io::Error::other(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(out.stdout)
    };
    // Paths print relative to `root` (without --full-name).
    let listing = git(&["ls-tree", "-r", "--name-only", rev, "--", MESH_FILE, "products"])?;
    let mut files = BTreeMap::new();
    let mut not_utf8 = vec![];
    for path in String::from_utf8_lossy(&listing).lines() {
        let name = path.rsplit('/').next().unwrap_or(path);
        if !(path == MESH_FILE || name == PRODUCT_FILE || name.ends_with(".sql")) {
            continue;
        }
        let bytes = git(&["show", &format!("{rev}:./{path}")])?;
        let text = String::from_utf8(bytes).unwrap_or_else(|e| {
            not_utf8.push((path.to_string(), e.utf8_error().valid_up_to()));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        });
        files.insert(path.to_string(), text);
    }
    if !files.contains_key(MESH_FILE) {
        return Err(std::io::Error::other(format!("{rev} has no {MESH_FILE} at this mesh's path")));
    }
    Ok(SourceTree { files, not_utf8 })
}
