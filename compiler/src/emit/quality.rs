//! Quality checks: every rule of a contract (a port's or an input's) as
//! one query in the target's SQL. Each query returns one row:
//! `check_name`, `severity` (`error` or `warn`), `failures` (the number
//! of violating rows; 0 means the check passed) and `examples` (up to five
//! violating rows as JSON text), so that a runner can treat every check
//! the same way.

use crate::load::{Severity, TargetKind};
use crate::resolve::{Column, Freshness, TableCheck, TableRule};
use crate::target::Target;
use crate::types::Type;

/// The rewritten query and the columns of a custom check (by its index in
/// the subject's checks), if it checked.
pub type Assertion<'a> = &'a dyn Fn(usize) -> Option<(String, Vec<(String, Type)>)>;

/// How many violating rows a check shows.
pub const EXAMPLES: usize = 5;

/// One check query, ready to write.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckQuery {
    pub name: String,
    pub severity: &'static str,
    pub about: String,
    pub sql: String,
    /// The same check without its examples and severity (`check_name`,
    /// `failures`; no `;`): what a gate needs, and cheaper to run.
    #[serde(skip)]
    pub counted: String,
}

impl CheckQuery {
    /// A check that reports `failures` and `examples` (SQL expressions)
    /// computed over `from` (its FROM clause and what follows).
    fn new(
        d: &Dialect,
        name: &str,
        severity: Severity,
        about: String,
        failures: &str,
        examples: &str,
        from: &str,
    ) -> Self {
        let label = d.lit(name);
        CheckQuery {
            name: name.to_string(),
            severity: severity.name(),
            about,
            sql: format!(
                "SELECT {label} AS check_name, {} AS severity,\n  {failures} AS failures,\n  {examples} AS examples\n{from};",
                d.lit(severity.name())
            ),
            counted: format!("SELECT {label} AS check_name, {failures} AS failures\n{from}"),
        }
    }
}

/// What a contract's checks run against.
pub struct Subject<'a> {
    /// The table or view, quoted.
    pub table: &'a str,
    /// Its columns (name, type), for examples.
    pub columns: &'a [(String, Type)],
    pub declared: &'a [Column],
    pub unique_key: &'a [String],
    pub freshness: Option<&'a Freshness>,
    /// The freshness is measured on another table (an export's snapshots,
    /// a feed's events), quoted.
    pub freshness_table: Option<&'a str>,
    pub checks: &'a [TableCheck],
}

/// The SQL pieces that differ between the targets.
struct Dialect<'t> {
    target: &'t dyn Target,
}

