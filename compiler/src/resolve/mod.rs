//! Stage 2, resolve: from the raw model to a [`Mesh`] whose names are
//! valid, whose types are parsed, whose inputs point at real output ports,
//! and whose products are in dependency order.
//!
//! Guarantees: every [`Input`] of kind product names an existing port at
//! the pinned version that allows the consumer; `Mesh::order` lists every
//! product not in a cycle after all of its upstream products.

use crate::codes;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::load::{self, Granularity, InputKind, Materialization, RawMesh, Strategy, TargetKind};
use crate::span::{FileId, Span};
use crate::target::{target_for, Target};
use crate::types::Type;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use toml::Spanned;

mod ingest;
pub mod schedule;
pub use ingest::{CsvOptions, FileInput, Freshness, Ingest, Rule, TableCheck, TableRule};
pub use load::{FileFormat, Keep, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProductId(pub u32);

#[derive(Debug)]
pub struct Mesh {
    pub name: String,
    pub description: Option<String>,
    pub bigquery: Option<BigQuerySettings>,
    pub athena: Option<AthenaSettings>,
    pub products: Vec<Product>,
    /// Products in dependency order (upstream first); cycles left out.
    pub order: Vec<ProductId>,
    /// Product dependencies (upstream, downstream), sorted.
    pub edges: Vec<(ProductId, ProductId)>,
    /// Products that are part of a dependency cycle.
    pub cyclic: BTreeSet<ProductId>,
    /// The classification labels columns may carry.
    pub labels: Vec<String>,
    /// Where the labels are defined (dpc.toml), if they are.
    pub labels_span: Option<Span>,
    /// Functions that remove classifications, beyond the catalog's own.
    pub deidentifying: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct BigQuerySettings {
    pub project: String,
    pub location: Option<String>,
    /// Classification label → policy tag resource name.
    pub policy_tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct AthenaSettings {
    /// The bucket that holds every product's tables: `s3://name`, no path.
    pub bucket: String,
    pub workgroup: Option<String>,
    pub region: Option<String>,
    /// Classification label → Lake Formation tag (key, value).
    pub lf_tags: BTreeMap<String, (String, String)>,
}

#[derive(Debug)]
pub struct Product {
    /// `domain.name`
    pub id: String,
    pub domain: String,
    pub name: String,
    pub owner: String,
    pub description: Option<String>,
    pub target: TargetKind,
    pub file: FileId,
    pub name_span: Span,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Port>,
    /// The labels the product may hold, if it sets a ceiling, and where.
    pub ceiling: Option<(Vec<String>, Span)>,
}

impl Product {
    pub fn target(&self) -> &'static dyn Target {
        target_for(self.target)
    }
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub span: Span,
    pub kind: InputKind,
    pub description: Option<String>,
    pub source: InputSource,
    /// Declared columns (for kinds other than product), with the columns
    /// the kind adds (an export's snapshot time, a file's partition keys).
    pub columns: Vec<Column>,
    pub ingest: Ingest,
    /// The columns that identify a row (checked for duplicates).
    pub unique_key: Vec<String>,
    pub freshness: Option<Freshness>,
    pub checks: Vec<TableCheck>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSource {
    Port {
        product: ProductId,
        port: usize,
        version: u32,
    },
    /// The team's own data (export, file, feed), or an input that did not resolve.
    Own,
    Unresolved,
}

#[derive(Debug)]
pub struct Port {
    /// The published port name (what consumers pin).
    pub name: String,
    /// The `[outputs.<key>]` entry (names the port's artifact files).
    pub key: String,
    pub span: Span,
    pub version: u32,
    pub description: Option<String>,
    pub query_file: Option<FileId>,
    pub materialization: Materialization,
    pub strategy: Strategy,
    pub unique_key: Vec<String>,
    pub partition: Option<Partition>,
    pub cluster_by: Vec<String>,
    pub schedule: Option<String>,
    pub freshness: Option<Freshness>,
    pub checks: Vec<TableCheck>,
    pub consumers: Vec<String>,
    /// The date (YYYY-MM-DD) after which this version may be removed.
    pub sunset: Option<String>,
    /// The declared columns: the port's contract (None: inferred only).
    pub columns: Option<Vec<Column>>,
}

#[derive(Debug, Clone)]
pub struct Partition {
    pub column: String,
    pub granularity: Option<Granularity>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub span: Span,
    pub ty: Type,
    pub required: bool,
    pub unique: bool,
    pub description: Option<String>,
    // Boxed: rules are rare and a TOML value is 80 bytes, while a mesh has
    // hundreds of thousands of columns (144 bytes each instead of 328).
    pub accepted_values: Option<Box<Rule<Vec<toml::Value>>>>,
    pub min: Option<Box<Rule<toml::Value>>>,
    pub max: Option<Box<Rule<toml::Value>>>,
    pub classification: Vec<String>,
}

// ------------------------------------------------------------------ naming

/// Checks a name against the naming rules; `upper` allows upper case
/// (BigQuery column names).
pub fn check_name(name: &str, what: &str, upper: bool) -> Result<(), String> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || (upper && c.is_ascii_uppercase()));
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || (upper && c.is_ascii_uppercase()));
    if name.is_empty() {
        Err(format!("{what} name is empty"))
    } else if !first_ok || !rest_ok {
        Err(format!(
            "{what} name `{name}` must start with a {}letter and hold only {}letters, digits and `_`",
            if upper { "" } else { "lower-case " },
            if upper { "" } else { "lower-case " }
        ))
    } else if name.contains("__") {
        Err(format!("{what} name `{name}` contains `__`, which is reserved for physical names"))
    } else if name.len() > 64 {
        Err(format!("{what} name `{name}` is longer than 64 characters"))
    } else {
        Ok(())
    }
}

