//! The settings of the team's own inputs (export, file, feed), freshness
//! promises and quality rules: validated here, once, into typed settings
//! that emit turns into loading and checking SQL.

use super::{Column, Resolver};
use crate::codes;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::load::{self, FileFormat, FreshnessDef, InputDef, InputKind, Keep, Severity, TargetKind};
use crate::span::{FileId, Span};
use crate::target::Target;
use crate::types::Type;
use toml::Spanned;

/// How an input's data arrives, with what its kind needs.
#[derive(Debug, Clone)]
pub enum Ingest {
    /// Another product's output port.
    Port,
    /// A nightly export: the load stamps each snapshot with `time_column`
    /// (a column of the stored snapshots, not of what queries read) and
    /// replaces the day's snapshot.
    Export {
        time_column: String,
    },
    File(FileInput),
    /// Append-only events, deduplicated by `event_id`.
    Feed {
        event_id: Vec<String>,
        event_time: String,
        keep: Keep,
    },
}

#[derive(Debug, Clone)]
pub struct FileInput {
    pub format: FileFormat,
    pub uri: String,
    pub csv: CsvOptions,
    /// Hive-style partition keys of the path, in path order; each is also
    /// the last columns of the input.
    pub partitions: Vec<String>,
}

impl FileInput {
    /// The part of the uri before its first wildcard: the folder that holds
    /// the files (and the hive partition directories).
    pub fn prefix(&self) -> &str {
        let before = self.uri.split('*').next().unwrap_or(&self.uri);
        match before.rfind('/') {
            Some(i) => &before[..=i],
            None => before,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CsvOptions {
    pub header: bool,
    pub delimiter: String,
    pub quote: String,
    /// The text that stands for NULL.
    pub null: String,
}

/// A promise that the newest row is at most `seconds` old.
#[derive(Debug, Clone)]
pub struct Freshness {
    /// As written: `26h`.
    pub text: String,
    pub seconds: u64,
    /// The column that carries the time (None: not known yet, for a port
    /// without a contract or an input of another product).
    pub column: Option<String>,
    pub severity: Severity,
    pub span: Span,
}

/// A table-level quality rule of a port or an input.
#[derive(Debug, Clone)]
pub struct TableCheck {
    pub name: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub rule: TableRule,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TableRule {
    RowCount {
        min: Option<u64>,
        max: Option<u64>,
    },
    /// A query (its file) that returns the violating rows.
    Query(Option<FileId>),
}

/// A column rule and its severity.
#[derive(Debug, Clone)]
pub struct Rule<T> {
    pub value: T,
    pub severity: Severity,
}

impl<T: Clone> Rule<T> {
    pub fn from_def(def: &load::RuleDef<T>) -> Rule<T> {
        match def {
            load::RuleDef::Plain(v) => Rule { value: v.clone(), severity: Severity::Error },
            load::RuleDef::Detailed(d) => {
                Rule { value: d.value.clone(), severity: d.severity.unwrap_or(Severity::Error) }
            }
        }
    }
}

impl Resolver<'_> {
    /// The settings of an input of `kind`; adds the columns the kind
    /// brings (an export's snapshot time, a file's partition keys).
    pub(super) fn ingest(
        &mut self,
        file: FileId,
        target: &dyn Target,
        name: &Spanned<String>,
        def: &InputDef,
        kind: InputKind,
        columns: &mut Vec<Column>,
    ) -> Ingest {
        let span = load::span(file, name);
        // Keys that belong to another kind are mistakes, not silence.
        let foreign: [(&str, Option<Span>, &[InputKind]); 9] = [
            ("export_time", def.export_time.as_ref().map(|v| load::span(file, v)), &[InputKind::Export]),
            ("uri", def.uri.as_ref().map(|v| load::span(file, v)), &[InputKind::File]),
            ("format", def.format.as_ref().map(|v| load::span(file, v)), &[InputKind::File]),
            ("csv", def.csv.as_ref().map(|v| load::span(file, v)), &[InputKind::File]),
            ("partitions", def.partitions.as_ref().map(|v| load::span(file, v)), &[InputKind::File]),
            ("event_id", def.event_id.as_ref().map(|v| load::span(file, v)), &[InputKind::Feed]),
            ("event_time", def.event_time.as_ref().map(|v| load::span(file, v)), &[InputKind::Feed]),
            ("keep", def.keep.as_ref().map(|v| load::span(file, v)), &[InputKind::Feed]),
            (
                "columns",
                def.columns.as_ref().map(|v| load::span(file, v)),
                &[InputKind::Export, InputKind::File, InputKind::Feed],
            ),
        ];
        for (key, at, kinds) in foreign {
            if let Some(at) = at {
                if !kinds.contains(&kind) {
                    let owner = kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ");
                    self.diags.push(
                        Diagnostic::error(
                            codes::UNKNOWN_KEY,
                            format!("`{key}` is a setting of {owner} inputs, not of a {} input", kind.name()),
                        )
                        .label(at, "not used by this kind of input")
                        .help(if kind == InputKind::Product {
                            "a product input takes its columns from the port it pins; set `kind` for the team's own data".to_string()
                        } else {
                            format!("remove `{key}`, or set `kind` to the kind it belongs to")
                        }),
                    );
                }
            }
        }
        match kind {
            InputKind::Product => Ingest::Port,
            InputKind::Export => {
                let time_column = def.export_time.as_ref().map_or("export_time".to_string(), |t| t.get_ref().clone());
                let at = def.export_time.as_ref().map_or(span, |t| load::span(file, t));
                if let Some(c) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(&time_column)) {
                    self.diags.push(
                        Diagnostic::error(
                            codes::INVALID_VALUE,
                            format!("`{time_column}` is the snapshot time the load adds; the export cannot declare it"),
                        )
                        .label(c.span, "declared here")
                        .label(at, "the snapshot time column")
                        .help("remove the column, or name the snapshot time column otherwise with `export_time = \"...\"`"),
                    );
                } else {
                    self.name(file, &Spanned::new(at.range(), time_column.clone()), "column", false);
                }
                Ingest::Export { time_column }
            }
            InputKind::File => {
                if def.uri.is_none() {
                    self.missing(span, "uri", "a file input reads its files from a bucket path");
                }
                if def.format.is_none() {
                    self.missing(span, "format", "a file input declares its file format (csv, json, parquet, avro)");
                }
                let format = def.format.as_ref().map_or(FileFormat::Parquet, |f| *f.get_ref());
                let uri = def.uri.as_ref().map_or(String::new(), |u| u.get_ref().clone());
                if let Some(u) = &def.uri {
                    self.check_uri(target, load::span(file, u), u.get_ref());
                }
                let csv_def = def.csv.as_ref().map(|c| c.get_ref());
                if let (Some(c), false) = (&def.csv, format == FileFormat::Csv) {
                    self.diags.push(
                        Diagnostic::error(
                            codes::UNKNOWN_KEY,
                            format!("`csv` options on a {} file input", format.name()),
                        )
                        .label(load::span(file, c), "only CSV files take these options")
                        .help("remove `csv`, or set `format = \"csv\"`"),
                    );
                }
                let one_char = |r: &mut Self, v: &Option<Spanned<String>>, default: &str, key: &str| -> String {
                    match v {
                        Some(s) if s.get_ref().chars().count() == 1 => s.get_ref().clone(),
                        Some(s) => {
                            r.diags.push(
                                Diagnostic::error(codes::INVALID_VALUE, format!("`{key}` must be one character"))
                                    .label(load::span(file, s), "not one character")
                                    .help(format!("write a single character, such as `{key} = \"{default}\"`")),
                            );
                            default.to_string()
                        }
                        None => default.to_string(),
                    }
                };
                let csv = CsvOptions {
                    header: csv_def.and_then(|c| c.header).unwrap_or(true),
                    delimiter: one_char(self, &csv_def.and_then(|c| c.delimiter.clone()), ",", "delimiter"),
                    quote: one_char(self, &csv_def.and_then(|c| c.quote.clone()), "\"", "quote"),
                    null: csv_def.and_then(|c| c.null.clone()).unwrap_or_default(),
                };
                // Values in text files are text until the typed view casts them.
                if !format.typed() {
                    for c in columns.iter().filter(|c| matches!(c.ty, Type::Array(_) | Type::Struct(_) | Type::Map(..)))
                    {
                        if format == FileFormat::Csv {
                            self.diags.push(
                                Diagnostic::error(
                                    codes::INVALID_TYPE,
                                    format!("a CSV file cannot hold `{}` of type {}", c.name, target.type_name(&c.ty)),
                                )
                                .label(c.span, "a nested type in a CSV file")
                                .help("declare the column as text and parse it in the query, or deliver JSON lines or Parquet"),
                            );
                        }
                    }
                }
                let mut partitions = vec![];
                if let Some(parts) = &def.partitions {
                    for (key, ty) in &parts.get_ref().0 {
                        if !self.name(file, key, "partition key", false) {
                            continue;
                        }
                        let at = load::span(file, key);
                        if let Some(c) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(key.get_ref())) {
                            self.diags.push(
                                Diagnostic::error(
                                    codes::DUPLICATE_COLUMN,
                                    format!("partition key `{}` is also a declared column", key.get_ref()),
                                )
                                .label(at, "a column taken from the path")
                                .label(c.span, "declared again here")
                                .help("a hive partition key is read from the file's path, not from the file: declare it once, under `partitions`"),
                            );
                            continue;
                        }
                        let parsed = match self.parsed_type(target, ty.get_ref()) {
                            Ok(t) if matches!(t, Type::Date | Type::String(None) | Type::Int64) => t,
                            Ok(t) => {
                                self.diags.push(
                                    Diagnostic::error(
                                        codes::INVALID_TYPE,
                                        format!("a partition key cannot be of type {}", target.type_name(&t)),
                                    )
                                    .label(load::span(file, ty), "not a partition key type")
                                    .help(format!(
                                        "partition keys are {}, {} or {}",
                                        target.type_name(&Type::Date),
                                        target.type_name(&Type::String(None)),
                                        target.type_name(&Type::Int64)
                                    )),
                                );
                                Type::Unknown
                            }
                            Err(e) => {
                                self.diags.push(
                                    Diagnostic::error(codes::INVALID_TYPE, format!("invalid type `{}`", ty.get_ref()))
                                        .label(load::span(file, ty), e),
                                );
                                Type::Unknown
                            }
                        };
                        partitions.push(key.get_ref().clone());
                        columns.push(Column::generated(
                            key.get_ref(),
                            at,
                            parsed,
                            "Hive partition key, read from the file's path.",
                        ));
                    }
                    if !partitions.is_empty() && !uri.is_empty() {
                        let input = FileInput { format, uri: uri.clone(), csv: csv.clone(), partitions: vec![] };
                        if !input.prefix().ends_with('/') || input.prefix().len() == uri.len() {
                            self.diags.push(
                                Diagnostic::error(codes::INVALID_SETTING, "a partitioned file input needs a wildcard below a folder")
                                    .label(load::span(file, def.uri.as_ref().unwrap_or(name)), "no `/*` in the uri")
                                    .help(format!("write the folder that holds the `{}=...` directories, then `*`: `.../drops/rates/*.csv`", partitions[0])),
                            );
                        }
                    }
                }
                Ingest::File(FileInput { format, uri, csv, partitions })
            }
            InputKind::Feed => {
                if def.event_id.is_none() {
                    self.missing(span, "event_id", "a feed is deduplicated by the column(s) that identify an event");
                }
                if def.event_time.is_none() {
                    self.missing(span, "event_time", "a feed names the column that carries the event time");
                }
                let event_id: Vec<String> = def
                    .event_id
                    .as_ref()
                    .map(|k| k.get_ref().items().into_iter().cloned().collect())
                    .unwrap_or_default();
                let event_time = def.event_time.as_ref().map_or(String::new(), |t| t.get_ref().clone());
                let mut named: Vec<(String, Span, &str)> = vec![];
                if let Some(k) = &def.event_id {
                    named.extend(event_id.iter().map(|c| (c.clone(), load::span(file, k), "event_id")));
                }
                if let Some(t) = &def.event_time {
                    named.push((event_time.clone(), load::span(file, t), "event_time"));
                    if let Some(c) = columns.iter().find(|c| c.name.eq_ignore_ascii_case(&event_time)) {
                        if !c.ty.has_unknown() && !matches!(c.ty, Type::Timestamp | Type::Datetime) {
                            self.diags.push(
                                Diagnostic::error(
                                    codes::INVALID_TYPE,
                                    format!("`event_time` names `{}` of type {}", c.name, target.type_name(&c.ty)),
                                )
                                .label(load::span(file, t), "the event time")
                                .label(c.span, "declared here")
                                .help("the event time is a timestamp: it orders the copies of an event and partitions the feed"),
                            );
                        }
                    }
                }
                self.declared_columns_exist(name, columns, named);
                let keep = def.keep.as_ref().map_or(Keep::Latest, |k| *k.get_ref());
                Ingest::Feed { event_id, event_time, keep }
            }
        }
    }

    /// `gs://bucket/path/*.csv` on BigQuery, `s3://bucket/path/` on Athena.
    fn check_uri(&mut self, target: &dyn Target, at: Span, uri: &str) {
        let scheme = if target.kind() == TargetKind::Bigquery { "gs://" } else { "s3://" };
        let bucket = uri.strip_prefix(scheme).and_then(|rest| rest.split('/').next()).unwrap_or("");
        let problem = if bucket.is_empty() {
            Some(format!("{} reads files from `{scheme}<bucket>/...`", target.display_name()))
        } else if target.kind() == TargetKind::Bigquery && uri.matches('*').count() > 1 {
            Some("BigQuery allows one `*` in a uri".to_string())
        } else if target.kind() == TargetKind::Athena
            && uri.contains('*')
            && !uri.ends_with('*')
            && !uri.rsplit('/').next().unwrap_or("").contains('*')
        {
            Some("Athena reads whole folders: a `*` may only stand in the file name".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            self.diags.push(
                Diagnostic::error(codes::INVALID_SETTING, format!("`{uri}` is not a file location: {problem}"))
                    .label(at, "invalid uri")
                    .help(format!(
                        "write the folder and a file pattern, such as `{scheme}drops-bucket/carrier-rates/*.csv`"
                    )),
            );
        }
    }

    /// Each named column is a declared column of the input.
    pub(super) fn declared_columns_exist(
        &mut self,
        input: &Spanned<String>,
        columns: &[Column],
        named: Vec<(String, Span, &str)>,
    ) {
        for (col, at, key) in named {
            if !columns.is_empty() && !columns.iter().any(|c| c.name.eq_ignore_ascii_case(&col)) {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_DECLARED_COLUMN,
                    format!("`{key}` names `{col}`, which is not a declared column of input `{}`", input.get_ref()),
                )
                .label(at, "no such column");
                d = match did_you_mean(&col, columns.iter().map(|c| c.name.as_str())) {
                    Some(m) => d.help(m),
                    None => d.help(format!("declare `{col}` in the input's columns")),
                };
                self.diags.push(d);
            }
        }
    }

    /// A freshness promise; the time column defaults to `default_column`
    /// and, where the columns are known, must be one of them and a time.
    pub(super) fn freshness(
        &mut self,
        file: FileId,
        target: &dyn Target,
        def: &Spanned<FreshnessDef>,
        default_column: Option<&str>,
        columns: Option<&[Column]>,
        owner: &str,
    ) -> Option<Freshness> {
        let at = load::span(file, def);
        let (text, column, severity) = match def.get_ref() {
            FreshnessDef::Age(t) => (t.clone(), None, None),
            FreshnessDef::Detailed(d) => (d.max_age.clone(), d.column.clone(), d.severity),
        };
        let Some(seconds) = super::parse_duration(&text) else {
            self.diags.push(
                Diagnostic::error(codes::INVALID_DURATION, format!("`{text}` is not a duration"))
                    .label(at, "invalid `freshness`")
                    .help("write a whole number and a unit: `30m`, `26h`, `2d`, `1w`"),
            );
            return None;
        };
        let column = column.or(default_column.map(str::to_string));
        match (&column, columns) {
            (None, Some(_)) => {
                self.diags.push(
                    Diagnostic::error(codes::MISSING_KEY, format!("the freshness of {owner} names no time column"))
                        .label(at, "which column carries the time?")
                        .help(format!("write `freshness = {{ max_age = \"{text}\", column = \"updated_at\" }}` with the column that says how new a row is")),
                );
            }
            (Some(col), Some(cols)) if !cols.is_empty() => match cols.iter().find(|c| c.name.eq_ignore_ascii_case(col))
            {
                None => {
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_DECLARED_COLUMN,
                        format!("the freshness of {owner} is measured on `{col}`, which is not a declared column"),
                    )
                    .label(at, "no such column");
                    if let Some(m) = did_you_mean(col, cols.iter().map(|c| c.name.as_str())) {
                        d = d.help(m);
                    }
                    self.diags.push(d);
                }
                Some(c) if !c.ty.has_unknown() && !matches!(c.ty, Type::Date | Type::Timestamp | Type::Datetime) => {
                    self.diags.push(
                        Diagnostic::error(
                            codes::INVALID_TYPE,
                            format!("freshness is measured on `{}`, of type {}", c.name, target.type_name(&c.ty)),
                        )
                        .label(at, "freshness")
                        .label(c.span, "declared here")
                        .help("measure freshness on a date or timestamp column"),
                    );
                }
                Some(_) => {}
            },
            _ => {}
        }
        Some(Freshness { text, seconds, column, severity: severity.unwrap_or(Severity::Error), span: at })
    }

