//! The BigQuery target: GoogleSQL types and coercion rules, the function
//! catalog in `stdlib/bigquery/functions.toml`, backtick quoting.

use super::{Syntax, Target};
use crate::check::catalog::Catalog;
use crate::emit::{Artifact, EmitProduct, Physical};
use crate::load::TargetKind;
use crate::resolve::{Mesh, Product};
use crate::types::{Assign, Field, Literal, Type, Typed};
use sqlparser::ast::{ArrayElemTypeDef, BinaryOperator, DataType, ExactNumberInfo, Value};
use sqlparser::dialect::{BigQueryDialect, Dialect};
use sqlparser::parser::Parser;
use std::sync::OnceLock;

pub struct BigQuery {
    dialect: BigQueryDialect,
    catalog: Catalog,
}

const FUNCTIONS: &str = include_str!("../../../stdlib/bigquery/functions.toml");
const EQUIVALENTS: &str = include_str!("../../../stdlib/bigquery/equivalents.toml");

impl BigQuery {
    pub fn get() -> &'static BigQuery {
        static TARGET: OnceLock<BigQuery> = OnceLock::new();
        TARGET.get_or_init(|| {
            let mut target = BigQuery { dialect: BigQueryDialect {}, catalog: Catalog::default() };
            // The catalog is our own data, checked by a unit test; a broken
            // file is a bug in dpc, not in the user's mesh.
            target.catalog = Catalog::parse(FUNCTIONS, &|t| target.parse_type(t))
                .and_then(|c| c.with_equivalents(EQUIVALENTS))
                .unwrap_or_else(|e| panic!("stdlib/bigquery/functions.toml or equivalents.toml: {e}"));
            target
        })
    }
}

/// Rank of a numeric type in BigQuery's widening chain.
fn numeric_rank(ty: &Type) -> Option<u8> {
    match ty {
        Type::Int64 => Some(0),
        Type::Numeric(_) => Some(1),
        Type::BigNumeric(_) => Some(2),
        Type::Float64 => Some(3),
        _ => None,
    }
}

fn numeric_of_rank(rank: u8) -> Type {
    match rank {
        0 => Type::Int64,
        1 => Type::NUMERIC,
        2 => Type::BIGNUMERIC,
        _ => Type::Float64,
    }
}

fn precision(info: &ExactNumberInfo) -> Option<(u32, u32)> {
    match info {
        ExactNumberInfo::None => None,
        ExactNumberInfo::Precision(p) => Some((*p as u32, 0)),
        ExactNumberInfo::PrecisionAndScale(p, s) => Some((*p as u32, (*s).max(0) as u32)),
    }
}

impl BigQuery {
    /// The supertype of non-literal types: one of them, or a wider numeric
    /// type, to which all coerce implicitly.
    fn common_type(&self, types: &[&Type]) -> Option<Type> {
        let mut candidates: Vec<Type> = types.iter().map(|t| t.unparameterized()).collect();
        if let Some(max) = candidates.iter().filter_map(numeric_rank).max() {
            candidates.extend((max..=3).map(numeric_of_rank));
        }
        candidates.sort_by_key(|t| numeric_rank(t).unwrap_or(0));
        candidates.dedup();
        candidates.into_iter().find(|cand| types.iter().all(|t| self.coerces_type(t, cand)))
    }

    /// Implicit coercion of a non-literal value (GoogleSQL's conversion rules).
    fn coerces_type(&self, from: &Type, to: &Type) -> bool {
        if from.is_unknown() || to.is_unknown() || from.unparameterized() == to.unparameterized() {
            return true;
        }
        match (from, to) {
            (Type::Date, Type::Datetime) => true,
            (Type::Array(a), Type::Array(b)) => {
                a.unparameterized() == b.unparameterized() || a.has_unknown() || b.has_unknown()
            }
            (Type::Struct(a), Type::Struct(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.coerces_type(&x.ty, &y.ty))
            }
            _ => matches!((numeric_rank(from), numeric_rank(to)), (Some(f), Some(t)) if f <= t),
        }
    }

