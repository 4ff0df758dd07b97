//! The Athena target (engine version 3, which is Trino): Trino's types and
//! coercion rules, the function catalog in `stdlib/athena/functions.toml`,
//! double-quoted identifiers, Glue databases and Iceberg tables.

use super::{Syntax, Target};
use crate::check::catalog::Catalog;
use crate::emit::{Artifact, EmitProduct, Physical};
use crate::load::TargetKind;
use crate::resolve::{Mesh, Product};
use crate::types::{Assign, Field, Literal, Type, Typed};
use sqlparser::ast::{
    ArrayElemTypeDef, BinaryOperator, CharacterLength, DataType, ExactNumberInfo, StructBracketKind, StructField,
    TimezoneInfo, Value,
};
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;
use std::sync::OnceLock;

/// Trino's SQL as sqlparser should read it: sqlparser 0.64 has no Trino
/// dialect, and its generic one reads `x -> x + 1` as JSON access and
/// rejects `array(T)` / `row(a T)` types.
#[derive(Debug, Default)]
pub struct TrinoDialect;

impl Dialect for TrinoDialect {
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_ascii_alphabetic() || ch == '_'
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_ascii_alphanumeric() || ch == '_'
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '"'
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    fn supports_lambda_keyword_syntax(&self) -> bool {
        false
    }

    fn supports_array_typedef_with_parentheses(&self) -> bool {
        true
    }

    fn supports_map_typedef_with_parentheses(&self) -> bool {
        true
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }

    fn supports_group_by_expr(&self) -> bool {
        true
    }

    fn supports_window_clause_named_window_reference(&self) -> bool {
        true
    }

    fn supports_named_fn_args_with_rarrow_operator(&self) -> bool {
        true
    }

    /// `row(name type, ...)`, which sqlparser does not know as a type.
    fn parse_data_type(&self, parser: &mut Parser) -> Option<Result<DataType, ParserError>> {
        let is_row = matches!(&parser.peek_token_ref().token, Token::Word(w) if w.keyword == Keyword::ROW);
        if !is_row || parser.peek_nth_token_ref(1).token != Token::LParen {
            return None;
        }
        Some(parse_row_type(parser))
    }
}

fn parse_row_type(parser: &mut Parser) -> Result<DataType, ParserError> {
    parser.expect_keyword(Keyword::ROW)?;
    parser.expect_token(&Token::LParen)?;
    let mut fields = vec![];
    loop {
        // A field is `name type` or just `type`: a name is a word followed
        // by something other than `,` / `)` / `(`.
        let named = matches!(parser.peek_token_ref().token, Token::Word(_))
            && !matches!(parser.peek_nth_token_ref(1).token, Token::Comma | Token::RParen | Token::LParen)
            && !is_type_start(parser);
        let field_name = if named { Some(parser.parse_identifier()?) } else { None };
        let field_type = parser.parse_data_type()?;
        fields.push(StructField { field_name, field_type, options: None });
        if !parser.consume_token(&Token::Comma) {
            break;
        }
    }
    parser.expect_token(&Token::RParen)?;
    Ok(DataType::Struct(fields, StructBracketKind::Parentheses))
}

/// Whether the next words begin a type of several words (`double
/// precision`, `timestamp with time zone`) rather than a field name.
fn is_type_start(parser: &Parser) -> bool {
    let word = |n: usize| match &parser.peek_nth_token_ref(n).token {
        Token::Word(w) => Some(w.keyword),
        _ => None,
    };
    matches!(
        (word(0), word(1)),
        (Some(Keyword::DOUBLE), Some(Keyword::PRECISION))
            | (Some(Keyword::TIMESTAMP | Keyword::TIME), Some(Keyword::WITH | Keyword::WITHOUT))
            | (Some(Keyword::INTERVAL), Some(_))
    )
}

pub struct Athena {
    dialect: TrinoDialect,
    catalog: Catalog,
}

const FUNCTIONS: &str = include_str!("../../../stdlib/athena/functions.toml");
const EQUIVALENTS: &str = include_str!("../../../stdlib/athena/equivalents.toml");