struct Resolver<'a> {
    diags: &'a mut Vec<Diagnostic>,
    /// Types already parsed, by target and spelling: a mesh spells the same
    /// few dozen types hundreds of thousands of times.
    types: HashMap<TargetKind, HashMap<String, Result<Type, String>>>,
}

impl Resolver<'_> {
    fn name(&mut self, file: FileId, s: &Spanned<String>, what: &str, upper: bool) -> bool {
        match check_name(s.get_ref(), what, upper) {
            Ok(()) => true,
            Err(message) => {
                self.diags.push(
                    Diagnostic::error(codes::INVALID_NAME, message)
                        .label(load::span(file, s), "invalid name")
                        .help(format!("use a name such as `{}`", suggest_name(s.get_ref(), upper))),
                );
                false
            }
        }
    }

    /// A type spelling parsed by the target, once per spelling.
    fn parsed_type(&mut self, target: &dyn crate::target::Target, text: &str) -> Result<Type, String> {
        let known = self.types.entry(target.kind()).or_default();
        if let Some(t) = known.get(text) {
            return t.clone();
        }
        let t = target.parse_type(text);
        known.insert(text.to_string(), t.clone());
        t
    }

    /// Whether the table that holds the columns can hold their types.
    fn storable(&mut self, columns: &[Column], target: &dyn crate::target::Target, table: crate::target::Table) {
        for c in columns.iter().filter(|c| !c.ty.has_unknown()) {
            if let Err(e) = target.storable(&c.ty, table) {
                self.diags.push(
                    Diagnostic::error(codes::INVALID_TYPE, format!("column `{}` cannot be stored: {e}", c.name))
                        .label(c.span, "declared here")
                        .help(format!("declare a type the {} table can hold", table.name())),
                );
            }
        }
    }

    fn columns(
        &mut self,
        file: FileId,
        target: &dyn Target,
        entries: &load::Entries<Spanned<load::ColumnDef>>,
    ) -> Vec<Column> {
        let mut out: Vec<Column> = vec![];
        for (name, def) in &entries.0 {
            let span = load::span(file, name);
            let valid = self.name(file, name, "column", target.kind() == TargetKind::Bigquery);
            if let Some(prev) = out.iter().find(|c| c.name.eq_ignore_ascii_case(name.get_ref())) {
                self.diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_COLUMN,
                        format!("column `{}` is declared twice", name.get_ref()),
                    )
                    .label(span, "declared again here")
                    .label(prev.span, "first declared here")
                    .help("column names are compared case-insensitively; rename or remove one"),
                );
                continue;
            }
            let def = def.get_ref();
            let ty = match &def.ty {
                None => {
                    self.diags.push(
                        Diagnostic::error(codes::INVALID_VALUE, format!("column `{}` has no type", name.get_ref()))
                            .label(span, "add `type = \"...\"` to this column")
                            .help("declare the type in the target's own spelling, e.g. `type = \"STRING\"`"),
                    );
                    Type::Unknown
                }
                Some(t) => match self.parsed_type(target, t.get_ref()) {
                    Ok(ty) => ty,
                    Err(e) => {
                        self.diags.push(
                            Diagnostic::error(codes::INVALID_TYPE, format!("invalid type `{}`", t.get_ref()))
                                .label(load::span(file, t), e)
                                .help(format!(
                                    "write the type as {} spells it, e.g. {}",
                                    target.display_name(),
                                    target.type_examples()
                                )),
                        );
                        Type::Unknown
                    }
                },
            };
            if !valid {
                continue;
            }
            let min = def.min.as_ref().and_then(|b| self.bound(file, target, "min", &ty, b));
            let max = def.max.as_ref().and_then(|b| self.bound(file, target, "max", &ty, b));
            out.push(Column {
                name: name.get_ref().clone(),
                span,
                ty,
                required: def.required,
                unique: def.unique,
                description: def.description.as_ref().map(|d| d.get_ref().clone()),
                accepted_values: def.accepted_values.as_ref().map(|v| Box::new(Rule::from_def(v.get_ref()))),
                min: min.map(Box::new),
                max: max.map(Box::new),
                classification: def
                    .classification
                    .as_ref()
                    .map(|c| c.get_ref().items().into_iter().cloned().collect())
                    .unwrap_or_default(),
            });
        }
        out
    }

    fn missing(&mut self, at: Span, key: &str, why: &str) {
        self.diags.push(
            Diagnostic::error(codes::MISSING_KEY, format!("missing `{key}`: {why}"))
                .label(at, format!("add `{key}` here"))
                .help(format!("add `{key} = ...` to this table")),
        );
    }
}

fn suggest_name(name: &str, upper: bool) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                if upper {
                    c
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                '_'
            }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').to_string();
    let s = if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) { s } else { format!("x_{s}") };
    s.chars().take(64).collect()
}

/// A duration such as `26h`, `30m`, `2d`, `1w`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let (num, unit) = text.trim().split_at(text.trim().len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    let factor = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    (n > 0).then_some(n * factor)
}