impl Dialect<'_> {
    fn q(&self, name: &str) -> String {
        self.target.quote_ident(name)
    }

    fn lit(&self, text: &str) -> String {
        self.target.string_literal(text)
    }

    fn bigquery(&self) -> bool {
        self.target.kind() == TargetKind::Bigquery
    }

    /// One JSON object text of named values.
    fn json_object(&self, fields: &[(String, String, Type)]) -> String {
        if self.bigquery() {
            let items: Vec<String> = fields.iter().map(|(n, e, _)| format!("{e} AS {}", self.q(n))).collect();
            format!("TO_JSON_STRING(STRUCT({}))", items.join(", "))
        } else {
            let keys: Vec<String> = fields.iter().map(|(n, _, _)| self.lit(n)).collect();
            let values: Vec<String> = fields.iter().map(|(_, e, t)| self.to_json(e, t)).collect();
            format!("json_format(CAST(MAP(ARRAY[{}], ARRAY[{}]) AS JSON))", keys.join(", "), values.join(", "))
        }
    }

    /// A Trino value as JSON: types without a JSON cast go through text.
    fn to_json(&self, expr: &str, ty: &Type) -> String {
        let direct = ty.is_numeric()
            || matches!(
                ty,
                Type::Bool | Type::String(_) | Type::Char(_) | Type::Array(_) | Type::Map(..) | Type::Struct(_)
            );
        if direct {
            format!("CAST({expr} AS JSON)")
        } else {
            format!("CAST(CAST({expr} AS varchar) AS JSON)")
        }
    }

    /// Up to [`EXAMPLES`] rows as JSON texts (an aggregate).
    fn examples(&self, fields: &[(String, String, Type)]) -> String {
        let object = self.json_object(fields);
        if self.bigquery() {
            format!("ARRAY_AGG({object} LIMIT {EXAMPLES})")
        } else {
            format!("slice(array_agg({object}), 1, {EXAMPLES})")
        }
    }

    /// A one-element array of a JSON text (for checks of the whole table).
    fn single(&self, fields: &[(String, String, Type)]) -> String {
        let object = self.json_object(fields);
        if self.bigquery() {
            format!("[{object}]")
        } else {
            format!("ARRAY[{object}]")
        }
    }

    /// The oldest value of a column of `ty` that is still fresh.
    fn fresh_since(&self, seconds: u64, ty: &Type) -> String {
        if self.bigquery() {
            let ts = format!("TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {seconds} SECOND)");
            match ty {
                Type::Date => format!("DATE({ts})"),
                Type::Datetime => format!("DATETIME({ts})"),
                _ => ts,
            }
        } else {
            let ts = format!("current_timestamp - INTERVAL '{seconds}' SECOND");
            match ty {
                Type::Date => format!("CAST({ts} AS date)"),
                _ => format!("CAST({ts} AS timestamp)"),
            }
        }
    }

    /// A bound of a `min`/`max` rule as a literal of the column's type.
    fn bound(&self, value: &toml::Value, ty: &Type) -> String {
        match (value, ty) {
            (toml::Value::Integer(i), _) => i.to_string(),
            (toml::Value::Float(f), _) => f.to_string(),
            (toml::Value::Datetime(d), Type::Date) => format!("DATE {}", self.lit(&d.to_string())),
            (toml::Value::String(s), Type::Date) => format!("DATE {}", self.lit(s)),
            (toml::Value::Datetime(d), _) => {
                let text = d.to_string().replace('T', " ");
                let text = if d.time.is_none() { format!("{text} 00:00:00") } else { text };
                // Trino's plain timestamp has no zone; BigQuery reads one if given.
                let text = if self.bigquery() { text } else { text.trim_end_matches('Z').to_string() };
                let kw = if matches!(ty, Type::Datetime) { "DATETIME" } else { "TIMESTAMP" };
                format!("{kw} {}", self.lit(&text))
            }
            (toml::Value::String(s), _) => self.lit(s),
            (other, _) => self.lit(&other.to_string()),
        }
    }

    fn accepted(&self, value: &toml::Value) -> String {
        match value {
            toml::Value::String(s) => self.lit(s),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string().to_ascii_uppercase(),
            other => self.lit(&other.to_string()),
        }
    }
}

/// A check of the rows that meet `condition`.
fn rows_where(
    d: &Dialect,
    s: &Subject,
    name: &str,
    severity: Severity,
    condition: &str,
    show: &[&str],
    about: String,
) -> CheckQuery {
    let fields = example_fields(d, s, show);
    let from = format!("FROM {}\nWHERE {condition}", s.table);
    CheckQuery::new(d, name, severity, about, "COUNT(*)", &d.examples(&fields), &from)
}

/// A check of the rows of `s.table` that meet `condition`.
pub fn rows_check(
    target: &dyn Target,
    s: &Subject,
    name: &str,
    severity: Severity,
    condition: &str,
    show: &[&str],
    about: &str,
) -> CheckQuery {
    rows_where(&Dialect { target }, s, name, severity, condition, show, about.to_string())
}

/// The columns an example shows: the unique key (to find the row) and the
/// columns the rule is about.
fn example_fields(d: &Dialect, s: &Subject, show: &[&str]) -> Vec<(String, String, Type)> {
    // The key finds the row: the unique key, else the unique columns,
    // else the whole row.
    let mut names: Vec<&str> = if !s.unique_key.is_empty() {
        s.unique_key.iter().map(String::as_str).collect()
    } else {
        s.declared.iter().filter(|c| c.unique).map(|c| c.name.as_str()).collect()
    };
    if names.is_empty() {
        return s.columns.iter().map(|(n, t)| (n.clone(), d.q(n), t.clone())).collect();
    }
    for n in show {
        if !names.iter().any(|k| k.eq_ignore_ascii_case(n)) {
            names.push(n);
        }
    }
    names
        .into_iter()
        .map(|n| {
            let ty =
                s.columns.iter().find(|(c, _)| c.eq_ignore_ascii_case(n)).map_or(Type::Unknown, |(_, t)| t.clone());
            (n.to_string(), d.q(n), ty)
        })
        .collect()
}