impl Athena {
    pub fn get() -> &'static Athena {
        static TARGET: OnceLock<Athena> = OnceLock::new();
        TARGET.get_or_init(|| {
            let mut target = Athena { dialect: TrinoDialect, catalog: Catalog::default() };
            // Our own data, checked by a unit test: a broken file is a bug in dpc.
            target.catalog = Catalog::parse(FUNCTIONS, &|t| target.parse_type(t))
                .and_then(|c| c.with_equivalents(EQUIVALENTS))
                .unwrap_or_else(|e| panic!("stdlib/athena/functions.toml or equivalents.toml: {e}"));
            target
        })
    }

    /// The type as Athena's Hive-style DDL spells it (`string`,
    /// `array<struct<a:bigint>>`), or why a table cannot hold it.
    pub fn hive_type(&self, ty: &Type) -> Result<String, String> {
        Ok(match ty {
            Type::Bool => "boolean".into(),
            Type::Int8 => "tinyint".into(),
            Type::Int16 => "smallint".into(),
            Type::Int32 => "int".into(),
            Type::Int64 => "bigint".into(),
            Type::Float32 => "float".into(),
            Type::Float64 => "double".into(),
            Type::Numeric(p) => {
                let (p, s) = p.unwrap_or((38, 0));
                format!("decimal({p},{s})")
            }
            Type::String(_) => "string".into(),
            Type::Char(n) => format!("char({})", n.unwrap_or(1)),
            Type::Bytes(_) => "binary".into(),
            Type::Date => "date".into(),
            Type::Datetime => "timestamp".into(),
            Type::Array(t) => format!("array<{}>", self.hive_type(t)?),
            Type::Map(k, v) => format!("map<{},{}>", self.hive_type(k)?, self.hive_type(v)?),
            Type::Struct(fields) => {
                let mut out = vec![];
                for f in fields {
                    let name = f.name.as_deref().ok_or("a row stored in a table needs a name for every field")?;
                    out.push(format!("{name}:{}", self.hive_type(&f.ty)?));
                }
                format!("struct<{}>", out.join(","))
            }
            other => {
                return Err(format!("an Athena table cannot hold {} values", self.type_name(other)));
            }
        })
    }

    /// Why an Iceberg table cannot hold a column of this type, if it cannot.
    /// Iceberg has no tinyint, smallint, char or bounded varchar: Athena
    /// rejects them in CREATE TABLE.
    pub fn iceberg_check(&self, ty: &Type) -> Result<(), String> {
        match ty {
            Type::Int8 | Type::Int16 => {
                Err(format!("Iceberg tables have no {}; declare `integer`", self.type_name(ty)))
            }
            Type::Char(_) | Type::String(Some(_)) => {
                Err(format!("Iceberg tables have no {}; declare `varchar`", self.type_name(ty)))
            }
            Type::Array(t) => self.iceberg_check(t),
            Type::Map(k, v) => self.iceberg_check(k).and(self.iceberg_check(v)),
            Type::Struct(fs) => fs.iter().try_for_each(|f| self.iceberg_check(&f.ty)),
            other => self.hive_type(other).map(|_| ()),
        }
    }

    /// Implicit coercion of a value of one type to another (Trino's rules:
    /// integer widening, integers and decimals to decimals that hold them
    /// and to floating point, date to timestamp, element-wise for nested types).
    fn coerces_type(&self, from: &Type, to: &Type) -> bool {
        use Type as T;
        if from.is_unknown() || to.is_unknown() || from == to {
            return true;
        }
        match (from, to) {
            (a, b) if a.is_integer() && b.is_integer() => int_rank(a) <= int_rank(b),
            (a, T::Numeric(to)) if a.is_integer() || matches!(a, T::Numeric(_)) => {
                let (p1, s1) = decimal_of(a);
                let (p2, s2) = to.unwrap_or((38, 0));
                s2 >= s1 && p2 - s2 >= p1 - s1
            }
            (a, T::Float32) => a.is_integer() || matches!(a, T::Numeric(_)),
            (a, T::Float64) => a.is_numeric(),
            (T::String(_), T::String(None)) | (T::Char(_), T::Char(None)) => true,
            (T::String(Some(a)), T::String(Some(b))) => a <= b,
            (T::Date, T::Datetime | T::Timestamp) | (T::Datetime, T::Timestamp) => true,
            (T::Array(a), T::Array(b)) => self.coerces_type(a, b),
            (T::Map(k1, v1), T::Map(k2, v2)) => self.coerces_type(k1, k2) && self.coerces_type(v1, v2),
            (T::Struct(a), T::Struct(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.coerces_type(&x.ty, &y.ty))
            }
            _ => false,
        }
    }

    /// The least type two types coerce to (Trino's common super type).
    fn common(&self, a: &Type, b: &Type) -> Option<Type> {
        use Type as T;
        if a.is_unknown() {
            return Some(b.clone());
        }
        if b.is_unknown() || a == b {
            return Some(a.clone());
        }
        Some(match (a, b) {
            (x, y) if x.is_integer() && y.is_integer() => {
                if int_rank(x) >= int_rank(y) {
                    x.clone()
                } else {
                    y.clone()
                }
            }
            (x, y) if is_exact(x) && is_exact(y) => {
                let ((p1, s1), (p2, s2)) = (decimal_of(x), decimal_of(y));
                let s = s1.max(s2);
                T::Numeric(Some(((s + (p1 - s1).max(p2 - s2)).min(38), s)))
            }
            (x, y) if x.is_numeric() && y.is_numeric() => {
                if matches!(x, T::Float64) || matches!(y, T::Float64) {
                    T::Float64
                } else {
                    T::Float32
                }
            }
            (T::String(x), T::String(y)) => T::String(x.zip(*y).map(|(x, y)| x.max(y))),
            (T::Char(_) | T::String(_), T::Char(_) | T::String(_)) => T::STRING,
            (T::Date, T::Datetime) | (T::Datetime, T::Date) => T::Datetime,
            (T::Date | T::Datetime | T::Timestamp, T::Date | T::Datetime | T::Timestamp) => T::Timestamp,
            (T::Array(x), T::Array(y)) => T::Array(Box::new(self.common(x, y)?)),
            (T::Map(k1, v1), T::Map(k2, v2)) => T::Map(Box::new(self.common(k1, k2)?), Box::new(self.common(v1, v2)?)),
            (T::Struct(x), T::Struct(y)) if x.len() == y.len() => {
                let mut fields = vec![];
                for (f, g) in x.iter().zip(y) {
                    fields.push(Field { name: f.name.clone(), ty: self.common(&f.ty, &g.ty)? });
                }
                T::Struct(fields)
            }
            _ => return None,
        })
    }

    fn type_name_of(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "boolean".into(),
            Type::Int8 => "tinyint".into(),
            Type::Int16 => "smallint".into(),
            Type::Int32 => "integer".into(),
            Type::Int64 => "bigint".into(),
            Type::Float32 => "real".into(),
            Type::Float64 => "double".into(),
            Type::Numeric(p) | Type::BigNumeric(p) => match p {
                Some((p, s)) => format!("decimal({p},{s})"),
                None => "decimal".into(),
            },
            Type::String(n) => n.map_or("varchar".into(), |n| format!("varchar({n})")),
            Type::Char(n) => n.map_or("char".into(), |n| format!("char({n})")),
            Type::Bytes(_) => "varbinary".into(),
            Type::Date => "date".into(),
            Type::Datetime => "timestamp".into(),
            Type::Time => "time".into(),
            Type::Timestamp => "timestamp with time zone".into(),
            Type::Interval => "interval day to second".into(),
            Type::Json => "json".into(),
            Type::Geography => "Geometry".into(),
            Type::Range(t) => format!("range({})", self.type_name_of(t)),
            Type::Array(t) => format!("array({})", self.type_name_of(t)),
            Type::Map(k, v) => format!("map({}, {})", self.type_name_of(k), self.type_name_of(v)),
            Type::Struct(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| match &f.name {
                        Some(n) => format!("{n} {}", self.type_name_of(&f.ty)),
                        None => self.type_name_of(&f.ty),
                    })
                    .collect();
                format!("row({})", fields.join(", "))
            }
            Type::Named(n) => n.clone(),
            Type::Unknown => "unknown".into(),
        }
    }
}