/// A five-field cron expression (`0 3 * * *`) or a shorthand (`@daily`).
fn valid_cron(text: &str) -> bool {
    schedule::parse(text).is_ok()
}

fn valid_project(p: &str) -> bool {
    let p = p.rsplit(':').next().unwrap_or(p);
    (6..=30).contains(&p.len())
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !p.ends_with('-')
}

/// Resolves the raw mesh. Products that fail are still returned where their
/// definition parsed, so that later stages can check what does not depend on
/// the failure.
pub fn resolve_mesh(raw: &RawMesh, diags: &mut Vec<Diagnostic>) -> Option<Mesh> {
    let mesh_file = raw.mesh_file;
    let mesh_def = raw.mesh.as_ref()?;
    let mut r = Resolver { diags, types: HashMap::new() };
    let section = mesh_def.mesh.get_ref();
    r.name(mesh_file, &section.name, "mesh", false);

    let athena = mesh_def.targets.athena.as_ref().map(|a| {
        let a = a.get_ref();
        let bucket = a.bucket.get_ref();
        let name = bucket.strip_prefix("s3://").unwrap_or("");
        let valid = (3..=63).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            r.diags.push(
                Diagnostic::error(codes::INVALID_SETTING, format!("`{bucket}` is not an S3 bucket"))
                    .label(load::span(mesh_file, &a.bucket), "not `s3://<bucket>`")
                    .help("write the bucket as `s3://name`: 3 to 63 lower-case letters, digits, `-` or `.`, no path; dpc puts each table under s3://name/<domain>/<product>/<table>/"),
            );
        }
        let mut lf_tags = BTreeMap::new();
        for (label, tag) in &a.lf_tags.0 {
            let t = tag.get_ref();
            // Lake Formation: keys up to 128 characters, values up to 256, no blanks.
            let ok = |v: &str, max: usize| !v.is_empty() && v.len() <= max && !v.contains(char::is_whitespace);
            if !ok(&t.key, 128) || !ok(&t.value, 256) {
                r.diags.push(
                    Diagnostic::error(codes::INVALID_SETTING, format!("`{}={}` is not a Lake Formation tag", t.key, t.value))
                        .label(load::span(mesh_file, tag), "not a tag")
                        .help("write `label = { key = \"...\", value = \"...\" }` with a key of at most 128 characters and a value of at most 256, without blanks"),
                );
            }
            lf_tags.insert(label.get_ref().clone(), (t.key.clone(), t.value.clone()));
        }
        AthenaSettings {
            bucket: bucket.clone(),
            workgroup: a.workgroup.as_ref().map(|w| w.get_ref().clone()),
            region: a.region.as_ref().map(|r| r.get_ref().clone()),
            lf_tags,
        }
    });
    let bigquery = mesh_def.targets.bigquery.as_ref().map(|b| {
        let b = b.get_ref();
        if !valid_project(b.project.get_ref()) {
            r.diags.push(
                Diagnostic::error(
                    codes::INVALID_SETTING,
                    format!("`{}` is not a valid GCP project id", b.project.get_ref()),
                )
                .label(load::span(mesh_file, &b.project), "not a project id")
                .help("a project id has 6 to 30 lower-case letters, digits or hyphens, and starts with a letter"),
            );
        }
        if let Some(loc) = &b.location {
            if loc.get_ref().is_empty() || !loc.get_ref().chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                r.diags.push(
                    Diagnostic::error(
                        codes::INVALID_SETTING,
                        format!("`{}` is not a BigQuery location", loc.get_ref()),
                    )
                    .label(load::span(mesh_file, loc), "not a location")
                    .help("use a location such as `EU`, `US` or `europe-west3`"),
                );
            }
        }
        let mut policy_tags = BTreeMap::new();
        for (label, tag) in &b.policy_tags.0 {
            let parts: Vec<&str> = tag.get_ref().split('/').collect();
            let shaped = parts.len() == 8
                && ["projects", "locations", "taxonomies", "policyTags"]
                    .iter()
                    .enumerate()
                    .all(|(i, k)| parts[2 * i] == *k)
                && parts.iter().all(|p| !p.is_empty());
            if !shaped {
                r.diags.push(
                    Diagnostic::error(codes::INVALID_SETTING, format!("`{}` is not a policy tag name", tag.get_ref()))
                        .label(load::span(mesh_file, tag), "not a policy tag")
                        .help("write the tag's resource name: projects/P/locations/L/taxonomies/T/policyTags/G"),
                );
            }
            policy_tags.insert(label.get_ref().clone(), tag.get_ref().clone());
        }
        BigQuerySettings {
            project: b.project.get_ref().clone(),
            location: b.location.as_ref().map(|l| l.get_ref().clone()),
            policy_tags,
        }
    });

    // Products, sorted by id; duplicates reported and dropped.
    let mut by_id: BTreeMap<String, &load::RawProduct> = BTreeMap::new();
    for p in &raw.products {
        let def = &p.def;
        let ok_domain = r.name(p.file, &def.domain, "domain", false);
        let ok_name = r.name(p.file, &def.name, "product", false);
        if !(ok_domain && ok_name) {
            continue;
        }
        let id = format!("{}.{}", def.domain.get_ref(), def.name.get_ref());
        if let Some(first) = by_id.get(&id) {
            r.diags.push(
                Diagnostic::error(codes::DUPLICATE_PRODUCT, format!("product `{id}` is defined twice"))
                    .label(load::span(p.file, &def.name), "defined again here")
                    .label(load::span(first.file, &first.def.name), "first defined here")
                    .help("give each product a unique `domain` and `name`"),
            );
            continue;
        }
        by_id.insert(id, p);
    }
    let ids: Vec<String> = by_id.keys().cloned().collect();

    let mut products = vec![];
    for (id, p) in &by_id {
        let def = &p.def;
        let file = p.file;
        let target = match def.target.as_ref().or(section.default_target.as_ref()) {
            Some(t) => *t.get_ref(),
            None => TargetKind::Bigquery,
        };
        let target_span = def.target.as_ref().map_or_else(|| load::span(file, &def.name), |t| load::span(file, t));
        if target == TargetKind::Athena && athena.is_none() {
            r.diags.push(
                Diagnostic::error(
                    codes::MISSING_TARGET,
                    format!("product `{id}` runs on Athena, but dpc.toml has no [targets.athena]"),
                )
                .label(target_span, "this product's target")
                .help("add [targets.athena] with `bucket = \"s3://...\"` and `workgroup = \"...\"` to dpc.toml"),
            );
        }
        if target == TargetKind::Bigquery && bigquery.is_none() {
            r.diags.push(
                Diagnostic::error(
                    codes::MISSING_TARGET,
                    format!("product `{id}` runs on BigQuery, but dpc.toml has no [targets.bigquery]"),
                )
                .label(target_span, "this product's target")
                .help("add [targets.bigquery] with `project = \"...\"` and `location = \"...\"` to dpc.toml"),
            );
        }
        let tgt = target_for(target);
        if def.outputs.0.is_empty() {
            r.diags.push(
                Diagnostic::error(codes::NO_OUTPUTS, format!("product `{id}` has no output port"))
                    .label(load::span(file, &def.name), "this product publishes nothing")
                    .help("add an [outputs.<name>] table with a version and a query"),
            );
        }

        let mut inputs = vec![];
        for (name, input) in &def.inputs.0 {
            if !r.name(file, name, "input", false) {
                continue;
            }
            let def_in = input.get_ref();
            let span = load::span(file, name);
            let kind = def_in.kind.as_ref().map_or(InputKind::Product, |k| *k.get_ref());
            let mut columns = def_in.columns.as_ref().map(|c| r.columns(file, tgt, c.get_ref())).unwrap_or_default();
            if kind != InputKind::Product {
                // Files stay where they are delivered; exports and feeds are stored in tables.
                let table =
                    if kind == InputKind::File { crate::target::Table::Landing } else { crate::target::Table::Output };
                r.storable(&columns, tgt, table);
                if columns.is_empty() {
                    r.missing(span, "columns", "the schema of the team's own data is declared, column by column");
                }
            } else {
                if def_in.product.is_none() {
                    r.missing(span, "product", "an input of kind product names the product it reads");
                }
                if def_in.port.is_none() {
                    r.missing(span, "port", "an input of kind product names the output port it reads");
                }
                if def_in.version.is_none() {
                    r.missing(span, "version", "a consumer must pin the version of the port it reads");
                }
            }
            let ingest = r.ingest(file, tgt, name, def_in, kind, &mut columns);
            let unique_key: Vec<String> = def_in
                .unique_key
                .as_ref()
                .map(|k| k.get_ref().items().into_iter().cloned().collect())
                .unwrap_or_default();
            if let Some(k) = &def_in.unique_key {
                let named = unique_key.iter().map(|c| (c.clone(), load::span(file, k), "unique_key")).collect();
                r.declared_columns_exist(name, &columns, named);
            }
            let default_time = match &ingest {
                Ingest::Export { time_column } => Some(time_column.clone()),
                Ingest::Feed { event_time, .. } => Some(event_time.clone()),
                Ingest::File(f) => {
                    f.partitions.iter().find(|k| columns.iter().any(|c| c.name == **k && c.ty == Type::Date)).cloned()
                }
                Ingest::Port => None,
            };
            let mut with_time = columns.clone();
            if let Ingest::Export { time_column } = &ingest {
                with_time.push(ingest::export_time_column(tgt, time_column, span));
            }
            let freshness = def_in.freshness.as_ref().and_then(|f| {
                let known = (kind != InputKind::Product).then_some(with_time.as_slice());
                r.freshness(file, tgt, f, default_time.as_deref(), known, &format!("input `{}`", name.get_ref()))
            });
            let checks = r.table_checks(file, name.get_ref(), def_in.checks.as_ref(), &p.check_files);
            inputs.push((
                Input {
                    name: name.get_ref().clone(),
                    span,
                    kind,
                    description: def_in.description.as_ref().map(|d| d.get_ref().clone()),
                    source: if kind == InputKind::Product { InputSource::Unresolved } else { InputSource::Own },
                    columns,
                    ingest,
                    unique_key,
                    freshness,
                    checks,
                },
                input,
            ));
        }

        let mut outputs = vec![];
        for ((name, out), query_file) in def.outputs.0.iter().zip(&p.query_files) {
            if !r.name(file, name, "port", false) {
                continue;
            }
            let o = out.get_ref();
            let span = load::span(file, name);
            let columns = o.columns.as_ref().map(|c| r.columns(file, tgt, c.get_ref()));
            let materialization = o.materialization.as_ref().map_or(Materialization::View, |m| *m.get_ref());
            let strategy = o.strategy.as_ref().map_or(Strategy::Merge, |s| *s.get_ref());
            let key_span = o.unique_key.as_ref().map(|k| load::span(file, k));
            let unique_key: Vec<&String> = o.unique_key.as_ref().map(|k| k.get_ref().items()).unwrap_or_default();
            if materialization == Materialization::Incremental && strategy == Strategy::Merge && unique_key.is_empty() {
                let at = o.materialization.as_ref().map_or(span, |m| load::span(file, m));
                r.diags.push(
                    Diagnostic::error(
                        codes::MISSING_KEY,
                        "missing `unique_key`: an incremental port merges new rows by its key",
                    )
                    .label(at, "incremental without a key")
                    .help("add `unique_key = [\"...\"]`, or `strategy = \"append\"` for an append-only port"),
                );
            }
            let partition = o.partition_by.as_ref().map(|p| match p.get_ref() {
                load::PartitionDef::Column(c) => {
                    Partition { column: c.clone(), granularity: None, span: load::span(file, p) }
                }
                load::PartitionDef::Detailed(d) => {
                    Partition { column: d.column.clone(), granularity: d.granularity, span: load::span(file, p) }
                }
            });
            let cluster: Vec<&Spanned<String>> =
                o.cluster_by.as_ref().map(|c| c.get_ref().iter().collect()).unwrap_or_default();
            if let Some(at) = o.cluster_by.as_ref().map(|c| load::span(file, c)) {
                match tgt.max_cluster_columns() {
                    Some(max) if cluster.len() > max => r.diags.push(
                        Diagnostic::error(
                            codes::INVALID_VALUE,
                            format!("{} cluster columns; {} allows at most {max}", cluster.len(), tgt.display_name()),
                        )
                        .label(at, "too many columns")
                        .help(format!("keep the {max} columns most used in filters")),
                    ),
                    None => r.diags.push(
                        Diagnostic::warning(
                            codes::UNSUPPORTED_SETTING,
                            format!("{} tables have no clustering: `cluster_by` is ignored", tgt.display_name()),
                        )
                        .label(at, "ignored")
                        .help("remove it; `partition_by` is what prunes the data a query reads"),
                    ),
                    Some(_) => {}
                }
            }
            // Key, partition and cluster columns must be declared columns.
            if let Some(cols) = &columns {
                let mut refs: Vec<(String, Span, &str)> =
                    unique_key.iter().map(|k| ((*k).clone(), key_span.unwrap_or(span), "unique_key")).collect();
                refs.extend(cluster.iter().map(|k| (k.get_ref().clone(), load::span(file, *k), "cluster_by")));
                if let Some(p) = &partition {
                    refs.push((p.column.clone(), p.span, "partition_by"));
                }
                for (col, at, key) in refs {
                    match cols.iter().find(|c| c.name.eq_ignore_ascii_case(&col)) {
                        None => {
                            let mut d = Diagnostic::error(
                                codes::UNKNOWN_DECLARED_COLUMN,
                                format!(
                                    "`{key}` names `{col}`, which is not a declared column of port `{}`",
                                    name.get_ref()
                                ),
                            )
                            .label(at, "no such column");
                            if let Some(m) = did_you_mean(&col, cols.iter().map(|c| c.name.as_str())) {
                                d = d.help(m);
                            } else {
                                d = d.help(format!("declare `{col}` in [outputs.{}.columns]", name.get_ref()));
                            }
                            r.diags.push(d);
                        }
                        Some(c) if key == "partition_by" => {
                            let g = partition.as_ref().and_then(|p| p.granularity);
                            let ok = matches!(
                                (&c.ty, g),
                                (Type::Date, None | Some(Granularity::Day | Granularity::Month | Granularity::Year))
                                    | (Type::Timestamp | Type::Datetime | Type::Unknown, _)
                            );
                            if !ok {
                                r.diags.push(
                                    Diagnostic::error(codes::INVALID_VALUE, format!("cannot partition by `{col}` of type {}", tgt.type_name(&c.ty)))
                                        .label(at, "partition column")
                                        .label(c.span, "declared here")
                                        .help("partition by a DATE, TIMESTAMP or DATETIME column, with a granularity where it helps"),
                                );
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            let default_time = partition.as_ref().map(|p| p.column.clone());
            let freshness = o.freshness.as_ref().and_then(|f| {
                r.freshness(
                    file,
                    tgt,
                    f,
                    default_time.as_deref(),
                    columns.as_deref(),
                    &format!("port `{}`", name.get_ref()),
                )
            });
            let checks = r.table_checks(file, name.get_ref(), o.checks.as_ref(), &p.check_files);
            if let Some(s) = &o.schedule {
                if !valid_cron(s.get_ref()) {
                    r.diags.push(
                        Diagnostic::error(codes::INVALID_DURATION, format!("`{}` is not a cron schedule", s.get_ref()))
                            .label(load::span(file, s), "invalid `schedule`")
                            .help(
                                "write five cron fields (minute hour day month weekday), e.g. `0 3 * * *`, or @daily",
                            ),
                    );
                }
            }
            let published = match &o.port {
                Some(p) if r.name(file, p, "port", false) => p.get_ref().clone(),
                _ => name.get_ref().clone(),
            };
            let version = *o.version.get_ref();
            if let Some(first) = outputs.iter().find(|x: &&Port| x.name == published && x.version == version) {
                r.diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_PORT,
                        format!("port `{published}` version {version} is published twice"),
                    )
                    .label(load::span(file, &o.version), "published again here")
                    .label(first.span, "first published here")
                    .help("give the new entry the next version: `version = N + 1`"),
                );
            }
            outputs.push(Port {
                name: published,
                key: name.get_ref().clone(),
                span,
                version: *o.version.get_ref(),
                description: o.description.as_ref().map(|d| d.get_ref().clone()),
                query_file: *query_file,
                materialization,
                strategy,
                unique_key: unique_key.iter().map(|k| (*k).clone()).collect(),
                partition,
                cluster_by: cluster.iter().map(|k| k.get_ref().clone()).collect(),
                schedule: o.schedule.as_ref().map(|s| s.get_ref().clone()),
                freshness,
                checks,
                consumers: o
                    .consumers
                    .as_ref()
                    .map(|c| c.get_ref().iter().map(|s| s.get_ref().clone()).collect())
                    .unwrap_or_default(),
                sunset: o.sunset.as_ref().map(|s| s.get_ref().clone()),
                columns,
            });
        }
        products.push((
            Product {
                id: id.clone(),
                domain: def.domain.get_ref().clone(),
                name: def.name.get_ref().clone(),
                owner: def.owner.get_ref().clone(),
                description: def.description.as_ref().map(|d| d.get_ref().clone()),
                target,
                file,
                name_span: load::span(file, &def.name),
                inputs: vec![],
                outputs,
                ceiling: def.classification_ceiling.as_ref().map(|c| (c.get_ref().clone(), load::span(file, c))),
            },
            inputs,
        ));
    }

    // Inputs to ports: needs every product's ports, hence a second pass.
    let index: BTreeMap<String, usize> = products.iter().enumerate().map(|(i, (p, _))| (p.id.clone(), i)).collect();
    let mut resolved_inputs = vec![];
    for (p, inputs) in &products {
        let mut out = vec![];
        for (mut input, def) in inputs.iter().map(|(i, d)| (i.clone(), d)) {
            let d = def.get_ref();
            if input.kind == InputKind::Product {
                if let (Some(prod), Some(port), Some(version)) = (&d.product, &d.port, &d.version) {
                    let known = Known { products: &products, index: &index, ids: &ids };
                    input.source = resolve_port(&mut r, p, &known, prod, port, version);
                }
            }
            out.push(input);
        }
        resolved_inputs.push(out);
    }
    let mut products: Vec<Product> = products
        .into_iter()
        .zip(resolved_inputs)
        .map(|((mut p, _), inputs)| {
            p.inputs = inputs;
            p
        })
        .collect();

    freshness_promises(&mut r, &products);
    let (order, edges, cyclic) = order_products(&mut r, &products);
    for p in &mut products {
        p.inputs.shrink_to_fit();
    }
    Some(Mesh {
        name: section.name.get_ref().clone(),
        description: section.description.as_ref().map(|d| d.get_ref().clone()),
        bigquery,
        athena,
        products,
        order,
        edges,
        cyclic,
        labels: mesh_def
            .classifications
            .labels
            .as_ref()
            .map_or_else(|| vec!["pii".to_string()], |l| l.get_ref().clone()),
        labels_span: mesh_def.classifications.labels.as_ref().map(|l| load::span(mesh_file, l)),
        deidentifying: mesh_def
            .classifications
            .deidentifying_functions
            .iter()
            .map(|f| f.to_ascii_uppercase())
            .collect(),
    })
}

/// A product before its inputs are bound, with the definitions of its inputs.
type ProductWithInputs<'a> = (Product, Vec<(Input, &'a Spanned<load::InputDef>)>);