/// A duplicates check: rows beyond the first of each value of `columns`.
pub fn duplicates(
    target: &dyn Target,
    table: &str,
    name: &str,
    severity: Severity,
    columns: &[String],
    types: &[(String, Type)],
    about: String,
) -> CheckQuery {
    let d = Dialect { target };
    let list = columns.iter().map(|c| d.q(c)).collect::<Vec<_>>().join(", ");
    let mut fields: Vec<(String, String, Type)> = columns
        .iter()
        .map(|c| {
            let ty = types.iter().find(|(n, _)| n.eq_ignore_ascii_case(c)).map_or(Type::Unknown, |(_, t)| t.clone());
            (c.clone(), d.q(c), ty)
        })
        .collect();
    fields.push(("copies".into(), d.q("_dpc_copies"), Type::Int64));
    let copies = d.q("_dpc_copies");
    // NULL keys are no duplicates of each other (as in a UNIQUE constraint).
    let known = columns.iter().map(|c| format!("{} IS NOT NULL", d.q(c))).collect::<Vec<_>>().join(" AND ");
    let from = format!(
        "FROM (\n  SELECT {list}, COUNT(*) AS {copies}\n  FROM {table}\n  WHERE {known}\n  GROUP BY {list}\n  HAVING COUNT(*) > 1\n) AS duplicates"
    );
    CheckQuery::new(&d, name, severity, about, &format!("COALESCE(SUM({copies} - 1), 0)"), &d.examples(&fields), &from)
}

/// Every check of a contract, in a stable order: column rules in column
/// order, then uniqueness, freshness and the table-level checks.
/// `assertion` gives the rewritten query and columns of a custom check.
pub fn checks(target: &dyn Target, s: &Subject, assertion: Assertion) -> Vec<CheckQuery> {
    let d = Dialect { target };
    let mut out = vec![];
    for c in s.declared {
        let col = d.q(&c.name);
        if c.required {
            let name = format!("{}_not_null", c.name);
            let about = format!("`{}` is required", c.name);
            out.push(rows_where(&d, s, &name, Severity::Error, &format!("{col} IS NULL"), &[], about));
        }
        if let Some(rule) = &c.accepted_values {
            let values: Vec<String> = rule.value.iter().map(|v| d.accepted(v)).collect();
            let name = format!("{}_accepted_values", c.name);
            let about = format!("`{}` is one of the accepted values", c.name);
            let condition = format!("{col} NOT IN ({})", values.join(", "));
            out.push(rows_where(&d, s, &name, rule.severity, &condition, &[&c.name], about));
        }
        for (rule, key, op) in [(&c.min, "min", "<"), (&c.max, "max", ">")] {
            if let Some(rule) = rule {
                let bound = d.bound(&rule.value, &c.ty);
                let name = format!("{}_{key}", c.name);
                let about =
                    format!("`{}` is {} {}", c.name, if key == "min" { "at least" } else { "at most" }, rule.value);
                out.push(rows_where(&d, s, &name, rule.severity, &format!("{col} {op} {bound}"), &[&c.name], about));
            }
        }
        if c.unique {
            let name = format!("{}_unique", c.name);
            let about = format!("`{}` is unique", c.name);
            let columns = std::slice::from_ref(&c.name);
            out.push(duplicates(target, s.table, &name, Severity::Error, columns, s.columns, about));
        }
    }
    // A one-column key already checked as a `unique` column needs no second check.
    let key_checked =
        s.unique_key.len() == 1 && s.declared.iter().any(|c| c.unique && c.name.eq_ignore_ascii_case(&s.unique_key[0]));
    if !s.unique_key.is_empty() && !key_checked {
        let name = format!("unique_key_{}", s.unique_key.join("_"));
        let about = format!("the unique key ({}) has no duplicates", s.unique_key.join(", "));
        out.push(duplicates(target, s.table, &name, Severity::Error, s.unique_key, s.columns, about));
    }
    if let Some(f) = s.freshness {
        if let Some(column) = &f.column {
            let ty = s
                .columns
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(column))
                .map_or(Type::Timestamp, |(_, t)| t.clone());
            let latest = format!("MAX({})", d.q(column));
            let since = d.fresh_since(f.seconds, &ty);
            let failures = format!("CASE WHEN {latest} IS NULL OR {latest} < {since} THEN 1 ELSE 0 END");
            let examples = d.single(&[("latest".into(), latest.clone(), ty.clone())]);
            let from = format!("FROM {}", s.freshness_table.unwrap_or(s.table));
            let about = format!("the newest `{column}` is at most {} old", f.text);
            out.push(CheckQuery::new(&d, "freshness", f.severity, about, &failures, &examples, &from));
        }
    }
    for (index, check) in s.checks.iter().enumerate() {
        let about = check.description.clone().unwrap_or_else(|| match &check.rule {
            TableRule::RowCount { min, max } => match (min, max) {
                (Some(lo), Some(hi)) => format!("between {lo} and {hi} rows"),
                (Some(lo), None) => format!("at least {lo} rows"),
                (None, Some(hi)) => format!("at most {hi} rows"),
                (None, None) => "any number of rows".into(),
            },
            TableRule::Query(_) => format!("the query of `{}` returns no rows", check.name),
        });
        let (failures, examples, from) = match &check.rule {
            TableRule::RowCount { min, max } => {
                let mut out_of_bounds = vec![];
                if let Some(lo) = min {
                    out_of_bounds.push(format!("COUNT(*) < {lo}"));
                }
                if let Some(hi) = max {
                    out_of_bounds.push(format!("COUNT(*) > {hi}"));
                }
                let condition = if out_of_bounds.is_empty() { "FALSE".to_string() } else { out_of_bounds.join(" OR ") };
                (
                    format!("CASE WHEN {condition} THEN 1 ELSE 0 END"),
                    d.single(&[("row_count".into(), "COUNT(*)".into(), Type::Int64)]),
                    format!("FROM {}", s.table),
                )
            }
            TableRule::Query(_) => {
                let Some((query, columns)) = assertion(index) else {
                    continue;
                };
                let fields: Vec<(String, String, Type)> =
                    columns.iter().map(|(n, t)| (n.clone(), format!("violations.{}", d.q(n)), t.clone())).collect();
                ("COUNT(*)".to_string(), d.examples(&fields), format!("FROM (\n{query}\n) AS violations"))
            }
        };
        out.push(CheckQuery::new(&d, &check.name, check.severity, about, &failures, &examples, &from));
    }
    out
}