fn int_rank(t: &Type) -> u8 {
    match t {
        Type::Int8 => 0,
        Type::Int16 => 1,
        Type::Int32 => 2,
        _ => 3,
    }
}

fn is_exact(t: &Type) -> bool {
    t.is_integer() || matches!(t, Type::Numeric(_))
}

/// The decimal an exact number converts to (`integer` is `decimal(10,0)`).
fn decimal_of(t: &Type) -> (u32, u32) {
    match t {
        Type::Int8 => (3, 0),
        Type::Int16 => (5, 0),
        Type::Int32 => (10, 0),
        Type::Int64 => (19, 0),
        Type::Numeric(p) => p.unwrap_or((38, 0)),
        _ => (38, 0),
    }
}

fn decimal(p: u32, s: u32) -> Type {
    Type::Numeric(Some((p.min(38), s.min(38))))
}

/// Trino's result type of decimal arithmetic (its documented precision
/// and scale rules), after integers are read as decimals.
fn decimal_arithmetic(op: &BinaryOperator, l: (u32, u32), r: (u32, u32)) -> Type {
    use BinaryOperator as B;
    let ((p1, s1), (p2, s2)) = (l, r);
    match op {
        B::Plus | B::Minus => decimal(1 + s1.max(s2) + (p1 - s1).max(p2 - s2), s1.max(s2)),
        B::Multiply => decimal(p1 + p2, s1 + s2),
        B::Divide => decimal(p1 + s2 + s2.saturating_sub(s1), s1.max(s2)),
        _ => decimal((p1 - s1).min(p2 - s2) + s1.max(s2), s1.max(s2)),
    }
}