/// What an input may name: the products, by id, and those left out.
struct Known<'a, 'b> {
    products: &'a [ProductWithInputs<'b>],
    index: &'a BTreeMap<String, usize>,
    ids: &'a [String],
}

fn resolve_port(
    r: &mut Resolver,
    consumer: &Product,
    known: &Known,
    prod: &Spanned<String>,
    port: &Spanned<String>,
    version: &Spanned<u32>,
) -> InputSource {
    let file = consumer.file;
    let (products, ids) = (known.products, known.ids);
    let Some(&pi) = known.index.get(prod.get_ref()) else {
        let mut d = Diagnostic::error(codes::UNKNOWN_PRODUCT, format!("no product `{}` in this mesh", prod.get_ref()))
            .label(load::span(file, prod), "unknown product");
        // `product = "orders"`: the id needs its domain.
        let by_name: Vec<&String> =
            ids.iter().filter(|id| id.rsplit('.').next() == Some(prod.get_ref().as_str())).collect();
        d = match did_you_mean(prod.get_ref(), ids.iter().map(String::as_str)) {
            _ if !prod.get_ref().contains('.') && by_name.len() == 1 => {
                d.help(format!("did you mean `{}`? (a product id is `domain.name`)", by_name[0]))
            }
            Some(m) => d.help(m),
            None => d.help("name a product as `domain.name`, as its product.toml declares them"),
        };
        r.diags.push(d);
        return InputSource::Unresolved;
    };
    let upstream = &products[pi].0;
    if upstream.target != consumer.target {
        r.diags.push(cross_target(prod.get_ref(), upstream.target, consumer, load::span(file, prod)));
        return InputSource::Unresolved;
    }
    let ports: Vec<(usize, &Port)> =
        upstream.outputs.iter().enumerate().filter(|(_, o)| o.name == *port.get_ref()).collect();
    if ports.is_empty() {
        let mut d = Diagnostic::error(
            codes::UNKNOWN_PORT,
            format!("product `{}` has no output port `{}`", upstream.id, port.get_ref()),
        )
        .label(load::span(file, port), "unknown port");
        d = match did_you_mean(port.get_ref(), upstream.outputs.iter().map(|o| o.name.as_str())) {
            Some(m) => d.help(m),
            None => d.help(format!(
                "`{}` publishes: {}",
                upstream.id,
                upstream.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", ")
            )),
        };
        r.diags.push(d);
        return InputSource::Unresolved;
    }
    let Some(&(port_index, found)) = ports.iter().find(|(_, o)| o.version == *version.get_ref()) else {
        let versions: Vec<String> = ports.iter().map(|(_, o)| o.version.to_string()).collect();
        r.diags.push(
            Diagnostic::error(
                codes::UNKNOWN_VERSION,
                format!("port `{}.{}` has no version {}", upstream.id, port.get_ref(), version.get_ref()),
            )
            .label(load::span(file, version), "unknown version")
            .label(ports[0].1.span, format!("published here as version {}", versions.join(", ")))
            .help(format!("pin a published version: `version = {}`", versions.last().map_or("1", String::as_str))),
        );
        return InputSource::Unresolved;
    };
    if upstream.target != consumer.target {
        r.diags.push(cross_target(&upstream.id, upstream.target, consumer, load::span(file, prod)));
        return InputSource::Unresolved;
    }
    if !found.consumers.is_empty() && !found.consumers.iter().any(|c| consumer_matches(c, consumer)) {
        r.diags.push(
            Diagnostic::error(
                codes::ACCESS_DENIED,
                format!("port `{}.{}` does not allow `{}` as a consumer", upstream.id, found.name, consumer.id),
            )
            .label(load::span(file, prod), "not an allowed consumer")
            .label(
                found.span,
                format!(
                    "consumers = [{}]",
                    found.consumers.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
                ),
            )
            .help(format!(
                "ask the owner of `{}` ({}) to add your product to `consumers`",
                upstream.id, upstream.owner
            )),
        );
        return InputSource::Unresolved;
    }
    InputSource::Port { product: ProductId(pi as u32), port: port_index, version: found.version }
}

