//! The team's own inputs, as both targets land them. Every own input has a
//! *read view* (`<kind>__<input>`, the relation the product's queries
//! read) over the table that stores it:
//!
//! - export: the service's export is delivered into `export__<x>__delivery`;
//!   the load job copies it into `export__<x>__snapshots`, stamped with the
//!   load time, replacing the day's snapshot; the view shows the latest
//!   snapshot.
//! - file: an external table `file__<x>__raw` over the files, every value
//!   as text (CSV, JSON lines) or typed (Parquet, Avro); the view casts
//!   each value and leaves out the rows that do not cast, which a check
//!   counts.
//! - feed: events are appended to `feed__<x>__events`; the view keeps one
//!   copy of each event (the latest or the first), so replays never count
//!   twice.

use super::quality;
use crate::load::{FileFormat, InputKind, Keep, Severity, TargetKind};
use crate::resolve::{Column, FileInput, Ingest, Input};
use crate::target::Target;
use crate::types::Type;

/// The table that stores an own input (behind its read view).
pub fn storage_table(input: &Input) -> String {
    let what = match input.kind {
        InputKind::Export => "snapshots",
        InputKind::File => "raw",
        _ => "events",
    };
    format!("{}__{what}", super::own_input_table(input))
}

/// The table an export is delivered into.
pub fn delivery_table(input: &Input) -> String {
    format!("{}__delivery", super::own_input_table(input))
}

/// How a file input's column is stored in its external table: text files
/// hold text (cast by the view), typed files their own type. Path keys
/// are typed on BigQuery; Athena's partition projection keeps them as
/// text (AWS declares projected keys `string`).
pub fn raw_type(target: &dyn Target, file: &FileInput, c: &Column) -> Type {
    let scalar = !matches!(c.ty, Type::Array(_) | Type::Struct(_) | Type::Map(..));
    let key = file.partitions.iter().any(|p| p.eq_ignore_ascii_case(&c.name));
    if key {
        return if target.kind() == TargetKind::Bigquery { c.ty.clone() } else { Type::String(None) };
    }
    if file.format.typed() || !scalar {
        c.ty.clone()
    } else {
        Type::String(None)
    }
}

/// The tables behind an own input's read view, by role (`delivery`,
/// `snapshots`, `raw`, `events`), with their columns.
pub fn stored_tables(target: &dyn Target, input: &Input) -> Vec<(&'static str, String, Vec<Column>)> {
    match &input.ingest {
        Ingest::Export { .. } => vec![
            ("delivery", delivery_table(input), input.columns.clone()),
            ("snapshots", storage_table(input), input.stored_columns(target)),
        ],
        Ingest::File(file) => {
            let raw = input.columns.iter().map(|c| Column { ty: raw_type(target, file, c), ..c.clone() }).collect();
            vec![("raw", storage_table(input), raw)]
        }
        Ingest::Feed { .. } => vec![("events", storage_table(input), input.columns.clone())],
        Ingest::Port => vec![],
    }
}

/// The text value of a raw file column, NULL where the file says NULL
/// (Athena's CSV reader has no null marker; BigQuery's has one).
fn raw_value(target: &dyn Target, file: &FileInput, c: &Column) -> String {
    let col = target.quote_ident(&c.name);
    let text = raw_type(target, file, c) == Type::String(None);
    let key = file.partitions.iter().any(|p| p.eq_ignore_ascii_case(&c.name));
    if target.kind() == TargetKind::Athena && file.format == FileFormat::Csv && text && !key {
        format!("NULLIF({col}, {})", target.string_literal(&file.csv.null))
    } else {
        col
    }
}

fn try_cast(target: &dyn Target, expr: &str, ty: &Type) -> String {
    match target.kind() {
        TargetKind::Bigquery => format!("SAFE_CAST({expr} AS {})", target.type_name(ty)),
        TargetKind::Athena => format!("try_cast({expr} AS {})", target.type_name(ty)),
    }
}

/// A file input's typed columns (select items), the condition that marks
/// a row as rejected (a value that does not cast: a missing required value
/// stays, for the error-severity `_not_null` check to count) and, on Athena, the condition that keeps only the files the
/// uri names.
pub struct FileTyping {
    pub items: Vec<String>,
    pub rejected: String,
    pub in_files: Option<String>,
}

pub fn file_typing(target: &dyn Target, file: &FileInput, columns: &[Column]) -> FileTyping {
    let mut items = vec![];
    let mut rejected = vec![];
    for c in columns {
        let name = target.quote_ident(&c.name);
        let value = raw_value(target, file, c);
        let cast = raw_type(target, file, c) != c.ty && !c.ty.has_unknown() && !matches!(c.ty, Type::String(None));
        if cast {
            let typed = try_cast(target, &value, &c.ty);
            rejected.push(format!("({value} IS NOT NULL AND {typed} IS NULL)"));
            items.push(format!("{typed} AS {name}"));
        } else if value != name {
            items.push(format!("{value} AS {name}"));
        } else {
            items.push(name);
        }
    }
    // Athena reads every file below the folder: the pattern keeps the named ones.
    let in_files = path_pattern(target, file).map(|pattern| format!("\"$path\" LIKE {pattern}"));
    let rejected = if rejected.is_empty() { "FALSE".to_string() } else { rejected.join("\n   OR ") };
    FileTyping { items, rejected, in_files }
}