fn strip_position(message: &str) -> String {
    let m = message.strip_prefix("sql parser error: ").unwrap_or(message);
    m.split(" at Line:").next().unwrap_or(m).to_string()
}

fn unknown_type(name: &str) -> String {
    let suggestion = match name.to_ascii_lowercase().split(['(', '<']).next().unwrap_or("").trim() {
        "string" | "text" => " (did you mean varchar? `string` is the Hive DDL spelling)",
        "int64" | "long" => " (did you mean bigint?)",
        "float64" | "float" | "float8" => " (did you mean double?)",
        "float32" | "float4" => " (did you mean real?)",
        "bool" => " (did you mean boolean?)",
        "bytes" | "binary" | "blob" => " (did you mean varbinary?)",
        "numeric" | "bignumeric" => " (did you mean decimal(p,s)?)",
        "datetime" => " (did you mean timestamp?)",
        "struct" => " (did you mean row(name type, ...)?)",
        "array" => " (did you mean array(T)?)",
        _ => "",
    };
    format!("`{name}` is not an Athena type{suggestion}")
}

impl Target for Athena {
    fn kind(&self) -> TargetKind {
        TargetKind::Athena
    }

    fn display_name(&self) -> &'static str {
        "Athena"
    }

    fn dialect(&self) -> &dyn Dialect {
        &self.dialect
    }

    fn parse_type(&self, text: &str) -> Result<Type, String> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        // BigQuery's spellings tokenise as types sqlparser knows; say so
        // before converting, where the message can name the right spelling.
        for foreign in ["string", "int64", "float64", "bool", "bytes", "numeric", "bignumeric", "datetime"] {
            if lower == foreign || lower.starts_with(&format!("{foreign}(")) {
                return Err(unknown_type(trimmed));
            }
        }
        if lower.starts_with("struct<") || lower.starts_with("array<") {
            return Err(unknown_type(trimmed));
        }
        let head = lower.split('(').next().unwrap_or("").trim();
        if OPAQUE.contains(&head) {
            return Ok(Type::Named(head.to_string()));
        }
        // sqlparser reads INTERVAL without its qualifier; both of Trino's
        // interval types are one type to the checker.
        let words: Vec<&str> = lower.split_whitespace().collect();
        if matches!(words.as_slice(), ["interval", "day", "to", "second"] | ["interval", "year", "to", "month"]) {
            return Ok(Type::Interval);
        }
        let mut parser = Parser::new(&self.dialect).try_with_sql(trimmed).map_err(|e| e.to_string())?;
        let data_type = parser.parse_data_type().map_err(|e| strip_position(&e.to_string()))?;
        if parser.peek_token().token != Token::EOF {
            return Err(format!("unexpected `{}` after the type", parser.peek_token().token));
        }
        self.convert_type(&data_type)
    }

    fn convert_type(&self, data_type: &DataType) -> Result<Type, String> {
        use DataType as D;
        let length = |l: &Option<CharacterLength>| match l {
            Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
            _ => None,
        };
        Ok(match data_type {
            D::Boolean | D::Bool => Type::Bool,
            D::TinyInt(None) => Type::Int8,
            D::SmallInt(None) => Type::Int16,
            D::Int(None) | D::Integer(None) => Type::Int32,
            D::BigInt(None) => Type::Int64,
            D::Real => Type::Float32,
            D::Double(ExactNumberInfo::None) | D::DoublePrecision => Type::Float64,
            D::Decimal(info) => {
                let (p, s) = match info {
                    ExactNumberInfo::None => (38, 0),
                    ExactNumberInfo::Precision(p) => (*p as u32, 0),
                    ExactNumberInfo::PrecisionAndScale(p, s) => (*p as u32, (*s).max(0) as u32),
                };
                if !(1..=38).contains(&p) || s > p {
                    return Err(format!("decimal({p},{s}) is out of range: precision 1..38, scale 0..precision"));
                }
                Type::Numeric(Some((p, s)))
            }
            D::Varchar(l) | D::CharacterVarying(l) => Type::String(length(l)),
            D::Char(l) | D::Character(l) => Type::Char(length(l)),
            D::Varbinary(None) => Type::Bytes(None),
            D::Date => Type::Date,
            // `time with time zone` is read as `time`: only functions make one.
            D::Time(..) => Type::Time,
            D::Timestamp(_, TimezoneInfo::None | TimezoneInfo::WithoutTimeZone) => Type::Datetime,
            D::Timestamp(_, TimezoneInfo::WithTimeZone) => Type::Timestamp,
            D::Interval { .. } => Type::Interval,
            D::JSON => Type::Json,
            D::Array(ArrayElemTypeDef::Parenthesis(inner)) => Type::Array(Box::new(self.convert_type(inner)?)),
            D::Map(k, v, _) => Type::Map(Box::new(self.convert_type(k)?), Box::new(self.convert_type(v)?)),
            D::Struct(fields, StructBracketKind::Parentheses) => {
                let mut out: Vec<Field> = vec![];
                for f in fields {
                    let name = f.field_name.as_ref().map(|n| n.value.clone());
                    if let Some(n) = &name {
                        if out.iter().any(|o| o.name.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(n))) {
                            return Err(format!("duplicate field `{n}` in row"));
                        }
                    }
                    out.push(Field { name, ty: self.convert_type(&f.field_type)? });
                }
                Type::Struct(out)
            }
            other => return Err(unknown_type(&other.to_string())),
        })
    }

    fn type_name(&self, ty: &Type) -> String {
        self.type_name_of(ty)
    }

    fn storable(&self, ty: &Type, table: super::Table) -> Result<(), String> {
        match table {
            super::Table::Output => self.iceberg_check(ty),
            super::Table::Landing => self.hive_type(ty).map(|_| ()),
        }
    }

    fn max_cluster_columns(&self) -> Option<usize> {
        None
    }

    fn type_examples(&self) -> &'static str {
        "bigint, decimal(12,2), varchar, array(row(a varchar))"
    }

    fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn syntax(&self) -> &Syntax {
        &Syntax {
            alias_column_lists: true,
            bare_set_operations: true,
            unnest_alias_is_relation: true,
            implicit_unnest: false,
            concat_casts_to_string: false,
            row_constructor: true,
            qualify: false,
        }
    }

    fn literal(&self, value: &Value) -> Typed {
        match value {
            Value::Number(n, _) => {
                if n.contains(['e', 'E']) {
                    Typed::new(Type::Float64, false)
                } else if let Some((int, frac)) = n.split_once('.') {
                    // `12.50` is decimal(4,2): every digit counts, leading zeros do not.
                    let digits = int.trim_start_matches(['-', '+']).trim_start_matches('0').len() as u32;
                    let scale = frac.len() as u32;
                    Typed::new(decimal((digits + scale).max(1), scale), false)
                } else if n.parse::<i32>().is_ok() {
                    Typed::lit(Type::Int32, Literal::Int)
                } else if n.parse::<i64>().is_ok() {
                    Typed::lit(Type::Int64, Literal::Int)
                } else {
                    Typed::new(decimal(n.len() as u32, 0), false)
                }
            }
            Value::Boolean(_) => Typed::new(Type::Bool, false),
            // NULL is of Trino's type `unknown`, which coerces to anything.
            Value::Null => Typed::lit(Type::Unknown, Literal::Null),
            v if super::is_string_literal(v) => Typed::new(Type::STRING, false),
            _ => Typed::unknown(),
        }
    }

    fn value_type(&self, column: &Type) -> Type {
        column.clone()
    }

    fn castable(&self, from: &Type, to: &Type) -> bool {
        use Type as T;
        if from.is_unknown() || to.is_unknown() || self.coerces_type(from, to) {
            return true;
        }
        let scalar = |t: &T| !matches!(t, T::Array(_) | T::Map(..) | T::Struct(_) | T::Json);
        match (from, to) {
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (T::Bool, b) | (b, T::Bool) => b.is_numeric() || matches!(b, T::String(_) | T::Char(_) | T::Json),
            (T::String(_) | T::Char(_), b) | (b, T::String(_) | T::Char(_)) => scalar(b) || matches!(b, T::Json),
            (T::Json, _) | (_, T::Json) => true,
            (T::Date | T::Datetime | T::Timestamp | T::Time, T::Date | T::Datetime | T::Timestamp | T::Time) => true,
            (T::Array(a), T::Array(b)) => self.castable(a, b),
            (T::Map(k1, v1), T::Map(k2, v2)) => self.castable(k1, k2) && self.castable(v1, v2),
            (T::Struct(a), T::Struct(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| self.castable(&x.ty, &y.ty))
            }
            _ => false,
        }
    }

    fn supertype(&self, items: &[&Typed]) -> Option<Type> {
        let mut out = Type::Unknown;
        for t in items {
            if t.literal == Literal::Null {
                continue;
            }
            out = self.common(&out, &t.ty)?;
        }
        Some(out)
    }

    fn coerces(&self, from: &Typed, to: &Type) -> bool {
        from.literal == Literal::Null || self.coerces_type(&from.ty, to)
    }

    fn arithmetic(&self, op: &BinaryOperator, left: &Typed, right: &Typed) -> Option<Type> {
        use BinaryOperator as B;
        use Type as T;
        let (l, r) = (&left.ty, &right.ty);
        if l.is_unknown() || r.is_unknown() {
            return Some(if l.is_unknown() { r.clone() } else { l.clone() });
        }
        let temporal = match (op, l, r) {
            (B::Plus | B::Minus, T::Date | T::Datetime | T::Timestamp | T::Time, T::Interval) => Some(l.clone()),
            (B::Plus, T::Interval, T::Date | T::Datetime | T::Timestamp | T::Time) => Some(r.clone()),
            (B::Minus, T::Date, T::Date)
            | (B::Minus, T::Datetime | T::Timestamp, T::Datetime | T::Timestamp)
            | (B::Plus | B::Minus, T::Interval, T::Interval) => Some(T::Interval),
            (B::Multiply | B::Divide, T::Interval, n) if n.is_numeric() => Some(T::Interval),
            (B::Multiply, n, T::Interval) if n.is_numeric() => Some(T::Interval),
            _ => None,
        };
        if temporal.is_some() {
            return temporal;
        }
        if !l.is_numeric() || !r.is_numeric() || !matches!(op, B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo)
        {
            return None;
        }
        Some(match (l, r) {
            // Integers stay integers, `/` included: 7 / 2 is 3.
            (a, b) if a.is_integer() && b.is_integer() => self.common(a, b)?,
            (a, b) if is_exact(a) && is_exact(b) => decimal_arithmetic(op, decimal_of(a), decimal_of(b)),
            (a, b) => self.common(a, b)?,
        })
    }

    fn comparable(&self, left: &Typed, right: &Typed, ordering: bool) -> bool {
        let Some(sup) = self.supertype(&[left, right]) else {
            return false;
        };
        if ordering {
            self.orderable(&sup)
        } else {
            self.groupable(&sup)
        }
    }

    fn assignable(&self, from: &Type, to: &Type) -> Assign {
        if from.is_unknown() || to.is_unknown() || self.coerces_type(from, to) {
            return Assign::Yes;
        }
        use Type as T;
        match (from, to) {
            (T::Array(a), T::Array(b)) => self.assignable(a, b),
            (T::Map(k1, v1), T::Map(k2, v2)) => match (self.assignable(k1, k2), self.assignable(v1, v2)) {
                (Assign::No, _) | (_, Assign::No) => Assign::No,
                (Assign::Yes, Assign::Yes) => Assign::Yes,
                _ => Assign::Lossy,
            },
            (T::Struct(a), T::Struct(b)) => {
                if a.len() != b.len() {
                    return Assign::No;
                }
                a.iter().zip(b).map(|(x, y)| self.assignable(&x.ty, &y.ty)).fold(Assign::Yes, |acc, x| match (acc, x) {
                    (Assign::No, _) | (_, Assign::No) => Assign::No,
                    (Assign::Lossy, _) | (_, Assign::Lossy) => Assign::Lossy,
                    _ => Assign::Yes,
                })
            }
            // Narrower numbers and shorter strings: the job casts, and a
            // value that does not fit fails the load.
            (a, b) if is_exact(a) && is_exact(b) => Assign::Lossy,
            (T::Float64, T::Float32) => Assign::Lossy,
            (T::String(_) | T::Char(_), T::String(Some(_)) | T::Char(_)) => Assign::Lossy,
            _ => Assign::No,
        }
    }

    fn groupable(&self, ty: &Type) -> bool {
        match ty {
            Type::Json | Type::Geography => false,
            Type::Array(t) => self.groupable(t),
            Type::Map(k, v) => self.groupable(k) && self.groupable(v),
            Type::Struct(fs) => fs.iter().all(|f| self.groupable(&f.ty)),
            _ => true,
        }
    }

    fn orderable(&self, ty: &Type) -> bool {
        match ty {
            Type::Json | Type::Geography | Type::Map(..) => false,
            Type::Array(t) => self.orderable(t),
            Type::Struct(fs) => fs.iter().all(|f| self.orderable(&f.ty)),
            _ => true,
        }
    }

    fn check_string_literal(&self, _raw: &str, _quote: char) -> Result<(), String> {
        // Trino's strings escape a quote by doubling it, and a backslash is
        // an ordinary character: every string the tokenizer accepted is valid.
        Ok(())
    }

    fn is_reserved(&self, word: &str) -> bool {
        super::is_listed_keyword(RESERVED, word)
    }

    fn quote_ident(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    fn physical(&self, _mesh: &Mesh, product: &Product, table: &str) -> Result<Physical, String> {
        let database = format!("{}__{}", product.domain, product.name);
        Ok(Physical {
            plain: format!("{database}.{table}"),
            quoted: format!("{}.{}", self.quote_ident(&database), self.quote_ident(table)),
        })
    }

    fn emit_product(&self, product: &EmitProduct) -> Result<Vec<Artifact>, String> {
        crate::emit::athena::emit_product(self, product)
    }

    fn emit_migration(&self, table: &Physical, steps: &[crate::diff::Step]) -> Result<String, String> {
        crate::emit::athena::emit_migration(self, table, steps)
    }
}