    /// The table-level checks of a port or an input.
    pub(super) fn table_checks(
        &mut self,
        file: FileId,
        owner: &str,
        defs: Option<&Vec<Spanned<load::CheckDef>>>,
        files: &std::collections::BTreeMap<(String, usize), Option<FileId>>,
    ) -> Vec<TableCheck> {
        let mut out: Vec<TableCheck> = vec![];
        for (i, def) in defs.into_iter().flatten().enumerate() {
            let at = load::span(file, def);
            let d = def.get_ref();
            let rule = match (&d.row_count, &d.query) {
                (Some(b), None) => {
                    let b = b.get_ref();
                    if b.min.is_none() && b.max.is_none() || b.min.zip(b.max).is_some_and(|(lo, hi)| lo > hi) {
                        self.diags.push(
                            Diagnostic::error(
                                codes::INVALID_VALUE,
                                "`row_count` needs a `min`, a `max` or both, min <= max",
                            )
                            .label(d.row_count.as_ref().map_or(at, |b| load::span(file, b)), "invalid bounds")
                            .help("write `row_count = { min = 1 }` or `row_count = { min = 100, max = 100000 }`"),
                        );
                    }
                    TableRule::RowCount { min: b.min, max: b.max }
                }
                (None, Some(_)) => TableRule::Query(files.get(&(owner.to_string(), i)).copied().flatten()),
                _ => {
                    self.diags.push(
                        Diagnostic::error(codes::INVALID_VALUE, "a check is either `row_count` or a `query`")
                            .label(at, "one rule per check")
                            .help("write `row_count = { min = 1 }`, or `query = \"checks/name.sql\"` with a query that returns the violating rows"),
                    );
                    continue;
                }
            };
            let name = match (&d.name, &rule) {
                (Some(n), _) => {
                    if !self.name(file, n, "check", false) {
                        continue;
                    }
                    n.get_ref().clone()
                }
                (None, TableRule::RowCount { .. }) => "row_count".to_string(),
                (None, TableRule::Query(_)) => {
                    self.missing(at, "name", "a custom check is named, so that its failures say what failed");
                    continue;
                }
            };
            if let Some(prev) = out.iter().find(|c| c.name == name) {
                self.diags.push(
                    Diagnostic::error(codes::DUPLICATE_COLUMN, format!("two checks are named `{name}`"))
                        .label(at, "named again here")
                        .label(prev.span, "first named here")
                        .help("give each check its own `name`"),
                );
                continue;
            }
            out.push(TableCheck {
                name,
                description: d.description.clone(),
                severity: d.severity.unwrap_or(Severity::Error),
                rule,
                span: at,
            });
        }
        out
    }