/// The gate of a set of checks: one statement that runs the checks of
/// severity `error` (counting failures only: the examples are the checks
/// file's) and fails when one finds violations, so that a scheduler stops
/// before publishing; `None` when no check is an error. BigQuery has
/// ASSERT; Athena has none, so its gate casts the names of the failed
/// checks to an integer, which stops the query with those names in the
/// error message.
pub fn gate(target: &dyn Target, subject: &str, checks: &[CheckQuery]) -> Option<String> {
    let d = Dialect { target };
    let branches: Vec<String> = checks
        .iter()
        .filter(|c| c.severity == Severity::Error.name())
        .map(|c| c.counted.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"))
        .collect();
    if branches.is_empty() {
        return None;
    }
    let all = branches.join("\n    UNION ALL\n");
    let failing = format!("  SELECT check_name\n  FROM (\n{all}\n  ) AS checks\n  WHERE failures > 0");
    Some(if d.bigquery() {
        format!(
            "ASSERT NOT EXISTS (\n{failing}\n) AS {};",
            d.lit(&format!("dpc: a quality check of {subject} failed; its checks file has the counts and examples"))
        )
    } else {
        format!(
            "SELECT CASE WHEN COUNT(*) > 0\n  THEN CAST(concat({}, array_join(array_agg(check_name), ', ')) AS integer)\n  ELSE 0 END AS failed\nFROM (\n{failing}\n) AS failed_checks;",
            d.lit(&format!("dpc: quality checks of {subject} failed: "))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(target: &dyn Target, name: &str, severity: Severity) -> CheckQuery {
        let columns = [("id".to_string(), Type::Int64)];
        let s = Subject {
            table: "t",
            columns: &columns,
            declared: &[],
            unique_key: &[],
            freshness: None,
            freshness_table: None,
            checks: &[],
        };
        rows_check(target, &s, name, severity, "id IS NULL", &[], "about")
    }

    #[test]
    fn a_gate_counts_the_error_checks_and_leaves_out_warnings_and_examples() {
        for target in [crate::target::bigquery::BigQuery::get() as &dyn Target, crate::target::athena::Athena::get()] {
            let checks = [check(target, "loud", Severity::Error), check(target, "quiet", Severity::Warn)];
            assert!(checks.iter().all(|c| c.sql.contains("AS examples")));
            let gate = gate(target, "port p", &checks).expect("an error check makes a gate");
            assert!(
                gate.contains("'loud' AS check_name, COUNT(*) AS failures\n    FROM t\n    WHERE id IS NULL"),
                "{gate}"
            );
            assert!(
                !gate.contains("quiet") && !gate.contains("AS examples") && !gate.contains("AS severity"),
                "{gate}"
            );
        }
    }

    #[test]
    fn warnings_alone_make_no_gate() {
        let target = crate::target::bigquery::BigQuery::get();
        assert_eq!(gate(target, "port p", &[check(target, "quiet", Severity::Warn)]), None);
        assert_eq!(gate(target, "port p", &[]), None);
    }
}