/// Trino's types that only functions produce and consume (their
/// parameters, as in `qdigest(double)`, are not tracked).
const OPAQUE: &[&str] = &[
    "bingtile",
    "color",
    "geometry",
    "hyperloglog",
    "ipaddress",
    "ipprefix",
    "jsonpath",
    "joniregexp",
    "kdbtree",
    "p4hyperloglog",
    "qdigest",
    "setdigest",
    "sphericalgeography",
    "tdigest",
    "uuid",
];

/// Trino's reserved keywords (sorted), from its SQL language reference.
const RESERVED: &[&str] = &[
    "ALTER",
    "AND",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT_CATALOG",
    "CURRENT_DATE",
    "CURRENT_PATH",
    "CURRENT_ROLE",
    "CURRENT_SCHEMA",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "DEALLOCATE",
    "DELETE",
    "DESCRIBE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXECUTE",
    "EXISTS",
    "EXTRACT",
    "FALSE",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "GROUPING",
    "HAVING",
    "IN",
    "INNER",
    "INSERT",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "JSON_ARRAY",
    "JSON_EXISTS",
    "JSON_OBJECT",
    "JSON_QUERY",
    "JSON_TABLE",
    "JSON_VALUE",
    "LEFT",
    "LIKE",
    "LISTAGG",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "NATURAL",
    "NORMALIZE",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "PREPARE",
    "RECURSIVE",
    "RIGHT",
    "ROLLUP",
    "SELECT",
    "SKIP",
    "TABLE",
    "THEN",
    "TRIM",
    "TRUE",
    "UESCAPE",
    "UNION",
    "UNNEST",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WITH",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn athena() -> &'static Athena {
        Athena::get()
    }

    #[test]
    fn parses_and_prints_trino_types_canonically() {
        for (text, canon) in [
            ("int", "integer"),
            ("BIGINT", "bigint"),
            ("decimal(12, 2)", "decimal(12,2)"),
            ("decimal", "decimal(38,0)"),
            ("varchar", "varchar"),
            ("varchar(10)", "varchar(10)"),
            ("char(3)", "char(3)"),
            ("double", "double"),
            ("real", "real"),
            ("timestamp", "timestamp"),
            ("timestamp(3)", "timestamp"),
            ("timestamp with time zone", "timestamp with time zone"),
            ("array(row(a bigint, b varchar))", "array(row(a bigint, b varchar))"),
            ("map(varchar, array(integer))", "map(varchar, array(integer))"),
            ("row(ts timestamp with time zone, d double precision)", "row(ts timestamp with time zone, d double)"),
            ("varbinary", "varbinary"),
            ("json", "json"),
        ] {
            let ty = athena().parse_type(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(athena().type_name(&ty), canon, "{text}");
        }
    }

    #[test]
    fn rejects_bigquery_and_hive_spellings_with_a_hint() {
        assert!(athena().parse_type("STRING").unwrap_err().contains("did you mean varchar"));
        assert!(athena().parse_type("INT64").unwrap_err().contains("did you mean bigint"));
        assert!(athena().parse_type("ARRAY<STRING>").unwrap_err().contains("array(T)"));
        assert!(athena().parse_type("decimal(40,2)").is_err());
    }

    #[test]
    fn trino_arithmetic_rules() {
        let col = |t: &str| Typed::new(athena().parse_type(t).unwrap(), true);
        let ar = |op, l: &str, r: &str| athena().type_name(&athena().arithmetic(&op, &col(l), &col(r)).unwrap());
        use BinaryOperator as B;
        assert_eq!(ar(B::Divide, "integer", "integer"), "integer");
        assert_eq!(ar(B::Plus, "integer", "bigint"), "bigint");
        assert_eq!(ar(B::Plus, "decimal(15,2)", "decimal(15,2)"), "decimal(16,2)");
        assert_eq!(ar(B::Multiply, "decimal(15,2)", "decimal(16,2)"), "decimal(31,4)");
        assert_eq!(ar(B::Minus, "integer", "decimal(15,2)"), "decimal(16,2)");
        assert_eq!(ar(B::Divide, "decimal(10,2)", "decimal(5,1)"), "decimal(11,2)");
        assert_eq!(ar(B::Plus, "bigint", "double"), "double");
        assert_eq!(ar(B::Plus, "date", "interval day to second"), "date");
    }

    #[test]
    fn literals_have_trino_types() {
        let lit = |text: &str| athena().type_name(&athena().literal(&Value::Number(text.into(), false)).ty);
        assert_eq!(lit("1"), "integer");
        assert_eq!(lit("3000000000"), "bigint");
        assert_eq!(lit("0.05"), "decimal(2,2)");
        assert_eq!(lit("12.50"), "decimal(4,2)");
        assert_eq!(lit("1e3"), "double");
    }

    #[test]
    fn reserved_words_are_sorted_for_binary_search() {
        assert!(RESERVED.windows(2).all(|w| w[0] < w[1]));
        let athena = Athena::get();
        assert!(athena.is_reserved("select") && athena.is_reserved("Select") && athena.is_reserved("SELECT"));
        assert!(!athena.is_reserved("selected") && !athena.is_reserved("") && !athena.is_reserved("sel"));
    }

    #[test]
    fn parses_trino_syntax() {
        for sql in [
            "SELECT transform(xs, x -> x + 1) FROM t",
            "SELECT zip_with(a, b, (x, y) -> x * y) FROM t",
            "SELECT o.id, i.sku, n FROM orders o CROSS JOIN UNNEST(o.items) WITH ORDINALITY AS i(sku, qty, n)",
            "SELECT CAST(ROW(1, 'a') AS row(a integer, b varchar)) AS r",
            "SELECT try_cast(x AS bigint), m['k'], xs[1] FROM t",
            "SELECT date_add('day', 1, d), d + interval '1' day FROM t",
            "SELECT a, count(*) FROM t GROUP BY GROUPING SETS ((a), ())",
            "SELECT CAST(x AS array(varchar)), CAST(y AS map(varchar, bigint)) FROM t",
            "SELECT listagg(x, ',') WITHIN GROUP (ORDER BY x) FROM t",
            "SELECT count(*) FILTER (WHERE x > 1) FROM t",
        ] {
            let parsed = Parser::parse_sql(&TrinoDialect, sql);
            assert!(parsed.is_ok(), "{sql}: {parsed:?}");
        }
    }
}