    /// A `min`/`max` bound: a value of the column's kind.
    pub(super) fn bound(
        &mut self,
        file: FileId,
        target: &dyn Target,
        key: &str,
        ty: &Type,
        def: &Spanned<load::RuleDef<toml::Value>>,
    ) -> Option<Rule<toml::Value>> {
        let rule = Rule::from_def(def.get_ref());
        let ok = match (ty, &rule.value) {
            (Type::Unknown, _) => true,
            (t, toml::Value::Integer(_) | toml::Value::Float(_)) => t.is_numeric(),
            (Type::Date, toml::Value::Datetime(d)) => d.date.is_some() && d.time.is_none(),
            (Type::Timestamp | Type::Datetime, toml::Value::Datetime(d)) => d.date.is_some(),
            (Type::Date, toml::Value::String(s)) => parse_date(s),
            (Type::String(_), toml::Value::String(_)) => true,
            _ => false,
        };
        if ok {
            return Some(rule);
        }
        self.diags.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                format!("`{key}` = {} does not bound a column of type {}", rule.value, target.type_name(ty)),
            )
            .label(load::span(file, def), "not a bound for this column")
            .help("bound numbers by numbers, dates by dates (`min = 2020-01-01`), timestamps by TOML date-times and text by text"),
        );
        None
    }
}

fn parse_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

impl super::Input {
    /// The columns of the table that stores the input: an export's
    /// snapshots also hold the snapshot time.
    pub fn stored_columns(&self, target: &dyn Target) -> Vec<Column> {
        let mut out = self.columns.clone();
        if let Ingest::Export { time_column } = &self.ingest {
            out.push(export_time_column(target, time_column, self.span));
        }
        out
    }
}

/// The snapshot time column the export load adds: an instant, BigQuery's
/// TIMESTAMP, Athena's (UTC) `timestamp`.
pub fn export_time_column(target: &dyn Target, name: &str, span: Span) -> Column {
    let ty = if target.kind() == TargetKind::Bigquery { Type::Timestamp } else { Type::Datetime };
    Column::generated(name, span, ty, "When the export was loaded: the snapshot's time.")
}

impl Column {
    /// A column the compiler adds to an input (not written by the user).
    pub fn generated(name: &str, span: Span, ty: Type, description: &str) -> Column {
        Column {
            name: name.to_string(),
            span,
            ty,
            required: true,
            unique: false,
            description: Some(description.to_string()),
            accepted_values: None,
            min: None,
            max: None,
            classification: vec![],
        }
    }
}