    fn type_name_inner(&self, ty: &Type, quote_fields: bool) -> String {
        let params = |p: &Option<(u32, u32)>| p.map_or(String::new(), |(p, s)| format!("({p}, {s})"));
        match ty {
            Type::Bool => "BOOL".into(),
            Type::Int64 => "INT64".into(),
            Type::Float64 => "FLOAT64".into(),
            Type::Numeric(p) => format!("NUMERIC{}", params(p)),
            Type::BigNumeric(p) => format!("BIGNUMERIC{}", params(p)),
            Type::String(n) => n.map_or("STRING".into(), |n| format!("STRING({n})")),
            Type::Bytes(n) => n.map_or("BYTES".into(), |n| format!("BYTES({n})")),
            Type::Date => "DATE".into(),
            Type::Datetime => "DATETIME".into(),
            Type::Time => "TIME".into(),
            Type::Timestamp => "TIMESTAMP".into(),
            Type::Interval => "INTERVAL".into(),
            Type::Json => "JSON".into(),
            Type::Geography => "GEOGRAPHY".into(),
            Type::Range(t) => format!("RANGE<{}>", self.type_name_inner(t, quote_fields)),
            Type::Array(t) => format!("ARRAY<{}>", self.type_name_inner(t, quote_fields)),
            Type::Struct(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        let ty = self.type_name_inner(&f.ty, quote_fields);
                        match &f.name {
                            Some(n) if quote_fields => format!("{} {ty}", self.quote_ident(n)),
                            Some(n) => format!("{n} {ty}"),
                            None => ty,
                        }
                    })
                    .collect();
                format!("STRUCT<{}>", fields.join(", "))
            }
            // Trino's types, which no BigQuery product has.
            Type::Int8 | Type::Int16 | Type::Int32 => "INT64".into(),
            Type::Float32 => "FLOAT64".into(),
            Type::Char(_) => "STRING".into(),
            Type::Map(k, v) => format!(
                "ARRAY<STRUCT<key {}, value {}>>",
                self.type_name_inner(k, quote_fields),
                self.type_name_inner(v, quote_fields)
            ),
            Type::Named(n) => n.to_ascii_uppercase(),
            Type::Unknown => "UNKNOWN".into(),
        }
    }

    /// The type as BigQuery DDL writes it, with field names quoted.
    pub fn type_ddl(&self, ty: &Type) -> String {
        self.type_name_inner(ty, true)
    }
}

impl Target for BigQuery {
    fn kind(&self) -> TargetKind {
        TargetKind::Bigquery
    }