fn cross_target(upstream: &str, target: TargetKind, consumer: &Product, at: Span) -> Diagnostic {
    Diagnostic::error(
        codes::CROSS_TARGET,
        format!("`{upstream}` runs on {}; `{}` runs on {}", target.display(), consumer.id, consumer.target.display()),
    )
    .label(at, "input from another target")
    .help("a product consumes only ports of its own target; ask the producer to publish the port on your target")
}

/// `marketing.*`, `marketing.audience` or `*`.
fn consumer_matches(pattern: &str, p: &Product) -> bool {
    match pattern.split_once('.') {
        Some((d, "*")) => d == p.domain || d == "*",
        Some(_) => pattern == p.id,
        None => pattern == "*" || pattern == p.domain,
    }
}

/// The dependency order, and every cycle reported with its path.
type Order = (Vec<ProductId>, Vec<(ProductId, ProductId)>, BTreeSet<ProductId>);

fn order_products(r: &mut Resolver, products: &[Product]) -> Order {
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..products.len()).map(|i| graph.add_node(i)).collect();
    let mut edges = BTreeSet::new();
    for (i, p) in products.iter().enumerate() {
        for input in &p.inputs {
            if let InputSource::Port { product, .. } = input.source {
                edges.insert((ProductId(product.0), ProductId(i as u32)));
            }
        }
    }
    for &(a, b) in &edges {
        graph.add_edge(nodes[a.0 as usize], nodes[b.0 as usize], ());
    }
    let mut in_cycle = vec![false; products.len()];
    let mut sccs = petgraph::algo::tarjan_scc(&graph);
    sccs.iter_mut().for_each(|c| c.sort());
    sccs.sort();
    for scc in sccs {
        let members: Vec<usize> = scc.iter().map(|n| graph[*n]).collect();
        let self_loop =
            members.len() == 1 && edges.contains(&(ProductId(members[0] as u32), ProductId(members[0] as u32)));
        if members.len() < 2 && !self_loop {
            continue;
        }
        members.iter().for_each(|&m| in_cycle[m] = true);
        // Walk the cycle from its smallest member, following edges inside it.
        let start = members[0];
        let mut path = vec![start];
        let mut current = start;
        loop {
            let next = members.iter().copied().find(|&m| {
                edges.contains(&(ProductId(current as u32), ProductId(m as u32))) && (m == start || !path.contains(&m))
            });
            match next {
                Some(n) if n == start => break,
                Some(n) => {
                    path.push(n);
                    current = n;
                }
                None => break,
            }
        }
        let names: Vec<&str> =
            path.iter().map(|&i| products[i].id.as_str()).chain([products[start].id.as_str()]).collect();
        let mut d = Diagnostic::error(
            codes::CYCLE,
            format!("products depend on each other in a cycle: {}", names.join(" -> ")),
        );
        for w in path.windows(2).chain(std::iter::once(&[current, start][..])) {
            let (up, down) = (w[0], w[1]);
            if let Some(input) = products[down]
                .inputs
                .iter()
                .find(|i| matches!(i.source, InputSource::Port { product, .. } if product.0 as usize == up))
            {
                d = d.label(input.span, format!("`{}` reads `{}`", products[down].id, products[up].id));
            }
        }
        r.diags.push(d.help("break the cycle: a product cannot read, directly or through others, its own output"));
    }
    // Kahn's algorithm; ties broken by product id for a stable order.
    let mut indegree = vec![0usize; products.len()];
    for &(a, b) in &edges {
        if !in_cycle[a.0 as usize] && !in_cycle[b.0 as usize] {
            indegree[b.0 as usize] += 1;
        }
    }
    let mut ready: BTreeSet<usize> = (0..products.len()).filter(|&i| indegree[i] == 0 && !in_cycle[i]).collect();
    let mut order = vec![];
    while let Some(i) = ready.pop_first() {
        order.push(ProductId(i as u32));
        for &(a, b) in edges.range((ProductId(i as u32), ProductId(0))..) {
            if a.0 as usize != i {
                break;
            }
            let b = b.0 as usize;
            if in_cycle[b] {
                continue;
            }
            indegree[b] -= 1;
            if indegree[b] == 0 {
                ready.insert(b);
            }
        }
    }
    let cyclic = (0..products.len()).filter(|&i| in_cycle[i]).map(|i| ProductId(i as u32)).collect();
    (order, edges.into_iter().collect(), cyclic)
}

