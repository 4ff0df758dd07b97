//! Targets: everything that differs between BigQuery and Athena lives
//! behind the [`Target`] trait (SQL dialect, type spelling and coercion
//! rules, function catalog, quoting, physical names, artifact templates).
//! The stages never ask which target they work for.

pub mod athena;
pub mod bigquery;

use crate::check::catalog::Catalog;
use crate::emit::{Artifact, EmitProduct, Physical};
use crate::load::TargetKind;
use crate::resolve::{Mesh, Product};
use crate::types::{Assign, Type, Typed};
use sqlparser::ast::{BinaryOperator, DataType, Value};
use sqlparser::dialect::Dialect;

pub trait Target: Sync + Send {
    fn kind(&self) -> TargetKind;
    /// The target's name for people (`BigQuery`).
    fn display_name(&self) -> &'static str;
    fn dialect(&self) -> &dyn Dialect;

    /// Parses a column type as written in `product.toml`.
    fn parse_type(&self, text: &str) -> Result<Type, String>;
    /// Converts a type written in SQL (`CAST(x AS T)`).
    fn convert_type(&self, data_type: &DataType) -> Result<Type, String>;
    /// Whether a table of this kind can hold a column of the type (why
    /// not, if it cannot): a table format has fewer types than queries.
    fn storable(&self, ty: &Type, table: Table) -> Result<(), String>;
    /// The canonical spelling (manifest, messages).
    fn type_name(&self, ty: &Type) -> String;
    /// How many columns a table can be clustered by (None: no clustering).
    fn max_cluster_columns(&self) -> Option<usize>;
    /// A few types in the target's spelling, for help lines.
    fn type_examples(&self) -> &'static str;

    /// The function catalog of the dialect.
    fn catalog(&self) -> &Catalog;
    /// Which pieces of syntax the dialect has, where the two differ.
    fn syntax(&self) -> &Syntax;

    /// The type of a literal (`1` is INT64 in BigQuery, `integer` in Trino).
    fn literal(&self, value: &Value) -> Typed;
    /// The type of a value read from a column of a declared type (BigQuery
    /// drops parameters: a NUMERIC(12, 2) column gives NUMERIC values).
    fn value_type(&self, column: &Type) -> Type;
    /// Whether `CAST(x AS to)` exists for a value of type `from`.
    fn castable(&self, from: &Type, to: &Type) -> bool;

    /// The common supertype of several expressions (CASE branches, UNION
    /// columns, COALESCE arguments), if there is one.
    fn supertype(&self, items: &[&Typed]) -> Option<Type>;
    /// Whether an expression converts implicitly to a type (function arguments).
    fn coerces(&self, from: &Typed, to: &Type) -> bool;
    /// The result type of an arithmetic operator, if the operands allow it.
    fn arithmetic(&self, op: &BinaryOperator, left: &Typed, right: &Typed) -> Option<Type>;
    /// Whether values of two types can be compared with `=` / `<`.
    fn comparable(&self, left: &Typed, right: &Typed, ordering: bool) -> bool;
    /// Whether a query's column type can be stored in a declared column type.
    fn assignable(&self, from: &Type, to: &Type) -> Assign;
    /// Whether a type can be a GROUP BY key / an ORDER BY key.
    fn groupable(&self, ty: &Type) -> bool;
    fn orderable(&self, ty: &Type) -> bool;

    /// Whether a string literal, as written between its quotes, is valid
    /// in the dialect (an error message if not).
    fn check_string_literal(&self, raw: &str, quote: char) -> Result<(), String>;

    /// Whether a word is reserved: a bare identifier cannot be spelled so.
    fn is_reserved(&self, word: &str) -> bool;

    /// A quoted identifier.
    fn quote_ident(&self, name: &str) -> String;
    /// A string literal with everything escaped.
    fn string_literal(&self, value: &str) -> String;

    /// The physical, fully qualified name of one of a product's tables.
    fn physical(&self, mesh: &Mesh, product: &Product, table: &str) -> Result<Physical, String>;
    /// Every artifact file of one product (DDL, jobs, checks).
    fn emit_product(&self, product: &EmitProduct) -> Result<Vec<Artifact>, String>;
    /// The statements that move a deployed table to a compatible new schema.
    fn emit_migration(&self, table: &Physical, steps: &[crate::diff::Step]) -> Result<String, String>;
}

/// The tables a target creates for a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// A table dpc writes: an output port's, an export's snapshots, a
    /// feed's events (Iceberg on Athena).
    Output,
    /// A table over files as delivered (an external table on Athena).
    Landing,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Output => "stored",
            Table::Landing => "external",
        }
    }
}

/// Syntax that exists in one dialect and not the other; the checker asks
/// these instead of asking which target it checks for.
#[derive(Debug)]
pub struct Syntax {
    /// `AS t(a, b)` column lists on tables, derived tables, CTEs and UNNEST.
    pub alias_column_lists: bool,
    /// A set operation without ALL or DISTINCT (`UNION` meaning DISTINCT).
    pub bare_set_operations: bool,
    /// The alias of an UNNEST names the relation (Trino: `UNNEST(xs) AS t(x)`),
    /// not the element (BigQuery: `UNNEST(xs) AS x`).
    pub unnest_alias_is_relation: bool,
    /// `FROM t, t.items` unnests an array column of an earlier FROM item.
    pub implicit_unnest: bool,
    /// CONCAT takes any value that casts to a string (GoogleSQL).
    pub concat_casts_to_string: bool,
    /// QUALIFY filters on window functions.
    pub qualify: bool,
    /// `ROW(a, b)` builds a row (Trino).
    pub row_constructor: bool,
}

/// Every target, for messages that name where a construct comes from.
pub fn all() -> [&'static dyn Target; 2] {
    [bigquery::BigQuery::get(), athena::Athena::get()]
}

pub fn target_for(kind: TargetKind) -> &'static dyn Target {
    match kind {
        TargetKind::Bigquery => bigquery::BigQuery::get(),
        TargetKind::Athena => athena::Athena::get(),
    }
}

/// Whether `word` is in `list` (upper case, sorted), in any case. The
/// checker asks for every bare identifier, so it does not allocate.
pub fn is_listed_keyword(list: &[&str], word: &str) -> bool {
    list.binary_search_by(|k| k.bytes().cmp(word.bytes().map(|b| b.to_ascii_uppercase()))).is_ok()
}

/// Whether a literal is a character string, in any of the quotings.
pub fn is_string_literal(value: &Value) -> bool {
    matches!(
        value,
        Value::SingleQuotedString(_)
            | Value::DoubleQuotedString(_)
            | Value::TripleSingleQuotedString(_)
            | Value::TripleDoubleQuotedString(_)
            | Value::SingleQuotedRawStringLiteral(_)
            | Value::DoubleQuotedRawStringLiteral(_)
            | Value::TripleSingleQuotedRawStringLiteral(_)
            | Value::TripleDoubleQuotedRawStringLiteral(_)
            | Value::EscapedStringLiteral(_)
            | Value::UnicodeStringLiteral(_)
            | Value::NationalStringLiteral(_)
    )
}