    fn display_name(&self) -> &'static str {
        "BigQuery"
    }

    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    fn parse_type(&self, text: &str) -> Result<Type, String> {
        let trimmed = text.trim();
        // sqlparser has no RANGE<T>; it is simple enough to read here.
        let upper = trimmed.to_ascii_uppercase();
        if let Some(inner) = upper.strip_prefix("RANGE<").and_then(|r| r.strip_suffix('>')) {
            let inner = self.parse_type(inner)?;
            return match inner {
                Type::Date | Type::Datetime | Type::Timestamp => Ok(Type::Range(Box::new(inner))),
                _ => Err("RANGE holds only DATE, DATETIME or TIMESTAMP".into()),
            };
        }
        let mut parser = Parser::new(&self.dialect).try_with_sql(trimmed).map_err(|e| e.to_string())?;
        let data_type = parser.parse_data_type().map_err(|e| strip_position(&e.to_string()))?;
        if parser.peek_token().token != sqlparser::tokenizer::Token::EOF {
            return Err(format!("unexpected `{}` after the type", parser.peek_token().token));
        }
        self.convert_type(&data_type)
    }

    fn convert_type(&self, data_type: &DataType) -> Result<Type, String> {
        use DataType as D;
        Ok(match data_type {
            D::Int64 | D::Int(None) | D::Integer(None) | D::BigInt(None) | D::SmallInt(None) | D::TinyInt(None) => {
                Type::Int64
            }
            D::Float64 => Type::Float64,
            D::Bool | D::Boolean => Type::Bool,
            D::Numeric(info) | D::Decimal(info) => {
                let p = precision(info);
                if let Some((p, s)) = p {
                    if s > 9 || p < s.max(1) || p - s > 29 {
                        return Err(format!(
                            "NUMERIC({p}, {s}) is out of range: scale 0..9 and precision scale..scale+29"
                        ));
                    }
                }
                Type::Numeric(p)
            }
            D::BigNumeric(info) | D::BigDecimal(info) => {
                let p = precision(info);
                if let Some((p, s)) = p {
                    if s > 38 || p < s.max(1) || p - s > 38 {
                        return Err(format!(
                            "BIGNUMERIC({p}, {s}) is out of range: scale 0..38 and precision scale..scale+38"
                        ));
                    }
                }
                Type::BigNumeric(p)
            }
            D::String(n) => Type::String(*n),
            D::Bytes(n) => Type::Bytes(*n),
            D::Date => Type::Date,
            D::Datetime(None) => Type::Datetime,
            D::Time(None, _) => Type::Time,
            D::Timestamp(None, _) => Type::Timestamp,
            D::Interval { .. } => Type::Interval,
            D::JSON => Type::Json,
            D::Array(ArrayElemTypeDef::AngleBracket(inner)) => {
                let inner = self.convert_type(inner)?;
                if matches!(inner, Type::Array(_)) {
                    return Err("an ARRAY cannot hold an ARRAY directly; wrap it in a STRUCT".into());
                }
                Type::Array(Box::new(inner))
            }
            D::Struct(fields, _) => {
                let mut out: Vec<Field> = vec![];
                for f in fields {
                    let name = f.field_name.as_ref().map(|n| n.value.clone());
                    if let Some(n) = &name {
                        if out.iter().any(|o| o.name.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(n))) {
                            return Err(format!("duplicate field `{n}` in STRUCT"));
                        }
                    }
                    out.push(Field { name, ty: self.convert_type(&f.field_type)? });
                }
                Type::Struct(out)
            }
            D::Custom(name, mods) if mods.is_empty() => match name.to_string().to_ascii_uppercase().as_str() {
                "GEOGRAPHY" => Type::Geography,
                "BYTEINT" => Type::Int64,
                "BIGDECIMAL" => Type::BIGNUMERIC,
                other => return Err(unknown_type(other)),
            },
            other => return Err(unknown_type(&other.to_string())),
        })
    }

    fn type_name(&self, ty: &Type) -> String {
        self.type_name_inner(ty, false)
    }

    fn storable(&self, _ty: &Type, _table: super::Table) -> Result<(), String> {
        // Every type dpc reads from a BigQuery product.toml can be stored.
        Ok(())
    }

    fn max_cluster_columns(&self) -> Option<usize> {
        Some(4)
    }

    fn type_examples(&self) -> &'static str {
        "INT64, NUMERIC(12, 2), ARRAY<STRUCT<a STRING>>"
    }

    fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn syntax(&self) -> &Syntax {
        &Syntax {
            alias_column_lists: false,
            bare_set_operations: false,
            unnest_alias_is_relation: false,
            implicit_unnest: true,
            concat_casts_to_string: true,
            row_constructor: false,
            qualify: true,
        }
    }

    fn literal(&self, value: &Value) -> Typed {
        match value {
            Value::Number(n, _) => {
                if n.contains(['.', 'e', 'E']) {
                    Typed::lit(Type::Float64, Literal::Float)
                } else if n.parse::<i64>().is_ok() {
                    Typed::lit(Type::Int64, Literal::Int)
                } else {
                    Typed::lit(Type::NUMERIC, Literal::No)
                }
            }
            Value::SingleQuotedByteStringLiteral(_)
            | Value::DoubleQuotedByteStringLiteral(_)
            | Value::TripleSingleQuotedByteStringLiteral(_)
            | Value::TripleDoubleQuotedByteStringLiteral(_) => Typed::new(Type::Bytes(None), false),
            Value::Boolean(_) => Typed::new(Type::Bool, false),
            Value::Null => Typed::lit(Type::Int64, Literal::Null),
            v if super::is_string_literal(v) => Typed::lit(Type::STRING, Literal::String),
            _ => Typed::unknown(),
        }
    }

    fn value_type(&self, column: &Type) -> Type {
        column.unparameterized()
    }

    /// GoogleSQL's explicit conversions, by kind of type.
    fn castable(&self, from: &Type, to: &Type) -> bool {
        use Type as T;
        let f = from.unparameterized();
        let t = to.unparameterized();
        if f == t || f.is_unknown() || t.is_unknown() {
            return true;
        }
        match (&f, &t) {
            (a, b) if numeric_rank(a).is_some() && numeric_rank(b).is_some() => true,
            (T::String(_), b) => !matches!(b, T::Struct(_) | T::Array(_) | T::Geography | T::Json),
            (a, T::String(_)) => !matches!(a, T::Struct(_) | T::Array(_) | T::Json),
            (T::Bool, T::Int64) | (T::Int64, T::Bool) => true,
            (T::Date | T::Datetime | T::Timestamp, T::Date | T::Datetime | T::Timestamp | T::Time) => true,
            (T::Json, b) => matches!(b, T::Int64 | T::Float64 | T::Bool | T::String(_)),
            (T::Array(a), T::Array(b)) => self.castable(a, b),
            (T::Struct(a), T::Struct(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.castable(&x.ty, &y.ty))
            }
            _ => false,
        }
    }

    fn supertype(&self, items: &[&Typed]) -> Option<Type> {
        let typed: Vec<&&Typed> = items.iter().filter(|t| t.literal != Literal::Null && !t.ty.is_unknown()).collect();
        if typed.is_empty() {
            // Only NULLs (or unknowns): GoogleSQL types a lone NULL as INT64.
            return Some(if items.iter().any(|t| t.ty.is_unknown()) { Type::Unknown } else { Type::Int64 });
        }
        // GoogleSQL: the supertype of the non-literal expressions, if every
        // literal coerces to it (NUMERIC column * 0.5 is NUMERIC); else the
        // supertype of all of them (INT64 column * 0.5 is FLOAT64).
        let non_literal: Vec<&Type> = typed.iter().filter(|t| t.literal == Literal::No).map(|t| &t.ty).collect();
        if !non_literal.is_empty() {
            if let Some(s) = self.common_type(&non_literal) {
                if typed.iter().all(|t| t.literal == Literal::No || self.coerces(t, &s)) {
                    return Some(s);
                }
            }
        }
        let all: Vec<&Type> = typed.iter().map(|t| &t.ty).collect();
        self.common_type(&all)
    }

    fn coerces(&self, from: &Typed, to: &Type) -> bool {
        match from.literal {
            Literal::Null => true,
            Literal::Int => numeric_rank(to).is_some() || to.is_unknown(),
            Literal::Float => matches!(to, Type::Float64 | Type::Numeric(_) | Type::BigNumeric(_) | Type::Unknown),
            Literal::String => {
                matches!(
                    to,
                    Type::String(_)
                        | Type::Date
                        | Type::Datetime
                        | Type::Time
                        | Type::Timestamp
                        | Type::Range(_)
                        | Type::Bytes(_)
                        | Type::Unknown
                ) && !matches!(to, Type::Bytes(_))
            }
            Literal::No => self.coerces_type(&from.ty, to),
        }
    }

    fn arithmetic(&self, op: &BinaryOperator, left: &Typed, right: &Typed) -> Option<Type> {
        use BinaryOperator as B;
        use Type as T;
        if left.ty.is_unknown() || right.ty.is_unknown() {
            return Some(T::Unknown);
        }
        let (l, r) = (&left.ty, &right.ty);
        let temporal = match (op, l, r) {
            (B::Plus | B::Minus, T::Date, T::Int64) | (B::Plus, T::Int64, T::Date) => Some(T::Date),
            (B::Minus, T::Date, T::Date)
            | (B::Minus, T::Timestamp, T::Timestamp)
            | (B::Minus, T::Datetime, T::Datetime)
            | (B::Plus | B::Minus, T::Interval, T::Interval)
            | (B::Multiply | B::Divide, T::Interval, T::Int64)
            | (B::Multiply, T::Int64, T::Interval) => Some(T::Interval),
            (B::Plus | B::Minus, T::Date | T::Datetime, T::Interval)
            | (B::Plus, T::Interval, T::Date | T::Datetime) => Some(T::Datetime),
            (B::Plus | B::Minus, T::Timestamp, T::Interval) | (B::Plus, T::Interval, T::Timestamp) => {
                Some(T::Timestamp)
            }
            _ => None,
        };
        if temporal.is_some() {
            return temporal;
        }
        let mut sup = self.supertype(&[left, right])?;
        if left.literal == Literal::Null && right.literal == Literal::Null {
            sup = T::Int64;
        }
        numeric_rank(&sup)?;
        Some(match op {
            B::Divide if sup == T::Int64 => T::Float64,
            B::Plus | B::Minus | B::Multiply | B::Divide => sup,
            _ => return None,
        })
    }

    fn comparable(&self, left: &Typed, right: &Typed, ordering: bool) -> bool {
        let Some(sup) = self.supertype(&[left, right]) else {
            return false;
        };
        if ordering {
            self.orderable(&sup)
        } else {
            !matches!(sup, Type::Array(_) | Type::Json | Type::Geography)
        }
    }

    fn assignable(&self, from: &Type, to: &Type) -> Assign {
        if from.is_unknown() || to.is_unknown() || from == to {
            return Assign::Yes;
        }
        match (from, to) {
            (Type::Array(a), Type::Array(b)) => self.assignable(a, b),
            (Type::Struct(a), Type::Struct(b)) => {
                if a.len() != b.len() {
                    return Assign::No;
                }
                a.iter().zip(b).map(|(x, y)| self.assignable(&x.ty, &y.ty)).fold(Assign::Yes, |acc, x| match (acc, x) {
                    (Assign::No, _) | (_, Assign::No) => Assign::No,
                    (Assign::Lossy, _) | (_, Assign::Lossy) => Assign::Lossy,
                    _ => Assign::Yes,
                })
            }
            _ if !self.coerces_type(from, to) => Assign::No,
            // A parameterized column (NUMERIC(12, 2), STRING(10)) may round or reject values.
            _ if to != &to.unparameterized() && from.unparameterized() != *to => Assign::Lossy,
            // FLOAT64 <- NUMERIC: allowed by BigQuery, but not exact.
            _ if numeric_rank(to) > numeric_rank(from) && matches!(to, Type::Float64) && from != &Type::Int64 => {
                Assign::Lossy
            }
            _ => Assign::Yes,
        }
    }

    fn groupable(&self, ty: &Type) -> bool {
        match ty {
            Type::Array(_) | Type::Json | Type::Geography => false,
            Type::Struct(fs) => fs.iter().all(|f| self.groupable(&f.ty)),
            _ => true,
        }
    }

    fn orderable(&self, ty: &Type) -> bool {
        !matches!(ty, Type::Array(_) | Type::Struct(_) | Type::Json | Type::Geography)
    }

    fn check_string_literal(&self, raw: &str, quote: char) -> Result<(), String> {
        let doubled: String = [quote, quote].iter().collect();
        if raw.contains(&doubled) {
            return Err(format!("BigQuery does not read `{doubled}` as an escaped quote; write `\\{quote}`"));
        }
        Ok(())
    }

    fn is_reserved(&self, word: &str) -> bool {
        super::is_listed_keyword(RESERVED, word)
    }

    fn quote_ident(&self, name: &str) -> String {
        let mut out = String::with_capacity(name.len() + 2);
        out.push('`');
        for c in name.chars() {
            match c {
                '`' => out.push_str("\\`"),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('`');
        out
    }

    fn physical(&self, mesh: &Mesh, product: &Product, table: &str) -> Result<Physical, String> {
        let project = mesh.bigquery.as_ref().map(|b| b.project.as_str()).ok_or("no [targets.bigquery] in dpc.toml")?;
        let dataset = format!("{}__{}", product.domain, product.name);
        Ok(Physical {
            plain: format!("{project}.{dataset}.{table}"),
            quoted: format!("{}.{}.{}", self.quote_ident(project), self.quote_ident(&dataset), self.quote_ident(table)),
        })
    }

    fn emit_product(&self, product: &EmitProduct) -> Result<Vec<Artifact>, String> {
        crate::emit::bigquery::emit_product(self, product)
    }

    fn emit_migration(&self, table: &Physical, steps: &[crate::diff::Step]) -> Result<String, String> {
        crate::emit::bigquery::emit_migration(self, table, steps)
    }

    fn string_literal(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('\'');
        for c in value.chars() {
            match c {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    }
}

/// GoogleSQL's reserved keywords (sorted), from the lexical structure reference.
const RESERVED: &[&str] = &[
    "ALL",
    "AND",
    "ANY",
    "ARRAY",
    "AS",
    "ASC",
    "ASSERT_ROWS_MODIFIED",
    "AT",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COLLATE",
    "CONTAINS",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT",
    "DEFAULT",
    "DEFINE",
    "DESC",
    "DISTINCT",
    "ELSE",
    "END",
    "ENUM",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXISTS",
    "EXTRACT",
    "FALSE",
    "FETCH",
    "FOLLOWING",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "GROUPING",
    "GROUPS",
    "HASH",
    "HAVING",
    "IF",
    "IGNORE",
    "IN",
    "INNER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "IS",
    "JOIN",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LOOKUP",
    "MERGE",
    "NATURAL",
    "NEW",
    "NO",
    "NOT",
    "NULL",
    "NULLS",
    "OF",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "PRECEDING",
    "PROTO",
    "QUALIFY",
    "RANGE",
    "RECURSIVE",
    "RESPECT",
    "RIGHT",
    "ROLLUP",
    "ROWS",
    "SELECT",
    "SET",
    "SOME",
    "STRUCT",
    "TABLESAMPLE",
    "THEN",
    "TO",
    "TREAT",
    "TRUE",
    "UNBOUNDED",
    "UNION",
    "UNNEST",
    "USING",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHIN",
];

fn unknown_type(name: &str) -> String {
    let suggestion = match name.to_ascii_uppercase().split('(').next().unwrap_or("").trim() {
        "VARCHAR" | "TEXT" | "CHAR" | "CHARACTER VARYING" | "NVARCHAR" => " (did you mean STRING?)",
        "DOUBLE" | "FLOAT" | "REAL" | "DOUBLE PRECISION" | "FLOAT8" => " (did you mean FLOAT64?)",
        "BLOB" | "VARBINARY" | "BINARY" => " (did you mean BYTES?)",
        "INT4" | "INT8" | "INT32" | "LONG" => " (did you mean INT64?)",
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" => " (did you mean TIMESTAMP?)",
        _ => "",
    };
    format!("`{name}` is not a BigQuery type{suggestion}")
}

/// sqlparser's messages end in "at Line: 1, Column: 5", which is
/// meaningless for a type written in TOML.
fn strip_position(message: &str) -> String {
    let m = message.strip_prefix("sql parser error: ").unwrap_or(message);
    m.split(" at Line:").next().unwrap_or(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bq() -> &'static BigQuery {
        BigQuery::get()
    }

    #[test]
    fn parses_and_prints_types_canonically() {
        for (text, canon) in [
            ("int64", "INT64"),
            ("INTEGER", "INT64"),
            ("numeric(12,2)", "NUMERIC(12, 2)"),
            ("DECIMAL", "NUMERIC"),
            ("ARRAY<STRUCT<a INT64, b ARRAY<STRING>>>", "ARRAY<STRUCT<a INT64, b ARRAY<STRING>>>"),
            ("STRUCT<INT64, STRING>", "STRUCT<INT64, STRING>"),
            ("range<date>", "RANGE<DATE>"),
            ("GEOGRAPHY", "GEOGRAPHY"),
            ("BOOLEAN", "BOOL"),
        ] {
            assert_eq!(bq().type_name(&bq().parse_type(text).unwrap()), canon, "{text}");
        }
    }

    #[test]
    fn rejects_types_bigquery_does_not_have() {
        assert!(bq().parse_type("VARCHAR(10)").unwrap_err().contains("did you mean STRING"));
        assert!(bq().parse_type("ARRAY<ARRAY<INT64>>").is_err());
        assert!(bq().parse_type("NUMERIC(40, 2)").is_err());
        assert!(bq().parse_type("INT64 garbage").is_err());
    }

    #[test]
    fn supertypes_follow_literal_coercion() {
        let col = |t: Type| Typed::new(t, true);
        let lit = |t: Type, l| Typed::lit(t, l);
        // NUMERIC column * 0.5 stays NUMERIC; INT64 column * 0.5 is FLOAT64.
        assert_eq!(bq().supertype(&[&col(Type::NUMERIC), &lit(Type::Float64, Literal::Float)]), Some(Type::NUMERIC));
        assert_eq!(bq().supertype(&[&col(Type::Int64), &lit(Type::Float64, Literal::Float)]), Some(Type::Float64));
        assert_eq!(bq().supertype(&[&col(Type::Int64), &col(Type::NUMERIC)]), Some(Type::NUMERIC));
        assert_eq!(bq().supertype(&[&col(Type::Date), &lit(Type::STRING, Literal::String)]), Some(Type::Date));
        assert_eq!(bq().supertype(&[&col(Type::Int64), &col(Type::STRING)]), None);
        assert_eq!(
            bq().supertype(&[&lit(Type::Int64, Literal::Int), &lit(Type::Float64, Literal::Float)]),
            Some(Type::Float64)
        );
    }

    #[test]
    fn reserved_words_are_sorted_for_binary_search() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        assert!(bq().is_reserved("at") && bq().is_reserved("Range") && !bq().is_reserved("date"));
    }

    #[test]
    fn escapes_strings_and_identifiers() {
        assert_eq!(bq().string_literal("it's a \\ \"x\"\nnew"), r#"'it\'s a \\ "x"\nnew'"#);
        assert_eq!(bq().quote_ident("a`b"), "`a\\`b`");
    }
}