/// Warns where a port promises a freshness that its schedule or inputs
/// cannot deliver (a daily upstream feeding an hourly promise), and where
/// the ports of one product ask for different schedules (one DAG runs them).
fn freshness_promises(r: &mut Resolver, products: &[Product]) {
    let mut gaps: HashMap<String, Option<u64>> = HashMap::new();
    let mut gap = |cron: &str| {
        *gaps.entry(cron.to_string()).or_insert_with(|| schedule::parse(cron).ok().and_then(|c| c.longest_gap()))
    };
    let d = schedule::describe;
    for p in products {
        let scheduled: Vec<&Port> = p.outputs.iter().filter(|o| o.schedule.is_some()).collect();
        if let Some(first) = scheduled.first() {
            for other in scheduled.iter().skip(1).filter(|o| o.schedule != first.schedule) {
                r.diags.push(
                    Diagnostic::warning(
                        codes::SCHEDULE_CONFLICT,
                        format!(
                            "port `{}` asks for `{}`, but the ports of `{}` run together on `{}`",
                            other.name,
                            other.schedule.as_deref().unwrap_or(""),
                            p.id,
                            first.schedule.as_deref().unwrap_or("")
                        ),
                    )
                    .label(other.span, "runs on the product's first schedule")
                    .label(first.span, "the product's schedule")
                    .help("give the product's ports one schedule, or move the port into a product of its own"),
                );
            }
        }
        for port in &p.outputs {
            let Some(f) = &port.freshness else { continue };
            let mut late: Vec<(String, String)> = vec![];
            if port.materialization != Materialization::View {
                match port.schedule.as_deref().or(scheduled.first().and_then(|o| o.schedule.as_deref())) {
                    Some(cron) => {
                        if let Some(g) = gap(cron).filter(|g| *g > f.seconds) {
                            late.push(("its schedule".into(), format!("runs `{cron}`: up to {} between runs", d(g))));
                        }
                    }
                    None => late.push(("it".into(), "has no schedule: it is refreshed only on demand".into())),
                }
            }
            for input in &p.inputs {
                let (bound, why) = match input.source {
                    InputSource::Port { product, port: up_port, .. } => {
                        let up = &products[product.0 as usize];
                        let up_port = &up.outputs[up_port];
                        match (
                            &up_port.freshness,
                            up_port.schedule.as_deref().or(up.outputs.iter().find_map(|o| o.schedule.as_deref())),
                        ) {
                            (Some(uf), _) => (Some(uf.seconds), format!("`{}` promises {}", up.id, uf.text)),
                            (None, Some(cron)) => {
                                let g = gap(cron);
                                (g, format!("`{}` runs `{cron}`: up to {} between runs", up.id, d(g.unwrap_or(0))))
                            }
                            (None, None) => (None, String::new()),
                        }
                    }
                    _ => match &input.freshness {
                        Some(inf) => (Some(inf.seconds), format!("its data may be {} old", inf.text)),
                        None => (None, String::new()),
                    },
                };
                if bound.is_some_and(|b| b > f.seconds) {
                    late.push((format!("input `{}`", input.name), why));
                }
            }
            if late.is_empty() {
                continue;
            }
            let mut diag = Diagnostic::warning(
                codes::FRESHNESS_UNREACHABLE,
                format!(
                    "port `{}` promises data at most {} old, which {} cannot deliver",
                    port.name, f.text, late[0].0
                ),
            )
            .label(f.span, "the promise");
            for (what, why) in &late {
                let at = p.inputs.iter().find(|i| what == &format!("input `{}`", i.name)).map_or(port.span, |i| i.span);
                diag = diag.label(at, format!("{what}: {why}"));
            }
            r.diags.push(diag.help("promise what the slowest input and the schedule allow, or refresh more often"));
        }
    }
}