/// Athena: a LIKE pattern for the uri, when its file name has a wildcard.
fn path_pattern(target: &dyn Target, file: &FileInput) -> Option<String> {
    let name = file.uri.rsplit('/').next().unwrap_or("");
    (target.kind() == TargetKind::Athena && name.contains('*') && name != "*")
        .then(|| target.string_literal(&format!("{}{}", file.prefix(), name.replace('*', "%"))))
}

/// What an input's read view shows, for comments and descriptions.
pub fn read_view_about(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Export => "the latest snapshot",
        InputKind::File => "typed rows; rows that do not cast are left out and counted by its checks",
        _ => "one row per event, replays removed",
    }
}

/// The query of an input's read view, over its storage table (quoted).
pub fn read_view(target: &dyn Target, input: &Input, storage: &str) -> String {
    let q = |s: &str| target.quote_ident(s);
    let list = input.columns.iter().map(|c| q(&c.name)).collect::<Vec<_>>().join(", ");
    match &input.ingest {
        Ingest::Export { time_column } => {
            format!("SELECT {list}\nFROM {storage}\nWHERE {t} = (SELECT MAX({t}) FROM {storage})", t = q(time_column))
        }
        Ingest::Feed { event_id, event_time, keep } => {
            let ids = event_id.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
            let order = if *keep == Keep::Latest { "DESC" } else { "ASC" };
            // An event without an id is no copy of another: it is kept (and
            // the `_not_null` check counts it).
            let no_id = event_id.iter().map(|c| format!("{} IS NULL", q(c))).collect::<Vec<_>>().join(" OR ");
            format!(
                "SELECT {list}\nFROM (\n  SELECT {list},\n    ROW_NUMBER() OVER (PARTITION BY {ids} ORDER BY {} {order}) AS {copy}\n  FROM {storage}\n) AS events\nWHERE {copy} = 1 OR {no_id}",
                q(event_time),
                copy = q("_dpc_copy"),
            )
        }
        Ingest::File(file) => {
            let t = file_typing(target, file, &input.columns);
            let files = t.in_files.map_or(String::new(), |f| format!("{f}\n  AND "));
            format!("SELECT\n  {}\nFROM {storage}\nWHERE {files}NOT (\n  {}\n)", t.items.join(",\n  "), t.rejected)
        }
        Ingest::Port => String::new(),
    }
}

/// The checks of an own input: its rules on the read view, freshness on
/// the stored rows, and what its kind needs (rejected rows of a file,
/// replayed events of a feed).
pub fn input_checks(
    target: &dyn Target,
    input: &Input,
    read: &str,
    storage: &str,
    assertion: quality::Assertion,
) -> Vec<quality::CheckQuery> {
    let columns: Vec<(String, Type)> = input.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
    let freshness_table = matches!(input.ingest, Ingest::Export { .. } | Ingest::Feed { .. }).then_some(storage);
    let subject = quality::Subject {
        table: read,
        columns: &columns,
        declared: &input.columns,
        unique_key: &input.unique_key,
        freshness: input.freshness.as_ref(),
        freshness_table,
        checks: &input.checks,
    };
    let mut out = vec![];
    match &input.ingest {
        Ingest::File(file) => {
            let t = file_typing(target, file, &input.columns);
            let rejected = match t.in_files {
                Some(f) => format!("{f}\n  AND (\n   {}\n  )", t.rejected),
                None => t.rejected,
            };
            // Rejected rows are shown as the file has them: every value as text.
            let raw: Vec<(String, Type)> =
                input.columns.iter().map(|c| (c.name.clone(), raw_type(target, file, c))).collect();
            let raw_subject = quality::Subject { table: storage, columns: &raw, ..subject_without_rules() };
            let shown: Vec<&str> = input.columns.iter().map(|c| c.name.as_str()).collect();
            out.push(quality::rows_check(
                target,
                &raw_subject,
                "rejected_rows",
                Severity::Warn,
                &rejected,
                &shown,
                "rows of the files that do not match the declared columns (left out of the input)",
            ));
        }
        Ingest::Feed { event_id, .. } => {
            let about =
                format!("copies of an event ({}) beyond the first, which the view leaves out", event_id.join(", "));
            out.push(quality::duplicates(
                target,
                storage,
                "replayed_events",
                Severity::Warn,
                event_id,
                &columns,
                about,
            ));
        }
        _ => {}
    }
    out.extend(quality::checks(target, &subject, assertion));
    out
}

fn subject_without_rules<'a>() -> quality::Subject<'a> {
    quality::Subject {
        table: "",
        columns: &[],
        declared: &[],
        unique_key: &[],
        freshness: None,
        freshness_table: None,
        checks: &[],
    }
}
